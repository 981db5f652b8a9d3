//! The maintenance pages as plain HTTP without JavaScript: an admin schedules a
//! maintenance, reschedules it and posts updates that start and complete it; refusals
//! show next to their field with nothing stored; viewers read but find no forms. What
//! changed (or did not) is checked through the API.

mod common;

use common::plain::{escape, signed_in};
use common::spawn_app;
use klaxon_domain::auth::Scope;
use klaxon_domain::status::{MaintenanceStatus, NewComponent};
use reqwest::StatusCode;

/// The message a refused field shows, with its place: right after the field.
fn next_to(id: &str, message: &str) -> String {
    format!(
        "id=\"{id}-error\" class=\"field-error\" role=\"alert\">{}",
        escape(message)
    )
}

#[tokio::test]
async fn an_admin_schedules_and_runs_maintenance_and_refusals_change_nothing() {
    let app = spawn_app().await;
    let api = app
        .admin
        .create_component(&NewComponent {
            name: "API".into(),
            ..NewComponent::default()
        })
        .await
        .unwrap();
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    let list = admin.get("/maintenances").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list
        .body
        .contains("href=\"/maintenances\" aria-current=\"page\""));
    assert!(list.body.contains("No maintenance scheduled."));
    let api_id = api.id.to_string();

    // Ends before it starts: refused next to the end, what was entered stays.
    let backwards = admin
        .submit(
            "/maintenances",
            "/maintenances",
            &[
                ("name", "Database upgrade"),
                ("components", &api_id),
                ("scheduled_for", "2026-11-26T14:00"),
                ("scheduled_until", "2026-11-26T12:00"),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains(&next_to(
            "f-until",
            "the maintenance would end (2026-11-26 12:00 UTC) before it starts (2026-11-26 14:00 UTC)"
        )),
        "{}",
        backwards.body
    );
    assert!(backwards.body.contains("value=\"Database upgrade\""));
    let no_components = admin
        .submit(
            "/maintenances",
            "/maintenances",
            &[
                ("name", "Database upgrade"),
                ("scheduled_for", "2026-11-26T12:00"),
                ("scheduled_until", "2026-11-26T14:00"),
            ],
        )
        .await;
    assert_eq!(no_components.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_components.body.contains(&next_to(
            "f-components",
            "name at least one component the maintenance affects"
        )),
        "{}",
        no_components.body
    );
    let bad_time = admin
        .submit(
            "/maintenances",
            "/maintenances",
            &[
                ("name", "Database upgrade"),
                ("components", &api_id),
                ("scheduled_for", "tomorrow"),
                ("scheduled_until", "2026-11-26T14:00"),
            ],
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_time.body.contains("id=\"f-for-error\""),
        "{}",
        bad_time.body
    );
    assert!(app.admin.scheduled_maintenances().await.unwrap().is_empty());

    let made = admin
        .submit(
            "/maintenances",
            "/maintenances",
            &[
                ("name", "Database upgrade"),
                ("components", &api_id),
                ("scheduled_for", "2026-11-26T12:00"),
                ("scheduled_until", "2026-11-26T14:00"),
                ("body", "Writes pause briefly."),
                ("auto_start", "1"),
                ("auto_complete", "1"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let all = app.admin.scheduled_maintenances().await.unwrap();
    assert_eq!(all.len(), 1);
    let m = &all[0];
    assert_eq!(m.scheduled_for, "2026-11-26T12:00:00Z".parse().unwrap());
    assert!(m.auto_start && m.auto_complete && !m.mute_services);
    let page = format!("/maintenances/{}", m.id);
    let shown = admin.get(&page).await;
    assert!(
        shown.body.contains("Writes pause briefly."),
        "{}",
        shown.body
    );

    // Rescheduled by an hour.
    let moved = admin
        .submit(
            &page,
            &page,
            &[
                ("name", "Database upgrade"),
                ("components", &api_id),
                ("scheduled_for", "2026-11-26T13:00"),
                ("scheduled_until", "2026-11-26T15:00"),
                ("auto_start", "1"),
                ("auto_complete", "1"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let m = app.admin.scheduled_maintenance(m.id).await.unwrap();
    assert_eq!(m.scheduled_for, "2026-11-26T13:00:00Z".parse().unwrap());

    // An update without words or a new status: refused next to the text.
    let empty = admin
        .submit(
            &page,
            &format!("{page}/updates"),
            &[("status", ""), ("body", "")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty
            .body
            .contains(&next_to("u-body", "write the update, or give a new status")),
        "{}",
        empty.body
    );
    let started = admin
        .submit(
            &page,
            &format!("{page}/updates"),
            &[("status", "in_progress"), ("body", "")],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    // Cancelling what has started is refused, and says what to do.
    let cancel = admin
        .submit(
            &page,
            &format!("{page}/updates"),
            &[("status", "cancelled"), ("body", "")],
        )
        .await;
    assert_eq!(cancel.status, StatusCode::CONFLICT);
    assert!(cancel.body.contains("complete it"), "{}", cancel.body);
    let done = admin
        .submit(
            &page,
            &format!("{page}/updates"),
            &[("status", "completed"), ("body", "All done.")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let m = app.admin.scheduled_maintenance(m.id).await.unwrap();
    assert_eq!(m.status, MaintenanceStatus::Completed);
    assert_eq!(m.updates.last().unwrap().body, "All done.");
    let shown = admin.get(&page).await;
    assert!(
        !shown.body.contains("Post an update"),
        "nothing left to post"
    );

    // A viewer reads, with no forms.
    let (viewer, _) = signed_in(&app, "vic", Scope::Viewer).await;
    let read = viewer.get(&page).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.contains("All done."));
    assert!(!read.body.contains("Change or reschedule"));
    let list = viewer.get("/maintenances").await;
    assert!(!list.body.contains("Schedule maintenance</summary>"));
    let refused = viewer
        .submit(
            "/maintenances",
            "/maintenances",
            &[
                ("name", "Sneaky"),
                ("components", &api_id),
                ("scheduled_for", "2026-11-26T12:00"),
                ("scheduled_until", "2026-11-26T14:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.admin.scheduled_maintenances().await.unwrap().len(), 1);
    app.cleanup().await;
}
