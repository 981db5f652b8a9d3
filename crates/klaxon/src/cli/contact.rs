//! `klaxon user contact ...` and `klaxon user rule ...`: how a person is reached.

use clap::Subcommand;
use klaxon_client::Client;
use klaxon_domain::paging::{ContactKind, NewContactMethod, NewNotificationRule, Urgency};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};

use super::{handle, id, named};
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
        #[arg(value_parser = id::<ContactMethodId>)]
        id: ContactMethodId,
    },
    /// Send a test message; an e-mail, Slack or webhook method shows as verified once it
    /// is delivered (phone numbers: `verify`).
    Test {
        #[arg(value_parser = handle)]
        user: Handle,
        #[arg(value_parser = id::<ContactMethodId>)]
        id: ContactMethodId,
    },
    /// Verify an sms or voice number: without --code, send a code to it (by SMS, or a
    /// call that reads it); with --code, give back the code received. Only a verified
    /// number acknowledges or resolves by SMS reply or key press.
    #[command(
        after_help = "Example: klaxon user contact verify alice 1, then klaxon user contact verify alice 1 --code 042917"
    )]
    Verify {
        #[arg(value_parser = handle)]
        user: Handle,
        #[arg(value_parser = id::<ContactMethodId>)]
        id: ContactMethodId,
        /// The six digits received (within 10 minutes, at most 5 wrong tries).
        #[arg(long)]
        code: Option<String>,
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
        #[arg(long, value_parser = id::<ContactMethodId>)]
        method: ContactMethodId,
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
        #[arg(value_parser = id::<NotificationRuleId>)]
        id: NotificationRuleId,
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
            let next = if added.kind.verified_by_code() {
                "verify it with"
            } else {
                "try it with"
            };
            let command = if added.kind.verified_by_code() {
                "verify"
            } else {
                "test"
            };
            println!(
                "added {} {} for @{user} (id {}); {next} `klaxon user contact {command} {user} {}`",
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
                    match m.verified_at {
                        Some(at) if m.verified => output::when(at),
                        _ => "no".into(),
                    },
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
                println!("test message queued; `klaxon user contact list {user}` shows when it was delivered (a phone number is verified with `klaxon user contact verify {user} {id}`)");
            }
        }
        ContactCommand::Verify {
            user,
            id,
            code: None,
        } => {
            let sent = client.send_code(&user, id).await?;
            if json {
                return output::json(&sent);
            }
            println!(
                "a code is on its way to {}; give it back within 10 minutes with `klaxon user contact verify {user} {id} --code NNNNNN`",
                sent.address
            );
        }
        ContactCommand::Verify {
            user,
            id,
            code: Some(code),
        } => {
            let verified = client.verify_code(&user, id, &code).await?;
            if json {
                return output::json(&verified);
            }
            println!(
                "{} {} of @{user} is verified",
                verified.kind.as_str(),
                verified.address
            );
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
