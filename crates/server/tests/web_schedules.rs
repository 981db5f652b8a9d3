//! Schedules and escalation policies in the browser, as plain HTTP: admins create and
//! edit them through forms that refuse bad input next to the field and store nothing;
//! the week view, overrides and the calendar; viewers read and change nothing.

mod common;

use common::plain::{escape, signed_in};
use common::spawn_app;
use klaxon_domain::auth::Scope;
use klaxon_domain::service::{AlertRules, NewService, ServiceName};
use reqwest::StatusCode;

/// The fields of a one-layer weekly schedule.
fn weekly<'a>(name: &'a str, who: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("time_zone", "Europe/Berlin"),
        ("layers-0-name", "Primary"),
        ("layers-0-participants", who),
        ("layers-0-shift_count", "1"),
        ("layers-0-shift_unit", "weeks"),
        ("layers-0-start", "2026-11-23T09:00"),
        ("layers-0-restrictions", ""),
    ]
}

#[tokio::test]
async fn an_admin_builds_a_schedule_layer_by_layer_and_covers_a_shift() {
    let app = spawn_app().await;
    let (admin, _) = signed_in(&app, "root", Scope::Admin).await;
    app.user("alice", Scope::Responder).await;
    app.user("bob", Scope::Responder).await;

    let form = admin.get("/schedules/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"layers-0-name\""));

    // "Add a layer" draws the form again with one more, keeping what was typed.
    let mut fields = weekly("primary", "alice, bob");
    fields.push(("add_layer", "1"));
    let more = admin.submit("/schedules/new", "/schedules", &fields).await;
    assert_eq!(more.status, StatusCode::OK);
    assert!(
        more.body.contains("name=\"layers-1-name\""),
        "{}",
        more.body
    );
    assert!(more.body.contains("value=\"alice, bob\""));
    assert!(app.admin.schedules().await.unwrap().is_empty());

    // Bad input: the message next to the field of the right layer, nothing stored.
    for (field, value, id, message) in [
        (
            "layers-0-participants",
            "alice, zed",
            "l0-participants-error",
            "layers[0] (Primary): there is no user 'zed'",
        ),
        (
            "layers-0-shift_count",
            "0",
            "l0-shift-error",
            "a shift of 0 weeks is not possible",
        ),
        (
            "layers-0-restrictions",
            "mon 09:00",
            "l0-restrictions-error",
            "'09:00' is not a window",
        ),
        (
            "time_zone",
            "Mars/Olympus",
            "time_zone-error",
            "'Mars/Olympus' is not a known time zone",
        ),
    ] {
        let mut fields = weekly("primary", "alice, bob");
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let refused = admin.submit("/schedules/new", "/schedules", &fields).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let at = refused
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| {
                panic!("{field}: no error next to it in {}", refused.body);
            });
        assert!(
            refused.body[at..].starts_with(&format!("id=\"{id}\" class=\"field-error\"")),
            "{field}"
        );
        assert!(
            refused.body[at..].contains(&escape(message)),
            "{field}: {}",
            refused.body
        );
        assert!(app.admin.schedules().await.unwrap().is_empty(), "{field}");
    }

    let created = admin
        .submit(
            "/schedules/new",
            "/schedules",
            &weekly("primary", "alice, bob"),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location.as_deref(), Some("/schedules/primary"));
    let taken = admin
        .submit("/schedules/new", "/schedules", &weekly("primary", "bob"))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("id=\"name-error\""), "{}", taken.body);

    // The week of the test clock (Thursday 26 November): alice's week, drawn and listed.
    let page = admin.get("/schedules/primary").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("Week of 23 Nov – 29 Nov 2026 (Europe/Berlin)"));
    assert!(page.body.contains("On call now: <strong>alice</strong>"));
    assert!(page
        .body
        .contains("<td>alice</td><td data-label=\"From\">Mon 23 Nov 09:00</td><td data-label=\"To\">Mon 30 Nov 00:00</td>"));
    assert!(page.body.contains("class=\"now\""));
    let next = admin.get("/schedules/primary?week=2026-12-02").await;
    assert!(next
        .body
        .contains("<td>bob</td><td data-label=\"From\">Mon 30 Nov 09:00</td><td data-label=\"To\">Mon 7 Dec 00:00</td>"));
    let bad_week = admin.get("/schedules/primary?week=soon").await;
    assert_eq!(bad_week.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_week.body.contains(&escape("'soon' is not a date")));

    // An override: refused when it ends before it starts, then added, then removed.
    let cover = |start: &'static str, end: &'static str| {
        vec![("user", "bob"), ("start", start), ("end", end)]
    };
    let backwards = admin
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides",
            &cover("2026-11-27T18:00", "2026-11-27T08:00"),
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains("id=\"cover-end-error\""),
        "{}",
        backwards.body
    );
    assert!(app
        .admin
        .schedule("primary")
        .await
        .unwrap()
        .overrides()
        .is_empty());
    let nobody = admin
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides",
            &[
                ("user", "zed"),
                ("start", "2026-11-27T08:00"),
                ("end", "2026-11-27T18:00"),
            ],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nobody.body.contains("id=\"cover-user-error\""),
        "{}",
        nobody.body
    );

    let added = admin
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides",
            &cover("2026-11-27T08:00", "2026-11-27T18:00"),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let stored = app.admin.schedule("primary").await.unwrap();
    assert_eq!(stored.overrides().len(), 1);
    assert_eq!(
        stored.overrides()[0].start.to_string(),
        "2026-11-27T07:00:00Z"
    );
    let page = admin.get("/schedules/primary").await;
    assert!(page.body.contains(
        "<td>bob</td><td data-label=\"From\">Fri 27 Nov 08:00</td><td data-label=\"To\">Fri 27 Nov 18:00</td><td data-label=\"Because of\">override</td>"
    ));

    // Editing the layers keeps the override.
    let edit = admin.get("/schedules/primary/edit").await;
    assert!(edit.body.contains("value=\"alice, bob\""));
    let edited = admin
        .submit(
            "/schedules/primary/edit",
            "/schedules/primary",
            &weekly("primary", "bob, alice"),
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let stored = app.admin.schedule("primary").await.unwrap();
    assert_eq!(stored.layers()[0].participants[0].as_str(), "bob");
    assert_eq!(stored.overrides().len(), 1);

    // A remove button for an override that is no longer the one at its place: nothing.
    let start = stored.overrides()[0].start.to_string();
    let end = stored.overrides()[0].end.to_string();
    let stale = admin
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides/0/remove",
            &[("user", "alice"), ("start", &start), ("end", &end)],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(
        app.admin
            .schedule("primary")
            .await
            .unwrap()
            .overrides()
            .len(),
        1
    );
    let removed = admin
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides/0/remove",
            &[("user", "bob"), ("start", &start), ("end", &end)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app
        .admin
        .schedule("primary")
        .await
        .unwrap()
        .overrides()
        .is_empty());

    let ics = admin.get("/schedules/primary/calendar.ics").await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(ics.body.starts_with("BEGIN:VCALENDAR"));
    let list = admin.get("/schedules").await;
    assert!(list
        .body
        .contains("<a href=\"/schedules/primary\">primary</a>"));
}

/// The fields of a two-step policy.
fn two_steps<'a>(name: &'a str, delay: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("description", "API on call"),
        ("steps-0-people", ""),
        ("steps-0-schedule", "primary"),
        ("steps-0-delay", delay),
        ("steps-1-people", "bob"),
        ("steps-1-delay", "10"),
        ("repeat", "1"),
        ("ack_timeout_minutes", ""),
    ]
}

#[tokio::test]
async fn an_admin_builds_an_escalation_policy_step_by_step() {
    let app = spawn_app().await;
    let (admin, _) = signed_in(&app, "root", Scope::Admin).await;
    app.user("alice", Scope::Responder).await;
    app.user("bob", Scope::Responder).await;
    admin
        .submit("/schedules/new", "/schedules", &weekly("primary", "alice"))
        .await;

    let form = admin.get("/escalation-policies/new").await;
    assert!(form
        .body
        .contains("name=\"steps-0-schedule\" value=\"primary\""));
    let mut fields = two_steps("api-oncall", "15");
    fields.push(("add_step", "1"));
    let more = admin
        .submit("/escalation-policies/new", "/escalation-policies", &fields)
        .await;
    assert_eq!(more.status, StatusCode::OK);
    assert!(more.body.contains("name=\"steps-2-people\""));

    for (fields, id, message) in [
        (
            two_steps("api-oncall", "soon"),
            "s0-delay-error",
            "steps[0]: 'soon' is not a whole number of minutes",
        ),
        (
            two_steps("api-oncall", "0"),
            "s0-delay-error",
            "steps[0]: use 1 to 1440 minutes",
        ),
        (
            two_steps("API on call", "15"),
            "name-error",
            "is not a policy name",
        ),
        (
            {
                let mut f = two_steps("api-oncall", "15");
                f[5] = ("steps-1-people", "zed");
                f
            },
            "s1-targets-error",
            "steps[1]: there is no user 'zed'",
        ),
        (
            {
                let mut f = two_steps("api-oncall", "15");
                f[5] = ("steps-1-people", "");
                f
            },
            "s1-targets-error",
            "steps[1]: each step pages 1 to 10 users or schedules",
        ),
    ] {
        let refused = admin
            .submit("/escalation-policies/new", "/escalation-policies", &fields)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        let at = refused
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{message}: not next to its field: {}", refused.body));
        assert!(refused.body[at..].contains(&escape(message)), "{message}");
        assert!(app.admin.escalation_policies().await.unwrap().is_empty());
    }

    let created = admin
        .submit(
            "/escalation-policies/new",
            "/escalation-policies",
            &two_steps("api-oncall", "15"),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let stored = app.admin.escalation_policy("api-oncall").await.unwrap();
    assert_eq!(stored.steps.len(), 2);
    assert_eq!(stored.repeat, 1);
    let page = admin.get("/escalation-policies/api-oncall").await;
    assert!(
        page.body
            .contains("schedule primary</a> <span class=\"quiet\">(now alice)</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("start again from step 1 (1 more time)"));

    // Edit: a step removed, the acknowledgement timeout set.
    let edit = admin.get("/escalation-policies/api-oncall/edit").await;
    assert!(edit.body.contains("value=\"primary\" checked"));
    let mut fields = two_steps("api-oncall", "15");
    fields.push(("steps-1-remove", "1"));
    fields[8] = ("ack_timeout_minutes", "30");
    let edited = admin
        .submit(
            "/escalation-policies/api-oncall/edit",
            "/escalation-policies/api-oncall",
            &fields,
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let stored = app.admin.escalation_policy("api-oncall").await.unwrap();
    assert_eq!(
        (stored.steps.len(), stored.ack_timeout_minutes),
        (1, Some(30))
    );

    // A policy a service uses stays.
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
    let kept = admin
        .submit(
            "/escalation-policies/api-oncall",
            "/escalation-policies/api-oncall/delete",
            &[],
        )
        .await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(kept.body.contains("services api use escalation policy"));
    assert!(app.admin.escalation_policy("api-oncall").await.is_ok());
}

#[tokio::test]
async fn a_viewer_reads_schedules_and_policies_and_changes_nothing() {
    let app = spawn_app().await;
    let (admin, _) = signed_in(&app, "root", Scope::Admin).await;
    app.user("alice", Scope::Responder).await;
    admin
        .submit("/schedules/new", "/schedules", &weekly("primary", "alice"))
        .await;
    let (viewer, _) = signed_in(&app, "vera", Scope::Viewer).await;

    for page in ["/schedules", "/schedules/primary", "/escalation-policies"] {
        let read = viewer.get(page).await;
        assert_eq!(read.status, StatusCode::OK, "{page}");
        for admin_only in [
            "Edit layers",
            "New schedule",
            "Add the override",
            "New escalation policy",
        ] {
            assert!(
                !read.body.contains(admin_only),
                "{page} offers {admin_only}"
            );
        }
    }
    assert_eq!(
        viewer.get("/schedules/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get("/escalation-policies/new").await.status,
        StatusCode::FORBIDDEN
    );

    let refused = viewer
        .submit("/schedules", "/schedules", &weekly("other", "alice"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = viewer
        .submit(
            "/schedules/primary",
            "/schedules/primary/overrides",
            &[
                ("user", "alice"),
                ("start", "2026-11-27T08:00"),
                ("end", "2026-11-27T18:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = viewer
        .submit("/schedules/primary", "/schedules/primary/delete", &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let schedules = app.admin.schedules().await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert!(schedules[0].overrides().is_empty());

    // An admin's form without its CSRF token changes nothing either.
    let forged = admin.post("/schedules", &weekly("forged", "alice")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.admin.schedules().await.unwrap().len(), 1);
}
