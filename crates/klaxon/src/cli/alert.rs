//! `klaxon alert ...`: the deduplicated signals from monitoring.

use clap::{Args, Subcommand};
use klaxon_domain::alert::{Alert, AlertStatus};
use klaxon_domain::api::{AlertQuery, AlertShowQuery};
use klaxon_domain::{AlertId, IncidentNumber};

use super::{id, incident_number, named, Connection};
use crate::output;

#[derive(Debug, Args)]
pub struct AlertArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: AlertCommand,
}

#[derive(Debug, Subcommand)]
enum AlertCommand {
    /// List alerts, newest first.
    List {
        /// Only this service's alerts.
        #[arg(long)]
        service: Option<String>,
        #[arg(long, value_parser = named::<AlertStatus>(&["triggered", "acknowledged", "resolved"]))]
        status: Option<AlertStatus>,
        /// Only the alerts of this incident.
        #[arg(long, value_parser = incident_number)]
        incident: Option<IncidentNumber>,
        /// How many alerts a page holds (at most 200).
        #[arg(long, default_value_t = AlertQuery::DEFAULT_LIMIT)]
        limit: u32,
        /// Only alerts with an id below this one: the next page.
        #[arg(long, value_name = "ID", conflicts_with = "all", value_parser = id::<AlertId>)]
        before: Option<AlertId>,
        /// Every alert that matches, fetched page by page.
        #[arg(long)]
        all: bool,
    },
    /// Show an alert and the newest events that arrived for it.
    Show {
        #[arg(value_parser = id::<AlertId>)]
        id: AlertId,
        /// How many of the newest events to show (at most 10000).
        #[arg(long, default_value_t = AlertShowQuery::DEFAULT_LOG)]
        log: u32,
        /// Only events older than this log entry: the next page of the log.
        #[arg(long, value_name = "ENTRY")]
        log_before: Option<i64>,
    },
    /// Acknowledge an alert (and its incident, if nobody has).
    Ack {
        #[arg(value_parser = id::<AlertId>)]
        id: AlertId,
    },
    /// Resolve an alert.
    Resolve {
        #[arg(value_parser = id::<AlertId>)]
        id: AlertId,
    },
}

pub async fn run(args: AlertArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        AlertCommand::List {
            service,
            status,
            incident,
            limit,
            before,
            all,
        } => {
            let mut query = AlertQuery {
                service,
                status,
                incident,
                limit: Some(limit),
                before,
            };
            let mut page = client.alerts(&query).await?;
            let mut alerts = std::mem::take(&mut page.alerts);
            while all && page.next_before.is_some() {
                query.before = page.next_before;
                page = client.alerts(&query).await?;
                alerts.append(&mut page.alerts);
            }
            if json {
                return output::json(&alerts);
            }
            let mut t = output::table([
                "ID",
                "STATUS",
                "SEVERITY",
                "INCIDENT",
                "REPEATS",
                "LAST SEEN",
                "SUMMARY",
            ]);
            for a in &alerts {
                t.add_row([
                    a.id.to_string(),
                    a.status.to_string(),
                    a.severity.to_string(),
                    a.incident.map(|n| n.to_string()).unwrap_or_default(),
                    a.repeat_count.to_string(),
                    output::when(a.last_seen_at),
                    output::one_line(&a.summary, 60),
                ]);
            }
            output::print_table(&t);
            if let Some(before) = page.next_before {
                println!("\nMore: klaxon alert list --before {before} (or --all)");
            }
        }
        AlertCommand::Show {
            id,
            log,
            log_before,
        } => {
            let query = AlertShowQuery {
                log: Some(log),
                log_before,
            };
            let detail = client.alert(id, &query).await?;
            if json {
                return output::json(&detail);
            }
            show(&detail.alert);
            let mut t = output::table(["RECEIVED", "ACTION"]);
            for entry in &detail.log {
                t.add_row([
                    output::when(entry.received_at),
                    format!("{:?}", entry.action).to_lowercase(),
                ]);
            }
            println!();
            if let Some(older) = detail.next_log_before {
                println!(
                    "The newest {} events; older ones: klaxon alert show {id} --log-before {older} \
                     (`--log N` shows up to {} at once).",
                    detail.log.len(),
                    AlertShowQuery::MAX_LOG
                );
            }
            output::print_table(&t);
        }
        AlertCommand::Ack { id } => changed(client.ack_alert(id).await?, json)?,
        AlertCommand::Resolve { id } => changed(client.resolve_alert(id).await?, json)?,
    }
    Ok(())
}

fn changed(alert: Alert, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(&alert);
    }
    println!(
        "alert {} {} ({})",
        alert.id,
        alert.status,
        output::one_line(&alert.summary, 60)
    );
    Ok(())
}

fn show(a: &Alert) {
    println!("alert {}: {}", a.id, a.summary);
    let row = |label: &str, value: String| {
        if !value.is_empty() {
            println!("  {label:<12}{value}");
        }
    };
    row("status", a.status.to_string());
    row("severity", a.severity.to_string());
    row("dedup key", a.dedup_key.clone());
    row(
        "incident",
        a.incident.map(|n| n.to_string()).unwrap_or_default(),
    );
    row("source", a.source.clone().unwrap_or_default());
    row("first seen", output::when(a.first_seen_at));
    row(
        "last seen",
        match a.repeat_count {
            1 => format!("{} (once)", output::when(a.last_seen_at)),
            n => format!("{} ({n} times)", output::when(a.last_seen_at)),
        },
    );
    for (k, v) in &a.labels {
        row("label", format!("{k}={v}"));
    }
    for link in &a.links {
        row("link", link.href.clone());
    }
}
