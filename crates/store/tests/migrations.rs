//! Migrations keep what was stored: a database written before a migration reads the
//! same after it. Each test migrates a fresh database up to just before the migration,
//! writes rows with that schema's SQL, then opens it as Klaxon does (which runs the
//! rest).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::AlertId;
use klaxon_store::testing::{TempPostgres, TempSqlite};
use klaxon_store::Store;
use sqlx::migrate::Migrator;

/// A migrator with the backend's migrations before `version`, from a copy of them in
/// `into`.
async fn migrations_before(backend: &str, version: u32, into: &Path) -> Migrator {
    let all = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::create_dir_all(into).unwrap();
    for file in std::fs::read_dir(&all).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let number: u32 = name[..4].parse().unwrap();
        if number < version {
            std::fs::copy(&path, into.join(&name)).unwrap();
        }
    }
    Migrator::new(into).await.unwrap()
}

fn event(action: AlertAction) -> String {
    serde_json::to_string(&AlertEvent::new(action, AlertSeverity::Error)).unwrap()
}

/// Two alerts with interleaved events on their logs and one event still waiting, in
/// the schema before the log became a chain. `$n` parameters suit both backends.
const ALERTS_BEFORE_THE_CHAIN: [&str; 3] = [
    "INSERT INTO services (name, description, runbook_links, rules, created_at) VALUES ('api', '', '[]', '{}', 0)",
    "INSERT INTO alerts (service_id, dedup_key, status, summary, severity, labels, details, links, \
     first_seen_at, last_seen_at, repeat_count) VALUES \
     (1, 'disk', 'triggered', 'disk', 'error', '{}', '{}', '[]', 0, 4000, 3), \
     (1, 'cpu', 'triggered', 'cpu', 'error', '{}', '{}', '[]', 1000, 1000, 1)",
    "INSERT INTO alert_events (service_id, dedup_key, received_at, event, alert_id, action) VALUES \
     (1, 'disk', 0, $1, 1, 'trigger'), (1, 'cpu', 1000, $1, 2, 'trigger'), \
     (1, 'disk', 2000, $1, 1, 'trigger'), (1, 'disk', 3000, $2, NULL, 'resolve'), \
     (1, 'disk', 4000, $1, 1, 'trigger')",
];

/// Connects a `$pool` to `$url`, migrates it with `$before` and writes
/// [`ALERTS_BEFORE_THE_CHAIN`]: the same for both backends but for the pool's type.
macro_rules! write_before_the_chain {
    ($pool:ty, $url:expr, $before:expr) => {{
        let pool = <$pool>::connect($url).await.unwrap();
        $before.run(&pool).await.unwrap();
        for sql in ALERTS_BEFORE_THE_CHAIN {
            sqlx::query(sql)
                .bind(event(AlertAction::Trigger))
                .bind(event(AlertAction::Resolve))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }};
}

async fn logs_survive_the_chain(store: Arc<dyn Store>) {
    let millis = |id| {
        let store = store.clone();
        async move {
            let log = store.alert_log(id, None, 1000).await.unwrap();
            log.iter()
                .map(|e| e.received_at.as_millisecond())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(millis(AlertId(1)).await, [0, 2000, 4000]);
    assert_eq!(millis(AlertId(2)).await, [1000]);
    let waiting = store.inbox(10).await.unwrap();
    assert_eq!(waiting.len(), 1, "the waiting event still waits");
    assert_eq!(waiting[0].entry.event.action, AlertAction::Resolve);
}

#[tokio::test]
async fn sqlite_logs_become_chains() {
    let db = TempSqlite::new();
    let before = migrations_before("sqlite", 14, &db.dir.join("migrations")).await;
    write_before_the_chain!(sqlx::SqlitePool, &format!("{}?mode=rwc", db.url), before);
    logs_survive_the_chain(klaxon_store::open(&db.url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_logs_become_chains() {
    let Some(db) = TempPostgres::new().await else {
        return;
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("klaxon_pg_migrations_{}", std::process::id()));
    let before = migrations_before("postgres", 15, &dir).await;
    write_before_the_chain!(sqlx::PgPool, &db.url, before);
    logs_survive_the_chain(klaxon_store::open(&db.url).await.unwrap()).await;
    std::fs::remove_dir_all(&dir).ok();
    db.drop_database().await;
}

/// Users and contact methods in the schema before roles and verified numbers: `admin`
/// (no token left), alice (a revoked admin token and a responder token), bob (viewer
/// tokens), carol (no token); alice's SMS, voice and e-mail methods, all verified by a
/// delivered test message.
const PEOPLE_BEFORE_ROLES: [&str; 3] = [
    "INSERT INTO users (handle, name, email, created_at) VALUES \
     ('admin', 'A', 'a@x', 0), ('alice', 'A', 'a@x', 0), ('bob', 'B', 'b@x', 0), ('carol', 'C', 'c@x', 0)",
    "INSERT INTO api_tokens (name, scope, user_id, token_hash, created_at, revoked_at) VALUES \
     ('old', 'admin', 2, 'h1', 0, 5), ('laptop', 'responder', 2, 'h2', 0, NULL), \
     ('ro', 'viewer', 3, 'h3', 0, NULL), ('ro2', 'viewer', 3, 'h4', 0, NULL)",
    "INSERT INTO contact_methods (user_id, kind, address, verified_at, created_at) VALUES \
     (2, 'sms', '+15551110001', 7, 0), (2, 'voice', '+15551110001', 7, 0), (2, 'email', 'a@x', 7, 0)",
];

macro_rules! write_before_roles {
    ($pool:ty, $url:expr, $before:expr) => {{
        let pool = <$pool>::connect($url).await.unwrap();
        $before.run(&pool).await.unwrap();
        for sql in PEOPLE_BEFORE_ROLES {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }};
}

async fn people_get_roles_and_phones_need_verifying(store: Arc<dyn Store>) {
    use klaxon_domain::auth::Scope;
    let roles: Vec<(String, Scope)> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.handle.to_string(), u.role))
        .collect();
    let expected = [
        ("admin", Scope::Admin),
        ("alice", Scope::Responder),
        ("bob", Scope::Viewer),
        ("carol", Scope::Responder),
    ];
    let expected: Vec<(String, Scope)> =
        expected.iter().map(|(h, r)| (h.to_string(), *r)).collect();
    assert_eq!(roles, expected);
    let alice = klaxon_domain::Handle::parse("alice").unwrap();
    let verified: Vec<(&str, bool)> = store
        .contact_methods(&alice)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.kind.as_str(), m.verified))
        .collect();
    assert_eq!(
        verified,
        [("sms", false), ("voice", false), ("email", true)]
    );
    assert_eq!(
        store.number_verified_by("+15551110001").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn sqlite_people_get_roles() {
    let db = TempSqlite::new();
    let before = migrations_before("sqlite", 15, &db.dir.join("migrations")).await;
    write_before_roles!(sqlx::SqlitePool, &format!("{}?mode=rwc", db.url), before);
    people_get_roles_and_phones_need_verifying(klaxon_store::open(&db.url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_people_get_roles() {
    let Some(db) = TempPostgres::new().await else {
        return;
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("klaxon_pg_roles_migrations_{}", std::process::id()));
    let before = migrations_before("postgres", 17, &dir).await;
    write_before_roles!(sqlx::PgPool, &db.url, before);
    people_get_roles_and_phones_need_verifying(klaxon_store::open(&db.url).await.unwrap()).await;
    std::fs::remove_dir_all(&dir).ok();
    db.drop_database().await;
}

/// Incidents with every kind of event a report reads: a SEV2 acknowledged late (the
/// response target missed), a commander, customer and internal updates, an attached
/// alert, resolved; a drill; a declined one. Written by the store as Klaxon writes them.
async fn incidents_for_reports(store: &Arc<dyn Store>) -> Vec<klaxon_domain::IncidentNumber> {
    use jiff::SignedDuration;
    use klaxon_domain::incident::{self, Command, Context, DeclareInput, Source, UpdateAudience};
    use klaxon_domain::policy::Policy;
    use klaxon_domain::{Handle, Severity};

    let policy = Policy::builtin();
    let start = klaxon_domain::time::to_millis_precision(jiff::Timestamp::now());
    let ctx = |at| Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Api,
        now: at,
        policy: &policy,
        link_base: None,
    };
    let mut numbers = vec![];
    for (title, severity, drill) in [
        ("API down", 2, false),
        ("practice", 1, true),
        ("no", 3, false),
    ] {
        let input = DeclareInput {
            title: title.into(),
            severity: Some(Severity::new(severity).unwrap()),
            service: Some("api".into()),
            drill,
            ..Default::default()
        };
        let events = incident::declare(&input, &ctx(start)).unwrap();
        let slug = incident::slug_base(title, start, policy.time_zone.zone());
        let declared = klaxon_store::Declaration::new(&slug, events, &Default::default()).unwrap();
        numbers.push(store.declare(declared).await.unwrap().number);
    }
    let late = start + SignedDuration::from_hours(2);
    let mut customer = incident::StatusUpdateInput::new(incident::UpdateKind::Update);
    customer.audience = UpdateAudience::Customer;
    customer.status = Some("Investigating".into());
    let mut internal = incident::StatusUpdateInput::new(incident::UpdateKind::Update);
    internal.status = Some("Rolling back \"it\"".into());
    let commands = [
        (numbers[0], Command::Acknowledge { at: None }),
        (
            numbers[0],
            Command::Assign {
                role: incident::Role::Commander,
                user: Handle::parse("alice").unwrap(),
            },
        ),
        (numbers[0], Command::PostUpdate(customer)),
        (numbers[0], Command::PostUpdate(internal)),
        (
            numbers[0],
            Command::Resolve {
                root_cause: None,
                fix: None,
                at: None,
            },
        ),
        (numbers[1], Command::Acknowledge { at: None }),
        (numbers[2], Command::Decline { reason: None }),
    ];
    for (number, command) in commands {
        let before = store.incident(number).await.unwrap();
        let events = incident::decide(&before, &command, &ctx(late)).unwrap();
        let change = klaxon_store::Change::new(&before, events, &Default::default());
        store.commit(std::slice::from_ref(&change)).await.unwrap();
    }
    let before = store.incident(numbers[0]).await.unwrap();
    let attached = incident::TimelineEvent {
        seq: before.version + 1,
        kind: incident::EventKind::AlertAttached {
            dedup_key: "disk \"full\" db1".into(),
            summary: "disk full".into(),
            severity: AlertSeverity::Critical,
        },
        actor: "klaxon".into(),
        source: Source::Engine,
        recorded_at: late,
        occurred_at: None,
    };
    let change = klaxon_store::Change::new(&before, vec![attached], &Default::default());
    store.commit(&[change]).await.unwrap();
    numbers
}

/// The report facts the store reads are the domain's facts of each incident, and the
/// migration that added them fills in the same for incidents written before it: the
/// columns are emptied and its `UPDATE` run again.
async fn report_facts_are_filled_in(store: Arc<dyn Store>, url: &str, backend: &str, file: &str) {
    let numbers = incidents_for_reports(&store).await;
    let filter = klaxon_store::FactsFilter {
        since: jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1),
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(3),
        severity: None,
        service: None,
        viewer: None,
    };
    let written = store.incident_facts(&filter).await.unwrap();
    assert_eq!(written.len(), numbers.len());
    for (facts, number) in written.iter().zip(&numbers) {
        let incident = store.incident(*number).await.unwrap();
        let events = store.timeline(*number).await.unwrap();
        let expected = klaxon_domain::metrics::IncidentFacts::of(&incident, &events);
        assert_eq!(facts, &expected, "incident {number}");
    }
    assert!(written[0].response_missed && !written[0].roles.is_empty());
    assert_eq!(written[0].updates.len(), 2);
    assert_eq!(written[0].dedup_keys, ["disk \"full\" db1"]);

    let migration = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend)
            .join(file),
    )
    .unwrap();
    let fill = &migration[migration.find("UPDATE incidents SET").unwrap()..];
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query("UPDATE incidents SET facts = '', fact_events = ''")
        .execute(&pool)
        .await
        .unwrap();
    assert!(store.incident_facts(&filter).await.is_err(), "emptied");
    sqlx::query(fill).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(store.incident_facts(&filter).await.unwrap(), written);
}

#[tokio::test]
async fn sqlite_report_facts_are_filled_in() {
    let db = TempSqlite::new();
    let store = klaxon_store::open(&db.url).await.unwrap();
    report_facts_are_filled_in(store, &db.url, "sqlite", "0021_report_facts.sql").await;
}

#[tokio::test]
async fn postgres_report_facts_are_filled_in() {
    let Some(db) = TempPostgres::new().await else {
        return;
    };
    let store = klaxon_store::open(&db.url).await.unwrap();
    report_facts_are_filled_in(store, &db.url, "postgres", "0023_report_facts.sql").await;
    db.drop_database().await;
}
