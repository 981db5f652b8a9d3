//! `klaxon user ...`: the people who hold roles and own tokens.

use clap::{Args, Subcommand};
use klaxon_domain::api::{NewPassword, NewUser, UserUpdate};
use klaxon_domain::auth::Scope;
use klaxon_domain::Handle;

use super::{handle, named, Connection};
use crate::output;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a person (admin).
    Create {
        /// A short name for mentions and roles: lower-case letters, digits, '.', '-', '_'.
        #[arg(value_parser = handle)]
        handle: Handle,
        /// Their full name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// What they may do: admin (users and tokens too), responder (works incidents),
        /// viewer (reads). Their tokens act with at most this.
        #[arg(long, default_value = "responder", value_parser = named::<Scope>(&["admin", "responder", "viewer"]))]
        role: Scope,
    },
    /// Change a person's role (admin); their tokens follow at once.
    #[command(after_help = "Example: klaxon user update alice --role viewer")]
    Update {
        #[arg(value_parser = handle)]
        handle: Handle,
        #[arg(long, value_parser = named::<Scope>(&["admin", "responder", "viewer"]))]
        role: Scope,
    },
    /// Set a person's password for the web UI: your own, or anyone's (admin). Read
    /// from standard input (one line), or asked for twice at a terminal; their web
    /// sessions end.
    #[command(
        after_help = "Example: klaxon user password alice\n         printf '%s\\n' \"$PASSWORD\" | klaxon user password alice"
    )]
    Password {
        #[arg(value_parser = handle)]
        handle: Handle,
    },
    /// List everyone.
    List,
    /// A person's contact methods: where they are reached.
    #[command(subcommand)]
    Contact(super::contact::ContactCommand),
    /// A person's notification rules: which contact method, how soon after a page.
    #[command(subcommand)]
    Rule(super::contact::RuleCommand),
}

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        UserCommand::Create {
            handle,
            name,
            email,
            role,
        } => {
            let user = client
                .create_user(&NewUser {
                    handle,
                    name,
                    email,
                    role: Some(role),
                })
                .await?;
            if json {
                return output::json(&user);
            }
            println!(
                "created user @{} ({} <{}>), {}",
                user.handle, user.name, user.email, user.role
            );
        }
        UserCommand::Password { handle } => {
            let password = read_password()?;
            client
                .set_password(&handle, &NewPassword { password })
                .await?;
            if !json {
                println!("set the password of @{handle}; their web sessions have ended");
            }
        }
        UserCommand::Update { handle, role } => {
            let user = client
                .update_user(&handle, &UserUpdate { role: Some(role) })
                .await?;
            if json {
                return output::json(&user);
            }
            println!("@{} is now {}", user.handle, user.role.with_article());
        }
        UserCommand::Contact(command) => super::contact::contact(&client, json, command).await?,
        UserCommand::Rule(command) => super::contact::rule(&client, json, command).await?,
        UserCommand::List => {
            let users = client.users().await?;
            if json {
                return output::json(&users);
            }
            let mut t = output::table(["HANDLE", "NAME", "EMAIL", "ROLE", "CREATED"]);
            for u in &users {
                t.add_row([
                    format!("@{}", u.handle),
                    u.name.clone(),
                    u.email.clone(),
                    u.role.to_string(),
                    output::when(u.created_at),
                ]);
            }
            output::print_table(&t);
        }
    }
    Ok(())
}

/// The new password: one line of standard input, or typed twice (unseen) at a
/// terminal.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input; nothing was changed");
    }
    Ok(password)
}
