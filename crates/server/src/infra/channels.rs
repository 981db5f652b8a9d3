//! The outbound channels this server is configured with, and how a contact method maps
//! onto one. Which channels exist is configuration (`klaxon serve --twilio-…`, `--smtp-…`,
//! `--slack-…`); a contact method whose channel is not configured fails its delivery
//! permanently, with a message that says which settings are missing. The server-wide
//! outlets (the event webhook, Teams and Mattermost rooms) are checked here at start-up,
//! so a bad setting stops `klaxon serve` instead of failing every delivery later.

use std::sync::Arc;

use klaxon_domain::paging::{ChatRoom, ContactKind, ContactMethod, Outlets};
use klaxon_notify::email::{EmailClient, SmtpConfig};
use klaxon_notify::mattermost::MattermostClient;
use klaxon_notify::outbound::OutboundGuard;
use klaxon_notify::slack::SlackClient;
use klaxon_notify::sns::SnsClient;
use klaxon_notify::teams::TeamsClient;
use klaxon_notify::twilio::{SmsChannel, TwilioClient, VoiceChannel};
use klaxon_notify::webhook::WebhookClient;
use klaxon_notify::{Channel, DeliveryError, Destination, Secret};

/// Where the outbound services are and how to authenticate; each is optional.
#[derive(Clone, Default)]
pub struct ChannelConfig {
    pub twilio: Option<TwilioConfig>,
    pub smtp: Option<SmtpConfig>,
    pub slack: Option<SlackConfig>,
    /// Signs the generic outbound webhook (`X-Klaxon-Signature`).
    pub webhook_secret: Option<Secret>,
    /// Where SNS subscription confirmations go instead of the `SubscribeURL`'s host.
    pub sns_endpoint: Option<String>,
    /// Receives every timeline event of every incident, signed with `webhook_secret`.
    pub events_webhook: Option<String>,
    /// Incoming-webhook URLs of shared incident rooms. They are credentials.
    pub teams_webhook: Option<String>,
    pub mattermost_webhook: Option<String>,
    /// Where URLs that users give (webhook contact methods) may point.
    pub outbound: OutboundGuard,
}

#[derive(Clone, Debug)]
pub struct TwilioConfig {
    /// `https://api.twilio.com/2010-04-01` unless pointed elsewhere (tests).
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: Secret,
    /// The number pages come from (E.164).
    pub from: String,
}

#[derive(Clone, Debug)]
pub struct SlackConfig {
    /// `https://slack.com/api/` unless pointed elsewhere (tests).
    pub base_url: String,
    pub bot_token: Secret,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("twilio", &self.twilio.as_ref().map(|t| &t.base_url))
            .field("smtp", &self.smtp.as_ref().map(|s| &s.host))
            .field("slack", &self.slack.as_ref().map(|s| &s.base_url))
            .field(
                "events_webhook",
                &self.events_webhook.as_deref().map(url_origin),
            )
            .field("teams_webhook", &self.teams_webhook.is_some())
            .field("mattermost_webhook", &self.mattermost_webhook.is_some())
            .finish_non_exhaustive()
    }
}

/// The channels, built once at start-up.
#[derive(Clone, Default)]
pub struct Channels {
    sms: Option<Arc<dyn Channel>>,
    voice: Option<Arc<dyn Channel>>,
    email: Option<Arc<dyn Channel>>,
    slack: Option<Arc<dyn Channel>>,
    webhook: Option<(Arc<dyn Channel>, Secret)>,
    /// For inbound Twilio webhooks' signatures.
    pub twilio_auth_token: Option<Secret>,
    /// For the incident channels, beyond DMs.
    pub slack_client: Option<SlackClient>,
    /// Confirms Amazon SNS subscriptions of the CloudWatch endpoint.
    pub sns: SnsClient,
    /// The server-wide event webhook, when configured.
    pub events: Option<EventsWebhook>,
    /// Shared incident rooms fed by incoming webhooks.
    pub rooms: Vec<SharedRoom>,
    /// Checks URLs users give as they give them.
    pub outbound: OutboundGuard,
    /// Mails the status page's subscribers (with unsubscribe headers), when SMTP is set.
    pub subscriber_mail: Option<EmailClient>,
    /// Posts to the status page's webhook subscribers: only where `outbound` allows.
    pub subscriber_webhooks: WebhookClient,
}

/// Where every incident event is published, and the secret that signs it.
#[derive(Clone)]
pub struct EventsWebhook {
    pub client: WebhookClient,
    pub url: Secret,
    pub secret: Secret,
}

/// A shared chat room (Teams, Mattermost) and the channel that posts to it.
#[derive(Clone)]
pub struct SharedRoom {
    pub room: ChatRoom,
    pub channel: Arc<dyn Channel>,
    pub url: Secret,
}

impl Channels {
    pub fn new(config: &ChannelConfig) -> Result<Self, String> {
        let mut channels = Channels {
            outbound: config.outbound.clone(),
            subscriber_webhooks: WebhookClient::guarded(config.outbound.clone()),
            ..Channels::default()
        };
        if let Some(t) = &config.twilio {
            let client = TwilioClient::new(
                t.base_url.clone(),
                t.account_sid.clone(),
                t.auth_token.clone(),
            );
            channels.sms = Some(Arc::new(SmsChannel {
                client: client.clone(),
                from: t.from.clone(),
            }));
            channels.voice = Some(Arc::new(VoiceChannel {
                client,
                from: t.from.clone(),
            }));
            channels.twilio_auth_token = Some(t.auth_token.clone());
        }
        if let Some(smtp) = &config.smtp {
            let client = EmailClient::new(smtp.clone())
                .map_err(|e| format!("SMTP settings: {}", e.message()))?;
            channels.subscriber_mail = Some(client.clone());
            channels.email = Some(Arc::new(client));
        }
        if let Some(s) = &config.slack {
            let client = SlackClient::new(s.base_url.clone(), s.bot_token.clone());
            channels.slack = Some(Arc::new(client.clone()));
            channels.slack_client = Some(client);
        }
        if let Some(endpoint) = &config.sns_endpoint {
            channels.sns = SnsClient::new().with_endpoint(endpoint.clone());
        }
        if let Some(secret) = &config.webhook_secret {
            let client = WebhookClient::guarded(config.outbound.clone());
            channels.webhook = Some((Arc::new(client), secret.clone()));
        }
        if let Some(url) = &config.events_webhook {
            http_url("--events-webhook", url)?;
            let secret = config.webhook_secret.clone().ok_or(
                "--events-webhook needs --webhook-secret (KLAXON_WEBHOOK_SECRET) to sign \
                 the events; receivers must be able to check they come from Klaxon",
            )?;
            channels.events = Some(EventsWebhook {
                client: WebhookClient::new(),
                url: Secret::from(url.clone()),
                secret,
            });
        }
        if let Some(url) = &config.teams_webhook {
            http_url("--teams-webhook", url)?;
            channels.rooms.push(SharedRoom {
                room: ChatRoom::Teams,
                channel: Arc::new(TeamsClient::new()),
                url: Secret::from(url.clone()),
            });
        }
        if let Some(url) = &config.mattermost_webhook {
            http_url("--mattermost-webhook", url)?;
            channels.rooms.push(SharedRoom {
                room: ChatRoom::Mattermost,
                channel: Arc::new(MattermostClient::new()),
                url: Secret::from(url.clone()),
            });
        }
        Ok(channels)
    }

    /// The outlets incident changes plan jobs for: only those configured, so a server
    /// without them adds no write to any incident change. Restricted incidents' events
    /// are published as `policy` says.
    pub fn outlets(&self, policy: &klaxon_domain::policy::RestrictedPolicy) -> Outlets {
        Outlets {
            publish_events: self.events.is_some(),
            rooms: self.rooms.iter().map(|r| r.room).collect(),
            publish_restricted: policy.publish_events,
        }
    }

    /// The shared room of this kind, if configured.
    pub fn room(&self, room: ChatRoom) -> Option<&SharedRoom> {
        self.rooms.iter().find(|r| r.room == room)
    }

    /// The channel and destination for a contact method, or why there is none.
    pub fn route(
        &self,
        method: &ContactMethod,
    ) -> Result<(Arc<dyn Channel>, Destination), DeliveryError> {
        let missing = |what: &str, flags: &str| {
            DeliveryError::permanent(format!(
                "{what} is not configured; start klaxon serve with {flags}"
            ))
        };
        let twilio_flags = "--twilio-account-sid, --twilio-auth-token and --twilio-from";
        match method.kind {
            ContactKind::Sms => Ok((
                self.sms
                    .clone()
                    .ok_or_else(|| missing("SMS", twilio_flags))?,
                Destination::Phone(method.address.clone()),
            )),
            ContactKind::Voice => Ok((
                self.voice
                    .clone()
                    .ok_or_else(|| missing("voice", twilio_flags))?,
                Destination::Phone(method.address.clone()),
            )),
            ContactKind::Email => Ok((
                self.email
                    .clone()
                    .ok_or_else(|| missing("e-mail", "--smtp-host and --smtp-from"))?,
                Destination::Email(method.address.clone()),
            )),
            ContactKind::Slack => Ok((
                self.slack
                    .clone()
                    .ok_or_else(|| missing("Slack", "--slack-token"))?,
                Destination::SlackUser(method.address.clone()),
            )),
            ContactKind::Webhook => {
                let (channel, secret) = self
                    .webhook
                    .clone()
                    .ok_or_else(|| missing("the outbound webhook", "--webhook-secret"))?;
                Ok((
                    channel,
                    Destination::Webhook {
                        url: Secret::from(method.address.clone()),
                        signing_secret: Some(secret),
                    },
                ))
            }
        }
    }
}

/// Refuses a URL that is not `http(s)://HOST…`. The message names the flag and never
/// repeats the URL, which may hold a credential.
fn http_url(flag: &str, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("{flag} is not a valid URL ({e}); give the full https://… address"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "{flag} must be an http:// or https:// URL with a host, not a {}: URL",
            parsed.scheme()
        ));
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL, for logs: paths and queries may hold tokens.
pub fn url_origin(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(
        |_| "[unparsable URL]".to_owned(),
        |u| u.origin().ascii_serialization(),
    )
}
