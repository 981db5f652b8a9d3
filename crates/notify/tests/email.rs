//! The SMTP client end to end against a real SMTP server on loopback: Python's aiosmtpd,
//! run by `smtp_sink.py`. These tests fail (they do not skip) without it; install it with
//! `python3 -m pip install aiosmtpd`.
use std::process::Stdio;
use std::time::Duration;

use klaxon_notify::email::{Email, EmailClient, SmtpConfig, SmtpTls};
use klaxon_notify::{Channel, Destination, Link, Message, Secret};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

struct Sink {
    port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Sink {
    async fn start(args: &[&str]) -> Sink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 must be installed for the e-mail tests");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = timeout(Duration::from_secs(20), lines.next_line()).await;
        if let Ok(Ok(Some(line))) = &first {
            if let Some(port) = line.strip_prefix("PORT ") {
                let port = port.parse().unwrap();
                return Sink {
                    port,
                    lines,
                    _child: child,
                };
            }
        }
        let mut stderr = String::new();
        let _ = timeout(
            Duration::from_secs(5),
            child.stderr.take().unwrap().read_to_string(&mut stderr),
        )
        .await;
        panic!(
            "the SMTP sink (tests/smtp_sink.py) did not start: {first:?}\n{stderr}\n\
             The e-mail tests need aiosmtpd: python3 -m pip install aiosmtpd"
        );
    }

    /// The next message the server accepted.
    async fn received(&mut self) -> Value {
        let line = timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("the SMTP sink received no message within 10 s")
            .unwrap()
            .expect("the SMTP sink exited");
        serde_json::from_str(&line).unwrap()
    }

    fn config(&self) -> SmtpConfig {
        let mut config = SmtpConfig::new("127.0.0.1", "Klaxon <klaxon@k.test>");
        config.port = self.port;
        config.tls = SmtpTls::None;
        config.timeout = Duration::from_secs(5);
        config
    }
}

/// The header named `name` (case-insensitive, unfolded) in a raw message.
fn header(data: &str, name: &str) -> Option<String> {
    let head = data.split("\r\n\r\n").next().unwrap_or(data);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

fn body(data: &str) -> &str {
    data.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn email() -> Email {
    Email {
        to: "oncall@k.test".into(),
        subject: "[SEV1 #42] API returning 502 errors".into(),
        text: "Since 10:15 UTC every route answers 502.".into(),
        html: None,
        message_id: "update-2.incident-42@k.test".into(),
        in_reply_to: Some("<incident-42@k.test>".into()),
        list_unsubscribe: None,
    }
}

#[tokio::test]
async fn sends_plain_text_mail_threaded_on_the_incident() {
    let mut sink = Sink::start(&[]).await;
    let client = EmailClient::new(sink.config()).unwrap();
    client.send(&email()).await.unwrap();

    let got = sink.received().await;
    assert_eq!(got["mail_from"], "klaxon@k.test");
    assert_eq!(got["rcpt_tos"], serde_json::json!(["oncall@k.test"]));
    let data = got["data"].as_str().unwrap();
    assert_eq!(
        header(data, "From").as_deref(),
        Some("Klaxon <klaxon@k.test>")
    );
    assert_eq!(header(data, "To").as_deref(), Some("oncall@k.test"));
    assert_eq!(
        header(data, "Subject").as_deref(),
        Some("[SEV1 #42] API returning 502 errors")
    );
    assert_eq!(
        header(data, "Message-ID").as_deref(),
        Some("<update-2.incident-42@k.test>")
    );
    assert_eq!(
        header(data, "In-Reply-To").as_deref(),
        Some("<incident-42@k.test>")
    );
    assert_eq!(
        header(data, "References").as_deref(),
        Some("<incident-42@k.test>")
    );
    assert!(
        header(data, "Content-Type")
            .unwrap()
            .starts_with("text/plain"),
        "{data}"
    );
    assert_eq!(
        body(data).trim_end(),
        "Since 10:15 UTC every route answers 502."
    );
}

#[tokio::test]
async fn a_list_mail_offers_one_click_unsubscribe() {
    let mut sink = Sink::start(&[]).await;
    let client = EmailClient::new(sink.config()).unwrap();
    let mut mail = email();
    mail.list_unsubscribe =
        Some("https://status.k.test/status/subscribers/unsubscribe?s=4&t=ab".into());
    client.send(&mail).await.unwrap();
    let data = sink.received().await["data"].as_str().unwrap().to_owned();
    assert_eq!(
        header(&data, "List-Unsubscribe").as_deref(),
        Some("<https://status.k.test/status/subscribers/unsubscribe?s=4&t=ab>")
    );
    assert_eq!(
        header(&data, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    mail.list_unsubscribe = Some("https://k.test/x>\r\nBcc: a@b".into());
    let refused = client.send(&mail).await.unwrap_err();
    assert!(!refused.is_transient(), "{refused}");
    assert_eq!(header(&data, "Bcc"), None);
}

#[tokio::test]
async fn the_first_mail_has_no_in_reply_to_and_html_goes_as_an_alternative() {
    let mut sink = Sink::start(&[]).await;
    let client = EmailClient::new(sink.config()).unwrap();
    let mut mail = email();
    mail.in_reply_to = None;
    mail.html = Some("<p>Since 10:15 UTC</p>".into());
    client.send(&mail).await.unwrap();

    let data = sink.received().await["data"].as_str().unwrap().to_owned();
    assert_eq!(header(&data, "In-Reply-To"), None);
    assert_eq!(header(&data, "References"), None);
    assert!(header(&data, "Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    assert!(
        data.contains("text/plain") && data.contains("text/html"),
        "{data}"
    );
    assert!(
        data.contains("Since 10:15 UTC every route answers 502."),
        "{data}"
    );
    assert!(data.contains("<p>Since 10:15 UTC</p>"), "{data}");
}

#[tokio::test]
async fn channel_delivery_derives_ids_from_the_key_and_thread_and_adds_a_link_footer() {
    let mut sink = Sink::start(&[]).await;
    let client = EmailClient::new(sink.config()).unwrap();
    let message = Message {
        subject: "[SEV1 #42] API down".into(),
        text: "Every route answers 502.".into(),
        links: vec![Link::new("Acknowledge", "https://k.test/ack/42")],
        idempotency_key: "delivery-9".into(),
        thread: Some("incident-42".into()),
        ..Message::default()
    };
    let delivered = client
        .deliver(&Destination::Email("ana@k.test".into()), &message)
        .await
        .unwrap();
    assert_eq!(delivered.id, "<delivery-9@k.test>");

    let got = sink.received().await;
    assert_eq!(got["rcpt_tos"], serde_json::json!(["ana@k.test"]));
    let data = got["data"].as_str().unwrap();
    assert_eq!(
        header(data, "Message-ID").as_deref(),
        Some("<delivery-9@k.test>")
    );
    assert_eq!(
        header(data, "In-Reply-To").as_deref(),
        Some("<incident-42@k.test>")
    );
    assert_eq!(
        body(data).trim_end(),
        "Every route answers 502.\r\n\r\n-- \r\nAcknowledge: https://k.test/ack/42"
    );
}

#[tokio::test]
async fn authenticates_when_given_credentials() {
    let mut sink = Sink::start(&["--auth", "klaxon:s3cret"]).await;
    let mut config = sink.config();
    config.username = Some("klaxon".into());
    config.password = Some(Secret::new("s3cret"));
    EmailClient::new(config.clone())
        .unwrap()
        .send(&email())
        .await
        .unwrap();
    assert_eq!(sink.received().await["login"], "klaxon");

    config.password = Some(Secret::new("wrong"));
    let err = EmailClient::new(config)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert!(!err.to_string().contains("wrong"), "{err}");
}

#[tokio::test]
async fn smtp_replies_are_classified() {
    let sink = Sink::start(&[]).await;
    let client = EmailClient::new(sink.config()).unwrap();
    let mut mail = email();
    mail.to = "reject@k.test".into();
    let err = client.send(&mail).await.unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert!(err.message().contains("No such user"), "{err}");
    mail.to = "busy@k.test".into();
    let err = client.send(&mail).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    mail.to = "not an address".into();
    assert!(!client.send(&mail).await.unwrap_err().is_transient());
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = SmtpConfig::new("127.0.0.1", "klaxon@k.test");
    config.port = port;
    config.tls = SmtpTls::None;
    let err = EmailClient::new(config)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn a_server_that_stalls_times_out_as_transient() {
    // Accepts the connection and never sends the greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let mut config = SmtpConfig::new("127.0.0.1", "klaxon@k.test");
    config.port = port;
    config.tls = SmtpTls::None;
    config.timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let err = EmailClient::new(config)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn starttls_required_never_falls_back_to_plain_text() {
    // The sink does not offer STARTTLS; the mail must not go out unencrypted.
    let mut sink = Sink::start(&[]).await;
    let mut config = sink.config();
    config.tls = SmtpTls::StartTls;
    let err = EmailClient::new(config)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert!(err.message().contains("STARTTLS"), "{err}");
    assert!(
        timeout(Duration::from_millis(500), sink.received())
            .await
            .is_err(),
        "the sink received a message in plain text"
    );
}

#[tokio::test]
async fn implicit_tls_speaks_tls_from_the_first_byte() {
    // A plain-text server cannot complete the TLS handshake, and gets no mail.
    let mut sink = Sink::start(&[]).await;
    let mut config = sink.config();
    config.tls = SmtpTls::Implicit;
    let err = EmailClient::new(config)
        .unwrap()
        .send(&email())
        .await
        .unwrap_err();
    assert!(err.message().contains("smtp"), "{err}");
    assert!(timeout(Duration::from_millis(500), sink.received())
        .await
        .is_err());
}
