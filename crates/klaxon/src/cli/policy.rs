//! `klaxon policy ...`: check a policy file here, show the server's policy, print the
//! built-in one.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use klaxon_domain::policy::{ChannelMode, Policy, DEFAULT_POLICY_TOML};

use super::{Connection, Reported};
use crate::output;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check a policy file; prints each problem as FILE:LINE:COL: message.
    Check { file: PathBuf },
    /// Show the policy the server is running with.
    Show,
    /// Print the built-in policy, to start your own: klaxon policy default > klaxon.toml
    Default,
}

pub async fn run(args: PolicyArgs) -> anyhow::Result<()> {
    match args.command {
        PolicyCommand::Check { file } => {
            load(&file)?;
            println!("{}: ok", file.display());
            Ok(())
        }
        PolicyCommand::Show => {
            let policy = args.connection.client()?.policy().await?;
            if args.connection.json {
                output::json(&policy)
            } else {
                show(&policy);
                Ok(())
            }
        }
        PolicyCommand::Default => {
            print!("{DEFAULT_POLICY_TOML}");
            Ok(())
        }
    }
}

/// Reads and validates a policy file. Each problem is printed to stderr as
/// `FILE:LINE:COL: message`, and the error is [`Reported`].
pub fn load(file: &Path) -> anyhow::Result<Policy> {
    let shown = file.display();
    let source = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read policy file {shown}: {e}"))?;
    Policy::from_toml(&source).map_err(|errors| {
        for e in &errors {
            // One line per problem, so that editors and grep can jump to it.
            let message = e.message.lines().collect::<Vec<_>>().join("; ");
            eprintln!("{shown}:{}:{}: {message}", e.line, e.column);
        }
        Reported.into()
    })
}

fn show(p: &Policy) {
    let b = &p.business_hours;
    let days: Vec<String> = b
        .days
        .iter()
        .map(|d| {
            serde_json::to_value(d)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let hhmm =
        |t: &klaxon_domain::policy::TimeOfDay| format!("{:02}:{:02}", t.0.hour(), t.0.minute());
    println!("Time zone         {}", p.time_zone.name());
    println!("Incident channel  {}", p.incident_channel);
    println!(
        "Business hours    {} {}-{}",
        days.join(" "),
        hhmm(&b.start),
        hhmm(&b.end)
    );

    println!("\n{}", output::Paint::Bold.paint("Severities"));
    let mut t = output::table([
        "LEVEL",
        "NAME",
        "DEFINITION",
        "ACK WITHIN",
        "UPDATES",
        "CUSTOMER UPDATES",
        "ROLES",
        "CHANNEL",
    ]);
    for s in &p.severities {
        let every = |c: Option<klaxon_domain::policy::Cadence>| {
            c.map(|c| format!("every {c}"))
                .unwrap_or_else(|| "-".to_owned())
        };
        let roles: Vec<&str> = s.required_roles.iter().map(|r| r.as_str()).collect();
        t.add_row([
            s.level.to_string(),
            s.name.clone(),
            s.definition.clone(),
            s.response_target.to_string(),
            every(s.internal_update_every),
            every(s.customer_update_every),
            if roles.is_empty() {
                "-".to_owned()
            } else {
                roles.join(", ")
            },
            match s.channel {
                ChannelMode::Dedicated => "dedicated".to_owned(),
                ChannelMode::Thread => "thread".to_owned(),
            },
        ]);
    }
    output::print_table(&t);

    println!(
        "\n{}",
        output::Paint::Bold.paint("Triage (the first yes decides)")
    );
    for (i, q) in p.triage.questions.iter().enumerate() {
        println!("  {}. {}  yes: {}", i + 1, q.ask, q.severity);
    }
    println!("  Otherwise: {}", p.triage.otherwise);

    if !p.runbooks.is_empty() {
        println!("\n{}", output::Paint::Bold.paint("Runbooks"));
        let mut t = output::table(["SYMPTOM", "RUNBOOK", "URL"]);
        for r in &p.runbooks {
            t.add_row([
                r.symptom.clone(),
                r.runbook.clone(),
                r.url.clone().unwrap_or_default(),
            ]);
        }
        output::print_table(&t);
    }
}
