//! The component pages and the incident page's status-page form, as plain HTTP without
//! JavaScript: admins create and change components and set a status by hand, refusals
//! show next to their field with nothing stored, viewers read but find no forms, and a
//! responder names the components an incident affects from the incident page. What
//! changed (or did not) is checked through the API.

mod common;

use common::plain::{escape, signed_in};
use common::{declare_input, spawn_app};
use klaxon_domain::auth::Scope;
use klaxon_domain::status::ComponentStatus;
use reqwest::StatusCode;

/// The message a refused field shows, with its place: right after the field.
fn next_to(id: &str, message: &str) -> String {
    format!(
        "id=\"{id}-error\" class=\"field-error\" role=\"alert\">{}</p>",
        escape(message)
    )
}

#[tokio::test]
async fn an_admin_manages_components_and_refusals_change_nothing() {
    let app = spawn_app().await;
    app.service_key("api").await;
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;

    let list = admin.get("/components").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list
        .body
        .contains("href=\"/components\" aria-current=\"page\""));

    let core = admin
        .submit(
            "/components",
            "/components",
            &[("name", "Core"), ("is_group", "1")],
        )
        .await;
    assert_eq!(core.status, StatusCode::SEE_OTHER, "{}", core.body);
    let core_id = app.admin.components().await.unwrap()[0].id;
    let api = admin
        .submit(
            "/components",
            "/components",
            &[
                ("name", "API"),
                ("group", &core_id.to_string()),
                ("services", "api"),
                ("showcase", "1"),
            ],
        )
        .await;
    assert_eq!(api.status, StatusCode::SEE_OTHER, "{}", api.body);
    let all = app.admin.components().await.unwrap();
    let api_c = all.iter().find(|c| c.name == "API").unwrap().clone();
    assert_eq!(api_c.group_id, Some(core_id));
    assert_eq!(api_c.services[0].as_str(), "api");
    assert!(api_c.showcase);

    // A group inside a group, and a taken name: refused next to the field, nothing stored.
    let nested = admin
        .submit(
            "/components",
            "/components",
            &[
                ("name", "Inner"),
                ("is_group", "1"),
                ("group", &core_id.to_string()),
            ],
        )
        .await;
    assert_eq!(nested.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nested.body.contains(&next_to(
            "f-group",
            "a group cannot be inside another group: groups nest one level"
        )),
        "{}",
        nested.body
    );
    assert!(
        nested.body.contains("value=\"Inner\""),
        "what was entered stays"
    );
    let taken = admin
        .submit("/components", "/components", &[("name", "api")])
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken
        .body
        .contains(&next_to("f-name", "a component named 'api' already exists")));
    let bad_date = admin
        .submit(
            "/components",
            "/components",
            &[("name", "Web"), ("start_date", "yesterday")],
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.admin.components().await.unwrap().len(), 2);

    // The settings and the status by hand.
    let page = format!("/components/{}", api_c.id);
    let renamed = admin
        .submit(
            &page,
            &page,
            &[
                ("name", "REST API"),
                ("group", &core_id.to_string()),
                ("services", "api"),
                ("description", "The public REST API"),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let set = admin
        .submit(
            &page,
            &format!("{page}/status"),
            &[("status", "under_maintenance")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let shown = app.admin.component(api_c.id).await.unwrap();
    assert_eq!(shown.name, "REST API");
    assert_eq!(shown.description.as_deref(), Some("The public REST API"));
    assert!(!shown.showcase, "unticked");
    assert_eq!(shown.status, ComponentStatus::UnderMaintenance);
    let group_page = format!("/components/{core_id}");
    let group_status = admin
        .submit(
            &group_page,
            &format!("{group_page}/status"),
            &[("status", "major_outage")],
        )
        .await;
    assert_eq!(group_status.status, StatusCode::UNPROCESSABLE_ENTITY);
    let full = admin
        .submit(&group_page, &format!("{group_page}/delete"), &[])
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("still holds REST API"), "{}", full.body);
    assert_eq!(app.admin.components().await.unwrap().len(), 2);

    // A viewer reads, without forms and without the menu item.
    let (viewer, _) = signed_in(&app, "vic", Scope::Viewer).await;
    let read = viewer.get(&page).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.body.contains("Set the status by hand"));
    assert!(!viewer.get("/").await.body.contains("href=\"/components\""));
    let refused = viewer.submit(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.admin.components().await.unwrap().len(), 2);

    let gone = admin.submit(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(app.admin.components().await.unwrap().len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn a_responder_names_what_an_incident_affects_from_its_page() {
    let app = spawn_app().await;
    let api = app
        .admin
        .create_component(&klaxon_domain::status::NewComponent {
            name: "API".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let web = app
        .admin
        .create_component(&klaxon_domain::status::NewComponent {
            name: "Web".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (browser, client) = signed_in(&app, "rita", Scope::Responder).await;
    let n = client
        .declare(&klaxon_domain::incident::DeclareInput {
            customer_facing: true,
            ..declare_input("Slow pages", 2)
        })
        .await
        .unwrap()
        .incident
        .number;
    let page = format!("/incidents/{}", n.0);
    let shown = browser.get(&page).await;
    assert!(shown.body.contains("Status page: components affected"));
    assert!(
        shown.body.contains("SEV2 suggests partial outage"),
        "{}",
        shown.body
    );
    let answer = browser
        .submit(
            &page,
            &format!("{page}/components"),
            &[
                (&format!("c-{}", api.id) as &str, "major_outage"),
                (&format!("c-{}", web.id), ""),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let view = app.admin.incident(n).await.unwrap();
    assert_eq!(view.incident.components.len(), 1);
    assert_eq!(
        view.incident.components[0].status,
        ComponentStatus::MajorOutage
    );
    let again = browser.get(&page).await.body;
    assert!(again.contains("Status page: API major outage"), "{again}");
    let public = app
        .http()
        .get(format!("{}/api/v2/components.json", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("\"major_outage\""), "{public}");

    // The same choice again is refused next to the form, and nothing is recorded.
    let version = view.incident.version;
    let same = browser
        .submit(
            &page,
            &format!("{page}/components"),
            &[(&format!("c-{}", api.id) as &str, "major_outage")],
        )
        .await;
    assert_eq!(same.status, StatusCode::CONFLICT);
    assert!(
        same.body.contains("already names these components"),
        "{}",
        same.body
    );
    let unknown = browser
        .submit(
            &page,
            &format!("{page}/components"),
            &[("c-999", "major_outage")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.admin.incident(n).await.unwrap().incident.version,
        version
    );
    app.drain().await;
    app.cleanup().await;
}
