//! The `Channel` seam: the engine holds channels as trait objects, so a test can swap in
//! a fake; and `DeliveryError` tells it whether to retry.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use klaxon_notify::{Channel, Delivered, DeliveryError, Destination, Message, Secret};

#[derive(Default)]
struct FakeChannel {
    sent: Mutex<Vec<(Destination, String)>>,
}

#[async_trait]
impl Channel for FakeChannel {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        self.sent
            .lock()
            .unwrap()
            .push((to.clone(), message.subject.clone()));
        Ok(Delivered {
            id: message.idempotency_key.clone(),
        })
    }
}

#[tokio::test]
async fn a_fake_channel_stands_in_behind_the_trait_object() {
    let fake = Arc::new(FakeChannel::default());
    let channel: Arc<dyn Channel> = fake.clone();
    let message = Message {
        subject: "[SEV1 #42] API down".into(),
        idempotency_key: "d-1".into(),
        ..Message::default()
    };
    let to = Destination::Phone("+15550001111".into());
    assert_eq!(channel.deliver(&to, &message).await.unwrap().id, "d-1");
    assert_eq!(
        *fake.sent.lock().unwrap(),
        vec![(to, "[SEV1 #42] API down".to_owned())]
    );
}

#[test]
fn delivery_errors_say_whether_to_retry() {
    let transient = DeliveryError::Transient {
        message: "slack chat.postMessage: HTTP 429".into(),
        retry_after: Some(Duration::from_secs(30)),
    };
    assert!(transient.is_transient());
    assert_eq!(transient.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(
        transient.to_string(),
        "slack chat.postMessage: HTTP 429 (transient; retry later)"
    );

    let permanent = DeliveryError::permanent("slack chat.postMessage failed: channel_not_found");
    assert!(!permanent.is_transient());
    assert_eq!(permanent.retry_after(), None);
    assert_eq!(
        permanent.message(),
        "slack chat.postMessage failed: channel_not_found"
    );
    assert!(permanent
        .to_string()
        .ends_with("(permanent; will not succeed on retry)"));
}

#[test]
fn destinations_do_not_print_webhook_urls_or_secrets() {
    let to = Destination::Webhook {
        url: Secret::new("https://hooks.example/T000/B000/XXXX"),
        signing_secret: Some(Secret::new("whsec_live")),
    };
    let printed = format!("{to:?}");
    assert!(
        !printed.contains("XXXX") && !printed.contains("whsec_live"),
        "{printed}"
    );
}
