//! Drills are scored, not counted: a SEV2 drill run through its life cycle on the real
//! server (acknowledged late, a role left empty, updates on cadence, mitigated in time)
//! has a review whose score marks the late acknowledgement and the empty role as missed,
//! in the JSON, the Markdown report (a snapshot), the printable HTML and the web page;
//! the report (API and Reports page) lists it apart, with the same score, and counts it
//! nowhere else.

mod common;

use common::plain::signed_in;
use common::{declare_input, spawn_app, TestApp};
use jiff::SignedDuration;
use klaxon_client::ReportWindow;
use klaxon_domain::api::{MitigateRequest, NewUser, ResolveRequest, RoleRequest};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    DeclareInput, MitigationStrategy, Role, StatusUpdateInput, UpdateAudience, UpdateKind,
};
use klaxon_domain::metrics::CriterionKind;
use klaxon_domain::{Handle, IncidentNumber};

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

async fn person(app: &TestApp, handle: &str) {
    let new = NewUser {
        handle: h(handle),
        name: handle.to_uppercase(),
        email: format!("{handle}@example.com"),
        role: None,
    };
    app.admin.create_user(&new).await.unwrap();
}

fn minutes(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// A customer-facing SEV2 drill commanded by alice: acknowledged 20 minutes in (the
/// target is 15), bob and carol take investigator and communicator (nobody is scribe),
/// an internal and a customer update at 25 minutes, mitigated at 28, resolved at 40.
async fn run_drill(app: &TestApp) -> IncidentNumber {
    for p in ["alice", "bob", "carol"] {
        person(app, p).await;
    }
    let input = DeclareInput {
        commander: Some(h("alice")),
        drill: true,
        customer_facing: true,
        ..declare_input("Drill: checkout failing", 2)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.clock.advance(minutes(20));
    app.admin.ack(n, &Default::default()).await.unwrap();
    app.clock.advance(minutes(2));
    for (role, user) in [(Role::Investigator, "bob"), (Role::Communicator, "carol")] {
        let body = RoleRequest {
            role,
            user: h(user),
        };
        app.admin.assign(n, &body).await.unwrap();
    }
    app.clock.advance(minutes(3));
    for audience in [UpdateAudience::Internal, UpdateAudience::Customer] {
        let update = StatusUpdateInput {
            audience,
            status: Some("Failing over to the standby database".into()),
            ..StatusUpdateInput::new(UpdateKind::Update)
        };
        app.admin.post_update(n, &update).await.unwrap();
    }
    app.clock.advance(minutes(3));
    let mitigate = MitigateRequest {
        strategy: MitigationStrategy::Failover,
        action: "failed over to the standby".into(),
        at: None,
    };
    app.admin.mitigate(n, &mitigate).await.unwrap();
    app.clock.advance(minutes(12));
    let resolve = ResolveRequest {
        root_cause: Some("A practice failure of the primary".into()),
        fix: None,
        at: None,
    };
    app.admin.resolve(n, &resolve).await.unwrap();
    app.run_jobs().await;
    n
}

#[tokio::test]
async fn a_drills_review_scores_the_response_against_the_policy() {
    let app = spawn_app().await;
    // An ordinary SEV3 in the same window: counted, where the drill is not.
    let other = app
        .admin
        .declare(&declare_input("Search is slow", 3))
        .await
        .unwrap()
        .incident
        .number;
    let n = run_drill(&app).await;

    // The review the policy opened on resolution carries the score.
    let view = app.admin.review(n).await.unwrap();
    let score = view
        .drill_score
        .clone()
        .expect("a drill's review is scored");
    let results: Vec<_> = score.criteria.iter().map(|c| (c.kind, c.met)).collect();
    assert_eq!(
        results,
        [
            (CriterionKind::Acknowledged, false),
            (CriterionKind::Roles, false),
            (CriterionKind::InternalUpdates, true),
            (CriterionKind::CustomerUpdates, true),
            (CriterionKind::Mitigated, true),
        ]
    );
    assert_eq!((score.met, score.total), (3, 5));
    let ack = &score.criteria[0];
    assert_eq!(
        (ack.expected.as_str(), ack.actual.as_str()),
        ("within 15 minutes", "after 20 minutes")
    );
    assert_eq!(
        score.criteria[1].actual,
        "commander, investigator, communicator (missing scribe)"
    );

    // The JSON says it in so many words; a review of an ordinary incident has no score.
    let json: serde_json::Value = app
        .http()
        .get(app.api(&format!("/incidents/{}/review", n.0)))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["drill_score"]["met"], 3);
    assert_eq!(json["drill_score"]["criteria"][0]["kind"], "acknowledged");
    assert_eq!(json["drill_score"]["criteria"][0]["met"], false);
    assert_eq!(json["drill_score"]["criteria"][0]["expected_seconds"], 900);
    assert_eq!(json["drill_score"]["criteria"][0]["actual_seconds"], 1200);
    app.admin.resolve(other, &Default::default()).await.unwrap();
    app.admin
        .open_review(other, &Default::default())
        .await
        .unwrap();
    let plain: serde_json::Value = app
        .http()
        .get(app.api(&format!("/incidents/{}/review", other.0)))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain.get("drill_score").is_none(), "{plain}");

    let markdown = app.admin.export_review(n, "markdown").await.unwrap();
    insta::assert_snapshot!("drill_review", markdown);
    let html = app.admin.export_review(n, "html").await.unwrap();
    assert!(html.contains("Drill score: 3 of 5"), "{html}");
    assert!(
        html.contains(
            "<td>within 15 minutes</td><td>after 20 minutes</td><td><strong>missed</strong></td>"
        ),
        "{html}"
    );

    // The report counts the SEV3 only, and lists the drill apart with the same score.
    let report = app.admin.report(&ReportWindow::default()).await.unwrap();
    assert_eq!((report.count, report.drills), (1, 1));
    assert_eq!(
        report.time_to_acknowledge.samples, 0,
        "the drill's ack is not counted"
    );
    assert_eq!(report.drill_scores.len(), 1);
    let listed = &report.drill_scores[0];
    assert_eq!(
        (
            listed.number,
            listed.title.as_str(),
            listed.severity.as_str()
        ),
        (n.0, "Drill: checkout failing", "SEV2")
    );
    assert_eq!(
        listed.score, score,
        "the report scores it as its review does"
    );

    // The same on the pages, read without JavaScript.
    let (browser, _vera) = signed_in(&app, "vera", Scope::Viewer).await;
    let page = browser.get(&format!("/incidents/{}/review", n.0)).await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert!(page.body.contains("Drill score: 3 of 5"), "{}", page.body);
    assert!(
        page.body.contains("<td data-label=\"Actual\">after 20 minutes</td><td data-label=\"Result\"><span class=\"late\">missed</span>"),
        "{}",
        page.body
    );
    let reports = browser.get("/reports").await.body;
    assert!(
        reports.contains("and 1 drills left out (listed below)"),
        "{reports}"
    );
    assert!(
        reports.contains(&format!("#{} Drill: checkout failing</a>", n.0)),
        "{reports}"
    );
    assert!(reports.contains(">3 of 5</td>"), "{reports}");
    assert!(
        reports.contains("<li>Acknowledged: after 20 minutes (expected within 15 minutes)</li>"),
        "{reports}"
    );
    assert!(
        reports.contains("<li>Roles: commander, investigator, communicator (missing scribe)</li>"),
        "{reports}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_drill_acknowledged_in_time_meets_that_target() {
    let app = spawn_app().await;
    person(&app, "alice").await;
    let input = DeclareInput {
        commander: Some(h("alice")),
        drill: true,
        ..declare_input("Drill: queue backlog", 2)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.clock.advance(minutes(4));
    app.admin.ack(n, &Default::default()).await.unwrap();
    app.clock.advance(minutes(50));
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    let score = app.admin.review(n).await.unwrap().drill_score.unwrap();
    let results: Vec<_> = score.criteria.iter().map(|c| (c.kind, c.met)).collect();
    // Not customer-facing: no customer cadence. No update for 54 minutes, resolved
    // (its mitigation) 54 minutes in: both too late.
    assert_eq!(
        results,
        [
            (CriterionKind::Acknowledged, true),
            (CriterionKind::Roles, false),
            (CriterionKind::InternalUpdates, false),
            (CriterionKind::Mitigated, false),
        ]
    );
    assert_eq!(score.criteria[2].actual, "longest gap 54 minutes");
    app.cleanup().await;
}
