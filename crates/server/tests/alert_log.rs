//! `GET /alerts/{id}` returns the newest entries of the alert's log, as many as asked
//! for: a storm leaves hundreds of thousands of events on one alert.

mod common;

use common::{spawn_app, TestApp};
use klaxon_domain::api::AlertShowQuery;
use serde_json::{json, Value};

/// An alert with `n` triggers on its log, each with its number as the summary.
async fn alert_with_triggers(app: &TestApp, n: usize) -> i64 {
    let key = app.service_key("api").await;
    for i in 0..n {
        app.enqueue(
            &json!({"routing_key": key, "event_action": "trigger", "dedup_key": "disk",
            "payload": {"summary": format!("{i}"), "source": "db-1", "severity": "error"}}),
        )
        .await;
        // One at a time, so that each is on the log in this order.
        app.settle().await;
    }
    app.admin.alerts(&Default::default()).await.unwrap()[0].id
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app
        .http()
        .get(app.api(path))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn summaries(detail: &Value) -> Vec<String> {
    detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["summary"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_newest_entries_oldest_first_and_whether_any_are_left_out() {
    let app = spawn_app().await;
    let id = alert_with_triggers(&app, 5).await;
    let (status, all) = get(&app, &format!("/alerts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(summaries(&all), ["0", "1", "2", "3", "4"]);
    assert_eq!(all["log_truncated"], false);
    let (_, newest) = get(&app, &format!("/alerts/{id}?log=2")).await;
    assert_eq!(summaries(&newest), ["3", "4"]);
    assert_eq!(newest["log_truncated"], true);
    let (_, exact) = get(&app, &format!("/alerts/{id}?log=5")).await;
    assert_eq!(summaries(&exact), ["0", "1", "2", "3", "4"]);
    assert_eq!(exact["log_truncated"], false, "nothing older than five");
    let detail = app
        .admin
        .alert(id, &AlertShowQuery { log: Some(1) })
        .await
        .unwrap();
    assert_eq!(detail.log.len(), 1);
    assert!(detail.log_truncated);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_log_size_out_of_range_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    let id = alert_with_triggers(&app, 1).await;
    for bad in ["log=0", "log=10001", "log=-1", "log=many", "logs=5"] {
        let (status, body) = get(&app, &format!("/alerts/{id}?{bad}")).await;
        assert!((400..500).contains(&status), "{bad}: {status} {body}");
        assert!(body.to_string().contains("log"), "{bad}: {body}");
    }
    let (status, body) = get(&app, &format!("/alerts/{id}?log=0")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("use 1 to 10000"), "{body}");
    app.drain().await;
    app.cleanup().await;
}
