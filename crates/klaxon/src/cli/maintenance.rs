//! `klaxon maintenance ...`: scheduled maintenance on the public status page — planned
//! work on components, with a window, started and completed by the server on time, and
//! its updates.

use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};
use klaxon_client::Client;
use klaxon_domain::status::{
    Component, MaintenanceChange, MaintenancePost, MaintenanceStatus, NewScheduledMaintenance,
    ScheduledMaintenance,
};
use klaxon_domain::{ComponentId, ScheduledMaintenanceId};

use super::{message, Connection, Usage};
use crate::output;

#[derive(Debug, Args)]
pub struct MaintenanceArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: MaintenanceCommand,
}

#[derive(Debug, Subcommand)]
enum MaintenanceCommand {
    /// Schedule a maintenance (admin).
    #[command(
        after_help = "Example: klaxon maintenance schedule \"Database upgrade\" --component API \\\n  --from 2026-11-28T02:00:00Z --for 2h --message \"Writes pause for a few minutes.\" --mute-services"
    )]
    Schedule {
        name: String,
        /// A component it affects (name or id); repeat for several.
        #[arg(long = "component", value_name = "COMPONENT", required = true)]
        components: Vec<String>,
        /// When it starts (RFC 3339, e.g. 2026-11-28T02:00:00Z).
        #[arg(long)]
        from: Timestamp,
        /// When it ends (RFC 3339).
        #[arg(long, conflicts_with = "length", required_unless_present = "length")]
        until: Option<Timestamp>,
        /// How long it lasts, e.g. 2h.
        #[arg(long = "for", value_parser = duration)]
        length: Option<SignedDuration>,
        /// What customers read about it.
        #[arg(long)]
        message: Option<String>,
        /// Do not start it at --from: start it by hand.
        #[arg(long)]
        no_auto_start: bool,
        /// Do not complete it at --until: complete it by hand.
        #[arg(long)]
        no_auto_complete: bool,
        /// Give the services linked to its components maintenance windows for the same
        /// time (their alerts are muted).
        #[arg(long)]
        mute_services: bool,
    },
    /// List the maintenances not over yet and those of the last 90 days.
    List,
    /// Show a maintenance with its updates.
    Show {
        #[arg(value_parser = super::id::<ScheduledMaintenanceId>)]
        id: ScheduledMaintenanceId,
    },
    /// Change a maintenance, and/or post an update (admin). What you leave out stays.
    #[command(
        after_help = "Example: klaxon maintenance update 3 --until 2026-11-28T05:00:00Z\n         klaxon maintenance update 3 --status verifying --message \"Checking replication.\""
    )]
    Update {
        #[arg(value_parser = super::id::<ScheduledMaintenanceId>)]
        id: ScheduledMaintenanceId,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// The components it affects (replaces the list); repeat for several.
        #[arg(long = "component", value_name = "COMPONENT")]
        components: Vec<String>,
        /// A new start (only before it has started).
        #[arg(long)]
        from: Option<Timestamp>,
        /// A new end.
        #[arg(long)]
        until: Option<Timestamp>,
        /// Start it at its start time (true or false).
        #[arg(long)]
        auto_start: Option<bool>,
        /// Complete it at its end time (true or false).
        #[arg(long)]
        auto_complete: Option<bool>,
        /// Mute the linked services' alerts during it (true or false).
        #[arg(long)]
        mute_services: Option<bool>,
        /// Move it to this status: in_progress, verifying, completed or cancelled.
        #[arg(long, value_parser = status)]
        status: Option<MaintenanceStatus>,
        /// Post an update with this text.
        #[arg(long)]
        message: Option<String>,
    },
    /// Start it now (admin).
    Start {
        #[arg(value_parser = super::id::<ScheduledMaintenanceId>)]
        id: ScheduledMaintenanceId,
        /// The update's text; the usual words if left out.
        #[arg(long)]
        message: Option<String>,
    },
    /// Complete it now (admin).
    Complete {
        #[arg(value_parser = super::id::<ScheduledMaintenanceId>)]
        id: ScheduledMaintenanceId,
        #[arg(long)]
        message: Option<String>,
    },
    /// Cancel it before it starts (admin): it leaves the status page, and the services'
    /// maintenance windows it made are removed.
    Cancel {
        #[arg(value_parser = super::id::<ScheduledMaintenanceId>)]
        id: ScheduledMaintenanceId,
        #[arg(long)]
        message: Option<String>,
    },
}

fn duration(text: &str) -> Result<SignedDuration, String> {
    klaxon_domain::time::parse_duration("for", text).map_err(message)
}

fn status(text: &str) -> Result<MaintenanceStatus, String> {
    MaintenanceStatus::parse(text).map_err(message)
}

/// The components named, by id or name (letter case aside).
fn components(all: &[Component], named: &[String]) -> anyhow::Result<Vec<ComponentId>> {
    named
        .iter()
        .map(|text| {
            let by_id = text.trim().parse::<i64>().ok();
            all.iter()
                .find(|c| Some(c.id.0) == by_id)
                .or_else(|| {
                    all.iter()
                        .find(|c| c.name.eq_ignore_ascii_case(text.trim()))
                })
                .map(|c| c.id)
                .ok_or_else(|| {
                    Usage(format!(
                        "there is no component '{text}'; see `klaxon component list`"
                    ))
                    .into()
                })
        })
        .collect()
}

pub async fn run(args: MaintenanceArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let done = match args.command {
        MaintenanceCommand::Schedule {
            name,
            components: named,
            from,
            until,
            length,
            message,
            no_auto_start,
            no_auto_complete,
            mute_services,
        } => {
            let all = client.components().await?;
            let until = match (until, length) {
                (Some(u), _) => u,
                (None, Some(l)) => from
                    .checked_add(l)
                    .map_err(|_| Usage("--for: too long".into()))?,
                (None, None) => return Err(Usage("give --until or --for".into()).into()),
            };
            let new = NewScheduledMaintenance {
                name,
                components: components(&all, &named)?,
                scheduled_for: from,
                scheduled_until: until,
                body: message,
                auto_start: Some(!no_auto_start),
                auto_complete: Some(!no_auto_complete),
                mute_services,
            };
            let m = client.schedule_maintenance(&new).await?;
            (m, "scheduled")
        }
        MaintenanceCommand::List => {
            let all = client.scheduled_maintenances().await?;
            if json {
                return output::json(&all);
            }
            list(&all, &client.components().await?);
            return Ok(());
        }
        MaintenanceCommand::Show { id } => {
            let m = client.scheduled_maintenance(id).await?;
            if json {
                return output::json(&m);
            }
            show(&m, &client.components().await?);
            return Ok(());
        }
        MaintenanceCommand::Update {
            id,
            name,
            components: named,
            from,
            until,
            auto_start,
            auto_complete,
            mute_services,
            status,
            message,
        } => {
            let change = MaintenanceChange {
                name,
                components: if named.is_empty() {
                    None
                } else {
                    Some(components(&client.components().await?, &named)?)
                },
                scheduled_for: from,
                scheduled_until: until,
                auto_start,
                auto_complete,
                mute_services,
            };
            let post = MaintenancePost {
                status,
                body: message,
            };
            if change == MaintenanceChange::default() && post == MaintenancePost::default() {
                return Err(
                    Usage("nothing to change: give a field, --status or --message".into()).into(),
                );
            }
            let mut m = None;
            if change != MaintenanceChange::default() {
                m = Some(client.change_maintenance(id, &change).await?);
            }
            if post != MaintenancePost::default() {
                m = Some(client.post_maintenance_update(id, &post).await?);
            }
            (m.expect("one of them ran"), "updated")
        }
        MaintenanceCommand::Start { id, message } => (
            to(&client, id, MaintenanceStatus::InProgress, message).await?,
            "started",
        ),
        MaintenanceCommand::Complete { id, message } => (
            to(&client, id, MaintenanceStatus::Completed, message).await?,
            "completed",
        ),
        MaintenanceCommand::Cancel { id, message } => (
            to(&client, id, MaintenanceStatus::Cancelled, message).await?,
            "cancelled",
        ),
    };
    let (m, what) = done;
    if json {
        return output::json(&m);
    }
    println!(
        "{what} maintenance {} ({}): {}, {} to {}",
        m.id,
        m.name,
        m.status.label().to_lowercase(),
        output::when(m.scheduled_for),
        output::when(m.scheduled_until)
    );
    Ok(())
}

async fn to(
    client: &Client,
    id: ScheduledMaintenanceId,
    status: MaintenanceStatus,
    message: Option<String>,
) -> anyhow::Result<ScheduledMaintenance> {
    let post = MaintenancePost {
        status: Some(status),
        body: message,
    };
    Ok(client.post_maintenance_update(id, &post).await?)
}

fn names(m: &ScheduledMaintenance, all: &[Component]) -> String {
    m.components
        .iter()
        .map(|id| {
            all.iter()
                .find(|c| c.id == *id)
                .map_or_else(|| id.to_string(), |c| c.name.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(all: &[ScheduledMaintenance], components: &[Component]) {
    let mut t = output::table(["ID", "NAME", "STATUS", "FROM", "UNTIL", "COMPONENTS"]);
    for m in all {
        t.add_row([
            m.id.to_string(),
            output::one_line(&m.name, 40),
            m.status.as_str().to_owned(),
            output::when(m.scheduled_for),
            output::when(m.scheduled_until),
            names(m, components),
        ]);
    }
    output::print_table(&t);
}

fn show(m: &ScheduledMaintenance, components: &[Component]) {
    println!("{} ({})", m.name, m.id);
    let row = |label: &str, value: &str| println!("  {label:<16}{value}");
    row("status", m.status.as_str());
    row("from", &output::when(m.scheduled_for));
    row("until", &output::when(m.scheduled_until));
    row("components", &names(m, components));
    let on = |b: bool| if b { "yes" } else { "no" };
    row("auto start", on(m.auto_start));
    row("auto complete", on(m.auto_complete));
    row("mutes services", on(m.mute_services));
    if let Some(t) = m.started_at {
        row("started", &output::when(t));
    }
    if let Some(t) = m.completed_at {
        row("ended", &output::when(t));
    }
    if let Some(t) = m.reminded_for {
        row("reminded for", &output::when(t));
    }
    println!("  updates");
    for u in m.updates.iter().rev() {
        println!(
            "    {}  {:<11} {}  ({})",
            output::when(u.at),
            u.status.as_str(),
            u.body,
            u.by
        );
    }
}
