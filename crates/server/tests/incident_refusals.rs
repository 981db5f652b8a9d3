//! Bad input to the incident API over HTTP: illegal transitions, malformed and
//! rule-breaking bodies on every mutation route, and commands on merged incidents each
//! answer 4xx naming the problem and leave the stored state untouched.

mod common;

use common::{declare_input, problem, spawn_app, update};
use klaxon_client::Client;
use klaxon_domain::api::*;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::*;
use klaxon_domain::IncidentNumber;
use serde_json::{json, Value};

#[tokio::test]
async fn illegal_transitions_answer_409_and_change_nothing() {
    let app = spawn_app().await;
    let c = &app.admin;
    let n = c
        .declare(&declare_input("Login failures", 2))
        .await
        .unwrap()
        .incident
        .number;
    let before = c.incident(n).await.unwrap();
    let p = problem(c.close(n).await);
    assert_eq!(p.status, 409);
    assert_eq!(
        p.detail,
        format!("incident {n} is triggered; closing is not possible: resolve it first")
    );
    let p = problem(c.post_update(n, &update(UpdateKind::Resolved, None)).await);
    assert_eq!(p.status, 409);
    let p = problem(c.reopen(n, &ReasonRequest::default()).await);
    assert_eq!(p.status, 409);
    c.ack(n, &AckRequest::default()).await.unwrap();
    let p = problem(c.ack(n, &AckRequest::default()).await);
    assert_eq!(
        (p.status, p.detail.as_str()),
        (409, &*format!("incident {n} is already acknowledged"))
    );
    let after = c.incident(n).await.unwrap();
    assert_eq!(
        after.timeline.as_ref().unwrap().len(),
        before.timeline.as_ref().unwrap().len() + 1
    );
    // The declaration's and the acknowledgement's jobs run.
    app.run_jobs().await;
    app.cleanup().await;
}

/// Every mutation route, with a body that is valid for it.
fn mutations(n: i64) -> Vec<(String, Value)> {
    let p = |a: &str| format!("/incidents/{n}/{a}");
    vec![
        (p("ack"), json!({})),
        (p("assign"), json!({"role": "commander", "user": "admin"})),
        (p("relieve"), json!({"role": "commander", "user": "admin"})),
        (p("severity"), json!({"severity": 1, "reason": "worse"})),
        (
            p("updates"),
            json!({"kind": "update", "status": "investigating"}),
        ),
        (
            p("mitigate"),
            json!({"strategy": "rollback", "action": "rolled back"}),
        ),
        (p("resolve"), json!({})),
        (p("close"), json!({})),
        (p("reopen"), json!({})),
        (p("decline"), json!({})),
        (p("merge"), json!({"into": 1})),
        (p("notes"), json!({"text": "hi"})),
        (p("evidence"), json!({"kind": "text", "text": "hi"})),
        ("/incidents".into(), json!({"title": "x", "severity": 3})),
    ]
}

async fn snapshot(c: &Client) -> Vec<IncidentView> {
    let page = c.list_incidents(&IncidentQuery::default()).await.unwrap();
    let mut out = Vec::new();
    for i in page.incidents {
        out.push(c.incident(i.incident.number).await.unwrap());
    }
    out
}

#[tokio::test]
async fn bad_input_to_every_mutation_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.admin
        .declare(&declare_input("target", 2))
        .await
        .unwrap();
    let n = app
        .admin
        .declare(&declare_input("subject", 2))
        .await
        .unwrap()
        .incident
        .number
        .0;
    let before = snapshot(&app.admin).await;
    let http = app.http();
    for (path, body) in mutations(n) {
        let url = app.api(&path);
        let send = |req: reqwest::RequestBuilder| async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let problem: Problem = r.json().await.unwrap();
            assert_eq!(ct.as_deref(), Some("application/problem+json"));
            (status, problem)
        };
        let (status, p) = send(http.post(&url).json(&body)).await;
        assert_eq!(status, 401, "{path} without a token");
        assert!(p.detail.contains("missing API token"), "{}", p.detail);
        let (status, _) = send(http.post(&url).bearer_auth("klx_wrong").json(&body)).await;
        assert_eq!(status, 401, "{path} with a wrong token");
        let auth = http.post(&url).bearer_auth(common::ADMIN_TOKEN);
        let mut unknown = body.clone();
        unknown["surprise"] = json!(true);
        let (status, p) = send(auth.try_clone().unwrap().json(&unknown)).await;
        assert_eq!(status, 422, "{path} with an unknown field");
        assert_eq!(p.errors[0].field, "surprise", "{path}: {}", p.detail);
        let (status, _) = send(
            auth.try_clone()
                .unwrap()
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
        assert_eq!(status, 400, "{path} with malformed JSON");
        let (status, _) = send(
            auth.try_clone()
                .unwrap()
                .header("content-type", "text/plain")
                .body(body.to_string()),
        )
        .await;
        assert_eq!(status, 415, "{path} with a non-JSON content type");
        let huge = json!({"text": "x".repeat(300 * 1024)});
        let (status, p) = send(auth.try_clone().unwrap().json(&huge)).await;
        assert_eq!(status, 413, "{path} with an oversized body: {}", p.detail);
    }
    let viewer = app.user("vera", Scope::Viewer).await;
    let p = problem(viewer.ack(IncidentNumber(n), &AckRequest::default()).await);
    assert_eq!(p.status, 403);
    assert_eq!(
        snapshot(&app.admin).await,
        before,
        "bad input must change nothing"
    );
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn values_that_break_rules_name_the_field() {
    let app = spawn_app().await;
    let http = app.http();
    let post = |path: &str, body: Value| {
        http.post(app.api(path))
            .bearer_auth(common::ADMIN_TOKEN)
            .json(&body)
            .send()
    };
    let r = post("/incidents", json!({"title": "x", "severity": 5}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: Problem = r.json().await.unwrap();
    assert!(p.detail.contains("5 is not a severity"), "{}", p.detail);
    let r = post("/incidents", json!({"title": "  ", "severity": 2}))
        .await
        .unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "title"));
    let r = post(
        "/incidents",
        json!({"title": "x", "severity": 2, "assessment": {"affected": "many"}}),
    )
    .await
    .unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "assessment.affected"),
        "{}",
        p.detail
    );
    let r = post("/incidents", json!({"title": "x", "severity": 5}))
        .await
        .unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!(
        p.detail,
        "severity: 5 is not a severity; use 1 (critical) to 4 (low)"
    );
    let r = post("/incidents", json!({"title": "x"})).await.unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "severity"));
    let r = post(
        "/incidents",
        json!({"title": "x", "severity": 2, "commander": "nobody"}),
    )
    .await
    .unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "commander"));
    let n = app
        .admin
        .declare(&declare_input("real", 3))
        .await
        .unwrap()
        .incident
        .number
        .0;
    let r = post(
        &format!("/incidents/{n}/severity"),
        json!({"severity": 2, "reason": ""}),
    )
    .await
    .unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "reason"));
    let r = post(
        &format!("/incidents/{n}/assign"),
        json!({"role": "pilot", "user": "admin"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        &format!("/incidents/{n}/evidence"),
        json!({"kind": "text", "text": "x".repeat(70 * 1024)}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    let r = post("/incidents/abc/ack", json!({})).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = post("/incidents/999/ack", json!({})).await.unwrap();
    let p: Problem = r.json().await.unwrap();
    assert_eq!(
        (p.status, p.detail.as_str()),
        (404, "there is no incident #999")
    );
    let r = http
        .get(app.api("/incidents?colour=red"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .get(app.api("/incidents?limit=1000"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .get(app.api("/incidents?since=yesterday-ish"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        app.admin
            .list_incidents(&IncidentQuery::default())
            .await
            .unwrap()
            .incidents
            .len(),
        1
    );
    app.drain().await;
    app.cleanup().await;
}

/// Every command on an incident that was merged away answers 409 naming where the work
/// went, and changes nothing anywhere.
#[tokio::test]
async fn every_mutation_of_a_merged_incident_is_refused() {
    let app = spawn_app().await;
    let c = &app.admin;
    let target = c
        .declare(&declare_input("target", 2))
        .await
        .unwrap()
        .incident
        .number;
    let merged = c
        .declare(&declare_input("duplicate", 2))
        .await
        .unwrap()
        .incident
        .number;
    c.merge(merged, &MergeRequest { into: target })
        .await
        .unwrap();
    let before = snapshot(c).await;
    for (path, body) in mutations(merged.0)
        .into_iter()
        .filter(|(p, _)| p != "/incidents")
    {
        let r = app
            .http()
            .post(app.api(&path))
            .bearer_auth(common::ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "{path}");
        let p: Problem = r.json().await.unwrap();
        assert!(
            p.detail.contains(&format!("was merged into {target}")),
            "{path}: {}",
            p.detail
        );
    }
    assert_eq!(snapshot(c).await, before);
    app.drain().await;
    app.cleanup().await;
}
