//! `klaxon subscriber ...` (admins): the public status page's subscribers. People
//! subscribe their e-mail address on the page itself; admins list, add (a webhook, or
//! an address) and remove them here.

use clap::{Args, Subcommand};
use klaxon_domain::status::{NewSubscriber, Subscriber};
use klaxon_domain::{ComponentId, SubscriberId};

use super::{Connection, Usage};
use crate::output;

#[derive(Debug, Args)]
pub struct SubscriberArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: SubscriberCommand,
}

#[derive(Debug, Subcommand)]
enum SubscriberCommand {
    /// List the subscribers, their addresses and what each follows.
    List,
    /// Add a webhook (prints its signing secret, once) or an e-mail address.
    #[command(
        after_help = "Examples:\n  klaxon subscriber add --webhook https://hooks.example.com/status --component API\n  klaxon subscriber add --email ops@example.com"
    )]
    Add {
        /// An e-mail address; it is mailed a link to confirm unless --confirmed.
        #[arg(long, conflicts_with = "webhook", required_unless_present = "webhook")]
        email: Option<String>,
        /// An http(s) URL that receives each notice as a signed POST.
        #[arg(long)]
        webhook: Option<String>,
        /// A component or group to follow (its name or id); repeat for several. Without
        /// it: the whole page.
        #[arg(long = "component", value_name = "COMPONENT")]
        components: Vec<String>,
        /// The address asked to subscribe already: skip the confirmation mail.
        #[arg(long)]
        confirmed: bool,
    },
    /// Remove a subscriber (by id or address).
    Remove { subscriber: String },
}

pub async fn run(args: SubscriberArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        SubscriberCommand::List => {
            let all = client.subscribers().await?;
            if json {
                return output::json(&all);
            }
            let components = client.components().await?;
            let mut t = output::table(["ID", "KIND", "ADDRESS", "FOLLOWS", "CONFIRMED"]);
            for s in &all {
                t.add_row([
                    s.id.to_string(),
                    s.kind.as_str().to_owned(),
                    s.address.clone(),
                    follows(s, &components),
                    s.confirmed_at
                        .map_or_else(|| "pending".to_owned(), |t| t.to_string()),
                ]);
            }
            output::print_table(&t);
        }
        SubscriberCommand::Add {
            email,
            webhook,
            components,
            confirmed,
        } => {
            let ids = if components.is_empty() {
                None
            } else {
                let all = client.components().await?;
                Some(
                    components
                        .iter()
                        .map(|c| component_id(&all, c))
                        .collect::<anyhow::Result<Vec<_>>>()?,
                )
            };
            let added = client
                .add_subscriber(&NewSubscriber {
                    email,
                    webhook,
                    components: ids,
                    confirmed,
                })
                .await?;
            if json {
                return output::json(&added);
            }
            let s = &added.subscriber;
            println!(
                "added subscriber {} ({} {})",
                s.id,
                s.kind.as_str(),
                s.address
            );
            if let Some(secret) = &added.signing_secret {
                println!("signing secret (shown once): {secret}");
                println!(
                    "deliveries carry X-Klaxon-Signature: sha256=HMAC-SHA256(secret, X-Klaxon-Timestamp + \".\" + body)"
                );
            } else if s.confirmed_at.is_none() {
                println!("a link to confirm was mailed to {}", s.address);
            }
        }
        SubscriberCommand::Remove { subscriber } => {
            let all = client.subscribers().await?;
            let by_id = subscriber.trim().parse::<i64>().ok();
            let s = all
                .iter()
                .find(|s| Some(s.id.0) == by_id)
                .or_else(|| {
                    all.iter()
                        .find(|s| s.address.eq_ignore_ascii_case(subscriber.trim()))
                })
                .ok_or_else(|| {
                    Usage(format!(
                        "there is no subscriber '{subscriber}'; see `klaxon subscriber list`"
                    ))
                })?;
            client.remove_subscriber(SubscriberId(s.id.0)).await?;
            if !json {
                println!("removed {}", s.address);
            }
        }
    }
    Ok(())
}

fn component_id(
    all: &[klaxon_domain::status::Component],
    text: &str,
) -> anyhow::Result<ComponentId> {
    let by_id = text.trim().parse::<i64>().ok();
    all.iter()
        .find(|c| Some(c.id.0) == by_id || c.name.eq_ignore_ascii_case(text.trim()))
        .map(|c| c.id)
        .ok_or_else(|| {
            Usage(format!(
                "there is no component '{text}'; see `klaxon component list`"
            ))
            .into()
        })
}

fn follows(s: &Subscriber, components: &[klaxon_domain::status::Component]) -> String {
    match &s.components {
        None => "whole page".to_owned(),
        Some(ids) => ids
            .iter()
            .map(|id| {
                components
                    .iter()
                    .find(|c| c.id == *id)
                    .map_or_else(|| id.to_string(), |c| c.name.clone())
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}
