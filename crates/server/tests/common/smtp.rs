//! A real SMTP server on loopback (Python's aiosmtpd, run by klaxon-notify's
//! `tests/smtp_sink.py`) that the server mails, and what it received. The tests that
//! use it fail (they do not skip) without aiosmtpd: `python3 -m pip install aiosmtpd`.

use std::process::Stdio;
use std::time::Duration;

use klaxon_server::{ChannelConfig, OutboundGuard, SmtpConfig, SmtpTls};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

use super::Settings;

pub struct SmtpSink {
    pub port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

/// One mail as the sink received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    /// The raw message: headers, a blank line, the body.
    pub data: String,
}

impl Mail {
    /// The header `name` (case-insensitive, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or(&self.data);
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The body, with quoted-printable soft line breaks and `=3D` undone.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
        {
            body.replace("=\r\n", "").replace("=3D", "=")
        } else {
            body.to_owned()
        }
    }

    /// The first line of the body that starts with `prefix`, without it.
    pub fn line_after(&self, prefix: &str) -> Option<String> {
        self.body()
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|s| s.trim().to_owned()))
    }

    /// The first URL in the body that contains `part`.
    pub fn link(&self, part: &str) -> Option<String> {
        self.body()
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
            .map(str::to_owned)
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../notify/tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 must be installed for the e-mail tests");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = timeout(Duration::from_secs(20), lines.next_line()).await;
        if let Ok(Ok(Some(line))) = &first {
            if let Some(port) = line.strip_prefix("PORT ") {
                return SmtpSink {
                    port: port.parse().unwrap(),
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
            "the SMTP sink did not start: {first:?}\n{stderr}\n\
             The e-mail tests need aiosmtpd: python3 -m pip install aiosmtpd"
        );
    }

    /// The next mail, waiting up to 10 s.
    pub async fn received(&mut self) -> Mail {
        self.within(Duration::from_secs(10))
            .await
            .expect("the SMTP sink received no mail within 10 s")
    }

    /// The next mail if one comes within `wait`.
    pub async fn within(&mut self, wait: Duration) -> Option<Mail> {
        let line = timeout(wait, self.lines.next_line()).await.ok()?;
        let line = line.unwrap().expect("the SMTP sink exited");
        let v: Value = serde_json::from_str(&line).unwrap();
        Some(Mail {
            to: v["rcpt_tos"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            data: v["data"].as_str().unwrap().to_owned(),
        })
    }

    /// Settings that mail through this sink and let webhooks reach loopback (where the
    /// tests' fakes listen).
    pub fn settings(&self) -> Settings {
        let mut smtp = SmtpConfig::new("127.0.0.1", "Acme Status <status@acme.test>");
        smtp.port = self.port;
        smtp.tls = SmtpTls::None;
        smtp.timeout = Duration::from_secs(5);
        let mut settings = Settings {
            channels: ChannelConfig {
                smtp: Some(smtp),
                outbound: OutboundGuard::parse(&["127.0.0.1".into()]).unwrap(),
                ..Default::default()
            },
            ..Settings::default()
        };
        settings.status_page.name = "Acme".into();
        settings
    }
}
