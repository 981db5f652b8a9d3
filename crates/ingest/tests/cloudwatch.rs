//! CloudWatch alarms via SNS: the message types, text/plain JSON, JSON inside a string,
//! both URL spellings, the SSRF guard and malformed bodies.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::{cloudwatch, HeaderMap, IngestError, Parsed};
use serde_json::{json, Value};

fn headers(kind: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", "text/plain; charset=UTF-8".parse().unwrap());
    h.insert("x-amz-sns-message-type", kind.parse().unwrap());
    h.insert(
        "x-amz-sns-topic-arn",
        "arn:aws:sns:us-east-1:123456789012:cpu".parse().unwrap(),
    );
    h
}

fn parse(kind: &str, body: &Value) -> Result<Parsed, IngestError> {
    cloudwatch::parse(body.to_string().as_bytes(), &headers(kind))
}

fn alarm(state: &str) -> Value {
    json!({"AlarmName": "cpuHigh", "AlarmDescription": "CPU over 90%",
      "AWSAccountId": "123456789012", "NewStateValue": state, "OldStateValue": "OK",
      "NewStateReason": "Threshold Crossed: 1 datapoint [95.0 (05/08/12 22:26:00)] was greater than the threshold (90.0).",
      "StateChangeTime": "2012-08-05T22:31:25.524+0000",
      "Region": "US East (N. Virginia)",
      "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpuHigh",
      "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "AVERAGE",
                  "Dimensions": [{"value": "i-0123456789abcdef0", "name": "InstanceId"}],
                  "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
                  "Threshold": 90.0}})
}

fn notification(message: Value, url_spelling: &str) -> Value {
    let mut body = json!({
      "Type": "Notification",
      "MessageId": "b3d7c2f0-1234-5678-9abc-def012345678",
      "TopicArn": "arn:aws:sns:us-east-1:123456789012:cpu",
      "Subject": "ALARM: \"cpuHigh\" in US East (N. Virginia)",
      "Message": message.to_string(),
      "Timestamp": "2012-08-05T22:31:25.600Z",
      "SignatureVersion": "1",
      "Signature": "EXAMPLEpH+..."
    });
    body[format!("SigningCert{url_spelling}")] =
        json!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem");
    body[format!("Unsubscribe{url_spelling}")] = json!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:cpu:1");
    body
}

fn one(body: &Value) -> AlertEvent {
    match parse("Notification", body).unwrap() {
        Parsed::Alerts {
            key: None,
            mut events,
        } if events.len() == 1 => events.remove(0),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn alarm_notification_with_json_inside_a_string() {
    let e = one(&notification(alarm("ALARM"), "URL"));
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.severity, AlertSeverity::Error);
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpuHigh")
    );
    assert_eq!(
        e.summary.as_deref(),
        Some("ALARM: \"cpuHigh\" in US East (N. Virginia)")
    );
    assert_eq!(
        e.occurred_at,
        Some("2012-08-05T22:31:25.524Z".parse().unwrap())
    );
    assert_eq!(e.labels["InstanceId"], "i-0123456789abcdef0");
    assert_eq!(e.labels["metric"], "CPUUtilization");
    assert_eq!(
        e.links[0].href,
        "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/cpuHigh"
    );
    assert!(e.details["alarm"]["NewStateReason"]
        .as_str()
        .unwrap()
        .starts_with("Threshold Crossed"));
    assert!(e.details["sns"]["SigningCertURL"]
        .as_str()
        .unwrap()
        .ends_with(".pem"));
}

#[test]
fn both_url_spellings_and_every_state() {
    let e = one(&notification(alarm("OK"), "Url"));
    assert_eq!(e.action, AlertAction::Resolve);
    assert!(e.details["sns"]["UnsubscribeURL"]
        .as_str()
        .unwrap()
        .contains("Action=Unsubscribe"));
    assert!(e.details["sns"]["SigningCertURL"]
        .as_str()
        .unwrap()
        .ends_with(".pem"));
    let e = one(&notification(alarm("INSUFFICIENT_DATA"), "URL"));
    assert_eq!(
        (e.action, e.severity),
        (AlertAction::Trigger, AlertSeverity::Warning)
    );
}

#[test]
fn dedup_falls_back_to_alarm_name_and_accepts_an_object_message() {
    let mut message = alarm("ALARM");
    message.as_object_mut().unwrap().remove("AlarmArn");
    let mut body = notification(message.clone(), "URL");
    body["Message"] = message;
    let e = one(&body);
    assert_eq!(e.dedup_key.as_deref(), Some("cpuHigh"));
    assert!(e.links.is_empty());
}

#[test]
fn type_from_the_body_when_the_header_is_absent() {
    let body = notification(alarm("ALARM"), "URL").to_string();
    let parsed = cloudwatch::parse(body.as_bytes(), &HeaderMap::new()).unwrap();
    assert!(matches!(parsed, Parsed::Alerts { .. }));
}

fn confirmation(url: &str) -> Value {
    json!({"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
      "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
      "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
      "SubscribeURL": url,
      "Timestamp": "2012-04-26T20:45:04.751Z", "SignatureVersion": "1",
      "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
      "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"})
}

#[test]
fn subscription_confirmation_carries_only_sns_urls() {
    let url = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37";
    assert_eq!(
        parse("SubscriptionConfirmation", &confirmation(url)).unwrap(),
        Parsed::SnsSubscription {
            subscribe_url: url.to_owned()
        }
    );
    let evil = parse(
        "SubscriptionConfirmation",
        &confirmation("http://169.254.169.254/latest/meta-data/"),
    );
    assert!(evil.unwrap_err().errors[0].contains("refused as an SSRF risk"));
    let evil = parse(
        "SubscriptionConfirmation",
        &confirmation("https://sns.us-west-2.amazonaws.com.evil.example/"),
    );
    assert!(evil.unwrap_err().errors[0].contains("refused as an SSRF risk"));
}

#[test]
fn unsubscribe_confirmation_is_ignored() {
    let body = json!({"Type": "UnsubscribeConfirmation", "MessageId": "47138184-6831-46b8-8f7c-afc488602d7d",
        "Token": "2336412f37", "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message": "You have chosen to deactivate subscription.",
        "SubscribeUrl": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
        "SigningCertUrl": "https://sns.us-west-2.amazonaws.com/x.pem"});
    assert!(matches!(
        parse("UnsubscribeConfirmation", &body).unwrap(),
        Parsed::Ignored { .. }
    ));
}

#[test]
fn malformed_notifications_name_the_field() {
    let err = |kind: &str, v: Value| parse(kind, &v).unwrap_err().errors;
    let mut body = notification(alarm("ALARM"), "URL");
    body["Message"] = json!("plain text, not an alarm");
    assert!(err("Notification", body.clone())[0].starts_with("Message is not a CloudWatch alarm"));
    body["Message"] = json!(42);
    assert_eq!(
        err("Notification", body.clone()),
        ["Message must be a string, not a number"]
    );
    body.as_object_mut().unwrap().remove("Message");
    assert_eq!(err("Notification", body), ["Message is missing"]);
    assert_eq!(
        err("Notification", notification(alarm("MAYBE"), "URL")),
        ["Message.NewStateValue must be ALARM, OK or INSUFFICIENT_DATA, not \"MAYBE\""]
    );
    let nameless = json!({"NewStateValue": "ALARM"});
    assert_eq!(
        err("Notification", notification(nameless, "URL")),
        ["Message.AlarmArn is missing (and so is AlarmName)"]
    );
    assert!(err("Gossip", json!({}))[0].contains("\"Gossip\""));
    assert!(err("SubscriptionConfirmation", json!({}))[0].contains("SubscribeURL is missing"));
    let none = cloudwatch::parse(b"{}", &HeaderMap::new())
        .unwrap_err()
        .errors;
    assert!(none[0].contains("x-amz-sns-message-type header is missing"));
}
