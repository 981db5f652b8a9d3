//! `klaxon escalation ...`, `klaxon oncall` and `klaxon page`: who is paged, and paging
//! someone directly.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use klaxon_domain::paging::api::{NewPage, Subscription};
use klaxon_domain::paging::{NewEscalationPolicy, Target};
use klaxon_domain::Handle;

use super::{handle, Connection, Usage};
use crate::output;

#[derive(Debug, Args)]
pub struct EscalationArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: EscalationCommand,
}

#[derive(Debug, Subcommand)]
enum EscalationCommand {
    /// Create an escalation policy from a JSON file (admin); see docs/paging.md.
    Create {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace a policy with the one in a JSON file (admin).
    Update {
        name: String,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List escalation policies.
    List,
    /// Show a policy's steps.
    Show { name: String },
    /// Delete a policy no service uses (admin).
    Delete { name: String },
}

fn read(file: &PathBuf) -> anyhow::Result<NewEscalationPolicy> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not an escalation policy", file.display()))
}

fn target(t: &Target) -> String {
    match t {
        Target::User(h) => format!("@{h}"),
        Target::Schedule(s) => format!("schedule {s}"),
    }
}

pub async fn escalation(args: EscalationArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let policy = match args.command {
        EscalationCommand::Create { file } => {
            client.create_escalation_policy(&read(&file)?).await?
        }
        EscalationCommand::Update { name, file } => {
            client
                .replace_escalation_policy(&name, &read(&file)?)
                .await?
        }
        EscalationCommand::Show { name } => client.escalation_policy(&name).await?,
        EscalationCommand::Delete { name } => {
            client.delete_escalation_policy(&name).await?;
            if !json {
                println!("deleted escalation policy '{name}'");
            }
            return Ok(());
        }
        EscalationCommand::List => {
            let policies = client.escalation_policies().await?;
            if json {
                return output::json(&policies);
            }
            let mut t = output::table(["POLICY", "STEPS", "REPEAT", "ACK TIMEOUT", "FIRST STEP"]);
            for p in &policies {
                let first = p
                    .steps
                    .first()
                    .map(|s| s.targets.iter().map(target).collect::<Vec<_>>().join(", "));
                t.add_row([
                    p.name.clone(),
                    p.steps.len().to_string(),
                    p.repeat.to_string(),
                    p.ack_timeout_minutes
                        .map(|m| format!("{m} min"))
                        .unwrap_or_else(|| "-".into()),
                    first.unwrap_or_default(),
                ]);
            }
            output::print_table(&t);
            return Ok(());
        }
    };
    if json {
        return output::json(&policy);
    }
    println!(
        "{}{}",
        policy.name,
        if policy.description.is_empty() {
            String::new()
        } else {
            format!(": {}", policy.description)
        }
    );
    let mut t = output::table(["STEP", "PAGES", "THEN WAITS"]);
    for (i, step) in policy.steps.iter().enumerate() {
        let targets = step
            .targets
            .iter()
            .map(target)
            .collect::<Vec<_>>()
            .join(", ");
        t.add_row([
            (i + 1).to_string(),
            targets,
            format!("{} min", step.delay_minutes),
        ]);
    }
    output::print_table(&t);
    println!("repeats {} more time(s) unacknowledged", policy.repeat);
    Ok(())
}

#[derive(Debug, Args)]
pub struct OnCallArgs {
    #[command(flatten)]
    connection: Connection,
}

pub async fn on_call(args: OnCallArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let services = client.on_call().await?;
    if args.connection.json {
        return output::json(&services);
    }
    let mut t = output::table(["SERVICE", "ESCALATION POLICY", "ON CALL NOW"]);
    for s in &services {
        let people = if s.on_call.is_empty() {
            "nobody".to_owned()
        } else {
            s.on_call
                .iter()
                .map(|u| format!("@{u}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        t.add_row([
            s.service.clone(),
            s.escalation_policy.clone().unwrap_or_else(|| "none".into()),
            people,
        ]);
    }
    output::print_table(&t);
    Ok(())
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  klaxon page alice --message \"db-1 disk at 95%, can you look?\"\n  klaxon page --schedule primary --message \"checkout errors\""
)]
pub struct PageArgs {
    #[command(flatten)]
    connection: Connection,
    /// The person to page.
    #[arg(value_parser = handle, required_unless_present = "schedule")]
    user: Option<Handle>,
    /// Page whoever is on call on this schedule instead.
    #[arg(long, conflicts_with = "user")]
    schedule: Option<String>,
    /// What is wrong, in a sentence.
    #[arg(long)]
    message: String,
}

pub async fn page(args: PageArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let target = match (args.user, args.schedule) {
        (Some(user), _) => Target::User(user),
        (None, Some(schedule)) => Target::Schedule(schedule),
        (None, None) => return Err(Usage("name a user or --schedule".into()).into()),
    };
    let paged = client
        .page(&NewPage {
            target,
            message: args.message,
        })
        .await?;
    if args.connection.json {
        return output::json(&paged);
    }
    println!(
        "paged @{} ({} deliveries queued)",
        paged.user, paged.deliveries
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct TeamArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: TeamCommand,
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Tell USER about the incidents the severity policy tells TEAM about.
    #[command(after_help = "Example: klaxon team subscribe management carol")]
    Subscribe {
        team: String,
        #[arg(value_parser = handle)]
        user: Handle,
    },
    /// Stop telling USER about TEAM's incidents.
    Unsubscribe {
        team: String,
        #[arg(value_parser = handle)]
        user: Handle,
    },
    /// Who is subscribed to which team.
    List,
}

pub async fn team(args: TeamArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        TeamCommand::Subscribe { team, user } => {
            let added = client.subscribe(&Subscription { team, user }).await?;
            if json {
                return output::json(&added);
            }
            println!("@{} now hears about {}'s incidents", added.user, added.team);
        }
        TeamCommand::Unsubscribe { team, user } => {
            client.unsubscribe(&team, &user).await?;
            if !json {
                println!("@{user} no longer hears about {team}'s incidents");
            }
        }
        TeamCommand::List => {
            let all = client.subscriptions().await?;
            if json {
                return output::json(&all);
            }
            let mut t = output::table(["TEAM", "SUBSCRIBER"]);
            for s in &all {
                t.add_row([s.team.clone(), format!("@{}", s.user)]);
            }
            output::print_table(&t);
        }
    }
    Ok(())
}
