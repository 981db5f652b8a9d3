//! The command line: `klaxon <noun> <verb>`. Every command but `serve`, `migrate` and
//! the local policy commands is a client of the REST API.

mod alert;
mod component;
mod contact;
mod declare;
mod event;
mod heartbeat;
mod incident;
mod maintenance;
mod paging;
mod policy;
mod report;
mod review;
mod schedule;
mod service;
mod subscriber;
mod token;
mod update;
mod user;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use klaxon_client::Client;
use klaxon_domain::{DomainError, Secret};
use serde::de::DeserializeOwned;

use crate::serve;

pub use policy::load as load_policy;

/// Klaxon: incident response in one binary.
///
/// Run `klaxon serve` to start the server; every other command talks to it at KLAXON_URL
/// with the token in KLAXON_TOKEN.
#[derive(Debug, Parser)]
#[command(
    name = "klaxon",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Klaxon server: the REST API, health and metrics.
    Serve(Box<serve::ServeArgs>),
    /// Bring the database schema up to date, then exit.
    Migrate(serve::DatabaseArgs),
    /// Check, show or print the severity policy.
    Policy(policy::PolicyArgs),
    /// Declare and work incidents.
    Incident(incident::IncidentArgs),
    /// Manage the people who respond to incidents.
    User(user::UserArgs),
    /// Manage API tokens.
    Token(token::TokenArgs),
    /// Manage services and their integration keys.
    Service(service::ServiceArgs),
    /// List, show, acknowledge and resolve alerts.
    Alert(alert::AlertArgs),
    /// Send a test event the way a monitoring tool does.
    Event(event::EventArgs),
    /// Monitors that expect a ping every interval.
    Heartbeat(heartbeat::HeartbeatArgs),
    /// On-call schedules: rotations, overrides, shifts and calendar feeds.
    Schedule(schedule::ScheduleArgs),
    /// Escalation policies: whom an incident pages, in what order.
    Escalation(paging::EscalationArgs),
    /// Who is on call now, per service.
    Oncall(paging::OnCallArgs),
    /// Page a person (or whoever is on call on a schedule) directly.
    Page(paging::PageArgs),
    /// Stakeholders: who hears about the incidents the policy tells a team about.
    Team(paging::TeamArgs),
    /// Metrics across incidents: counts, MTTA/MTTM/MTTR, targets and cadences kept,
    /// recurring incidents.
    Report(report::ReportArgs),
    /// The public status page's components and their groups.
    Component(component::ComponentArgs),
    /// Scheduled maintenance on the public status page.
    Maintenance(maintenance::MaintenanceArgs),
    /// The public status page's subscribers: e-mail addresses and webhooks (admin).
    Subscriber(subscriber::SubscriberArgs),
    /// Post-incident reviews: sections, 5-whys, status and the report.
    Review(review::ReviewArgs),
    /// Action items of reviews, across incidents: `klaxon action list --mine --overdue`.
    Action(review::ActionArgs),
}

/// Where the server is and who we are to it.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The Klaxon server's URL.
    #[arg(
        long,
        env = "KLAXON_URL",
        default_value = "http://127.0.0.1:8080",
        hide_env_values = true,
        global = true,
        help_heading = "Connection"
    )]
    url: String,
    /// An API token. Prefer setting KLAXON_TOKEN: arguments are visible to other users
    /// of this machine.
    #[arg(
        long,
        env = "KLAXON_TOKEN",
        hide_env_values = true,
        global = true,
        help_heading = "Connection",
        value_parser = secret
    )]
    token: Option<Secret>,
    /// Print JSON instead of text.
    #[arg(long, global = true, help_heading = "Output")]
    json: bool,
}

impl Connection {
    /// A client for the endpoints that take an integration key instead of a token.
    fn unauthenticated_client(&self) -> Client {
        let token = self
            .token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default();
        Client::new(&self.url, token).with_source("cli")
    }

    /// A client of the server, acting as the CLI. Fails without a token.
    fn client(&self) -> anyhow::Result<Client> {
        match self.token.as_ref().map(|t| t.expose().trim()) {
            Some(token) if !token.is_empty() => {
                Ok(Client::new(&self.url, token).with_source("cli"))
            }
            _ => Err(Usage(
                "no API token: set KLAXON_TOKEN (or pass --token).\n\
                 An admin creates one with `klaxon token create NAME --scope responder`; \
                 on a new server, use the KLAXON_BOOTSTRAP_TOKEN it was started with."
                    .to_owned(),
            )
            .into()),
        }
    }
}

/// Reads a secret argument (a token, a password), which `Debug` then does not show.
pub(crate) fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// A mistake in how the command was called: exits with status 2, like clap's own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// A failure whose explanation has already been printed: exits with status 1.
#[derive(Debug, thiserror::Error)]
#[error("failed")]
pub struct Reported;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::serve(*args).await,
        Command::Migrate(args) => serve::migrate(args).await,
        Command::Policy(args) => policy::run(args).await,
        Command::Incident(args) => incident::run(args).await,
        Command::User(args) => user::run(args).await,
        Command::Token(args) => token::run(args).await,
        Command::Service(args) => service::run(args).await,
        Command::Alert(args) => alert::run(args).await,
        Command::Event(args) => event::run(args).await,
        Command::Heartbeat(args) => heartbeat::run(args).await,
        Command::Schedule(args) => schedule::run(args).await,
        Command::Escalation(args) => paging::escalation(args).await,
        Command::Oncall(args) => paging::on_call(args).await,
        Command::Page(args) => paging::page(args).await,
        Command::Team(args) => paging::team(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Component(args) => component::run(args).await,
        Command::Maintenance(args) => maintenance::run(args).await,
        Command::Subscriber(args) => subscriber::run(args).await,
        Command::Review(args) => review::review(args).await,
        Command::Action(args) => review::action(args).await,
    }
}

/// Whether the command runs the server (and so wants a bigger runtime).
pub fn is_server(cli: &Cli) -> bool {
    matches!(cli.command, Command::Serve(_) | Command::Migrate(_))
}

/// The worker threads `klaxon serve --workers` asks for, if it does.
pub fn server_workers(cli: &Cli) -> Option<usize> {
    match &cli.command {
        Command::Serve(args) => args.workers(),
        _ => None,
    }
}

/// A domain parse error as clap shows it: the message, without the field name.
fn message(e: DomainError) -> String {
    match e {
        DomainError::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

/// A row id argument (`klaxon alert show 42`), read by its type's parse so that a
/// refusal names the kind of id and where to find one.
fn id<T: std::str::FromStr<Err = DomainError>>(text: &str) -> Result<T, String> {
    text.parse().map_err(message)
}

fn incident_number(text: &str) -> Result<klaxon_domain::IncidentNumber, String> {
    klaxon_domain::IncidentNumber::parse(text).map_err(message)
}

fn handle(text: &str) -> Result<klaxon_domain::Handle, String> {
    klaxon_domain::Handle::parse(text).map_err(message)
}

fn severity(text: &str) -> Result<klaxon_domain::Severity, String> {
    klaxon_domain::Severity::parse(text).map_err(message)
}

/// A parser for one of the domain's enums, by its JSON name: the choices show in
/// `--help` and a typo gets a suggestion.
fn named<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).map(|name| {
        serde_json::from_value(serde_json::Value::String(name))
            .expect("every listed name is a variant")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tokens_stay_out_of_debug_output() {
        let cli = Cli::try_parse_from(["klaxon", "incident", "list", "--token", "s3cret"]).unwrap();
        assert!(!format!("{cli:?}").contains("s3cret"));
    }

    /// `klaxon serve`'s secrets (tokens, passwords, signing secrets, webhook URLs that
    /// are credentials) stay out of its arguments' `Debug` output too.
    #[test]
    fn serve_secrets_stay_out_of_debug_output() {
        let secrets = [
            ("--metrics-token", "metrics-0123456789"),
            ("--twilio-auth-token", "twilio-0123456789"),
            ("--smtp-password", "smtp-0123456789"),
            ("--slack-token", "xoxb-0123456789"),
            ("--webhook-secret", "signing-0123456789"),
            (
                "--events-webhook",
                "https://events.example/token-0123456789",
            ),
            ("--teams-webhook", "https://teams.example/token-1123456789"),
            (
                "--mattermost-webhook",
                "https://mm.example/token-2123456789",
            ),
        ];
        let mut args = vec!["klaxon", "serve"];
        for (flag, value) in secrets {
            args.extend([flag, value]);
        }
        let cli = Cli::try_parse_from(args).unwrap();
        let printed = format!("{cli:?}");
        for (flag, value) in secrets {
            assert!(!printed.contains(value), "{flag} in {printed}");
        }
    }
}
