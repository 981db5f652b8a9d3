//! `klaxon heartbeat ...`: monitors that expect a ping every interval.

use clap::{Args, Subcommand};
use klaxon_domain::service::{NewHeartbeat, ServiceName};

use super::{message, Connection};
use crate::output;

#[derive(Debug, Args)]
pub struct HeartbeatArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: HeartbeatCommand,
}

#[derive(Debug, Subcommand)]
enum HeartbeatCommand {
    /// Create a monitor; prints the URL to ping (admin).
    #[command(
        after_help = "Example: klaxon heartbeat create --service api --interval 5m\n\
                            then, from the job: curl -X POST $KLAXON_URL/heartbeat/KEY"
    )]
    Create {
        #[arg(long, value_parser = service_name)]
        service: ServiceName,
        /// How often a ping must arrive: 5m, 1h, 1 day.
        #[arg(long)]
        interval: String,
        /// Names the monitor within its service.
        #[arg(long, default_value = "heartbeat")]
        name: String,
    },
    /// List monitors, their last ping and whether they are down.
    List,
}

fn service_name(text: &str) -> Result<ServiceName, String> {
    ServiceName::parse(text).map_err(message)
}

pub async fn run(args: HeartbeatArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        HeartbeatCommand::Create {
            service,
            interval,
            name,
        } => {
            let hb = client
                .create_heartbeat(&NewHeartbeat {
                    service,
                    name,
                    interval,
                })
                .await?;
            if json {
                return output::json(&hb);
            }
            println!(
                "heartbeat {}/{}: ping every {} s",
                hb.service, hb.name, hb.interval_seconds
            );
            if let Some(key) = &hb.key {
                println!("ping with: POST {}/heartbeat/{key}", client.base_url());
            }
        }
        HeartbeatCommand::List => {
            let all = client.heartbeats().await?;
            if json {
                return output::json(&all);
            }
            let mut t = output::table(["SERVICE", "NAME", "EVERY", "LAST PING", "DUE", "STATE"]);
            for hb in &all {
                t.add_row([
                    hb.service.to_string(),
                    hb.name.clone(),
                    klaxon_domain::time::human_duration(hb.interval_seconds),
                    output::when(hb.last_ping_at),
                    output::when(hb.due_at()),
                    if hb.down {
                        "DOWN".to_owned()
                    } else {
                        "up".to_owned()
                    },
                ]);
            }
            output::print_table(&t);
        }
    }
    Ok(())
}
