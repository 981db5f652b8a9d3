//! `klaxon token ...`: API tokens. A token's secret is printed once, at creation.

use clap::{Args, Subcommand};
use klaxon_domain::api::{CreatedToken, NewToken};
use klaxon_domain::auth::Scope;
use klaxon_domain::{Handle, TokenId};

use super::{handle, named, Connection};
use crate::output;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret, once (admin).
    #[command(
        after_help = "Example: export KLAXON_TOKEN=$(klaxon token create alice-laptop --scope responder --user alice)"
    )]
    Create {
        /// What the token is for, e.g. "ci" or "alice-laptop".
        name: String,
        /// admin manages users and tokens; responder works incidents; viewer reads.
        #[arg(long, value_parser = named::<Scope>(&["admin", "responder", "viewer"]))]
        scope: Scope,
        /// The user the token acts as; you, if left out.
        #[arg(long, value_parser = handle)]
        user: Option<Handle>,
        /// Write the token straight into the database instead of asking the server:
        /// for an install whose admin tokens are all lost. Needs --user; run it where
        /// the server's database is (--data-dir or --database-url, as for `serve`).
        #[arg(long, requires = "user")]
        offline: bool,
        #[command(flatten)]
        database: crate::serve::DatabaseArgs,
    },
    /// List tokens, never their secrets (admin).
    List,
    /// Revoke a token by its id; it stops working at once (admin).
    Revoke {
        #[arg(value_parser = super::id::<TokenId>)]
        id: TokenId,
    },
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let json = args.connection.json;
    if let TokenCommand::Create {
        name,
        scope,
        user,
        offline: true,
        database,
    } = args.command
    {
        let new = NewToken { name, scope, user };
        let created = klaxon_server::create_token_offline(&database.url()?, &new).await?;
        return print_created(&created, json);
    }
    let client = args.connection.client()?;
    match args.command {
        TokenCommand::Create {
            name, scope, user, ..
        } => {
            let created = client.create_token(&NewToken { name, scope, user }).await?;
            print_created(&created, json)?;
        }
        TokenCommand::List => {
            let tokens = client.tokens().await?;
            if json {
                return output::json(&tokens);
            }
            let mut t = output::table(["ID", "NAME", "SCOPE", "USER", "CREATED", "REVOKED"]);
            for k in &tokens {
                t.add_row([
                    k.id.to_string(),
                    k.name.clone(),
                    k.scope.to_string(),
                    format!("@{}", k.user),
                    output::when(k.created_at),
                    k.revoked_at.map(output::when).unwrap_or_default(),
                ]);
            }
            output::print_table(&t);
        }
        TokenCommand::Revoke { id } => {
            let info = client.revoke_token(id).await?;
            if json {
                return output::json(&info);
            }
            println!(
                "revoked token {} \"{}\" (@{})",
                info.id, info.name, info.user
            );
        }
    }
    Ok(())
}

/// A new token: its secret alone on stdout, so that `$(klaxon token create ...)` works;
/// the words around it on stderr.
fn print_created(created: &CreatedToken, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(created);
    }
    let info = &created.info;
    eprintln!(
        "Created token {} \"{}\" ({}, acts as @{}). Its secret follows; it won't be shown again:",
        info.id, info.name, info.scope, info.user
    );
    println!("{}", created.token);
    Ok(())
}
