//! Reports across incidents through the API: the figures a timeline implies, drills and
//! declined incidents left out, restricted incidents only for those who may see them,
//! and bad windows and filters refused.

mod common;

use common::plain::signed_in;
use common::{declare_input, problem, spawn_app, update};
use jiff::SignedDuration;
use klaxon_client::ReportWindow;
use klaxon_domain::api::{MitigateRequest, ResolveRequest};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{DeclareInput, MitigationStrategy, UpdateKind};
use klaxon_domain::IncidentNumber;
use reqwest::StatusCode;

fn last(days: &str) -> ReportWindow {
    ReportWindow {
        since: Some(days.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_late_acknowledgement_shows_as_a_missed_target_with_the_times_the_timeline_implies() {
    let mut app = spawn_app().await;
    app.allow_pending_jobs();
    // A SEV2 declared now, acknowledged at 40 minutes (its target is 15), mitigated at
    // 70 and resolved at 130.
    app.admin
        .declare(&declare_input("API returning 502 errors", 2))
        .await
        .unwrap();
    let n = IncidentNumber(1);
    app.clock.advance(SignedDuration::from_mins(40));
    app.admin.ack(n, &Default::default()).await.unwrap();
    app.admin
        .post_update(n, &update(UpdateKind::Update, Some("Rolling back")))
        .await
        .unwrap();
    app.clock.advance(SignedDuration::from_mins(30));
    let mitigate = MitigateRequest {
        strategy: MitigationStrategy::Rollback,
        action: "rolled back to v2.1.1".into(),
        at: None,
    };
    app.admin.mitigate(n, &mitigate).await.unwrap();
    app.clock.advance(SignedDuration::from_mins(60));
    app.admin
        .resolve(n, &ResolveRequest::default())
        .await
        .unwrap();
    // A drill and a declined incident count for nothing but the drill tally.
    let drill = DeclareInput {
        drill: true,
        ..declare_input("Practice: database failover", 1)
    };
    app.admin.declare(&drill).await.unwrap();
    app.admin
        .declare(&declare_input("False alarm", 3))
        .await
        .unwrap();
    app.admin
        .decline(IncidentNumber(3), &Default::default())
        .await
        .unwrap();
    // A window ends before its `until` (now, by default).
    app.clock.advance(SignedDuration::from_mins(1));

    let r = app.admin.report(&last("30d")).await.unwrap();
    assert_eq!((r.count, r.drills), (1, 1));
    let sev2 = &r.by_severity[1];
    assert_eq!((sev2.severity.as_str(), sev2.count), ("SEV2", 1));
    assert_eq!((sev2.response_target.kept, sev2.response_target.of), (0, 1));
    assert_eq!(r.time_to_acknowledge.median_seconds, Some(40 * 60));
    assert_eq!(r.time_to_mitigate.median_seconds, Some(70 * 60));
    assert_eq!(r.time_to_resolve.median_seconds, Some(130 * 60));
    // Internal updates every 30 minutes: one at 40 minutes after nothing for 40.
    assert_eq!((r.internal_updates.kept, r.internal_updates.of), (0, 1));

    // The same figures as gauges for Prometheus.
    let metrics = app
        .http()
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "klaxon_incident_time_seconds{to=\"acknowledge\",quantile=\"0.5\"} 2400",
        "klaxon_incident_time_seconds{to=\"resolve\",quantile=\"0.9\"} 7800",
        "klaxon_response_target_kept_ratio{severity=\"SEV2\"} 0.0",
        "klaxon_update_cadence_kept_ratio{audience=\"internal\"} 0.0",
        "klaxon_recurring_incidents 0",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }

    // A window without it, and a severity it is not.
    let later = ReportWindow {
        since: Some("1h".into()),
        ..Default::default()
    };
    assert_eq!(app.admin.report(&later).await.unwrap().count, 0);
    let sev3 = ReportWindow {
        severity: Some("SEV3".into()),
        ..last("30d")
    };
    assert_eq!(app.admin.report(&sev3).await.unwrap().count, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn restricted_incidents_count_only_for_those_who_may_see_them() {
    let mut app = spawn_app().await;
    app.allow_pending_jobs();
    let viewer = app.user("vera", Scope::Viewer).await;
    let secret = DeclareInput {
        restricted: true,
        ..declare_input("Credential leak", 1)
    };
    app.admin.declare(&secret).await.unwrap();
    app.admin
        .declare(&declare_input("Slow search", 3))
        .await
        .unwrap();
    app.clock.advance(SignedDuration::from_mins(1));
    let all = app.admin.report(&last("7d")).await.unwrap();
    assert_eq!(all.count, 2, "{all:?}");
    let seen = viewer.report(&last("7d")).await.unwrap();
    assert_eq!(seen.count, 1);
    assert_eq!(seen.by_severity[0].count, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn a_bad_window_or_filter_is_refused_naming_it() {
    let app = spawn_app().await;
    for (window, field) in [
        (
            ReportWindow {
                since: Some("1d".into()),
                until: Some("2d".into()),
                ..Default::default()
            },
            "until",
        ),
        (last("800d"), "since"),
        (last("soon"), "since"),
        (
            ReportWindow {
                service: Some("nope".into()),
                ..Default::default()
            },
            "service",
        ),
        (
            ReportWindow {
                severity: Some("SEV9".into()),
                ..Default::default()
            },
            "severity",
        ),
    ] {
        let p = problem(app.admin.report(&window).await);
        assert_eq!(p.status, 422, "{window:?}: {p:?}");
        assert_eq!(p.errors[0].field, field, "{window:?}: {p:?}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn the_reports_page_reads_without_javascript_and_says_what_is_wrong() {
    let mut app = spawn_app().await;
    app.allow_pending_jobs();
    app.admin
        .declare(&declare_input("API returning 502 errors", 2))
        .await
        .unwrap();
    app.clock.advance(SignedDuration::from_mins(1));
    let (browser, _) = signed_in(&app, "vera", Scope::Viewer).await;
    let page = browser.get("/reports?since=7d").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<strong>1</strong> incidents"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<svg class=\"chart\""));
    assert!(page.body.contains("2026-W48: 1"));
    let bad = browser.get("/reports?since=soon").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"since-error\""), "{}", bad.body);
    app.cleanup().await;
}
