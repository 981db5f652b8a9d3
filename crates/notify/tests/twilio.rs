//! The Twilio client against a wiremock Twilio, and the webhook signature check against
//! Twilio's published example.
use std::time::Duration;

use klaxon_notify::twilio::{ack_prompt, verify_signature, SmsChannel, TwilioClient, VoiceChannel};
use klaxon_notify::{Channel, Destination, Link, Message};
use serde_json::json;
use wiremock::matchers::{any, basic_auth, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SID: &str = "AC0123456789abcdef";
const TOKEN: &str = "auth-token";
const FROM: &str = "+15550002222";
const TO: &str = "+15550001111";

/// Matches a form body with exactly these fields, in any order.
struct FormIs(Vec<(&'static str, String)>);

impl wiremock::Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let Ok(mut got) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&request.body)
        else {
            return false;
        };
        let mut want: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        got.sort();
        want.sort();
        got == want
    }
}

fn messages_path() -> String {
    format!("/2010-04-01/Accounts/{SID}/Messages.json")
}

async fn setup() -> (MockServer, TwilioClient) {
    let server = MockServer::start().await;
    let client = TwilioClient::new(format!("{}/2010-04-01", server.uri()), SID, TOKEN);
    (server, client)
}

#[tokio::test]
async fn send_sms_posts_a_form_with_basic_auth() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(basic_auth(SID, TOKEN))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(FormIs(vec![
            ("To", TO.into()),
            ("From", FROM.into()),
            ("Body", "API down & out".into()),
        ]))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({ "sid": "SM1", "status": "queued" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client.send_sms(FROM, TO, "API down & out").await.unwrap(),
        "SM1"
    );
}

#[tokio::test]
async fn place_call_sends_inline_twiml() {
    let (server, client) = setup().await;
    let twiml = ack_prompt("API down.", "https://k.test/voice/ack?i=42");
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Calls.json")))
        .and(basic_auth(SID, TOKEN))
        .and(FormIs(vec![
            ("To", TO.into()),
            ("From", FROM.into()),
            ("Twiml", twiml.clone()),
        ]))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({ "sid": "CA1", "status": "queued" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.place_call(FROM, TO, &twiml).await.unwrap(), "CA1");
}

#[tokio::test]
async fn an_invalid_number_is_permanent_and_names_twilios_code_and_message() {
    let (server, client) = setup().await;
    Mock::given(path(messages_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 21211,
            "message": "The 'To' number +1555 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client.send_sms(FROM, "+1555", "x").await.unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert!(err.message().contains("21211"), "{err}");
    assert!(
        err.message().contains("is not a valid phone number"),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_is_transient_with_retry_after() {
    let (server, client) = setup().await;
    Mock::given(path(messages_path()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .set_body_json(
                    json!({ "code": 20429, "message": "Too Many Requests", "status": 429 }),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client.send_sms(FROM, TO, "x").await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.message().contains("20429"), "{err}");
}

#[tokio::test]
async fn server_errors_are_transient() {
    let (server, client) = setup().await;
    Mock::given(path(messages_path()))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(client
        .send_sms(FROM, TO, "x")
        .await
        .unwrap_err()
        .is_transient());
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = TwilioClient::new(format!("http://127.0.0.1:{port}"), SID, TOKEN);
    assert!(client
        .send_sms(FROM, TO, "x")
        .await
        .unwrap_err()
        .is_transient());
}

fn message() -> Message {
    Message {
        subject: "[SEV1 #42] API returning 502 errors".into(),
        text: "Since 10:15 UTC.".into(),
        links: vec![
            Link::new("Open", "https://k.test/i/42"),
            Link::new("Acknowledge", "https://k.test/ack/42"),
        ],
        voice_ack_url: Some("https://k.test/voice/ack?i=42&t=abc".into()),
        ..Message::default()
    }
}

#[tokio::test]
async fn sms_channel_sends_the_subject_and_first_link() {
    let (server, client) = setup().await;
    Mock::given(path(messages_path()))
        .and(FormIs(vec![
            ("To", TO.into()),
            ("From", FROM.into()),
            (
                "Body",
                "[SEV1 #42] API returning 502 errors\nhttps://k.test/i/42".into(),
            ),
        ]))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "SM9" })))
        .expect(1)
        .mount(&server)
        .await;
    let channel = SmsChannel {
        client,
        from: FROM.into(),
    };
    let delivered = channel
        .deliver(&Destination::Phone(TO.into()), &message())
        .await
        .unwrap();
    assert_eq!(delivered.id, "SM9");
}

#[tokio::test]
async fn voice_channel_reads_the_message_and_gathers_to_the_ack_url() {
    let (server, client) = setup().await;
    let twiml = concat!(
        r#"<Response><Gather numDigits="1" action="https://k.test/voice/ack?i=42&amp;t=abc" method="POST">"#,
        "<Say>[SEV1 #42] API returning 502 errors. Since 10:15 UTC. Press 1 to acknowledge.</Say></Gather>",
        "<Say>No key was pressed. Goodbye.</Say></Response>"
    );
    Mock::given(path(format!("/2010-04-01/Accounts/{SID}/Calls.json")))
        .and(FormIs(vec![
            ("To", TO.into()),
            ("From", FROM.into()),
            ("Twiml", twiml.into()),
        ]))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "sid": "CA9" })))
        .expect(1)
        .mount(&server)
        .await;
    let channel = VoiceChannel {
        client,
        from: FROM.into(),
    };
    let delivered = channel
        .deliver(&Destination::Phone(TO.into()), &message())
        .await
        .unwrap();
    assert_eq!(delivered.id, "CA9");
}

#[tokio::test]
async fn phone_channels_refuse_other_destinations() {
    let (server, client) = setup().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let sms = SmsChannel {
        client: client.clone(),
        from: FROM.into(),
    };
    let voice = VoiceChannel {
        client,
        from: FROM.into(),
    };
    let to = Destination::Email("a@b.test".into());
    assert!(!sms
        .deliver(&to, &message())
        .await
        .unwrap_err()
        .is_transient());
    assert!(!voice
        .deliver(&to, &message())
        .await
        .unwrap_err()
        .is_transient());
}

/// Twilio's published example (twilio-php docs, "Validate Incoming Requests"): auth token
/// `12345`, this URL and these parameters are signed `RSOYDt4T1cUTdK1PDd93/VVr8B8=`. We
/// also recomputed it independently with Python's `hmac` + `hashlib.sha1` + `base64`.
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_PARAMS: &[(&str, &str)] = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
];
const TWILIO_SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

#[test]
fn twilio_signature_matches_the_published_vector() {
    assert!(verify_signature(
        "12345",
        TWILIO_URL,
        TWILIO_PARAMS,
        TWILIO_SIGNATURE
    ));
    assert_eq!(
        klaxon_notify::twilio::signature("12345", TWILIO_URL, TWILIO_PARAMS),
        TWILIO_SIGNATURE
    );
    // Parameter order on the wire does not matter: they are sorted by name.
    let mut reversed = TWILIO_PARAMS.to_vec();
    reversed.reverse();
    assert!(verify_signature(
        "12345",
        TWILIO_URL,
        &reversed,
        TWILIO_SIGNATURE
    ));
}

#[test]
fn twilio_signature_refuses_anything_changed() {
    let mut tampered = TWILIO_PARAMS.to_vec();
    tampered[2] = ("Digits", "1");
    assert!(!verify_signature(
        "12345",
        TWILIO_URL,
        &tampered,
        TWILIO_SIGNATURE
    ));
    assert!(!verify_signature(
        "54321",
        TWILIO_URL,
        TWILIO_PARAMS,
        TWILIO_SIGNATURE
    ));
    assert!(!verify_signature(
        "12345",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        TWILIO_PARAMS,
        TWILIO_SIGNATURE
    ));
    assert!(!verify_signature(
        "12345",
        TWILIO_URL,
        TWILIO_PARAMS,
        "not base64!"
    ));
    assert!(!verify_signature("12345", TWILIO_URL, TWILIO_PARAMS, ""));
}
