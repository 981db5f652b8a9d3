//! `klaxon user contact ...` and `klaxon user rule ...`: how a person is reached.

use clap::Subcommand;
use klaxon_client::Client;
use klaxon_domain::paging::{ContactKind, NewContactMethod, NewNotificationRule, Urgency};
use klaxon_domain::Handle;

use super::{handle, named};
use crate::output;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a contact method: email, sms or voice (E.164 number), slack (member id), webhook.
    #[command(
        after_help = "Example: klaxon user contact add alice sms +15551234567 --label mobile"
    )]
    Add {
        #[arg(value_parser = handle)]
        user: Handle,
        #[arg(value_parser = named::<ContactKind>(&["email", "sms", "voice", "slack", "webhook"]))]
        kind: ContactKind,
        address: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List a person's contact methods.
    List {
        #[arg(value_parser = handle)]
        user: Handle,
    },
    /// Remove a contact method (and the rules that use it).
    Remove {
        #[arg(value_parser = handle)]
        user: Handle,
        id: i64,
    },
    /// Send a test message; the method shows as verified once it is delivered.
    Test {
        #[arg(value_parser = handle)]
        user: Handle,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Use a contact method this many minutes after a page of this urgency.
    #[command(
        after_help = "Example: klaxon user rule add alice --method 1 --urgency high --delay 0"
    )]
    Add {
        #[arg(value_parser = handle)]
        user: Handle,
        /// The contact method's id (`klaxon user contact list`).
        #[arg(long)]
        method: i64,
        #[arg(long, value_parser = named::<Urgency>(&["high", "low"]))]
        urgency: Urgency,
        /// Minutes after the page.
        #[arg(long, default_value_t = 0)]
        delay: u32,
    },
    /// List a person's notification rules.
    List {
        #[arg(value_parser = handle)]
        user: Handle,
    },
    /// Remove a notification rule.
    Remove {
        #[arg(value_parser = handle)]
        user: Handle,
        id: i64,
    },
}

pub async fn contact(client: &Client, json: bool, command: ContactCommand) -> anyhow::Result<()> {
    match command {
        ContactCommand::Add {
            user,
            kind,
            address,
            label,
        } => {
            let added = client
                .add_contact_method(
                    &user,
                    &NewContactMethod {
                        kind,
                        address,
                        label,
                    },
                )
                .await?;
            if json {
                return output::json(&added);
            }
            println!(
                "added {} {} for @{user} (id {}); try it with `klaxon user contact test {user} {}`",
                added.kind.as_str(),
                added.address,
                added.id,
                added.id
            );
        }
        ContactCommand::List { user } => {
            let methods = client.contact_methods(&user).await?;
            if json {
                return output::json(&methods);
            }
            let mut t = output::table(["ID", "KIND", "ADDRESS", "LABEL", "VERIFIED"]);
            for m in &methods {
                t.add_row([
                    m.id.to_string(),
                    m.kind.as_str().to_owned(),
                    m.address.clone(),
                    m.label.clone().unwrap_or_default(),
                    m.verified_at
                        .map(output::when)
                        .unwrap_or_else(|| "not yet".into()),
                ]);
            }
            output::print_table(&t);
        }
        ContactCommand::Remove { user, id } => {
            client.remove_contact_method(&user, id).await?;
            if !json {
                println!("removed contact method {id} of @{user}");
            }
        }
        ContactCommand::Test { user, id } => {
            client.test_contact_method(&user, id).await?;
            if !json {
                println!("test message queued; `klaxon user contact list {user}` shows it verified once delivered");
            }
        }
    }
    Ok(())
}

pub async fn rule(client: &Client, json: bool, command: RuleCommand) -> anyhow::Result<()> {
    match command {
        RuleCommand::Add {
            user,
            method,
            urgency,
            delay,
        } => {
            let rule = NewNotificationRule {
                urgency,
                contact_method: method,
                delay_minutes: delay,
            };
            let added = client.add_notification_rule(&user, &rule).await?;
            if json {
                return output::json(&added);
            }
            println!(
                "added rule {}: contact method {method} {delay} min after a {} page",
                added.id,
                urgency.as_str()
            );
        }
        RuleCommand::List { user } => {
            let rules = client.notification_rules(&user).await?;
            if json {
                return output::json(&rules);
            }
            let methods = client.contact_methods(&user).await?;
            let mut t = output::table(["ID", "URGENCY", "AFTER", "CONTACT METHOD"]);
            for r in &rules {
                let method = methods
                    .iter()
                    .find(|m| m.id == r.contact_method)
                    .map(|m| format!("{} {}", m.kind.as_str(), m.address))
                    .unwrap_or_else(|| r.contact_method.to_string());
                t.add_row([
                    r.id.to_string(),
                    r.urgency.as_str().to_owned(),
                    format!("{} min", r.delay_minutes),
                    method,
                ]);
            }
            output::print_table(&t);
        }
        RuleCommand::Remove { user, id } => {
            client.remove_notification_rule(&user, id).await?;
            if !json {
                println!("removed notification rule {id} of @{user}");
            }
        }
    }
    Ok(())
}
