//! Who may own a review or an action item: on a restricted incident, only someone who
//! may see it (a participant or an admin). Anyone else is refused with 422 naming the
//! person and what to do, through every route that sets an owner (opening a review,
//! its settings, a new item, an item's change, and the web form), and nothing changes.
//! Also the rest of the bad input not covered by `reviews.rs`: a whole 5-whys
//! with a dangling link.

mod common;

use common::plain::signed_in;
use common::{declare_input, problem, spawn_app, TestApp};
use klaxon_domain::api::{NewUser, RoleRequest};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{DeclareInput, Role};
use klaxon_domain::review::api::ReviewSettings;
use klaxon_domain::review::{ActionItemPatch, Category, NewActionItem, OpenReview, WhyNode};
use klaxon_domain::{Handle, IncidentNumber};
use reqwest::StatusCode;

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

async fn person(app: &TestApp, handle: &str, role: Option<Scope>) {
    let new = NewUser {
        handle: h(handle),
        name: handle.to_uppercase(),
        email: format!("{handle}@example.com"),
        role,
    };
    app.admin.create_user(&new).await.unwrap();
}

fn item(title: &str, owner: &str) -> NewActionItem {
    NewActionItem {
        title: title.into(),
        owner: h(owner),
        category: Category::ShortTerm,
        due_at: None,
        status: None,
        answers: None,
        ticket: None,
    }
}

/// A restricted SEV1 commanded by alice, resolved: its review is open and hers.
async fn restricted(app: &TestApp, title: &str) -> IncidentNumber {
    let input = DeclareInput {
        restricted: true,
        commander: Some(h("alice")),
        ..declare_input(title, 1)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    n
}

fn assert_refused(p: &klaxon_domain::api::Problem, who: &str) {
    assert_eq!(p.status, 422, "{p:?}");
    assert_eq!(p.errors[0].field, "owner", "{p:?}");
    assert!(
        p.detail
            .contains(&format!("{who} may not see restricted incident")),
        "{}",
        p.detail
    );
    assert!(p.detail.contains("klaxon incident assign"), "{}", p.detail);
}

#[tokio::test]
async fn a_restricted_incidents_owners_must_be_able_to_see_it() {
    let app = spawn_app().await;
    person(&app, "alice", None).await;
    person(&app, "bob", None).await;
    person(&app, "root", Some(Scope::Admin)).await;
    let n = restricted(&app, "Suspicious logins").await;
    let first = app
        .admin
        .add_action(n, &item("Rotate keys", "alice"))
        .await
        .unwrap();
    let before = app.admin.review(n).await.unwrap();
    assert_eq!(before.review.owner, Some(h("alice")));

    // bob exists but takes no part: refused everywhere an owner is set.
    assert_refused(
        &problem(app.admin.add_action(n, &item("Audit logins", "bob")).await),
        "bob",
    );
    assert_refused(
        &problem(
            app.admin
                .review_settings(
                    n,
                    &ReviewSettings {
                        owner: Some(h("bob")),
                        due_at: None,
                    },
                )
                .await,
        ),
        "bob",
    );
    let to_bob = ActionItemPatch {
        owner: Some(h("bob")),
        ..Default::default()
    };
    assert_refused(
        &problem(
            app.admin
                .update_action(first.item.reference(), &to_bob)
                .await,
        ),
        "bob",
    );
    let after = app.admin.review(n).await.unwrap();
    assert_eq!(after.review.version, before.review.version);
    assert_eq!(after.review.owner, before.review.owner);
    assert_eq!(after.action_items, before.action_items);

    // Opening a review by hand for bob is refused too, and opens nothing. (A SEV3 needs
    // no review, so none opened on resolution.)
    let input = DeclareInput {
        restricted: true,
        ..declare_input("Phishing report", 3)
    };
    let m = app.admin.declare(&input).await.unwrap().incident.number;
    app.admin.resolve(m, &Default::default()).await.unwrap();
    let open = OpenReview {
        owner: Some(h("bob")),
        due_at: None,
    };
    assert_refused(&problem(app.admin.open_review(m, &open).await), "bob");
    assert_eq!(problem(app.admin.review(m).await).status, 404);

    // An admin sees every incident, so may own; bob may once he takes part.
    app.admin
        .add_action(n, &item("Review the SSO logs", "root"))
        .await
        .unwrap();
    app.admin
        .assign(
            n,
            &RoleRequest {
                role: Role::Investigator,
                user: h("bob"),
            },
        )
        .await
        .unwrap();
    let audit = app
        .admin
        .add_action(n, &item("Audit logins", "bob"))
        .await
        .unwrap();
    assert_eq!(audit.item.owner, h("bob"));
    app.admin
        .update_action(first.item.reference(), &to_bob)
        .await
        .unwrap();
    let view = app
        .admin
        .review_settings(
            n,
            &ReviewSettings {
                owner: Some(h("bob")),
                due_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(view.review.owner, Some(h("bob")));

    // An incident that is not restricted may be owned by anyone who exists.
    let open_one = app
        .admin
        .declare(&declare_input("Search is slow", 2))
        .await
        .unwrap()
        .incident
        .number;
    app.admin
        .resolve(open_one, &Default::default())
        .await
        .unwrap();
    app.run_jobs().await;
    person(&app, "carol", None).await;
    app.admin
        .add_action(open_one, &item("Add an index", "carol"))
        .await
        .unwrap();
    app.cleanup().await;
}

#[tokio::test]
async fn the_web_form_says_why_an_outsider_cannot_own_an_item() {
    let app = spawn_app().await;
    person(&app, "alice", None).await;
    person(&app, "bob", None).await;
    let n = restricted(&app, "Suspicious logins").await;
    let (browser, _root) = signed_in(&app, "root", Scope::Admin).await;
    let review = format!("/incidents/{}/review", n.0);
    let refused = browser
        .submit(
            &review,
            &format!("{review}/action"),
            &[
                ("title", "Audit logins"),
                ("owner", "bob"),
                ("category", "short_term"),
                ("due_at", ""),
                ("answers", ""),
                ("ticket", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("bob may not see restricted incident #1"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Audit logins\""),
        "typed kept"
    );
    assert!(app.admin.review(n).await.unwrap().action_items.is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn a_whole_5_whys_with_a_dangling_link_is_refused() {
    let app = spawn_app().await;
    person(&app, "alice", None).await;
    let n = app
        .admin
        .declare(&declare_input("Checkout failing", 2))
        .await
        .unwrap()
        .incident
        .number;
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    let node = |id, follows| WhyNode {
        id,
        follows,
        why: format!("why {id}"),
        because: format!("because {id}"),
    };
    app.admin
        .set_whys(n, vec![node(1, None), node(2, Some(1))])
        .await
        .unwrap();
    let before = app.admin.review(n).await.unwrap();
    let p = problem(
        app.admin
            .set_whys(n, vec![node(1, None), node(2, Some(1)), node(3, Some(9))])
            .await,
    );
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "whys.follows")
    );
    assert!(p.detail.contains("does not exist"), "{}", p.detail);
    let after = app.admin.review(n).await.unwrap();
    assert_eq!(after.review.whys, before.review.whys);
    assert_eq!(after.review.version, before.review.version);
    app.cleanup().await;
}
