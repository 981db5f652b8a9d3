//! `klaxon component ...`: the components of the public status page ("API",
//! "Dashboard"), their groups, the services whose incidents affect them, and their status
//! set by hand; and `klaxon incident components`, naming what an incident affects.

use clap::{Args, Subcommand};
use jiff::civil::Date;
use klaxon_client::Client;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{
    Component, ComponentChoice, ComponentStatus, ComponentUpdate, ComponentsRequest, NewComponent,
};
use klaxon_domain::{ComponentId, IncidentNumber};

use super::{message, Connection, Usage};
use crate::output;

#[derive(Debug, Args)]
pub struct ComponentArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ComponentCommand,
}

/// The fields `create` and `update` share.
#[derive(Debug, Args)]
struct Fields {
    /// What customers read about it.
    #[arg(long)]
    description: Option<String>,
    /// The group it belongs to (its name or id); "none" takes it out of its group.
    #[arg(long = "in", value_name = "GROUP")]
    in_group: Option<String>,
    /// Its place among its siblings, from 1.
    #[arg(long)]
    position: Option<i64>,
    /// A service whose customer-facing incidents affect it; repeat for several (replaces
    /// the list on update).
    #[arg(long = "service", value_parser = service_name)]
    services: Vec<ServiceName>,
    /// Shown on the page only while it is not operational (true or false).
    #[arg(long)]
    only_show_if_degraded: Option<bool>,
    /// Show its 90-day uptime bar (true or false).
    #[arg(long)]
    showcase: Option<bool>,
    /// The day uptime counting starts (YYYY-MM-DD); "none" counts from its creation.
    #[arg(long, value_name = "DATE")]
    start_date: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ComponentCommand {
    /// List the components and groups, in page order, with their status now.
    List,
    /// Show one component (by name or id).
    Show { component: String },
    /// Create a component, or a group with --group (admin).
    #[command(
        after_help = "Example: klaxon component create \"REST API\" --in Core --service api"
    )]
    Create {
        name: String,
        /// Create a group: it holds components and takes their worst status.
        #[arg(long)]
        group: bool,
        #[command(flatten)]
        fields: Fields,
    },
    /// Change a component; what you leave out stays (admin).
    Update {
        component: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// Set its status by hand: operational, degraded_performance, partial_outage,
        /// major_outage or under_maintenance (operational ends a status set by hand).
        #[arg(long, value_parser = component_status)]
        status: Option<ComponentStatus>,
        #[command(flatten)]
        fields: Fields,
    },
    /// Delete a component, or an empty group (admin).
    Delete { component: String },
}

fn service_name(text: &str) -> Result<ServiceName, String> {
    ServiceName::parse(text).map_err(message)
}

fn component_status(text: &str) -> Result<ComponentStatus, String> {
    ComponentStatus::parse(text).map_err(message)
}

fn date(text: &str) -> anyhow::Result<Date> {
    text.parse()
        .map_err(|_| Usage(format!("'{text}' is not a date; write it as YYYY-MM-DD")).into())
}

/// The component named `text`: by id, else by name (letter case aside).
fn find<'a>(all: &'a [Component], text: &str) -> anyhow::Result<&'a Component> {
    let by_id = text.trim().parse::<i64>().ok();
    all.iter()
        .find(|c| Some(c.id.0) == by_id)
        .or_else(|| {
            all.iter()
                .find(|c| c.name.eq_ignore_ascii_case(text.trim()))
        })
        .ok_or_else(|| {
            Usage(format!(
                "there is no component '{text}'; see `klaxon component list`"
            ))
            .into()
        })
}

/// The group `--in` names: `None` to leave it, `Some(None)` to take it out of its group.
fn group_of(all: &[Component], text: Option<&str>) -> anyhow::Result<Option<Option<ComponentId>>> {
    match text {
        None => Ok(None),
        Some("none") => Ok(Some(None)),
        Some(name) => Ok(Some(Some(find(all, name)?.id))),
    }
}

pub async fn run(args: ComponentArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let all = client.components().await?;
    match args.command {
        ComponentCommand::List => {
            if json {
                return output::json(&all);
            }
            list(&all);
        }
        ComponentCommand::Show { component } => {
            let c = find(&all, &component)?;
            if json {
                return output::json(c);
            }
            show(c, &all);
        }
        ComponentCommand::Create {
            name,
            group,
            fields,
        } => {
            let new = NewComponent {
                name,
                description: fields.description,
                group,
                group_id: group_of(&all, fields.in_group.as_deref())?.flatten(),
                position: fields.position,
                services: fields.services,
                only_show_if_degraded: fields.only_show_if_degraded.unwrap_or(false),
                showcase: fields.showcase,
                start_date: fields.start_date.as_deref().map(date).transpose()?,
            };
            let c = client.create_component(&new).await?;
            if json {
                return output::json(&c);
            }
            let what = if c.group { "group" } else { "component" };
            println!("created {what} {} ({})", c.name, c.id);
        }
        ComponentCommand::Update {
            component,
            name,
            status,
            fields,
        } => {
            let id = find(&all, &component)?.id;
            let update = ComponentUpdate {
                name,
                description: fields.description.map(|d| (!d.is_empty()).then_some(d)),
                group_id: group_of(&all, fields.in_group.as_deref())?,
                position: fields.position,
                services: (!fields.services.is_empty()).then_some(fields.services),
                only_show_if_degraded: fields.only_show_if_degraded,
                showcase: fields.showcase,
                start_date: match fields.start_date.as_deref() {
                    None => None,
                    Some("none") => Some(None),
                    Some(d) => Some(Some(date(d)?)),
                },
                status,
            };
            let c = client.update_component(id, &update).await?;
            if json {
                return output::json(&c);
            }
            println!("updated {}: {}", c.name, c.status.label().to_lowercase());
        }
        ComponentCommand::Delete { component } => {
            let c = find(&all, &component)?;
            client.delete_component(c.id).await?;
            if !json {
                println!("deleted {}", c.name);
            }
        }
    }
    Ok(())
}

fn list(all: &[Component]) {
    let mut t = output::table(["ID", "NAME", "STATUS", "SERVICES", "UPTIME BAR"]);
    for c in all {
        let name = if c.group_id.is_some() {
            format!("  {}", c.name)
        } else if c.group {
            format!("{} (group)", c.name)
        } else {
            c.name.clone()
        };
        t.add_row([
            c.id.to_string(),
            name,
            c.status.label().to_lowercase(),
            c.services
                .iter()
                .map(ServiceName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            if c.showcase { "shown" } else { "" }.to_owned(),
        ]);
    }
    output::print_table(&t);
}

fn show(c: &Component, all: &[Component]) {
    println!("{} ({})", c.name, c.id);
    let row = |label: &str, value: &str| {
        if !value.is_empty() {
            println!("  {label:<22}{value}");
        }
    };
    row("status", &c.status.label().to_lowercase());
    if c.manual_status != ComponentStatus::Operational {
        row("set by hand", &c.manual_status.label().to_lowercase());
    }
    row("description", c.description.as_deref().unwrap_or(""));
    if let Some(g) = c.group_id.and_then(|g| all.iter().find(|k| k.id == g)) {
        row("group", &g.name);
    }
    if c.group {
        let children: Vec<&str> = all
            .iter()
            .filter(|k| k.group_id == Some(c.id))
            .map(|k| k.name.as_str())
            .collect();
        row("components", &children.join(", "));
    }
    row("position", &c.position.to_string());
    row(
        "services",
        &c.services
            .iter()
            .map(ServiceName::as_str)
            .collect::<Vec<_>>()
            .join(", "),
    );
    row("uptime bar", if c.showcase { "shown" } else { "hidden" });
    if c.only_show_if_degraded {
        row("shown", "only while not operational");
    }
    if let Some(d) = c.start_date {
        row("uptime counts from", &d.to_string());
    }
}

/// `klaxon incident components 42 API=partial_outage Web`: what an incident affects.
#[derive(Debug, Args)]
#[command(
    after_help = "Example: klaxon incident components 42 API=partial_outage \"Web app\"\n\
                  A component without =STATUS takes the status the policy suggests for the\n\
                  incident's severity; --none says the incident affects no component."
)]
pub struct IncidentComponentsArgs {
    /// The incident: 42 or #42.
    #[arg(value_parser = super::incident_number)]
    number: IncidentNumber,
    /// COMPONENT[=STATUS]: a component (name or id) and the status it has while the
    /// incident is open.
    #[arg(value_name = "COMPONENT[=STATUS]", required_unless_present = "none")]
    components: Vec<String>,
    /// Name no components (the incident affects none).
    #[arg(long, conflicts_with = "components")]
    none: bool,
}

pub async fn incident_components(
    client: &Client,
    a: IncidentComponentsArgs,
    json: bool,
) -> anyhow::Result<()> {
    let all = if a.none {
        Vec::new()
    } else {
        client.components().await?
    };
    let mut components = Vec::new();
    for arg in &a.components {
        let (name, status) = match arg.rsplit_once('=') {
            Some((name, status)) => (
                name,
                Some(ComponentStatus::parse(status).map_err(|e| Usage(message(e)))?),
            ),
            None => (arg.as_str(), None),
        };
        components.push(ComponentChoice {
            component: find(&all, name)?.id,
            status,
        });
    }
    let view = client
        .set_incident_components(a.number, &ComponentsRequest { components })
        .await?;
    let named: Vec<String> = view
        .incident
        .components
        .iter()
        .map(|c| format!("{} {}", c.name, c.status.label().to_lowercase()))
        .collect();
    let done = if named.is_empty() {
        "affects no components".to_owned()
    } else {
        format!("affects {}", named.join(", "))
    };
    super::incident::changed(&view, &done, json)
}
