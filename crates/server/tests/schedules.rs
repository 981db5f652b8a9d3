//! Schedules, escalation policies and who is on call, through the API: bad input is
//! refused naming the problem and stores nothing; `/oncall`, the shifts and the
//! calendar feed agree.

mod common;

use common::{problem, spawn_app};
use klaxon_domain::api::NewUser;
use klaxon_domain::paging::api::NewPage;
use klaxon_domain::paging::{EscalationStep, NewEscalationPolicy, Target};
use klaxon_domain::schedule::NewSchedule;
use klaxon_domain::service::{AlertRules, NewService, ServiceName, ServiceUpdate};
use klaxon_domain::Handle;

fn schedule(participants: &[&str]) -> NewSchedule {
    serde_json::from_value(serde_json::json!({
        "name": "primary",
        "time_zone": "Europe/Berlin",
        "layers": [{"name": "weekly", "participants": participants, "shift": {"days": 1},
                    "start": "2026-11-20T09:00:00", "restrictions": []}],
        "overrides": []
    }))
    .unwrap()
}

fn policy(targets: Vec<Target>) -> NewEscalationPolicy {
    NewEscalationPolicy {
        name: "api-oncall".into(),
        description: String::new(),
        steps: vec![EscalationStep {
            targets,
            delay_minutes: 5,
        }],
        repeat: 0,
        ack_timeout_minutes: None,
    }
}

#[tokio::test]
async fn schedules_policies_and_on_call_agree_and_refuse_bad_input() {
    let app = spawn_app().await;
    for h in ["alice", "bob"] {
        let user = NewUser {
            handle: Handle::parse(h).unwrap(),
            name: h.into(),
            email: format!("{h}@example.com"),
            role: None,
        };
        app.admin.create_user(&user).await.unwrap();
    }
    // Unknown participant: 422 naming the field, nothing stored.
    let p = problem(
        app.admin
            .create_schedule(&schedule(&["alice", "zed"]))
            .await,
    );
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "layers.participants")
    );
    assert!(p.errors[0].message.contains("zed"), "{p:?}");
    assert!(app.admin.schedules().await.unwrap().is_empty());
    app.admin
        .create_schedule(&schedule(&["alice", "bob"]))
        .await
        .unwrap();
    assert_eq!(
        problem(app.admin.create_schedule(&schedule(&["alice"])).await).status,
        409
    );

    // A policy naming a schedule or user that does not exist: 422, nothing stored.
    let p = problem(
        app.admin
            .create_escalation_policy(&policy(vec![Target::Schedule("nope".into())]))
            .await,
    );
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "steps.targets")
    );
    assert!(app.admin.escalation_policies().await.unwrap().is_empty());
    app.admin
        .create_escalation_policy(&policy(vec![Target::Schedule("primary".into())]))
        .await
        .unwrap();
    let service = NewService {
        name: ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            escalation_policy: Some("api-oncall".into()),
            ..Default::default()
        },
    };
    app.admin.create_service(&service).await.unwrap();
    let p = problem(app.admin.delete_escalation_policy("api-oncall").await);
    assert_eq!(p.status, 409, "a policy a service uses stays: {p:?}");
    let p = problem(app.admin.delete_schedule("primary").await);
    assert_eq!(p.status, 409, "a schedule a policy pages stays: {p:?}");
    assert!(p.detail.contains("api-oncall"), "{p:?}");
    assert!(app.admin.schedule("primary").await.is_ok());
    let missing = ServiceUpdate {
        rules: Some(AlertRules {
            escalation_policy: Some("nope".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let p = problem(
        app.admin
            .update_service(&ServiceName::parse("api").unwrap(), &missing)
            .await,
    );
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "rules.escalation_policy")
    );

    // Who is on call: /oncall, the schedule's own answer, its shifts and its calendar.
    let oncall = app.admin.on_call().await.unwrap();
    let now_user = app
        .admin
        .schedule_on_call("primary")
        .await
        .unwrap()
        .user
        .unwrap();
    assert_eq!(oncall[0].on_call, [now_user.to_string()]);
    let shifts = app.admin.shifts("primary", None, None).await.unwrap();
    assert_eq!(
        shifts[0].user, now_user,
        "the first shift of the week is the current one"
    );
    let ics = app.admin.schedule_calendar("primary").await.unwrap();
    // The window clips the current shift; the next one stands whole in the feed.
    let next = &shifts[1];
    let start = next.start.strftime("%Y%m%dT%H%M%SZ").to_string();
    let event = ics
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&format!("DTSTART:{start}")))
        .expect(&ics);
    assert!(
        event.contains(&format!("On call: {}", next.user)),
        "{event}"
    );
    assert_ne!(next.user, now_user, "the rotation moves on");

    // A window the wrong way round, or too long: 400 naming `to`.
    let (from, to) = (shifts[0].end, shifts[0].start);
    let p = problem(app.admin.shifts("primary", Some(from), Some(to)).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (400, "to"));
    let p = problem(
        app.admin
            .shifts(
                "primary",
                Some(to),
                Some(to + jiff::SignedDuration::from_hours(24 * 400)),
            )
            .await,
    );
    assert_eq!(p.status, 400);

    // A direct page needs a message and someone reachable.
    let page = |message: &str| NewPage {
        target: Target::User(Handle::parse("bob").unwrap()),
        message: message.into(),
    };
    let p = problem(app.admin.page(&page(" ")).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "message"));
    let p = problem(app.admin.page(&page("db-1 disk full")).await);
    assert_eq!(p.status, 422);
    assert!(p.detail.contains("no contact methods"), "{p:?}");
    assert!(
        app.state()
            .store
            .jobs(None)
            .await
            .unwrap()
            .iter()
            .all(|j| j.incident.is_some()),
        "no delivery was queued"
    );
    app.cleanup().await;
}
