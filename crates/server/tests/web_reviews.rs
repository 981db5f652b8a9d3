//! The review page as plain HTTP, without JavaScript: a responder fills a section and
//! adds an action item through the forms, builds a 5-whys chain and links the item to
//! a node; a refused form shows why next to its field, keeps what was typed and stores
//! nothing; typed HTML is shown as text; `/actions` lists the item. What changed is
//! checked through the API.

mod common;

use common::plain::signed_in;
use common::{declare_input, spawn_app};
use klaxon_domain::auth::Scope;
use klaxon_domain::review::{ActionStatus, Answers};
use klaxon_domain::IncidentNumber;
use reqwest::StatusCode;

#[tokio::test]
async fn a_responder_fills_a_review_through_the_forms() {
    let app = spawn_app().await;
    let (browser, _alice) = signed_in(&app, "alice", Scope::Responder).await;
    let n = app
        .admin
        .declare(&declare_input("Checkout failing", 2))
        .await
        .unwrap()
        .incident
        .number;
    assert_eq!(n, IncidentNumber(1));
    let incident_page = browser.get("/incidents/1").await;
    assert!(incident_page.body.contains("href=\"/incidents/1/review\""));
    let page = browser.get("/incidents/1/review").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("has no post-incident review yet"),
        "{}",
        page.body
    );

    // Resolving opens it (SEV2 requires one).
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    let review = "/incidents/1/review";
    let done = browser
        .submit(
            review,
            "/incidents/1/review/summary",
            &[
                (
                    "what_happened",
                    "Checkout failed: **500s** <script>alert(1)</script>",
                ),
                ("who_affected", "Paying customers"),
                ("detection", "A customer e-mail"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some("/incidents/1/review#summary")
    );
    let page = browser.get(review).await.body;
    assert!(page.contains("<strong>500s</strong>"), "{page}");
    assert!(!page.contains("<script>alert(1)"), "typed HTML stays text");
    assert!(page.contains("&lt;script&gt;"));

    // An owner who does not exist: refused next to the field, typed title kept.
    let refused = browser
        .submit(
            review,
            "/incidents/1/review/action",
            &[
                ("title", "Alert on pod memory"),
                ("owner", "ghost"),
                ("category", "short_term"),
                ("due_at", ""),
                ("answers", ""),
                ("ticket", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"a-owner-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("there is no user &#39;ghost&#39;")
            || refused.body.contains("there is no user &#x27;ghost&#x27;")
            || refused.body.contains("ghost"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Alert on pod memory\""));
    assert!(app.admin.review(n).await.unwrap().action_items.is_empty());

    let added = browser
        .submit(
            review,
            "/incidents/1/review/action",
            &[
                ("title", "Alert on pod memory"),
                ("owner", "alice"),
                ("category", "short_term"),
                ("due_at", ""),
                ("answers", ""),
                ("ticket", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);

    // A chain of two whys, then the item linked to the second.
    for (follows, why, because) in [
        ("", "Why did checkout fail?", "The pods ran out of memory."),
        ("1", "Why did they run out?", "A leak in v2.3.1."),
    ] {
        let answer = browser
            .submit(
                review,
                "/incidents/1/review/why",
                &[("follows", follows), ("why", why), ("because", because)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let dangling = browser
        .submit(
            review,
            "/incidents/1/review/why",
            &[("follows", "9"), ("why", "a"), ("because", "b")],
        )
        .await;
    assert_eq!(dangling.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        dangling.body.contains("does not exist"),
        "{}",
        dangling.body
    );
    let linked = browser
        .submit(
            review,
            "/incidents/1/review/link",
            &[("item", "1"), ("answers", "why:2")],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    let stored = app.admin.review(n).await.unwrap();
    assert_eq!(stored.review.whys.len(), 2);
    assert_eq!(stored.review.whys[1].follows, Some(1));
    assert_eq!(stored.action_items[0].answers, Some(Answers::Why(2)));
    assert_eq!(stored.review.summary.who_affected, "Paying customers");
    let page = browser.get(review).await.body;
    assert!(
        page.contains("answered by 1-1 Alert on pod memory"),
        "{page}"
    );

    // `/actions` lists it, and its status is set from there.
    let actions = browser.get("/actions?mine=1").await;
    assert!(
        actions.body.contains("Alert on pod memory"),
        "{}",
        actions.body
    );
    let set = browser
        .submit("/actions", "/actions/1-1", &[("status", "done")])
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let stored = app.admin.review(n).await.unwrap();
    assert_eq!(stored.action_items[0].status, ActionStatus::Done);
    let print = browser.get("/incidents/1/review/print").await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print
        .body
        .contains("Post-incident review: #1 Checkout failing"));
    app.cleanup().await;
}
