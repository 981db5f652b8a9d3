//! `klaxon service ...`: the things that can break, and the integration keys their
//! monitoring sends alerts with.

use clap::{Args, Subcommand};
use klaxon_domain::service::{
    AlertRules, Grouping, NewService, Service, ServiceName, ServiceUpdate,
};

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
        id: i64,
    },
    /// Revoke a key; it stops working at once.
    Revoke {
        #[arg(value_parser = service_name)]
        service: ServiceName,
        id: i64,
    },
}

fn service_name(text: &str) -> Result<ServiceName, String> {
    ServiceName::parse(text).map_err(message)
}

fn grouping(text: &str) -> Result<Grouping, String> {
    Grouping::parse(text).map_err(message)
}

impl ServiceFields {
    fn rules(&self, base: AlertRules) -> AlertRules {
        AlertRules {
            grouping: self.grouping.clone().unwrap_or(base.grouping),
            auto_resolve: self.auto_resolve.unwrap_or(base.auto_resolve),
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
