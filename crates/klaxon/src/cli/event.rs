//! `klaxon event send`: a test event, sent the way a monitoring tool sends one.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{named, Connection};
use klaxon_domain::alert::AlertSeverity;

#[derive(Debug, Args)]
pub struct EventArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: EventCommand,
}

#[derive(Debug, Subcommand)]
enum EventCommand {
    /// Trigger an alert through the Events API with a service's integration key.
    #[command(
        after_help = "Example: klaxon event send $KEY \"Checkout latency above 2s\" --severity warning"
    )]
    Send {
        /// The service's integration key (see `klaxon service show NAME`).
        key: String,
        /// What is wrong.
        summary: String,
        #[arg(long, default_value = "critical", value_parser = named::<AlertSeverity>(&["critical", "error", "warning", "info"]))]
        severity: AlertSeverity,
        /// The dedup key; Klaxon makes one up if left out.
        #[arg(long)]
        dedup_key: Option<String>,
        /// The system the alert is about.
        #[arg(long, default_value = "klaxon-cli")]
        source: String,
    },
}

pub async fn run(args: EventArgs) -> anyhow::Result<()> {
    let client = args.connection.unauthenticated_client();
    match args.command {
        EventCommand::Send {
            key,
            summary,
            severity,
            dedup_key,
            source,
        } => {
            let mut body = json!({
                "routing_key": key,
                "event_action": "trigger",
                "payload": {"summary": summary, "source": source, "severity": severity},
                "client": "klaxon event send",
            });
            if let Some(d) = dedup_key {
                body["dedup_key"] = json!(d);
            }
            let dedup = client.send_event(&body).await?;
            if args.connection.json {
                println!("{}", json!({"dedup_key": dedup}));
            } else {
                println!("event accepted; dedup key {dedup}");
            }
        }
    }
    Ok(())
}
