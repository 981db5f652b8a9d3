//! `GET /alerts/{id}` returns the newest entries of the alert's log, as many as asked
//! for: a storm leaves hundreds of thousands of events on one alert.

mod common;

use common::{spawn_app, TestApp};
use klaxon_domain::api::AlertShowQuery;
use serde_json::{json, Value};

/// An alert with `n` triggers on its log, each with its number as the summary.
async fn alert_with_triggers(app: &TestApp, n: usize) -> klaxon_domain::AlertId {
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
    app.admin.alerts(&Default::default()).await.unwrap().alerts[0].id
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
        .alert(
            id,
            &AlertShowQuery {
                log: Some(1),
                ..Default::default()
            },
        )
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

#[tokio::test]
async fn older_entries_page_by_their_cursor() {
    let app = spawn_app().await;
    let id = alert_with_triggers(&app, 5).await;
    let (_, newest) = get(&app, &format!("/alerts/{id}?log=2")).await;
    assert_eq!(summaries(&newest), ["3", "4"]);
    let cursor = newest["next_log_before"].as_i64().expect("a cursor");
    assert_eq!(cursor, newest["log"][0]["id"].as_i64().unwrap());
    let (_, older) = get(&app, &format!("/alerts/{id}?log=2&log_before={cursor}")).await;
    assert_eq!(summaries(&older), ["1", "2"]);
    let cursor = older["next_log_before"].as_i64().expect("a cursor");
    let (_, oldest) = get(&app, &format!("/alerts/{id}?log=2&log_before={cursor}")).await;
    assert_eq!(summaries(&oldest), ["0"]);
    assert_eq!(oldest["log_truncated"], false);
    assert!(oldest.get("next_log_before").is_none(), "{oldest}");

    // Another alert's entry is no cursor into this log.
    let key = app.service_key("web").await;
    app.enqueue(
        &json!({"routing_key": key, "event_action": "trigger", "dedup_key": "cpu",
        "payload": {"summary": "cpu", "source": "db-1", "severity": "error"}}),
    )
    .await;
    app.settle().await;
    let cpu = app.admin.alerts(&Default::default()).await.unwrap().alerts[0].id;
    assert_ne!(cpu, id);
    let (_, all) = get(&app, &format!("/alerts/{cpu}")).await;
    assert_eq!(summaries(&all), ["cpu"]);
    let (_, other) = get(&app, &format!("/alerts/{cpu}?log_before={cursor}")).await;
    assert_eq!(summaries(&other), Vec::<String>::new(), "{other}");
    let (status, body) = get(&app, &format!("/alerts/{id}?log_before=soon")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("log_before"), "{body}");
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn alerts_page_newest_first_by_their_cursor() {
    let app = spawn_app().await;
    let key = app.service_key("api").await;
    for i in 0..5 {
        app.enqueue(
            &json!({"routing_key": key, "event_action": "trigger", "dedup_key": format!("d{i}"),
            "payload": {"summary": format!("{i}"), "source": "db-1", "severity": "info"}}),
        )
        .await;
    }
    app.settle().await;
    let (status, first) = get(&app, "/alerts?limit=2").await;
    assert_eq!(status, 200, "{first}");
    let ids = |page: &Value| -> Vec<i64> {
        page["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    };
    let mut seen = ids(&first);
    let mut page = first;
    while let Some(cursor) = page["next_before"].as_i64() {
        assert_eq!(
            Some(&cursor),
            seen.last(),
            "the cursor is the page's oldest"
        );
        page = get(&app, &format!("/alerts?limit=2&before={cursor}"))
            .await
            .1;
        seen.extend(ids(&page));
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
    assert!(page["next_before"].is_null(), "the last page ends: {page}");
    let (status, body) = get(&app, "/alerts?before=yesterday").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("before"), "{body}");
    app.cleanup().await;
}
