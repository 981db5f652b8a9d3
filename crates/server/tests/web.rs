//! The web UI as plain HTTP, without JavaScript: signing in and out, sessions that end,
//! CSRF tokens, forms that refuse bad input next to the field and change nothing, what
//! viewers and non-participants see, the triage wizard and the live timeline.

mod common;

use std::time::Duration;

use common::plain::{escape, hidden, person, signed_in, Browser, PASSWORD};
use common::{declare_input, spawn_app, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::{AckRequest, NewPassword, NoteRequest};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::Status;
use klaxon_domain::{Handle, IncidentNumber};
use reqwest::StatusCode;

async fn status_of(app: &TestApp, n: i64) -> Status {
    app.admin
        .incident(IncidentNumber(n))
        .await
        .unwrap()
        .incident
        .status
}

#[tokio::test]
async fn signing_in_opens_the_pages_and_signing_out_ends_the_session_everywhere() {
    let app = spawn_app().await;
    app.admin
        .declare(&declare_input("API returning 502 errors", 2))
        .await
        .unwrap();
    person(&app, "alice", Scope::Responder).await;
    let mut browser = Browser::new(&app);
    let first = browser.get("/").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location.as_deref(), Some("/login?next=%2F"));

    let wrong = browser.sign_in("alice", "not her password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("the handle or the password is wrong"),
        "{}",
        wrong.body
    );
    let unknown = browser.sign_in("nobody", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(browser.cookie.is_none());

    let right = browser.sign_in("alice", PASSWORD).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    let cookie = right
        .set_cookie
        .iter()
        .find(|c| c.starts_with("klaxon_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        cookie.contains("Secure"),
        "the public URL is https: {cookie}"
    );

    let board = browser.get("/").await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.body.contains("API returning 502 errors"));

    // Another browser with the same cookie (any replica would accept it).
    let other = Browser {
        cookie: browser.cookie.clone(),
        ..Browser::new(&app)
    };
    assert_eq!(other.get("/").await.status, StatusCode::OK);
    let out = browser.submit("/", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/login"));
    let after = other.get("/").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the session ended everywhere"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_session_ends_when_unused_for_three_days_or_two_weeks_after_sign_in() {
    let app = spawn_app().await;
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    for _ in 0..6 {
        app.clock.advance(SignedDuration::from_hours(48));
        assert_eq!(
            browser.get("/").await.status,
            StatusCode::OK,
            "used every two days"
        );
    }
    app.clock.advance(SignedDuration::from_hours(48));
    assert_eq!(
        browser.get("/").await.status,
        StatusCode::SEE_OTHER,
        "14 days after sign-in"
    );

    let (idle, _) = signed_in(&app, "bob", Scope::Responder).await;
    app.clock.advance(SignedDuration::from_hours(72));
    assert_eq!(
        idle.get("/").await.status,
        StatusCode::SEE_OTHER,
        "three idle days"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_changed_password_ends_the_sessions_of_its_owner() {
    let app = spawn_app().await;
    let (browser, alice) = signed_in(&app, "alice", Scope::Responder).await;
    let new = NewPassword {
        password: "another long passphrase".into(),
    };
    alice
        .set_password(&Handle::parse("alice").unwrap(), &new)
        .await
        .unwrap();
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
    app.cleanup().await;
}

#[tokio::test]
async fn passwords_are_set_by_their_owner_or_an_admin_and_must_be_long_enough() {
    let app = spawn_app().await;
    let alice = person(&app, "alice", Scope::Responder).await;
    person(&app, "bob", Scope::Responder).await;
    let bob = Handle::parse("bob").unwrap();
    let long = NewPassword {
        password: "a long enough phrase".into(),
    };
    let p = common::problem(alice.set_password(&bob, &long).await);
    assert_eq!(p.status, 403, "{}", p.detail);
    let short = NewPassword {
        password: "short".into(),
    };
    let p = common::problem(app.admin.set_password(&bob, &short).await);
    assert_eq!(p.status, 422);
    assert_eq!(p.errors[0].field, "password");
    let p = common::problem(
        app.admin
            .set_password(&Handle::parse("carol").unwrap(), &long)
            .await,
    );
    assert_eq!(p.status, 404);
    app.admin.set_password(&bob, &long).await.unwrap();
    assert!(
        !format!("{long:?}").contains("phrase"),
        "Debug hides the password"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn sign_in_attempts_are_slowed_down_per_account() {
    let app = spawn_app().await;
    person(&app, "alice", Scope::Responder).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            browser.sign_in("alice", "wrong guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let slowed = browser.sign_in("alice", PASSWORD).await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        slowed.body.contains("too many sign-in attempts for"),
        "{}",
        slowed.body
    );
    assert!(browser.cookie.is_none(), "even the right password waits");
    app.cleanup().await;
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let missing = browser.post("/incidents/1/ack", &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("reload the page"), "{}", missing.body);
    let wrong = browser
        .post("/incidents/1/ack", &[("csrf", "0123456789abcdef")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, 1).await, Status::Triggered);

    let done = browser
        .submit("/incidents/1", "/incidents/1/ack", &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/incidents/1"));
    assert_eq!(status_of(&app, 1).await, Status::Acknowledged);
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_next_to_its_form_and_changes_nothing() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let before = app.admin.incident(IncidentNumber(1)).await.unwrap();

    let no_reason = browser
        .submit(
            "/incidents/1",
            "/incidents/1/severity",
            &[("severity", "1"), ("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains("class=\"field-error\""),
        "{}",
        no_reason.body
    );
    assert!(no_reason.body.contains("must not be empty"));
    let nobody = browser
        .submit(
            "/incidents/1",
            "/incidents/1/assign",
            &[("role", "commander"), ("user", "zed")],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nobody.body.contains(&escape("there is no user 'zed'")),
        "{}",
        nobody.body
    );
    let no_such = browser
        .submit("/incidents/1", "/incidents/1/explode", &[])
        .await;
    assert_eq!(no_such.status, StatusCode::NOT_FOUND);

    // A stale page: the acknowledgement was made elsewhere meanwhile.
    let page = browser.get("/incidents/1").await.body;
    app.admin
        .ack(IncidentNumber(1), &AckRequest { at: None })
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let stale = browser.post("/incidents/1/ack", &[("csrf", &csrf)]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("already acknowledged"),
        "{}",
        stale.body
    );

    let after = app.admin.incident(IncidentNumber(1)).await.unwrap();
    assert_eq!(after.incident.severity, before.incident.severity);
    assert_eq!(
        after.incident.version,
        before.incident.version + 1,
        "only the API's acknowledgement"
    );

    let untitled = browser
        .submit(
            "/incidents/new?severity=2",
            "/incidents",
            &[("severity", "2"), ("title", "")],
        )
        .await;
    assert_eq!(untitled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        untitled.body.contains("id=\"title-error\""),
        "{}",
        untitled.body
    );
    assert!(
        app.admin.incident(IncidentNumber(2)).await.is_err(),
        "no incident was declared"
    );
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn a_viewer_sees_the_incident_without_actions_and_is_refused_if_it_posts() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (viewer, _) = signed_in(&app, "vera", Scope::Viewer).await;
    let page = viewer.get("/incidents/1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Disk full"));
    assert!(
        !page.body.contains("action=\"/incidents/1/"),
        "no forms for a viewer"
    );
    let refused = viewer.submit("/incidents/1", "/incidents/1/ack", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(status_of(&app, 1).await, Status::Triggered);
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn a_restricted_incident_is_a_404_to_those_who_may_not_see_it() {
    let mut app = spawn_app().await;
    let mut input = declare_input("Credential leak", 1);
    input.restricted = true;
    app.admin.declare(&input).await.unwrap();
    let (bob, _) = signed_in(&app, "bob", Scope::Responder).await;
    let hidden_one = bob.get("/incidents/1").await;
    let missing = bob.get("/incidents/99").await;
    assert_eq!(hidden_one.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden_one.body.replace("#1", "#N").replace(" 1", " N"),
        missing.body.replace("#99", "#N").replace(" 99", " N"),
        "the same page as a number that does not exist"
    );
    assert!(!bob.get("/").await.body.contains("Credential leak"));
    assert_eq!(
        bob.get("/incidents/1/live").await.status,
        StatusCode::NOT_FOUND
    );
    let posted = bob
        .submit("/", "/incidents/1/note", &[("text", "hello")])
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn the_triage_wizard_asks_until_an_answer_picks_the_severity() {
    let mut app = spawn_app().await;
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let policy = klaxon_domain::policy::Policy::builtin();
    let first = browser.get("/incidents/new").await;
    assert!(
        first
            .body
            .contains(&escape(&policy.triage.questions[0].ask)),
        "{}",
        first.body
    );
    let second = browser.get("/incidents/new?answers=n").await;
    assert!(second
        .body
        .contains(&escape(&policy.triage.questions[1].ask)));
    assert!(
        !second.body.contains("name=\"title\""),
        "no form before a severity"
    );
    let picked = browser.get("/incidents/new?answers=ny").await;
    let severity = policy.triage(&[false, true]).unwrap();
    let definition = &policy.severity(severity).definition;
    assert!(picked.body.contains(&escape(definition)), "{}", picked.body);
    let declared = browser
        .submit(
            "/incidents/new?answers=ny",
            "/incidents",
            &[
                ("answers", "ny"),
                ("title", "Checkout slow"),
                ("drill", "1"),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    assert_eq!(declared.location.as_deref(), Some("/incidents/1"));
    let incident = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .incident;
    assert_eq!(incident.severity, severity);
    assert!(incident.drill);
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn every_page_reads_without_javascript_and_assets_are_cached_for_a_year() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    for path in [
        "/",
        "/incidents/1",
        "/incidents/new",
        "/incidents/new?severity=3",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.starts_with("<!doctype html>"), "{path}");
    }
    let bad_filter = browser.get("/?severity=9&status=exploded").await;
    assert_eq!(
        bad_filter.status,
        StatusCode::OK,
        "the board shows, unfiltered by it"
    );
    assert!(
        bad_filter.body.contains("is not a status"),
        "{}",
        bad_filter.body
    );
    let page = browser.get("/").await.body;
    let css = page
        .split('"')
        .find(|s| s.starts_with("/static/klaxon.") && s.ends_with(".css"))
        .unwrap();
    let r = reqwest::get(format!("{}{css}", app.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        reqwest::get(format!("{}/static/klaxon.0000000000.css", app.url))
            .await
            .unwrap()
            .status(),
        404
    );
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn the_live_timeline_sends_a_new_event_as_it_is_written() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let page = browser.get("/incidents/1").await.body;
    let live = page
        .split('"')
        .find(|s| s.starts_with("/incidents/1/live?after="))
        .unwrap()
        .to_owned();
    let mut stream = browser
        .http
        .get(format!("{}{live}", app.url))
        .header("cookie", browser.cookie.clone().unwrap())
        // As browsers do: pages are compressed, the stream must not be (held back).
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert!(stream.headers().get("content-encoding").is_none());
    let note = NoteRequest {
        text: "checked the disk graphs".into(),
        at: None,
    };
    app.admin.note(IncidentNumber(1), &note).await.unwrap();
    let mut got = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !got.contains("checked the disk graphs") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("the event arrives");
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert!(got.contains("event: event"), "{got}");
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn a_long_timeline_shows_its_newest_page_and_links_to_older_ones() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    for n in 2..=130 {
        let note = NoteRequest {
            text: format!("note number {n}"),
            at: None,
        };
        app.admin.note(IncidentNumber(1), &note).await.unwrap();
    }
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let newest = browser.get("/incidents/1").await.body;
    assert!(newest.contains("id=\"event-130\""), "{newest}");
    assert!(newest.contains("id=\"event-31\""));
    assert!(!newest.contains("id=\"event-30\""));
    assert!(newest.contains("/incidents/1/live?after=130"));
    let older = newest
        .split('"')
        .find(|s| s.starts_with("/incidents/1?before="))
        .expect("a link to older events")
        .to_owned();
    assert_eq!(older, "/incidents/1?before=31");
    let page = browser.get(&older).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"event-30\""));
    assert!(page.body.contains("id=\"event-1\""));
    assert!(!page.body.contains("id=\"event-31\""));
    assert!(!page.body.contains("Older events"), "the oldest page");
    assert!(page.body.contains("Newest events"));
    assert!(
        !page.body.contains("data-live"),
        "an older page is not live"
    );
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn pages_assets_and_json_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let plain = browser.get("/").await.body;
    let css = plain
        .split('"')
        .find(|s| s.starts_with("/static/klaxon.") && s.ends_with(".css"))
        .unwrap()
        .to_owned();
    let gunzip = |bytes: &[u8]| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    for path in ["/", css.as_str(), "/api/v1/incidents?open=true"] {
        let r = browser
            .http
            .get(format!("{}{path}", app.url))
            .header("cookie", browser.cookie.clone().unwrap())
            .header("authorization", format!("Bearer {}", common::ADMIN_TOKEN))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(r.headers()["vary"], "accept-encoding", "{path}");
        let text = gunzip(&r.bytes().await.unwrap());
        assert!(text.contains("Disk full") || path == css, "{path}: {text}");
    }
    let identity = browser
        .http
        .get(format!("{}/", app.url))
        .header("cookie", browser.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert!(identity.headers().get("content-encoding").is_none());
    app.allow_pending_jobs();
    app.cleanup().await;
}

/// A multipart form with the CSRF token `csrf` and one file.
fn upload(csrf: &str, file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "klaxonboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_text_file_is_attached_as_evidence_and_anything_else_is_refused() {
    let mut app = spawn_app().await;
    app.admin
        .declare(&declare_input("Disk full", 2))
        .await
        .unwrap();
    let (browser, _) = signed_in(&app, "alice", Scope::Responder).await;
    let csrf = hidden(&browser.get("/incidents/1").await.body, "csrf").unwrap();
    let post = |(content_type, body): (String, Vec<u8>)| {
        browser.answer(
            browser
                .http
                .post(format!("{}/incidents/1/evidence-file", app.url))
                .header("content-type", content_type)
                .body(body),
        )
    };
    let version = || async {
        app.admin
            .incident(IncidentNumber(1))
            .await
            .unwrap()
            .incident
            .version
    };
    let before = version().await;

    let wrong = post(upload("0123456789abcdef", "df.txt", b"/dev/sda1 100%")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let binary = post(upload(&csrf, "core.bin", &[0xff, 0xfe, 0x00])).await;
    assert_eq!(binary.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        binary.body.contains("attach a text file"),
        "{}",
        binary.body
    );
    let huge = post(upload(&csrf, "big.log", &vec![b'x'; 70 * 1024])).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.body);
    assert_eq!(version().await, before, "nothing was attached");

    let attached = post(upload(&csrf, "df.txt", b"/dev/sda1 100% /var")).await;
    assert_eq!(attached.status, StatusCode::SEE_OTHER, "{}", attached.body);
    let page = browser.get("/incidents/1").await.body;
    assert!(
        page.contains("df.txt") && page.contains("/dev/sda1 100% /var"),
        "{page}"
    );
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn a_full_board_keeps_the_worst_incidents_however_old() {
    let mut app = spawn_app().await;
    app.allow_pending_jobs();
    app.admin
        .declare(&declare_input("Payments down everywhere", 1))
        .await
        .unwrap();
    for i in 0..200 {
        app.admin
            .declare(&declare_input(&format!("Typo on page {i}"), 4))
            .await
            .unwrap();
    }
    let (browser, _) = signed_in(&app, "vera", Scope::Viewer).await;
    let board = browser.get("/").await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.body.contains("Payments down everywhere"));
    assert!(board
        .body
        .contains("Open incidents <span class=\"count\">200+</span>"));
    assert!(board.body.contains("More incidents match"));
    app.cleanup().await;
}
