//! `klaxon incident ...`: declare, read and work incidents.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use jiff::Timestamp;
use klaxon_client::Client;
use klaxon_domain::api::{
    AckRequest, IncidentQuery, MergeRequest, MitigateRequest, NoteRequest, ReasonRequest,
    ResolveRequest, RoleRequest, SeverityRequest,
};
use klaxon_domain::incident::{IncidentView, MitigationStrategy, Role, Status};
use klaxon_domain::{Handle, IncidentNumber, Severity};

use super::{declare, handle, incident_number, message, named, severity, update, Connection};
use crate::time::parse_time;
use crate::{evidence, output, render};

#[derive(Debug, Args)]
pub struct IncidentArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: IncidentCommand,
}

#[derive(Debug, Subcommand)]
enum IncidentCommand {
    /// Declare an incident, with a severity or by walking the triage questions.
    Declare(declare::DeclareArgs),
    /// List incidents, newest first.
    List(ListArgs),
    /// Show one incident and its timeline.
    Show {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
    },
    /// Acknowledge an incident: someone is on it.
    Ack {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        /// When it was acknowledged, if not now.
        #[arg(long, value_parser = parse_time)]
        at: Option<Timestamp>,
    },
    /// Give someone a role: commander, investigator, communicator or scribe.
    Assign {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        /// commander (or ic), investigator, communicator or scribe.
        #[arg(value_parser = role)]
        role: Role,
        #[arg(value_parser = handle)]
        handle: Handle,
    },
    /// Take a role away from someone.
    Relieve {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        /// commander (or ic), investigator, communicator or scribe.
        #[arg(value_parser = role)]
        role: Role,
        #[arg(value_parser = handle)]
        handle: Handle,
    },
    /// Change the severity (1-4 or SEV1-SEV4), saying why.
    Severity {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        #[arg(value_parser = severity)]
        level: Severity,
        #[arg(long)]
        reason: String,
    },
    /// Post a status update from the policy's template; prints the message.
    Update(update::UpdateArgs),
    /// Record that the impact is stopped, and how.
    Mitigate {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        #[arg(long, value_parser = named::<MitigationStrategy>(&[
            "quick-fix", "rollback", "scale-up", "disable-feature", "failover", "other",
        ]))]
        strategy: MitigationStrategy,
        /// What was done, e.g. "rolled back to v2.1.2".
        #[arg(long)]
        action: String,
        #[arg(long, value_parser = parse_time)]
        at: Option<Timestamp>,
    },
    /// Resolve an incident.
    Resolve {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        #[arg(long)]
        root_cause: Option<String>,
        #[arg(long)]
        fix: Option<String>,
        #[arg(long, value_parser = parse_time)]
        at: Option<Timestamp>,
    },
    /// Close a resolved incident.
    Close {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
    },
    /// Reopen a resolved or closed incident.
    Reopen {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Decline an incident: a false alarm.
    Decline {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Merge an incident into another one.
    Merge {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        /// The incident that absorbs this one.
        #[arg(long, value_parser = incident_number)]
        into: IncidentNumber,
    },
    /// Add a note to the timeline.
    Note {
        /// The incident: 42 or #42.
        #[arg(value_parser = incident_number)]
        number: IncidentNumber,
        text: String,
        /// When it happened, if not now.
        #[arg(long, value_parser = parse_time)]
        at: Option<Timestamp>,
    },
    /// Attach evidence: text, a text file, or the output of a command run here.
    Evidence(EvidenceArgs),
    /// Name the status-page components the incident affects, and their status.
    Components(super::component::IncidentComponentsArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    #[arg(long, value_parser = named::<Status>(&[
        "triggered", "acknowledged", "mitigated", "resolved", "closed", "declined", "merged",
    ]))]
    status: Option<Status>,
    #[arg(long, value_parser = severity)]
    severity: Option<Severity>,
    #[arg(long)]
    service: Option<String>,
    /// Only open incidents (triggered, acknowledged, mitigated).
    #[arg(long, conflicts_with = "closed")]
    open: bool,
    /// Only incidents that are no longer open.
    #[arg(long)]
    closed: bool,
    /// Only incidents declared since then: RFC 3339, HH:MM (UTC) or an amount ago (24h).
    #[arg(long, value_parser = parse_time)]
    since: Option<Timestamp>,
    /// How many incidents to show (at most 200).
    #[arg(long)]
    limit: Option<u32>,
    /// Only incidents numbered below this one: the next page.
    #[arg(long, value_parser = incident_number)]
    before: Option<IncidentNumber>,
}

#[derive(Debug, Args)]
#[command(
    override_usage = "klaxon incident evidence <NUMBER> (--text <TEXT> | --file <FILE> | -- <CMD>...)"
)]
#[command(group(ArgGroup::new("what").required(true).args(["text", "file", "command"])))]
#[command(
    after_help = "Example: klaxon incident evidence 42 -- kubectl logs deploy/api --tail=200"
)]
struct EvidenceArgs {
    /// The incident: 42 or #42.
    #[arg(value_parser = incident_number)]
    number: IncidentNumber,
    /// Attach this text.
    #[arg(long)]
    text: Option<String>,
    /// Attach this text file (UTF-8, at most 64 KiB).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Run this command here and attach its output and exit code.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).map_err(message)
}

pub async fn run(args: IncidentArgs) -> anyhow::Result<()> {
    let conn = &args.connection;
    let client = conn.client()?;
    let json = conn.json;
    let show = |view: &IncidentView, done: &str| changed(view, done, json);
    match args.command {
        IncidentCommand::Declare(a) => declare::run(&client, a, json).await,
        IncidentCommand::List(a) => list(&client, a, json).await,
        IncidentCommand::Show { number } => {
            let view = client.incident(number).await?;
            if json {
                output::json(&view)
            } else {
                render::show(&view, Timestamp::now());
                Ok(())
            }
        }
        IncidentCommand::Ack { number, at } => show(
            &client.ack(number, &AckRequest { at }).await?,
            "acknowledged",
        ),
        IncidentCommand::Assign {
            number,
            role,
            handle,
        } => {
            let body = RoleRequest { role, user: handle };
            let view = client.assign(number, &body).await?;
            show(&view, &format!("@{} is now {}", body.user, body.role))
        }
        IncidentCommand::Relieve {
            number,
            role,
            handle,
        } => {
            let body = RoleRequest { role, user: handle };
            let view = client.relieve(number, &body).await?;
            show(&view, &format!("@{} relieved as {}", body.user, body.role))
        }
        IncidentCommand::Severity {
            number,
            level,
            reason,
        } => {
            let body = SeverityRequest {
                severity: level,
                reason,
            };
            let view = client.change_severity(number, &body).await?;
            show(&view, "severity changed")
        }
        IncidentCommand::Update(a) => update::run(&client, a, json).await,
        IncidentCommand::Mitigate {
            number,
            strategy,
            action,
            at,
        } => {
            let body = MitigateRequest {
                strategy,
                action,
                at,
            };
            show(&client.mitigate(number, &body).await?, "mitigated")
        }
        IncidentCommand::Resolve {
            number,
            root_cause,
            fix,
            at,
        } => {
            let body = ResolveRequest {
                root_cause,
                fix,
                at,
            };
            show(&client.resolve(number, &body).await?, "resolved")
        }
        IncidentCommand::Close { number } => show(&client.close(number).await?, "closed"),
        IncidentCommand::Reopen { number, reason } => {
            let view = client.reopen(number, &ReasonRequest { reason }).await?;
            show(&view, "reopened")
        }
        IncidentCommand::Decline { number, reason } => {
            let view = client.decline(number, &ReasonRequest { reason }).await?;
            show(&view, "declined")
        }
        IncidentCommand::Merge { number, into } => {
            let target = client.merge(number, &MergeRequest { into }).await?;
            if json {
                return output::json(&target);
            }
            let t = &target.incident;
            println!(
                "{number} merged into {} ({}, {})",
                t.number, t.severity, t.slug
            );
            Ok(())
        }
        IncidentCommand::Note { number, text, at } => {
            let view = client.note(number, &NoteRequest { text, at }).await?;
            show(&view, "note added")
        }
        IncidentCommand::Evidence(a) => attach(&client, a, json).await,
        IncidentCommand::Components(a) => {
            super::component::incident_components(&client, a, json).await
        }
    }
}

/// Prints a changed incident: its JSON, or one line saying what was done.
pub(super) fn changed(view: &IncidentView, done: &str, json: bool) -> anyhow::Result<()> {
    if json {
        output::json(view)
    } else {
        println!("{}", render::confirmation(view, done));
        Ok(())
    }
}

async fn list(client: &Client, a: ListArgs, json: bool) -> anyhow::Result<()> {
    let open = match (a.open, a.closed) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let query = IncidentQuery {
        status: a.status,
        severity: a.severity,
        service: a.service,
        open,
        since: a.since.map(|t| t.to_string()),
        limit: a.limit,
        before: a.before,
    };
    let page = client.list_incidents(&query).await?;
    if json {
        output::json(&page)
    } else {
        render::list(&page);
        Ok(())
    }
}

async fn attach(client: &Client, a: EvidenceArgs, json: bool) -> anyhow::Result<()> {
    let evidence = match (a.text, a.file) {
        (Some(text), _) => klaxon_domain::incident::Evidence::Text { text },
        (None, Some(path)) => evidence::from_file(&path)?,
        (None, None) => evidence::from_command(&a.command)
            .await
            .context("cannot capture the command's output")?,
    };
    let note = match &evidence {
        klaxon_domain::incident::Evidence::Command {
            exit_code,
            truncated,
            ..
        } => format!(
            "evidence attached, {}",
            klaxon_domain::incident::command_outcome(*exit_code, *truncated)
        ),
        _ => "evidence attached".to_owned(),
    };
    let view = client.evidence(a.number, &evidence).await?;
    changed(&view, &note, json)
}
