//! E-mail over SMTP (lettre's async tokio transport): STARTTLS, implicit TLS or plain
//! (for a local relay), optional authentication, and `Message-ID` / `In-Reply-To` /
//! `References` headers so mail clients thread one incident together.
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::channel::wrong_destination;
use crate::{Channel, Delivered, DeliveryError, Destination, Link, Message, Secret};

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network (and tests).
    None,
    /// Connect in plain text and require `STARTTLS` (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Authenticates when both are set.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The `From` mailbox, e.g. `Klaxon <klaxon@example.com>`.
    pub from: String,
    /// The name Klaxon gives in `EHLO`; defaults to the address literal `[127.0.0.1]`.
    pub hello_name: Option<String>,
    /// Bounds one whole delivery: connecting and the SMTP conversation. (lettre's async
    /// transport bounds only the connect; a server that stalls mid-conversation would
    /// otherwise hold a worker until the server's own timeout, often 5 minutes.)
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A config with STARTTLS on port 587, no credentials and the default timeout.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: None,
            password: None,
            from: from.into(),
            hello_name: None,
            timeout: crate::DEFAULT_TIMEOUT,
        }
    }
}

/// One e-mail. Ids are written with or without angle brackets (`abc@klaxon.example`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Sent as `multipart/alternative` next to `text` when present.
    pub html: Option<String>,
    pub message_id: String,
    /// The message this one answers (the incident's first mail); also sent as
    /// `References`, which is enough for a chain threaded on one root.
    pub in_reply_to: Option<String>,
    /// An https URL that unsubscribes the recipient with one POST (RFC 8058): sent as
    /// `List-Unsubscribe: <URL>` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`,
    /// so mail clients offer an unsubscribe button.
    pub list_unsubscribe: Option<String>,
}

/// Sends mail through one SMTP server. A connection is opened per message.
#[derive(Clone)]
pub struct EmailClient {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for EmailClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailClient")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl EmailClient {
    /// Checks the `From` address and the TLS settings; connects only when sending.
    pub fn new(config: SmtpConfig) -> Result<Self, DeliveryError> {
        let from: Mailbox = config.from.parse().map_err(|e| {
            DeliveryError::permanent(format!("smtp: invalid From {:?}: {e}", config.from))
        })?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| DeliveryError::permanent(format!("smtp: TLS setup failed: {e}")))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout));
        builder = match config.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(tls(&config.host)?)),
            SmtpTls::Implicit => builder.tls(Tls::Wrapper(tls(&config.host)?)),
        };
        if let (Some(user), Some(password)) = (config.username, config.password) {
            builder = builder.credentials(Credentials::new(user, password.expose().to_owned()));
        }
        if let Some(name) = config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            timeout: config.timeout,
        })
    }

    /// The configured `From` mailbox.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message within the configured timeout. SMTP 4xx replies, timeouts and connection failures are
    /// transient; 5xx replies (unknown recipient, refused auth) and bad addresses are
    /// permanent.
    #[tracing::instrument(skip_all)]
    pub async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        let to: Mailbox = email.to.parse().map_err(|e| {
            DeliveryError::permanent(format!("smtp: invalid recipient {:?}: {e}", email.to))
        })?;
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(angle(&email.message_id)));
        if let Some(parent) = &email.in_reply_to {
            builder = builder.in_reply_to(angle(parent)).references(angle(parent));
        }
        if let Some(url) = &email.list_unsubscribe {
            if url.contains(['<', '>', '\r', '\n']) {
                return Err(DeliveryError::permanent(
                    "smtp: the unsubscribe URL holds characters a header cannot",
                ));
            }
            builder = builder
                .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    LIST_UNSUBSCRIBE_POST,
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let mail = match &email.html {
            None => builder.singlepart(SinglePart::plain(email.text.clone())),
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
        }
        .map_err(|e| DeliveryError::permanent(format!("smtp: cannot build message: {e}")))?;
        match tokio::time::timeout(self.timeout, self.transport.send(mail)).await {
            Ok(sent) => sent.map(drop).map_err(classify),
            Err(_) => Err(DeliveryError::transient(format!(
                "smtp: no answer within {:?}",
                self.timeout
            ))),
        }
    }
}

fn classify(err: lettre::transport::smtp::Error) -> DeliveryError {
    let message = format!("smtp: {err}");
    if err.is_permanent() || err.is_client() {
        DeliveryError::permanent(message)
    } else {
        // 4xx replies, timeouts, refused connections, TLS handshakes that broke.
        DeliveryError::transient(message)
    }
}

/// `<id>` for an id given with or without brackets.
fn angle(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
}

/// A `Message-ID` made from a key: characters a message id cannot hold become `-`, and
/// the domain is the sender's.
pub fn message_id(key: &str, domain: &str) -> String {
    let local: String = key
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '+' | '=' => c,
            _ => '-',
        })
        .collect();
    format!("<{local}@{domain}>")
}

/// A plain-text footer that lists the links, one per line, under a `-- ` separator
/// (which mail clients recognise as the start of a signature).
pub fn text_footer(links: &[Link]) -> String {
    if links.is_empty() {
        return String::new();
    }
    let mut footer = String::from("\n\n-- \n");
    for link in links {
        footer.push_str(&format!("{}: {}\n", link.label, link.url));
    }
    footer
}

/// Mails the subject and the text with a footer of links. The `Message-ID` comes from
/// the idempotency key and `In-Reply-To` from the message's thread, both under the
/// sender's domain.
#[async_trait]
impl Channel for EmailClient {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Email(address) = to else {
            return Err(wrong_destination("e-mail", to));
        };
        let domain = self.from.email.domain().to_owned();
        let email = Email {
            to: address.clone(),
            subject: message.subject.clone(),
            text: format!("{}{}", message.text, text_footer(&message.links)),
            html: None,
            message_id: message_id(&message.idempotency_key, &domain),
            in_reply_to: message.thread.as_deref().map(|t| message_id(t, &domain)),
            list_unsubscribe: None,
        };
        self.send(&email).await?;
        Ok(Delivered {
            id: email.message_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_get_one_pair_of_brackets() {
        assert_eq!(angle("a@b"), "<a@b>");
        assert_eq!(angle("<a@b>"), "<a@b>");
        assert_eq!(
            message_id("delivery:42/3", "k.test"),
            "<delivery-42-3@k.test>"
        );
    }

    #[test]
    fn footer_lists_links() {
        assert_eq!(text_footer(&[]), "");
        assert_eq!(
            text_footer(&[
                Link::new("Acknowledge", "https://k.test/a"),
                Link::new("Open", "https://k.test/i")
            ]),
            "\n\n-- \nAcknowledge: https://k.test/a\nOpen: https://k.test/i\n"
        );
    }

    #[test]
    fn bad_from_is_refused_up_front() {
        let mut config = SmtpConfig::new("127.0.0.1", "not an address");
        config.tls = SmtpTls::None;
        let err = EmailClient::new(config).unwrap_err();
        assert!(!err.is_transient());
        assert!(err.message().contains("invalid From"), "{err}");
    }
}
