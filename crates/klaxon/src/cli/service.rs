//! `klaxon service ...`: the things that can break, and the integration keys their
//! monitoring sends alerts with.

use clap::{Args, Subcommand};
use klaxon_domain::service::{
    AlertRules, AlertmanagerDedup, Grouping, NewService, Service, ServiceName, ServiceUpdate,
};
use klaxon_domain::{KeyId, MaintenanceId};

use super::{message, Connection};
use crate::output;

#[derive(Debug, Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ServiceCommand,
}

/// The fields `create` and `update` share.
#[derive(Debug, Args)]
struct ServiceFields {
    /// What the service is.
    #[arg(long)]
    description: Option<String>,
    /// The team that owns it.
    #[arg(long)]
    team: Option<String>,
    /// A runbook URL; repeat for several (replaces the list on update).
    #[arg(long = "runbook")]
    runbooks: Vec<String>,
    /// How alerts become incidents: per-alert, by-field:LABEL or time-window:MINUTES.
    #[arg(long, value_parser = grouping)]
    grouping: Option<Grouping>,
    /// Resolve an incident when all its alerts have resolved (true or false).
    #[arg(long)]
    auto_resolve: Option<bool>,
    /// Alertmanager and Grafana notifications: one alert per Prometheus alert
    /// (per-alert) or one per notification group (per-group).
    #[arg(long, value_name = "MODE", value_parser = alertmanager_dedup)]
    alertmanager_dedup: Option<AlertmanagerDedup>,
    /// The escalation policy that pages for this service's incidents ("none" to remove).
    #[arg(long, value_name = "NAME")]
    escalation_policy: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ServiceCommand {
    /// Create a service with its first integration key (admin).
    #[command(
        after_help = "Example: klaxon service create api --team platform --json | jq -r .integration_key"
    )]
    Create {
        #[arg(value_parser = service_name)]
        name: ServiceName,
        #[command(flatten)]
        fields: ServiceFields,
    },
    /// List services.
    List,
    /// Show a service and, to admins, its integration keys.
    Show {
        #[arg(value_parser = service_name)]
        name: ServiceName,
    },
    /// Change a service; what you leave out stays (admin).
    Update {
        #[arg(value_parser = service_name)]
        name: ServiceName,
        #[command(flatten)]
        fields: ServiceFields,
    },
    /// Delete a service and its keys (admin).
    Delete {
        #[arg(value_parser = service_name)]
        name: ServiceName,
    },
    /// Add, rotate or revoke integration keys (admin).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Maintenance windows: alerts are recorded but open no incident.
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MaintenanceCommand {
    /// Start a maintenance window (now, or at --from) lasting --for, or until --until.
    #[command(
        after_help = "Example: klaxon service maintenance add db --for 2h --reason \"PostgreSQL 16 upgrade\""
    )]
    Add {
        #[arg(value_parser = service_name)]
        service: ServiceName,
        /// How long it lasts, e.g. 30m or 2h.
        #[arg(long = "for", value_parser = duration, conflicts_with = "until", required_unless_present = "until")]
        length: Option<jiff::SignedDuration>,
        /// When it ends (RFC 3339).
        #[arg(long)]
        until: Option<jiff::Timestamp>,
        /// When it starts (RFC 3339); now if left out.
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        /// Why: shown to whoever wonders where the pages went.
        #[arg(long)]
        reason: String,
    },
    /// List the windows that are not over yet.
    List {
        #[arg(value_parser = service_name)]
        service: ServiceName,
    },
    /// End a window now by removing it.
    Remove {
        #[arg(value_parser = service_name)]
        service: ServiceName,
        #[arg(value_parser = super::id::<MaintenanceId>)]
        id: MaintenanceId,
    },
}

fn duration(text: &str) -> Result<jiff::SignedDuration, String> {
    klaxon_domain::time::parse_duration("for", text).map_err(message)
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Add another key to a service.
    Add {
        #[arg(value_parser = service_name)]
        service: ServiceName,
    },
    /// Replace a key with a new one; the old key stops working at once.
    Rotate {
        #[arg(value_parser = service_name)]
        service: ServiceName,
        #[arg(value_parser = super::id::<KeyId>)]
        id: KeyId,
    },
    /// Revoke a key; it stops working at once.
    Revoke {
        #[arg(value_parser = service_name)]
        service: ServiceName,
        #[arg(value_parser = super::id::<KeyId>)]
        id: KeyId,
    },
}

fn service_name(text: &str) -> Result<ServiceName, String> {
    ServiceName::parse(text).map_err(message)
}

fn alertmanager_dedup(text: &str) -> Result<AlertmanagerDedup, String> {
    AlertmanagerDedup::parse(text).map_err(message)
}

fn grouping(text: &str) -> Result<Grouping, String> {
    Grouping::parse(text).map_err(message)
}

impl ServiceFields {
    fn rules(&self, base: AlertRules) -> AlertRules {
        AlertRules {
            grouping: self.grouping.clone().unwrap_or(base.grouping),
            auto_resolve: self.auto_resolve.unwrap_or(base.auto_resolve),
            alertmanager_dedup: self.alertmanager_dedup.unwrap_or(base.alertmanager_dedup),
            escalation_policy: match self.escalation_policy.as_deref() {
                None => base.escalation_policy.clone(),
                Some("none") => None,
                Some(name) => Some(name.to_owned()),
            },
            ..base
        }
    }
}

pub async fn run(args: ServiceArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        ServiceCommand::Create { name, fields } => {
            let new = NewService {
                name,
                description: fields.description.clone().unwrap_or_default(),
                owner_team: fields.team.clone(),
                runbook_links: fields.runbooks.clone(),
                rules: fields.rules(AlertRules::default()),
            };
            let service = client.create_service(&new).await?;
            if json {
                return output::json(&service);
            }
            println!("created service {}", service.name);
            if let Some(key) = &service.integration_key {
                println!("integration key: {key}");
            }
        }
        ServiceCommand::List => {
            let services = client.services().await?;
            if json {
                return output::json(&services);
            }
            let mut t = output::table(["NAME", "TEAM", "GROUPING", "DESCRIPTION"]);
            for s in &services {
                t.add_row([
                    s.name.to_string(),
                    s.owner_team.clone().unwrap_or_default(),
                    grouping_text(&s.rules.grouping),
                    output::one_line(&s.description, 60),
                ]);
            }
            output::print_table(&t);
        }
        ServiceCommand::Show { name } => {
            let service = client.service(&name).await?;
            if json {
                return output::json(&service);
            }
            show(&service);
        }
        ServiceCommand::Update { name, fields } => {
            let current = client.service(&name).await?;
            let update = ServiceUpdate {
                description: fields.description.clone(),
                owner_team: fields.team.clone(),
                runbook_links: (!fields.runbooks.is_empty()).then(|| fields.runbooks.clone()),
                rules: Some(fields.rules(current.rules)),
            };
            let service = client.update_service(&name, &update).await?;
            if json {
                return output::json(&service);
            }
            println!("updated service {}", service.name);
        }
        ServiceCommand::Delete { name } => {
            client.delete_service(&name).await?;
            if !json {
                println!("deleted service {name}");
            }
        }
        ServiceCommand::Maintenance { command } => maintenance(&client, command, json).await?,
        ServiceCommand::Key { command } => {
            let key = match command {
                KeyCommand::Add { service } => client.add_integration_key(&service).await?,
                KeyCommand::Rotate { service, id } => {
                    client.rotate_integration_key(&service, id).await?
                }
                KeyCommand::Revoke { service, id } => {
                    client.revoke_integration_key(&service, id).await?
                }
            };
            if json {
                return output::json(&key);
            }
            match key.revoked_at {
                Some(_) => println!("revoked integration key {}", key.id),
                None => println!("integration key {}: {}", key.id, key.key),
            }
        }
    }
    Ok(())
}

fn grouping_text(g: &Grouping) -> String {
    match g {
        Grouping::PerAlert => "per-alert".to_owned(),
        Grouping::ByField { field } => format!("by-field:{field}"),
        Grouping::TimeWindow { minutes } => format!("time-window:{minutes}"),
    }
}

fn show(s: &Service) {
    println!("{}", s.name);
    let row = |label: &str, value: &str| {
        if !value.is_empty() {
            println!("  {label:<14}{value}");
        }
    };
    row("description", &s.description);
    row("team", s.owner_team.as_deref().unwrap_or(""));
    row("grouping", &grouping_text(&s.rules.grouping));
    row(
        "auto-resolve",
        if s.rules.auto_resolve { "yes" } else { "no" },
    );
    row("alertmanager", s.rules.alertmanager_dedup.as_str());
    row(
        "escalation",
        s.rules
            .escalation_policy
            .as_deref()
            .unwrap_or("none: nobody is paged"),
    );
    for link in &s.runbook_links {
        row("runbook", link);
    }
    if let Some(keys) = &s.integration_keys {
        let mut t = output::table(["KEY ID", "INTEGRATION KEY", "CREATED", "REVOKED"]);
        for k in keys {
            t.add_row([
                k.id.to_string(),
                k.key.clone(),
                output::when(k.created_at),
                k.revoked_at.map(output::when).unwrap_or_default(),
            ]);
        }
        println!();
        output::print_table(&t);
    }
}

async fn maintenance(
    client: &klaxon_client::Client,
    command: MaintenanceCommand,
    json: bool,
) -> anyhow::Result<()> {
    match command {
        MaintenanceCommand::Add {
            service,
            length,
            until,
            from,
            reason,
        } => {
            let start = from.unwrap_or_else(jiff::Timestamp::now);
            let ends_at = match (until, length) {
                (Some(until), _) => until,
                (None, Some(length)) => start.checked_add(length)?,
                (None, None) => {
                    anyhow::bail!(super::Usage("give --for DURATION or --until TIME".into()))
                }
            };
            let window = client
                .add_maintenance(
                    &service,
                    &klaxon_domain::service::NewMaintenance {
                        starts_at: from,
                        ends_at,
                        reason,
                    },
                )
                .await?;
            if json {
                return output::json(&window);
            }
            println!(
                "maintenance window {} on {service}: {} to {}",
                window.id,
                output::when(window.starts_at),
                output::when(window.ends_at)
            );
        }
        MaintenanceCommand::List { service } => {
            let windows = client.maintenance(&service).await?;
            if json {
                return output::json(&windows);
            }
            let mut t = output::table(["ID", "FROM", "UNTIL", "BY", "REASON"]);
            for w in &windows {
                t.add_row([
                    w.id.to_string(),
                    output::when(w.starts_at),
                    output::when(w.ends_at),
                    format!("@{}", w.created_by),
                    output::one_line(&w.reason, 60),
                ]);
            }
            output::print_table(&t);
        }
        MaintenanceCommand::Remove { service, id } => {
            client.remove_maintenance(&service, id).await?;
            if !json {
                println!("removed maintenance window {id} of {service}");
            }
        }
    }
    Ok(())
}
