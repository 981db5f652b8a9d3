//! `klaxon serve` and `klaxon migrate`: the only commands that touch the database, and
//! only through the server library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use klaxon_domain::policy::Policy;
use klaxon_domain::Secret;
use klaxon_server::ServeConfig;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Where the embedded SQLite database lives; created if missing.
    #[arg(long, value_name = "DIR", default_value = "./klaxon-data")]
    pub(crate) data_dir: PathBuf,
    /// A sqlite://... or postgres://... URL; overrides --data-dir.
    #[arg(
        long,
        value_name = "URL",
        env = "KLAXON_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        env = "KLAXON_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,
    /// A policy file (TOML); the built-in policy if left out.
    #[arg(long, value_name = "FILE", env = "KLAXON_POLICY")]
    policy: Option<PathBuf>,
    /// The URL people reach this server at, for links in messages.
    #[arg(long, value_name = "URL", env = "KLAXON_PUBLIC_URL")]
    public_url: Option<String>,
    /// Events per second each integration key may send, with bursts of twice that;
    /// 0 turns the limit off. Over it, senders get 429 with Retry-After.
    #[arg(long, value_name = "N", env = "KLAXON_INGEST_RATE_LIMIT", default_value_t = klaxon_server::DEFAULT_INGEST_RATE_LIMIT)]
    ingest_rate_limit: u32,
    /// The bearer token /metrics asks for (Prometheus: `authorization.credentials`);
    /// without it, anyone who reaches the port reads the metrics.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KLAXON_METRICS_TOKEN",
        hide_env_values = true,
        value_parser = crate::cli::secret
    )]
    metrics_token: Option<Secret>,
    /// How to write logs to stderr. The filter comes from KLAXON_LOG (default: info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Threads serving requests and running the engine; by default one per core
    /// (or TOKIO_WORKER_THREADS). The database writer has a thread of its own besides.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    #[command(flatten)]
    connections: ConnectionArgs,
    #[command(flatten)]
    channels: ChannelArgs,
    #[command(flatten)]
    status_page: StatusPageArgs,
}

/// The public status page at /status (and its Statuspage-compatible JSON at /api/v2).
#[derive(Debug, Args)]
#[command(next_help_heading = "Status page")]
struct StatusPageArgs {
    /// The page's name, e.g. "Acme": it heads "Acme Status".
    #[arg(
        long,
        value_name = "NAME",
        env = "KLAXON_STATUS_PAGE_NAME",
        default_value = "Klaxon"
    )]
    status_page_name: String,
    /// The URL the page is reached at, if it has a host name of its own (e.g.
    /// https://status.example.com); the public URL otherwise. On that host only the
    /// public routes answer.
    #[arg(long, value_name = "URL", env = "KLAXON_STATUS_PAGE_URL")]
    status_page_url: Option<String>,
    /// An image for the page's header (an http(s) URL or a path).
    #[arg(long, value_name = "URL", env = "KLAXON_STATUS_PAGE_LOGO")]
    status_page_logo: Option<String>,
    /// A colour of the page, NAME=#RRGGBB, NAME one of brand, operational, degraded,
    /// partial, major, maintenance; repeat or separate with commas.
    #[arg(
        long,
        value_name = "NAME=#RRGGBB",
        env = "KLAXON_STATUS_PAGE_COLORS",
        value_delimiter = ','
    )]
    status_page_color: Vec<String>,
    /// Seconds between checks for changes made by other replicas.
    #[arg(long, value_name = "SECONDS", env = "KLAXON_STATUS_PAGE_POLL", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    status_page_poll: u64,
}

impl StatusPageArgs {
    fn config(self) -> anyhow::Result<klaxon_server::StatusPageConfig> {
        let mut colors = klaxon_server::StatusColors::default();
        for pair in &self.status_page_color {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                anyhow::anyhow!(
                    "--status-page-color '{pair}': write NAME=#RRGGBB, e.g. brand=#1f6feb"
                )
            })?;
            colors
                .set(name.trim(), value.trim())
                .map_err(|e| anyhow::anyhow!("--status-page-color: {e}"))?;
        }
        Ok(klaxon_server::StatusPageConfig {
            name: self.status_page_name,
            url: self.status_page_url,
            logo_url: self.status_page_logo,
            colors,
            poll_interval: std::time::Duration::from_secs(self.status_page_poll),
        })
    }
}

/// How long clients may take, and how many may be connected at once.
impl ServeArgs {
    /// `--workers`, if given.
    pub(crate) fn workers(&self) -> Option<usize> {
        self.workers.map(usize::from)
    }
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Connections")]
struct ConnectionArgs {
    /// Seconds a client has to send a request's headers, from connecting or from the
    /// request's first byte; slower connections are closed.
    #[arg(long, value_name = "SECONDS", env = "KLAXON_HEADER_TIMEOUT",
          default_value_t = klaxon_server::DEFAULT_HEADER_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a client has to send a request's body after its headers; slower ones
    /// are answered 408.
    #[arg(long, value_name = "SECONDS", env = "KLAXON_BODY_TIMEOUT",
          default_value_t = klaxon_server::DEFAULT_BODY_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Seconds a keep-alive connection may wait for its next request (and a response
    /// for the client to read it) before it is closed.
    #[arg(long, value_name = "SECONDS", env = "KLAXON_IDLE_TIMEOUT",
          default_value_t = klaxon_server::DEFAULT_IDLE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Connections open at once; more wait to be accepted until one closes.
    #[arg(long, value_name = "N", env = "KLAXON_MAX_CONNECTIONS",
          default_value_t = klaxon_server::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

impl ConnectionArgs {
    fn limits(&self) -> klaxon_server::ConnectionLimits {
        use std::time::Duration;
        klaxon_server::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections,
        }
    }
}

/// The outbound services pages and messages go through; each is optional.
#[derive(Debug, Args)]
#[command(next_help_heading = "Channels")]
struct ChannelArgs {
    /// Twilio account SID, for SMS and voice pages.
    #[arg(long, env = "KLAXON_TWILIO_ACCOUNT_SID", requires_all = ["twilio_auth_token", "twilio_from"])]
    twilio_account_sid: Option<String>,
    /// Twilio auth token (also checks Twilio's signatures on replies).
    #[arg(long, env = "KLAXON_TWILIO_AUTH_TOKEN", hide_env_values = true, value_parser = crate::cli::secret)]
    twilio_auth_token: Option<Secret>,
    /// The number pages come from, E.164 (+15551234567).
    #[arg(long, env = "KLAXON_TWILIO_FROM")]
    twilio_from: Option<String>,
    /// Twilio's API base URL.
    #[arg(
        long,
        env = "KLAXON_TWILIO_URL",
        default_value = "https://api.twilio.com/2010-04-01"
    )]
    twilio_url: String,
    /// SMTP server for e-mail pages.
    #[arg(long, env = "KLAXON_SMTP_HOST", requires = "smtp_from")]
    smtp_host: Option<String>,
    #[arg(long, env = "KLAXON_SMTP_PORT", default_value_t = 587)]
    smtp_port: u16,
    /// none, starttls or tls (implicit TLS, usually port 465).
    #[arg(long, env = "KLAXON_SMTP_TLS", default_value = "starttls", value_parser = ["none", "starttls", "tls"])]
    smtp_tls: String,
    #[arg(long, env = "KLAXON_SMTP_USERNAME")]
    smtp_username: Option<String>,
    #[arg(long, env = "KLAXON_SMTP_PASSWORD", hide_env_values = true, value_parser = crate::cli::secret)]
    smtp_password: Option<Secret>,
    /// The From of e-mail pages, e.g. "Klaxon <klaxon@example.com>".
    #[arg(long, env = "KLAXON_SMTP_FROM")]
    smtp_from: Option<String>,
    /// Slack bot token (xoxb-...), for Slack DMs.
    #[arg(long, env = "KLAXON_SLACK_TOKEN", hide_env_values = true, value_parser = crate::cli::secret)]
    slack_token: Option<Secret>,
    /// Slack's Web API base URL.
    #[arg(
        long,
        env = "KLAXON_SLACK_URL",
        default_value = "https://slack.com/api/"
    )]
    slack_url: String,
    /// The secret that signs outbound webhooks (X-Klaxon-Signature).
    #[arg(long, env = "KLAXON_WEBHOOK_SECRET", hide_env_values = true, value_parser = crate::cli::secret)]
    webhook_secret: Option<Secret>,
    /// POST every incident event here as signed JSON (needs --webhook-secret).
    #[arg(long, env = "KLAXON_EVENTS_WEBHOOK", hide_env_values = true, value_parser = crate::cli::secret)]
    events_webhook: Option<Secret>,
    /// Microsoft Teams incoming-webhook URL of a shared incident room (a credential).
    #[arg(long, env = "KLAXON_TEAMS_WEBHOOK", hide_env_values = true, value_parser = crate::cli::secret)]
    teams_webhook: Option<Secret>,
    /// Mattermost incoming-webhook URL of a shared incident room (a credential).
    #[arg(long, env = "KLAXON_MATTERMOST_WEBHOOK", hide_env_values = true, value_parser = crate::cli::secret)]
    mattermost_webhook: Option<Secret>,
    /// An address range (10.1.0.0/16, 127.0.0.1, fd00::/8) that webhook contact methods
    /// may reach besides public addresses; repeat or separate with commas. Loopback,
    /// private, link-local and metadata addresses are refused otherwise.
    #[arg(
        long,
        value_name = "RANGE",
        env = "KLAXON_ALLOW_OUTBOUND",
        value_delimiter = ','
    )]
    allow_outbound: Vec<String>,
    /// Send Amazon SNS subscription confirmations here (`http(s)://host[:port]`, e.g. a
    /// VPC endpoint) instead of to the SubscribeURL's own sns.<region>.amazonaws.com.
    #[arg(long, env = "KLAXON_SNS_ENDPOINT", value_parser = http_endpoint)]
    sns_endpoint: Option<String>,
}

/// An `http://` or `https://` address with a host, for `--sns-endpoint`.
fn http_endpoint(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("'{text}' is not an http:// or https:// address"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', ' ', '@']) {
        return Err(format!(
            "'{text}' must be scheme and host only, like https://sns.us-east-1.amazonaws.com"
        ));
    }
    Ok(text.to_owned())
}

impl ChannelArgs {
    fn config(self) -> anyhow::Result<klaxon_server::ChannelConfig> {
        use klaxon_server::{ChannelConfig, SlackConfig, SmtpConfig, SmtpTls, TwilioConfig};
        let twilio = match (
            self.twilio_account_sid,
            self.twilio_auth_token,
            self.twilio_from,
        ) {
            (Some(account_sid), Some(auth_token), Some(from)) => Some(TwilioConfig {
                base_url: self.twilio_url,
                account_sid,
                auth_token,
                from,
            }),
            _ => None,
        };
        let smtp = match (self.smtp_host, self.smtp_from) {
            (Some(host), Some(from)) => {
                let mut c = SmtpConfig::new(host, from);
                c.port = self.smtp_port;
                c.tls = match self.smtp_tls.as_str() {
                    "none" => SmtpTls::None,
                    "tls" => SmtpTls::Implicit,
                    _ => SmtpTls::StartTls,
                };
                c.username = self.smtp_username;
                c.password = self.smtp_password;
                Some(c)
            }
            _ => None,
        };
        let slack = self.slack_token.map(|bot_token| SlackConfig {
            base_url: self.slack_url,
            bot_token,
        });
        let outbound = klaxon_server::OutboundGuard::parse(&self.allow_outbound)
            .map_err(anyhow::Error::msg)?;
        Ok(ChannelConfig {
            twilio,
            smtp,
            slack,
            webhook_secret: self.webhook_secret,
            sns_endpoint: self.sns_endpoint,
            events_webhook: self.events_webhook.map(|url| url.expose().to_owned()),
            teams_webhook: self.teams_webhook.map(|url| url.expose().to_owned()),
            mattermost_webhook: self.mattermost_webhook.map(|url| url.expose().to_owned()),
            outbound,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl DatabaseArgs {
    /// The database URL: the one given, or SQLite in the data directory (created here).
    pub(crate) fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let file = dir.join("klaxon.db");
        // An empty file is an empty SQLite database: creating it here spares the store
        // from having to be told to create missing files.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .with_context(|| format!("cannot create the database file {}", file.display()))?;
        Ok(format!("sqlite://{}", file.display()))
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    tracing::info!(workers, "worker threads: {workers}");
    raise_open_file_limit(args.connections.max_connections);
    let policy = match &args.policy {
        Some(file) => crate::cli::load_policy(file)?,
        None => Policy::builtin(),
    };
    let bootstrap_token = std::env::var("KLAXON_BOOTSTRAP_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(Secret::from);
    let config = ServeConfig {
        database_url: args.database.url()?,
        listen: args.listen,
        policy,
        bootstrap_token,
        public_url: args.public_url,
        ingest_rate_limit: std::num::NonZeroU32::new(args.ingest_rate_limit),
        channels: args.channels.config()?,
        metrics_token: args.metrics_token,
        connections: args.connections.limits(),
        status_page: args.status_page.config()?,
    };
    klaxon_server::serve(config, shutdown_signal())
        .await
        .context("the server stopped")
}

pub async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text);
    klaxon_server::migrate(&args.url()?)
        .await
        .context("migration failed")?;
    eprintln!("The database is up to date.");
    Ok(())
}

/// Raises the soft limit on open files to the hard limit: every connection is one, and
/// the usual soft limit of 1,024 would stop accepts long before --max-connections.
fn raise_open_file_limit(max_connections: u32) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!(limit, "open-file limit: {limit}");
            // The database, log and listener need a few files besides the connections.
            if limit < u64::from(max_connections) + 64 {
                tracing::warn!(
                    limit,
                    max_connections,
                    "the open-file limit ({limit}) is below --max-connections \
                     ({max_connections}); connections past it wait until others close. \
                     Raise the hard limit (systemd: LimitNOFILE=) or lower --max-connections"
                );
            }
        }
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
}

/// Logs to stderr, filtered by KLAXON_LOG (`RUST_LOG` syntax, default `info`).
fn init_logging(format: LogFormat) {
    let spec = std::env::var("KLAXON_LOG").unwrap_or_else(|_| "info".to_owned());
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("warning: KLAXON_LOG={spec:?} is not a log filter ({e}); using info");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so the server can drain and stop.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::http_endpoint;

    #[test]
    fn an_sns_endpoint_is_a_scheme_and_host() {
        for ok in [
            "https://sns.us-east-1.amazonaws.com",
            "http://127.0.0.1:9000/",
        ] {
            assert_eq!(http_endpoint(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "sns.us-east-1.amazonaws.com",
            "ftp://host",
            "https://",
            "https://host/path",
            "https://host?x=1",
            "https://user@host",
        ] {
            let e = http_endpoint(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
