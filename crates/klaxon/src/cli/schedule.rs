//! `klaxon schedule ...`: on-call schedules, their shifts and calendar feeds.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use klaxon_domain::schedule::{NewSchedule, ShiftSource};

use super::Connection;
use crate::output;

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Create a schedule from a JSON file (admin); see docs/paging.md for the format.
    Create {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace a schedule with the one in a JSON file (admin).
    Update {
        name: String,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// List schedules and who is on call on each now.
    List,
    /// The shifts of a schedule between two instants, as a table.
    #[command(
        after_help = "Example: klaxon schedule show primary --from 2026-12-01T00:00:00Z --to 2026-12-08T00:00:00Z"
    )]
    Show {
        name: String,
        /// Start (RFC 3339); now by default.
        #[arg(long)]
        from: Option<Timestamp>,
        /// End (RFC 3339); a week after --from by default.
        #[arg(long)]
        to: Option<Timestamp>,
    },
    /// Print a schedule's iCalendar feed (30 days back, 90 ahead).
    Calendar { name: String },
    /// Delete a schedule (admin).
    Delete { name: String },
}

fn read(file: &PathBuf) -> anyhow::Result<NewSchedule> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a schedule", file.display()))
}

pub async fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        ScheduleCommand::Create { file } => {
            let created = client.create_schedule(&read(&file)?).await?;
            if json {
                return output::json(&created);
            }
            println!("created schedule '{}'", created.name());
        }
        ScheduleCommand::Update { name, file } => {
            let updated = client.replace_schedule(&name, &read(&file)?).await?;
            if json {
                return output::json(&updated);
            }
            println!("updated schedule '{}'", updated.name());
        }
        ScheduleCommand::List => {
            let schedules = client.schedules().await?;
            if json {
                return output::json(&schedules);
            }
            let mut t = output::table(["SCHEDULE", "TIME ZONE", "LAYERS", "ON CALL NOW"]);
            for s in &schedules {
                let now = client.schedule_on_call(s.name()).await?;
                t.add_row([
                    s.name().to_owned(),
                    s.time_zone().name().to_owned(),
                    s.layers().len().to_string(),
                    now.user
                        .map(|u| format!("@{u}"))
                        .unwrap_or_else(|| "nobody".into()),
                ]);
            }
            output::print_table(&t);
        }
        ScheduleCommand::Show { name, from, to } => {
            let shifts = client.shifts(&name, from, to).await?;
            if json {
                return output::json(&shifts);
            }
            let mut t = output::table(["FROM", "TO", "ON CALL", "FROM LAYER"]);
            for s in &shifts {
                let source = match &s.source {
                    ShiftSource::Layer { name, .. } => name.clone(),
                    ShiftSource::Override { .. } => "override".into(),
                };
                t.add_row([
                    output::when(s.start),
                    output::when(s.end),
                    format!("@{}", s.user),
                    source,
                ]);
            }
            output::print_table(&t);
        }
        ScheduleCommand::Calendar { name } => print!("{}", client.schedule_calendar(&name).await?),
        ScheduleCommand::Delete { name } => {
            client.delete_schedule(&name).await?;
            if !json {
                println!("deleted schedule '{name}'");
            }
        }
    }
    Ok(())
}
