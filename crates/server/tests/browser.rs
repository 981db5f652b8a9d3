//! The web UI in a real browser: Debian's Chromium, driven over WebDriver by
//! `chromedriver` (both installed by `.ci/run`), against the server on port 0 with a
//! fresh database. A responder signs in, declares through the triage wizard,
//! acknowledges, takes command, posts an update that a second session sees arrive
//! without reloading, mitigates and resolves; a viewer gets no actions; a restricted
//! incident stays hidden; an admin schedules and starts a maintenance. A responder
//! fills a post-incident review section by section (a 5-whys chain of two nodes
//! included), adds an action item and moves it on, from the review and from
//! `/actions`. The run saves the README's screenshots in `docs/screenshots/`.
//!
//! Without chromedriver the test says so and passes, except under CI (`CI` set), where
//! a missing browser is a failure.

mod common;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::plain::{person, PASSWORD};
use common::{declare_input, spawn_app, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use klaxon_domain::api::NoteRequest;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::Status;
use klaxon_domain::IncidentNumber;

/// A running chromedriver, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    /// Stops chromedriver and the browsers it started (its process group), even when a
    /// failed assertion left their sessions open.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<Driver> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !std::path::Path::new(&path).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{path} is missing: install Debian's chromium and chromium-driver"
        );
        eprintln!("skipped: {path} is missing (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// A browser session with a window of `width` × `height`; below 500 pixels (which a
/// headless window cannot be) the page is shown as a phone's of that width.
async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut options = serde_json::json!({
        "binary": binary,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 format!("--window-size={width},{height}")],
    });
    if width < 500 {
        options["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": true},
        });
    }
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn sign_in(b: &Client, app: &TestApp, handle: &str) {
    b.goto(&format!("{}/login", app.url)).await.unwrap();
    b.find(Locator::Css("#handle"))
        .await
        .unwrap()
        .send_keys(handle)
        .await
        .unwrap();
    b.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "Open incidents").await;
}

/// The page's text once it contains `text`, waiting at most a few seconds.
async fn wait_for_text(b: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // A page that is being replaced answers "stale element": look again.
        let body = match b.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {text:?}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click_button(b: &Client, text: &str) {
    let xpath = format!("//button[normalize-space()='{text}']");
    b.find(Locator::XPath(&xpath))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn open_section(b: &Client, summary: &str) {
    let xpath = format!("//summary[normalize-space()='{summary}']");
    b.find(Locator::XPath(&xpath))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn fill(b: &Client, css: &str, text: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn select(b: &Client, css: &str, value: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    std::fs::write(screenshots().join(name), png).unwrap();
}

#[tokio::test]
async fn a_responder_runs_an_incident_from_a_browser_while_another_watches() {
    let Some(driver) = chromedriver() else { return };
    let mut app = spawn_app().await;
    person(&app, "alice", Scope::Responder).await;
    person(&app, "vera", Scope::Viewer).await;
    person(&app, "bob", Scope::Responder).await;
    app.admin
        .declare(&declare_input("Checkout latency above 2 s in EU", 3))
        .await
        .unwrap();

    let alice = browser(&driver, 1280, 900).await;
    sign_in(&alice, &app, "alice").await;

    // Declare through the wizard: "no" to the first question, "yes" to the second.
    alice
        .goto(&format!("{}/incidents/new", app.url))
        .await
        .unwrap();
    screenshot(&alice, "declare.png").await;
    click_button(&alice, "No").await;
    wait_for_text(&alice, "Question 2").await;
    click_button(&alice, "Yes").await;
    wait_for_text(&alice, "Acknowledge within").await;
    fill(&alice, "#title", "API returning 502 errors").await;
    fill(&alice, "#service", "").await;
    fill(&alice, "#what", "public API").await;
    click_button(&alice, "Declare").await;
    wait_for_text(&alice, "#2 API returning 502 errors").await;
    assert!(alice
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/incidents/2"));

    click_button(&alice, "Acknowledge").await;
    wait_for_text(&alice, "acknowledged").await;
    open_section(&alice, "Assign a role").await;
    select(&alice, "select[name=role]", "commander").await;
    fill(&alice, "input[name=user]", "alice").await;
    click_button(&alice, "Assign").await;
    wait_for_text(&alice, "@alice is now commander").await;

    // A second session watches the incident; a mark on its page shows it never reloads.
    let watcher = browser(&driver, 1280, 900).await;
    sign_in(&watcher, &app, "bob").await;
    watcher
        .goto(&format!("{}/incidents/2", app.url))
        .await
        .unwrap();
    watcher.execute("window.__kept = 1;", vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    open_section(&alice, "Post a status update").await;
    select(&alice, "select[name=kind]", "update").await;
    fill(&alice, "#u-status", "Rolling back v2.1.2").await;
    fill(&alice, "#u-next", "Watch the error rate").await;
    wait_for_text(&alice, "As it will be posted").await;
    let posted = Instant::now();
    click_button(&alice, "Post update").await;
    wait_for_text(&watcher, "Rolling back v2.1.2").await;
    let seen_after = posted.elapsed();
    assert!(
        seen_after < Duration::from_secs(3),
        "seen after {seen_after:?}"
    );
    let kept = watcher
        .execute("return window.__kept === 1;", vec![])
        .await
        .unwrap();
    assert_eq!(
        kept,
        serde_json::json!(true),
        "the watcher's page did not reload"
    );

    open_section(&alice, "Mitigate").await;
    select(&alice, "select[name=strategy]", "rollback").await;
    fill(&alice, "input[name=action]", "Rolled back to v2.1.1").await;
    click_button(&alice, "Mitigated").await;
    wait_for_text(&alice, "Time to mitigate").await;
    screenshot(&alice, "incident.png").await;
    open_section(&alice, "Resolve").await;
    fill(&alice, "#r-cause", "Memory leak in document processing").await;
    click_button(&alice, "Resolve").await;
    let page = wait_for_text(&alice, "Time to resolve").await;
    assert!(page.contains("resolved"));
    let incident = app
        .admin
        .incident(IncidentNumber(2))
        .await
        .unwrap()
        .incident;
    assert_eq!(incident.status, Status::Resolved);

    alice.goto(&format!("{}/", app.url)).await.unwrap();
    wait_for_text(&alice, "Checkout latency").await;
    screenshot(&alice, "dashboard.png").await;

    // The person acknowledging from a phone.
    let phone = browser(&driver, 375, 812).await;
    sign_in(&phone, &app, "alice").await;
    phone
        .goto(&format!("{}/incidents/1", app.url))
        .await
        .unwrap();
    wait_for_text(&phone, "Acknowledge").await;
    let overflow = phone
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::json!(true),
        "no sideways scrolling at 375 px"
    );
    screenshot(&phone, "incident-phone.png").await;

    // A viewer reads but has no buttons.
    let vera = browser(&driver, 1280, 900).await;
    sign_in(&vera, &app, "vera").await;
    vera.goto(&format!("{}/incidents/1", app.url))
        .await
        .unwrap();
    wait_for_text(&vera, "Checkout latency").await;
    let forms = vera
        .find_all(Locator::Css("form[action^='/incidents/1/']"))
        .await
        .unwrap();
    assert!(forms.is_empty(), "a viewer is offered no action");

    // A long timeline shows its newest 100 events; "Older events" appends the rest in
    // place, without leaving the page.
    for n in 1..=105 {
        let note = NoteRequest {
            text: format!("reading number {n}"),
            at: None,
        };
        app.admin.note(IncidentNumber(1), &note).await.unwrap();
    }
    vera.goto(&format!("{}/incidents/1", app.url))
        .await
        .unwrap();
    wait_for_text(&vera, "reading number 105").await;
    let shown = "return document.querySelectorAll('#timeline > li').length;";
    assert_eq!(
        vera.execute(shown, vec![]).await.unwrap(),
        serde_json::json!(100)
    );
    vera.execute("window.__kept = 1;", vec![]).await.unwrap();
    vera.find(Locator::LinkText("Older events"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&vera, "reading number 1\n").await;
    assert!(!page.contains("Older events"), "the oldest page is shown");
    let all = app.admin.incident(IncidentNumber(1)).await.unwrap();
    assert_eq!(
        vera.execute(shown, vec![]).await.unwrap(),
        serde_json::json!(all.timeline.unwrap().len())
    );
    assert_eq!(
        vera.execute("return window.__kept === 1;", vec![])
            .await
            .unwrap(),
        serde_json::json!(true),
        "the older events came without a reload"
    );

    // A restricted incident is not there for bob.
    let mut secret = declare_input("Credential leak", 1);
    secret.restricted = true;
    app.admin.declare(&secret).await.unwrap();
    watcher
        .goto(&format!("{}/incidents/3", app.url))
        .await
        .unwrap();
    wait_for_text(&watcher, "Not found").await;
    watcher.goto(&format!("{}/", app.url)).await.unwrap();
    let board = wait_for_text(&watcher, "Open incidents").await;
    assert!(!board.contains("Credential leak"));

    for b in [alice, watcher, phone, vera] {
        b.close().await.unwrap();
    }
    app.allow_pending_jobs();
    app.cleanup().await;
}

/// Sets an input's value as a date-time picker would.
async fn set_value(b: &Client, css: &str, value: &str) {
    b.execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![css.into(), value.into()],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_admin_builds_a_schedule_and_covers_a_shift_in_a_browser() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    person(&app, "root", Scope::Admin).await;
    person(&app, "alice", Scope::Responder).await;
    person(&app, "bob", Scope::Responder).await;
    person(&app, "carol", Scope::Responder).await;

    let b = browser(&driver, 1280, 900).await;
    sign_in(&b, &app, "root").await;
    b.goto(&format!("{}/schedules/new", app.url)).await.unwrap();
    fill(&b, "#name", "Payments primary").await;
    b.find(Locator::Css("#time_zone"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    fill(&b, "#time_zone", "Europe/Berlin").await;
    fill(&b, "#l0-participants", "alice, bob, carol").await;
    set_value(&b, "#l0-start", "2026-11-23T09:00").await;
    click_button(&b, "Add a layer").await;
    wait_for_text(&b, "Layer 2").await;
    fill(&b, "#l1-name", "Business hours").await;
    fill(&b, "#l1-participants", "carol").await;
    fill(&b, "#l1-restrictions", "mon tue wed thu fri 09:00-17:00").await;
    click_button(&b, "Save").await;
    wait_for_text(&b, "Week of 23 Nov").await;

    fill(&b, "#cover-user", "bob").await;
    set_value(&b, "#cover-start", "2026-11-27T17:00").await;
    set_value(&b, "#cover-end", "2026-11-28T12:00").await;
    click_button(&b, "Add the override").await;
    let page = wait_for_text(&b, "bob: Fri 27 Nov 17:00").await;
    assert!(page.contains("Business hours"));
    let stored = app.admin.schedule("Payments primary").await.unwrap();
    assert_eq!((stored.layers().len(), stored.overrides().len()), (2, 1));
    screenshot(&b, "schedule.png").await;
    b.close().await.unwrap();
    app.cleanup().await;
}

#[tokio::test]
async fn an_admin_schedules_and_starts_maintenance_in_a_browser() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    person(&app, "root", Scope::Admin).await;
    let api = app
        .admin
        .create_component(&klaxon_domain::status::NewComponent {
            name: "API".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let b = browser(&driver, 1280, 900).await;
    sign_in(&b, &app, "root").await;
    b.goto(&format!("{}/maintenances", app.url)).await.unwrap();
    open_section(&b, "Schedule maintenance").await;
    fill(&b, "#f-name", "Database upgrade").await;
    b.find(Locator::Css(&format!(
        "input[name=components][value='{}']",
        api.id
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    set_value(&b, "#f-for", "2026-11-26T12:00").await;
    set_value(&b, "#f-until", "2026-11-26T14:00").await;
    fill(&b, "#f-body", "Writes pause briefly.").await;
    click_button(&b, "Schedule").await;
    wait_for_text(&b, "Writes pause briefly.").await;
    select(&b, "#u-status", "in_progress").await;
    click_button(&b, "Post").await;
    let page = wait_for_text(&b, "Scheduled maintenance is currently in progress").await;
    assert!(page.contains("In progress"), "{page}");
    b.goto(&format!("{}/status", app.url)).await.unwrap();
    let public = wait_for_text(&b, "Service Under Maintenance").await;
    assert!(public.contains("Database upgrade"), "{public}");
    let stored = app.admin.scheduled_maintenances().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].status,
        klaxon_domain::status::MaintenanceStatus::InProgress
    );
    b.close().await.unwrap();
    app.cleanup().await;
}

/// Clicks the button of the form that holds the element `css`.
async fn submit_form_of(b: &Client, css: &str) {
    b.execute(
        "document.querySelector(arguments[0]).form.querySelector('button[type=submit]').click();",
        vec![css.into()],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_responder_fills_a_review_and_its_action_items_in_a_browser() {
    use klaxon_domain::incident::DeclareInput;
    use klaxon_domain::review::{ActionStatus, Answers, Category};
    use klaxon_domain::Handle;

    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    person(&app, "alice", Scope::Responder).await;
    person(&app, "bob", Scope::Responder).await;
    let input = DeclareInput {
        commander: Some(Handle::parse("alice").unwrap()),
        ..declare_input("Checkout failing after the v2.3.1 deploy", 2)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.admin.ack(n, &Default::default()).await.unwrap();
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;

    let b = browser(&driver, 1280, 900).await;
    sign_in(&b, &app, "alice").await;
    let review = format!("{}/incidents/{}/review", app.url, n.0);
    b.goto(&review).await.unwrap();
    wait_for_text(&b, "to fill before publishing").await;

    // Each section through its form. The page shows what was saved as rendered
    // Markdown, which the typed text (with its asterisks) is not.
    open_section(&b, "Edit the summary").await;
    fill(
        &b,
        "#what_happened",
        "Checkout failed with **500s** for 50 minutes.",
    )
    .await;
    fill(&b, "#who_affected", "About 1,000 paying customers.").await;
    click_button(&b, "Save the summary").await;
    wait_for_text(&b, "Checkout failed with 500s for 50 minutes.").await;

    open_section(&b, "Edit the impact").await;
    fill(&b, "#i-description", "No data was lost.").await;
    fill(&b, "input[name='figures-0-name']", "Users affected").await;
    fill(&b, "input[name='figures-0-value']", "1000").await;
    fill(&b, "input[name='figures-0-unit']", "users").await;
    fill(&b, "input[name='figures-0-source']", "RUM dashboard").await;
    click_button(&b, "Save the impact").await;
    wait_for_text(&b, "Users affected: 1000 users").await;

    open_section(&b, "Edit the root cause analysis").await;
    fill(
        &b,
        "#technical_cause",
        "A memory leak in the image cache of v2.3.1.",
    )
    .await;
    fill(&b, "#factor-new", "No memory alert on the API pods").await;
    click_button(&b, "Save the analysis").await;
    wait_for_text(&b, "No memory alert on the API pods").await;

    // A 5-whys chain of two nodes, the second asking further about the first.
    fill(&b, "#why-q", "Why did checkout fail?").await;
    fill(&b, "#because", "The API pods ran out of memory.").await;
    click_button(&b, "Add the node").await;
    wait_for_text(&b, "Because The API pods ran out of memory.").await;
    select(&b, "#follows", "1").await;
    fill(&b, "#why-q", "Why did they run out of memory?").await;
    fill(&b, "#because", "v2.3.1 leaks memory in its image cache.").await;
    click_button(&b, "Add the node").await;
    wait_for_text(&b, "Because v2.3.1 leaks memory in its image cache.").await;

    open_section(&b, "Edit the lessons").await;
    fill(&b, "#went_well", "- A *fast* rollback").await;
    fill(&b, "#could_improve", "- Alert on memory").await;
    click_button(&b, "Save the lessons").await;
    wait_for_text(&b, "A fast rollback").await;

    // An action item for bob answering the second why, then started.
    open_section(&b, "Add an action item").await;
    fill(&b, "#a-title", "Alert on pod memory").await;
    fill(&b, "#a-owner", "bob").await;
    select(&b, "#a-category", "long_term").await;
    select(&b, "#a-answers", "why:2").await;
    fill(&b, "#a-ticket", "https://linear.app/acme/issue/ENG-42").await;
    click_button(&b, "Add the item").await;
    wait_for_text(&b, "answered by 1-1").await;
    let status = "select[aria-label='Status of 1-1']";
    select(&b, status, "in_progress").await;
    submit_form_of(&b, status).await;
    let page = wait_for_text(&b, "In progress: 1").await;
    assert!(!page.contains("to fill before publishing"), "{page}");
    b.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    screenshot(&b, "review.png").await;

    // What the forms stored, through the API.
    let stored = app.admin.review(n).await.unwrap();
    let r = &stored.review;
    assert_eq!(
        r.summary.what_happened,
        "Checkout failed with **500s** for 50 minutes."
    );
    assert_eq!(r.impact.figures.len(), 1);
    assert_eq!(r.impact.figures[0].value, 1000.0);
    assert_eq!(
        r.root_cause.factors[0].text,
        "No memory alert on the API pods"
    );
    assert_eq!(r.whys.len(), 2);
    assert_eq!((r.whys[0].follows, r.whys[1].follows), (None, Some(1)));
    assert_eq!(r.lessons.went_well, "- A *fast* rollback");
    assert!(stored.missing_sections.is_empty(), "{stored:?}");
    let item = &stored.action_items[0];
    assert_eq!(item.title, "Alert on pod memory");
    assert_eq!(item.owner.as_str(), "bob");
    assert_eq!(item.category, Category::LongTerm);
    assert_eq!(item.status, ActionStatus::InProgress);
    assert_eq!(item.answers, Some(Answers::Why(2)));
    assert_eq!(
        item.ticket.as_deref(),
        Some("https://linear.app/acme/issue/ENG-42")
    );

    // The list across incidents.
    b.goto(&format!("{}/actions", app.url)).await.unwrap();
    wait_for_text(&b, "Alert on pod memory").await;
    screenshot(&b, "actions.png").await;
    select(&b, status, "done").await;
    submit_form_of(&b, status).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let item = app.admin.action("1-1".parse().unwrap()).await.unwrap();
        if item.item.status == ActionStatus::Done {
            break;
        }
        assert!(Instant::now() < deadline, "never done: {item:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.close().await.unwrap();
    app.cleanup().await;
}

#[tokio::test]
async fn a_customer_subscribes_on_the_status_page_and_an_admin_removes_them_in_a_browser() {
    let Some(driver) = chromedriver() else { return };
    let mut smtp = common::smtp::SmtpSink::start().await;
    let app = common::spawn_sqlite(smtp.settings()).await;
    for name in ["API", "Dashboard"] {
        app.admin
            .create_component(&klaxon_domain::status::NewComponent {
                name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let b = browser(&driver, 1100, 900).await;
    b.goto(&format!("{}/status", app.url)).await.unwrap();
    wait_for_text(&b, "Get updates by e-mail").await;
    fill(&b, "#subscribe-email", "carol@example.com").await;
    open_section(&b, "Only some components (all by default)").await;
    b.find(Locator::XPath("//label[normalize-space()='API']/input"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click_button(&b, "Subscribe").await;
    wait_for_text(&b, "Check your inbox").await;
    let subscribers = app.admin.subscribers().await.unwrap();
    assert_eq!(subscribers.len(), 1);
    assert_eq!(subscribers[0].components.as_ref().map(Vec::len), Some(1));

    app.run_jobs().await;
    let confirm = smtp.received().await.link("/confirm").unwrap();
    b.goto(&common::subscribers::local(&app, &confirm))
        .await
        .unwrap();
    wait_for_text(&b, "Subscription confirmed").await;
    assert!(app.admin.subscribers().await.unwrap()[0]
        .confirmed_at
        .is_some());

    person(&app, "ada", Scope::Admin).await;
    let admin = browser(&driver, 1100, 900).await;
    sign_in(&admin, &app, "ada").await;
    admin
        .goto(&format!("{}/subscribers", app.url))
        .await
        .unwrap();
    wait_for_text(&admin, "carol@example.com").await;
    click_button(&admin, "Remove").await;
    wait_for_text(&admin, "No subscribers yet.").await;
    assert!(app.admin.subscribers().await.unwrap().is_empty());
    b.close().await.unwrap();
    admin.close().await.unwrap();
    app.cleanup().await;
}
