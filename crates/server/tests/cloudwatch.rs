//! `/ingest/cloudwatch/{key}` through the real server: SNS posts JSON as `text/plain`,
//! alarms fire and clear, and a new subscription is confirmed by Klaxon itself, through
//! an SNS fake standing in for `sns.<region>.amazonaws.com`.

mod common;

use common::{spawn_sqlite, Settings, TestApp};
use klaxon_domain::alert::{Alert, AlertStatus};
use klaxon_domain::service::{NewService, ServiceName};
use klaxon_server::ChannelConfig;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUBSCRIBE_URL: &str = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb687f5d51e6e2";

async fn app_with_sns(sns: &MockServer) -> (TestApp, String) {
    let settings = Settings {
        channels: ChannelConfig {
            sns_endpoint: Some(sns.uri()),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = spawn_sqlite(settings).await;
    let new = NewService {
        name: ServiceName::parse("ec2").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    };
    let service = app.admin.create_service(&new).await.unwrap();
    let key = service.integration_keys.unwrap().remove(0).key;
    (app, key)
}

/// Posts an SNS message the way SNS does: JSON with `Content-Type: text/plain`.
async fn sns_post(app: &TestApp, key: &str, kind: &str, body: &Value) -> (u16, Value) {
    let r = app
        .http()
        .post(format!("{}/ingest/cloudwatch/{key}", app.url))
        .header("content-type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", kind)
        .header(
            "x-amz-sns-topic-arn",
            "arn:aws:sns:us-west-2:123456789012:MyTopic",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    app.settle().await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn confirmation(url: &str) -> Value {
    json!({"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
      "Token": "2336412f37fb687f5d51e6e2", "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
      "SubscribeURL": url, "Timestamp": "2012-04-26T20:45:04.751Z", "SignatureVersion": "1",
      "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
      "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"})
}

fn alarm(state: &str) -> Value {
    let message = json!({"AlarmName": "cpuHigh", "AlarmDescription": "CPU over 90%",
      "AWSAccountId": "123456789012", "NewStateValue": state, "OldStateValue": "OK",
      "NewStateReason": "Threshold Crossed: 1 datapoint [95.0 (05/08/12 22:26:00)] was greater than the threshold (90.0).",
      "StateChangeTime": "2012-08-05T22:31:25.524+0000", "Region": "US West (Oregon)",
      "AlarmArn": "arn:aws:cloudwatch:us-west-2:123456789012:alarm:cpuHigh",
      "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "AVERAGE",
                  "Dimensions": [{"value": "i-0123456789abcdef0", "name": "InstanceId"}],
                  "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
                  "Threshold": 90.0}});
    json!({"Type": "Notification", "MessageId": format!("b3d7c2f0-{state}"),
      "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
      "Subject": format!("{state}: \"cpuHigh\" in US West (Oregon)"),
      "Message": message.to_string(), "Timestamp": "2012-08-05T22:31:25.600Z",
      "SignatureVersion": "1", "Signature": "EXAMPLEpH+...",
      "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem",
      "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:1"})
}

async fn alerts(app: &TestApp) -> Vec<Alert> {
    let r = app
        .http()
        .get(app.api("/alerts"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    r.json::<klaxon_domain::api::AlertPage>()
        .await
        .unwrap()
        .alerts
}

#[tokio::test]
async fn a_subscription_is_confirmed_by_a_get_on_its_subscribe_url() {
    let sns = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .and(query_param("Action", "ConfirmSubscription"))
        .and(query_param("Token", "2336412f37fb687f5d51e6e2"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-west-2:123456789012:MyTopic:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>",
        ))
        .expect(1)
        .mount(&sns)
        .await;
    let (app, key) = app_with_sns(&sns).await;

    let (status, body) = sns_post(
        &app,
        &key,
        "SubscriptionConfirmation",
        &confirmation(SUBSCRIBE_URL),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "confirmed");
    assert!(alerts(&app).await.is_empty(), "a confirmation is no alert");
    sns.verify().await;
}

#[tokio::test]
async fn a_confirmation_that_fails_says_how_to_confirm_by_hand() {
    let sns = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_string("<Error><Code>AuthorizationError</Code></Error>"),
        )
        .expect(1)
        .mount(&sns)
        .await;
    let (app, key) = app_with_sns(&sns).await;

    let (status, body) = sns_post(
        &app,
        &key,
        "SubscriptionConfirmation",
        &confirmation(SUBSCRIBE_URL),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    let error = body["errors"][0].as_str().unwrap();
    assert!(error.contains("HTTP 403"), "{error}");
    assert!(error.contains(SUBSCRIBE_URL), "{error}");
    assert!(alerts(&app).await.is_empty());
}

#[tokio::test]
async fn a_subscribe_url_off_amazon_is_refused_without_a_request() {
    let sns = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&sns)
        .await;
    let (app, key) = app_with_sns(&sns).await;

    for url in [
        "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
        "https://169.254.169.254/latest/meta-data/",
        "https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription",
    ] {
        let (status, body) =
            sns_post(&app, &key, "SubscriptionConfirmation", &confirmation(url)).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["errors"][0].as_str().unwrap().contains("SSRF"),
            "{body}"
        );
    }
    assert!(alerts(&app).await.is_empty());
    sns.verify().await;
}

#[tokio::test]
async fn an_alarm_fires_and_clears_through_sns() {
    let sns = MockServer::start().await;
    let (app, key) = app_with_sns(&sns).await;

    let (status, body) = sns_post(&app, &key, "Notification", &alarm("ALARM")).await;
    assert_eq!(status, 202, "{body}");
    let open = alerts(&app).await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].dedup_key,
        "arn:aws:cloudwatch:us-west-2:123456789012:alarm:cpuHigh"
    );
    assert_eq!(open[0].status, AlertStatus::Triggered);

    let (status, body) = sns_post(&app, &key, "Notification", &alarm("OK")).await;
    assert_eq!(status, 202, "{body}");
    let after = alerts(&app).await;
    assert_eq!(after.len(), 1, "the OK resolves the same alert");
    assert_eq!(after[0].status, AlertStatus::Resolved);

    let (status, body) = sns_post(
        &app,
        &key,
        "Notification",
        &json!({"Type": "Notification", "Message": "not json"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        alerts(&app).await.len(),
        1,
        "a malformed message stores nothing"
    );
    app.drain().await;
}
