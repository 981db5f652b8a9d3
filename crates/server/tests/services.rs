//! Services over HTTP: admins manage them and see their keys; others see them without.

mod common;

use common::{problem, spawn_app};
use klaxon_domain::auth::Scope;
use klaxon_domain::service::*;
use serde_json::{json, Value};

fn name(s: &str) -> ServiceName {
    ServiceName::parse(s).unwrap()
}

fn new_service(s: &str) -> NewService {
    NewService {
        name: name(s),
        description: "Public API".into(),
        owner_team: Some("platform".into()),
        runbook_links: vec!["https://runbooks.example/api".into()],
        rules: AlertRules::default(),
    }
}

#[tokio::test]
async fn admins_create_services_with_a_first_key_and_others_never_see_keys() {
    let app = spawn_app().await;
    let created = app.admin.create_service(&new_service("api")).await.unwrap();
    let key = created
        .integration_key
        .clone()
        .expect("the first key is in the answer");
    assert!(looks_like_integration_key(&key), "{key}");
    let keys = created.integration_keys.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].signing_secret.expose().len(), 64);

    let viewer = app.user("vera", Scope::Viewer).await;
    let seen = viewer.service(&name("api")).await.unwrap();
    assert_eq!((seen.integration_key, seen.integration_keys), (None, None));
    assert!(viewer
        .services()
        .await
        .unwrap()
        .iter()
        .all(|s| s.integration_keys.is_none()));
    let raw: Value = app
        .http()
        .get(app.api("/services/api"))
        .bearer_auth(viewer_token(&app).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !raw.to_string().contains(&key),
        "a viewer must never see a key: {raw}"
    );
    assert_eq!(
        problem(viewer.create_service(&new_service("web")).await).status,
        403
    );
    app.cleanup().await;
}

async fn viewer_token(app: &common::TestApp) -> String {
    let t = app
        .admin
        .create_token(&klaxon_domain::api::NewToken {
            name: "raw".into(),
            scope: Scope::Viewer,
            user: None,
        })
        .await
        .unwrap();
    t.token
}

#[tokio::test]
async fn keys_rotate_and_revoke() {
    let app = spawn_app().await;
    let c = &app.admin;
    let created = c.create_service(&new_service("api")).await.unwrap();
    let first = created.integration_keys.unwrap()[0].clone();
    let rotated = c
        .rotate_integration_key(&name("api"), first.id)
        .await
        .unwrap();
    assert_ne!(rotated.key, first.key);
    let shown = c.service(&name("api")).await.unwrap();
    assert_eq!(shown.integration_key.as_deref(), Some(rotated.key.as_str()));
    let old = shown
        .integration_keys
        .unwrap()
        .into_iter()
        .find(|k| k.id == first.id)
        .unwrap();
    assert!(old.revoked_at.is_some());
    assert_eq!(
        problem(c.revoke_integration_key(&name("api"), first.id).await).status,
        409
    );
    assert_eq!(
        problem(
            c.revoke_integration_key(&name("api"), klaxon_domain::KeyId(999))
                .await
        )
        .status,
        404
    );
    let extra = c.add_integration_key(&name("api")).await.unwrap();
    c.revoke_integration_key(&name("api"), extra.id)
        .await
        .unwrap();
    app.cleanup().await;
}

#[tokio::test]
async fn updates_change_only_what_they_name() {
    let app = spawn_app().await;
    let c = &app.admin;
    c.create_service(&new_service("api")).await.unwrap();
    let update = ServiceUpdate {
        rules: Some(AlertRules {
            grouping: Grouping::ByField {
                field: "cluster".into(),
            },
            auto_resolve: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let updated = c.update_service(&name("api"), &update).await.unwrap();
    assert_eq!(
        updated.rules.grouping,
        Grouping::ByField {
            field: "cluster".into()
        }
    );
    assert!(updated.rules.auto_resolve);
    assert_eq!(updated.description, "Public API");
    c.delete_service(&name("api")).await.unwrap();
    assert_eq!(problem(c.service(&name("api")).await).status, 404);
    app.cleanup().await;
}

#[tokio::test]
async fn bad_service_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.admin.create_service(&new_service("api")).await.unwrap();
    let before = app.admin.services().await.unwrap();
    let http = app.http();
    let post = |path: &str, body: Value| {
        http.post(app.api(path))
            .bearer_auth(common::ADMIN_TOKEN)
            .json(&body)
            .send()
    };
    let cases = [
        ("/services", json!({"name": "api"}), 409, None),
        ("/services", json!({"name": "Bad Name"}), 422, Some("name")),
        (
            "/services",
            json!({"name": "web", "colour": "red"}),
            422,
            Some("colour"),
        ),
        (
            "/services",
            json!({"name": "web", "runbook_links": ["ftp://x"]}),
            422,
            Some("runbook_links"),
        ),
        (
            "/services",
            json!({"name": "web", "rules": {"grouping": {"mode": "time-window", "minutes": 0}}}),
            422,
            Some("grouping.minutes"),
        ),
        (
            "/services",
            json!({"name": "web", "rules": {"grouping": {"mode": "sometimes"}}}),
            422,
            None,
        ),
        ("/services/api/keys/abc/revoke", json!({}), 400, None),
        ("/services/nope/keys", json!({}), 404, None),
    ];
    for (path, body, status, field) in cases {
        let r = post(path, body.clone()).await.unwrap();
        assert_eq!(r.status(), status, "{path} {body}");
        let p: klaxon_domain::api::Problem = r.json().await.unwrap();
        if let Some(field) = field {
            assert_eq!(
                p.errors.first().map(|e| e.field.as_str()),
                Some(field),
                "{path} {body}: {}",
                p.detail
            );
        }
    }
    let r = http
        .patch(app.api("/services/api"))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&json!({"owner_team": "x".repeat(101)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http.delete(app.api("/services/api")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.admin.services().await.unwrap(), before);
    app.cleanup().await;
}

/// An id in the path that is not one is refused (400) naming the kind of id it should
/// be: a key's route wants a key id, a maintenance window's a window id.
#[tokio::test]
async fn a_path_id_that_is_not_one_says_which_id_it_wants() {
    let app = spawn_app().await;
    app.admin.create_service(&new_service("api")).await.unwrap();
    for (method, path, wanted) in [
        (
            "POST",
            "/services/api/keys/x/revoke",
            "'x' is not an integration key id",
        ),
        (
            "DELETE",
            "/services/api/maintenance/x",
            "'x' is not a maintenance window id",
        ),
        (
            "GET",
            "/alerts/x",
            "'x' is not an alert id; see `klaxon alert list`",
        ),
        (
            "POST",
            "/tokens/x/revoke",
            "'x' is not a token id; see `klaxon token list`",
        ),
    ] {
        let r = app
            .http()
            .request(method.parse().unwrap(), app.api(path))
            .bearer_auth(common::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.starts_with(wanted), "{method} {path}: {detail}");
    }
    app.cleanup().await;
}
