//! `klaxon token ...`: API tokens. A token's secret is printed once, at creation.

use clap::{Args, Subcommand};
use klaxon_domain::api::NewToken;
use klaxon_domain::auth::Scope;
use klaxon_domain::Handle;

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
    },
    /// List tokens, never their secrets (admin).
    List,
    /// Revoke a token by its id; it stops working at once (admin).
    Revoke { id: i64 },
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    match args.command {
        TokenCommand::Create { name, scope, user } => {
            let created = client.create_token(&NewToken { name, scope, user }).await?;
            if json {
                return output::json(&created);
            }
            let info = &created.info;
            // The secret alone goes to stdout, so that `$(klaxon token create ...)` works;
            // the words around it go to stderr.
            eprintln!(
                "Created token {} \"{}\" ({}, acts as @{}). Its secret follows; it won't be shown again:",
                info.id, info.name, info.scope, info.user
            );
            println!("{}", created.token);
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
