//! What `klaxon report --since 365d` costs over a year of incidents, against the same
//! figures computed by one plain SQL query over the incidents table, in the same run.
//!
//! The server runs in process on a fresh (or an already seeded) database. Seeding
//! writes `--incidents` incidents (100,000 by default) declared over the last year,
//! each with its whole life decided by the domain as the API would (declared by a
//! person or opened by an alert, paged, acknowledged — sometimes after the response
//! target —, a commander, internal and customer status updates, notes, mitigated,
//! resolved, closed, a review opened for SEV1/2; some drills, declined or still open)
//! and stored through the store's declaration path, many at once. The jobs those
//! events would have started are left out: a year-old history has no pending work.
//!
//! Then, `--runs` times each, taking turns:
//! - **report**: `GET /api/v1/reports?since=365d` through the client (what
//!   `klaxon report --since 365d` sends), request sent to report parsed;
//! - **facts** and **compute**: the same report's two halves in process (the store's
//!   read, the domain's metrics), to see where the time goes;
//! - **baseline**: one SQL statement over the incidents table through sqlx (counts by
//!   severity, MTTA/MTTM/MTTR median and p90 from the projections' timestamps), whose
//!   figures must equal the report's;
//! - with `--cli PATH`, the command itself (`PATH report --since 365d`, output thrown
//!   away).
//!
//! ```text
//! cargo build --profile dist -p klaxon -p klaxon-bench
//! ./target/dist/klaxon-bench-reports [--sqlite PATH] [--incidents 100000] [--runs 10] [--cli target/dist/klaxon]
//! createdb klaxon_bench_reports
//! ./target/dist/klaxon-bench-reports --postgres postgres://postgres@127.0.0.1:5432/klaxon_bench_reports
//! ```
//! A database that already holds incidents is not seeded again. Besides wall-clock
//! times, each figure has its CPU time: this process's (server, client and, on SQLite,
//! the database) plus, on PostgreSQL, its server processes'. On a shared machine the
//! wall-clock times carry the queueing; the CPU times much less.
#![forbid(unsafe_code)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use klaxon_client::{Client, ReportWindow};
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    self, Command, Context, Declaration, DeclareInput, EventKind, Evidence, Incident,
    MitigationStrategy, Role, Source, StatusUpdateInput, TimelineEvent, UpdateAudience, UpdateKind,
};
use klaxon_domain::metrics::Report;
use klaxon_domain::paging::{ContactKind, Outlets};
use klaxon_domain::policy::Policy;
use klaxon_domain::service::{NewService, ServiceName};
use klaxon_domain::{Handle, IncidentNumber, Severity};
use klaxon_server::{Clock, ServeConfig, SystemClock};
use klaxon_store::FactsFilter;
use sqlx::Row;

const TOKEN: &str = "klx_bench_bootstrap_token_0123456789";
const PEOPLE: [&str; 16] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil",
];
const SERVICES: [&str; 40] = [
    "api",
    "web",
    "checkout",
    "payments",
    "search",
    "auth",
    "db",
    "queue",
    "cdn",
    "mail",
    "billing",
    "mobile",
    "gateway",
    "ledger",
    "reports",
    "exports",
    "imports",
    "webhooks",
    "notifications",
    "scheduler",
    "storage",
    "cache",
    "dns",
    "vpn",
    "sso",
    "admin",
    "analytics",
    "pricing",
    "catalog",
    "inventory",
    "shipping",
    "returns",
    "support",
    "chat",
    "media",
    "thumbnails",
    "ml",
    "feeds",
    "ads",
    "status",
];
const SYMPTOMS: [&str; 24] = [
    "5xx rate above threshold",
    "p99 latency high",
    "error budget burning fast",
    "queue backlog growing",
    "disk almost full on primary",
    "certificate about to expire",
    "replication lag",
    "connection pool exhausted",
    "memory leak after deploy",
    "login failures",
    "timeouts to upstream",
    "elevated retries",
    "stale cache entries",
    "jobs stuck in pending",
    "webhook deliveries failing",
    "slow queries",
    "CPU throttling",
    "pods crash looping",
    "DNS resolution failures",
    "packet loss between zones",
    "emails delayed",
    "search results missing",
    "payments declined",
    "uploads failing",
];
const PLACES: [&str; 12] = [
    "eu west",
    "eu central",
    "us east",
    "us west",
    "ap south",
    "ap northeast",
    "canary",
    "blue fleet",
    "green fleet",
    "batch tier",
    "edge",
    "internal",
];
const CAUSES: [&str; 10] = [
    "",
    " after deploy",
    " after config change",
    " after failover",
    " during migration",
    " under peak load",
    " after certificate rotation",
    " after scaling down",
    " after dependency upgrade",
    " during maintenance",
];
const CHECKS: [&str; 20] = [
    "http_5xx",
    "latency_p99",
    "disk",
    "memory",
    "cpu",
    "queue_depth",
    "replication",
    "cert_expiry",
    "pool",
    "restarts",
    "dns",
    "tls",
    "heartbeat",
    "error_rate",
    "saturation",
    "backlog",
    "oom",
    "gc_pause",
    "throttle",
    "probe",
];

/// A small, seeded generator: the same database for the same `--incidents`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// In `[lo, hi]`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
    /// Mostly short, sometimes long: `lo` to `hi` seconds, skewed towards `lo`.
    fn skewed(&mut self, lo: i64, hi: i64) -> i64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        lo + ((hi - lo) as f64 * u * u * u) as i64
    }
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

/// One incident's life, decided event by event as the API and the engine would have.
struct Life<'a> {
    policy: &'a Policy,
    now: Timestamp,
    incident: Incident,
    events: Vec<TimelineEvent>,
}

impl<'a> Life<'a> {
    fn ctx(&self, actor: &str, source: Source, at: Timestamp) -> Context<'a> {
        Context {
            actor: Handle::parse(actor).unwrap(),
            source,
            now: at,
            policy: self.policy,
            link_base: None,
        }
    }

    fn add(&mut self, events: Vec<TimelineEvent>) {
        for e in &events {
            self.incident.apply(e);
        }
        self.events.extend(events);
    }

    /// `command` by `actor` at `at`, unless `at` is still to come.
    fn then(&mut self, actor: &str, at: Timestamp, command: Command) -> bool {
        if at >= self.now {
            return false;
        }
        let ctx = self.ctx(actor, Source::Web, at);
        let events = incident::decide(&self.incident, &command, &ctx)
            .unwrap_or_else(|e| panic!("{command:?} on {:?}: {e}", self.incident.status));
        self.add(events);
        true
    }

    /// What the engine recorded at `at` (pages, notifications, the review's opening).
    fn engine(&mut self, at: Timestamp, kinds: Vec<EventKind>) {
        if at >= self.now {
            return;
        }
        let ctx = self.ctx("klaxon", Source::Engine, at);
        let events = incident::record(&self.incident, kinds, &ctx).unwrap();
        self.add(events);
    }
}

/// The declaration of incident `i` of `n`, declared in the year before `now`, with
/// everything that happened to it until `now`.
fn life(i: usize, n: usize, rng: &mut Rng, policy: &Policy, now: Timestamp) -> Declaration {
    let year = 365 * 86_400 - 7_200;
    // Whole seconds, spread evenly over the year with some jitter.
    let offset = (i as i64 * year / n as i64 + rng.range(0, year / n as i64)).min(year);
    let declared = Timestamp::from_second(now.as_second() - year - 3_600 + offset).unwrap();
    let severity = match rng.range(0, 99) {
        0..=2 => 1,
        3..=17 => 2,
        18..=59 => 3,
        _ => 4,
    };
    let severity = Severity::new(severity).unwrap();
    let service = *rng.pick(&SERVICES);
    let commander = *rng.pick(&PEOPLE);
    let drill = rng.chance(0.02);
    let declined = !drill && rng.chance(0.02);
    let customer_facing = rng.chance(if severity.level() <= 2 { 0.35 } else { 0.08 });
    let from_alert = !drill && rng.chance(0.35);
    let alert_key =
        |rng: &mut Rng| format!("{service}/{}/host-{}", rng.pick(&CHECKS), rng.range(1, 30));
    let start_ctx = Context {
        actor: Handle::parse(if from_alert { "klaxon" } else { commander }).unwrap(),
        source: if from_alert {
            Source::Alert
        } else {
            Source::Web
        },
        now: declared,
        policy,
        link_base: None,
    };
    let events = if from_alert {
        let key = alert_key(rng);
        let mut alert = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
        alert.summary = Some(format!(
            "{service}: {} in {}",
            rng.pick(&SYMPTOMS),
            rng.pick(&PLACES)
        ));
        alert.dedup_key = Some(key.clone());
        incident::declare_from_alert(service, &alert, &key, severity, &start_ctx).unwrap()
    } else {
        let input = DeclareInput {
            title: format!(
                "{service}: {} in {}{}",
                rng.pick(&SYMPTOMS),
                rng.pick(&PLACES),
                rng.pick(&CAUSES)
            ),
            severity: Some(severity),
            service: Some(service.into()),
            summary: Some(format!(
                "Seen on the {service} dashboards; {} customers report it.",
                rng.range(1, 40)
            )),
            customer_facing,
            drill,
            restricted: rng.chance(0.01),
            commander: rng.chance(0.85).then(|| Handle::parse(commander).unwrap()),
            ..Default::default()
        };
        incident::declare(&input, &start_ctx).unwrap()
    };
    let slug = incident::slug_base(
        &match &events[0].kind {
            EventKind::Declared { title, .. } => title.clone(),
            _ => unreachable!("a declaration comes first"),
        },
        declared,
        policy.time_zone.zone(),
    );
    let mut l = Life {
        policy,
        now,
        incident: Incident::replay(IncidentNumber(0), &slug, &events).unwrap(),
        events,
    };
    let oncall = *rng.pick(&PEOPLE);
    let mut t = declared + secs(rng.range(1, 20));
    if !drill {
        l.engine(
            t,
            vec![EventKind::Paged {
                round: 0,
                step: 0,
                users: vec![oncall.into()],
                urgency: "high".into(),
            }],
        );
        l.engine(
            t + secs(1),
            vec![EventKind::Notified {
                user: oncall.into(),
                method: if rng.chance(0.5) {
                    ContactKind::Sms
                } else {
                    ContactKind::Voice
                },
                attempt: 1,
            }],
        );
    }
    if declined {
        t += secs(rng.range(120, 1_800));
        l.then(
            oncall,
            t,
            Command::Decline {
                reason: Some("a false alarm: the check was misconfigured".into()),
            },
        );
        return declaration(slug, l);
    }
    // Acknowledged: mostly within the target, sometimes after it.
    let target = match severity.level() {
        1 => 300,
        2 => 900,
        3 => 3_600,
        _ => 6 * 3_600,
    };
    t = declared
        + secs(if rng.chance(0.15) {
            rng.range(target, target * 4)
        } else {
            rng.skewed(30, target)
        });
    if !l.then(oncall, t, Command::Acknowledge { at: None }) {
        return declaration(slug, l);
    }
    if l.incident.roles.holder(Role::Commander).is_none() {
        t += secs(rng.range(10, 300));
        l.then(
            oncall,
            t,
            Command::Assign {
                role: Role::Commander,
                user: Handle::parse(commander).unwrap(),
            },
        );
    }
    if from_alert && rng.chance(0.25) {
        t += secs(rng.range(10, 600));
        let key = alert_key(rng);
        if t < now {
            let ctx = l.ctx("klaxon", Source::Alert, t);
            let attach = Command::AttachAlert {
                dedup_key: key,
                summary: format!("{service}: {}", rng.pick(&SYMPTOMS)),
                severity: AlertSeverity::Error,
            };
            let events = incident::decide(&l.incident, &attach, &ctx).unwrap();
            l.add(events);
        }
    }
    let cadence = match severity.level() {
        1 => 900,
        2 => 1_800,
        _ => 4 * 3_600,
    };
    let customer_cadence = cadence * 2;
    if customer_facing {
        let mut ack = StatusUpdateInput::new(UpdateKind::Detected);
        ack.audience = UpdateAudience::Customer;
        ack.impact = Some(format!("the {service} service"));
        t += secs(rng.range(60, 900));
        l.then(commander, t, Command::PostUpdate(ack));
    }
    let mitigate_after = match severity.level() {
        1 | 2 => rng.skewed(600, 6 * 3_600),
        _ => rng.skewed(1_200, 36 * 3_600),
    };
    let mitigate_at = t + secs(mitigate_after);
    let mut last_customer = t;
    // Internal updates on (or sometimes off) the cadence until mitigated, a customer
    // update now and then, notes and evidence along the way.
    while t < mitigate_at {
        t += secs(rng.range(cadence / 3, cadence + cadence / 5));
        if t >= mitigate_at {
            break;
        }
        let mut update = StatusUpdateInput::new(UpdateKind::Update);
        update.status = Some("Investigating".into());
        update.progress = Some(format!(
            "checked {} of the {service} hosts",
            rng.range(1, 30)
        ));
        update.next_steps = Some("compare the canary with the fleet".into());
        if !l.then(commander, t, Command::PostUpdate(update)) {
            return declaration(slug, l);
        }
        if customer_facing && t.duration_since(last_customer).as_secs() > customer_cadence / 2 {
            let mut update = StatusUpdateInput::new(UpdateKind::Update);
            update.audience = UpdateAudience::Customer;
            update.status = Some("We have identified the cause".into());
            update.impact = Some(format!("the {service} service"));
            l.then(commander, t + secs(30), Command::PostUpdate(update));
            last_customer = t;
        }
        if rng.chance(0.4) {
            let who = *rng.pick(&PEOPLE);
            l.then(
                who,
                t + secs(rng.range(40, 200)),
                Command::Note {
                    text: format!(
                        "checked {service}-{}: replication lag {} s, nothing in dmesg",
                        rng.range(1, 30),
                        rng.range(0, 9)
                    ),
                    at: None,
                },
            );
        }
        if rng.chance(0.1) {
            let who = *rng.pick(&PEOPLE);
            l.then(
                who,
                t + secs(rng.range(40, 200)),
                Command::AttachEvidence(Evidence::Text {
                    text: "ERROR upstream timed out after 30s\nWARN retrying request (attempt 2)\n\
                           ERROR pool exhausted: 64/64 connections busy"
                        .into(),
                }),
            );
        }
        t = l.incident.updated_at.max(t);
    }
    t = mitigate_at.max(l.incident.updated_at + secs(1));
    let mitigated = rng.chance(0.85)
        && l.then(
            commander,
            t,
            Command::Mitigate {
                strategy: *rng.pick(&MitigationStrategy::ALL),
                action: format!("rolled {service} back to the previous release"),
                at: None,
            },
        );
    if mitigated {
        let mut update = StatusUpdateInput::new(UpdateKind::Mitigated);
        update.action = Some("rolled back".into());
        if !l.then(commander, t + secs(60), Command::PostUpdate(update)) {
            return declaration(slug, l);
        }
        t += secs(60);
    }
    t += secs(if mitigated {
        rng.skewed(300, 86_400)
    } else {
        rng.skewed(600, 12 * 3_600)
    });
    let resolve = Command::Resolve {
        root_cause: Some(format!("a bad {service} configuration")),
        fix: Some("reverted it and added a check".into()),
        at: None,
    };
    if !l.then(commander, t, resolve) {
        return declaration(slug, l);
    }
    let resolved_at = t;
    if customer_facing {
        let mut update = StatusUpdateInput::new(UpdateKind::Resolved);
        update.audience = UpdateAudience::Customer;
        update.customer_impact = Some(format!("the {service} service"));
        l.then(commander, t + secs(120), Command::PostUpdate(update));
    }
    if severity.level() <= 2 {
        l.engine(
            resolved_at + secs(5),
            vec![EventKind::ReviewOpened {
                owner: Some(Handle::parse(commander).unwrap()),
                due_at: resolved_at + secs(48 * 3_600),
            }],
        );
    } else {
        l.then(commander, resolved_at + secs(86_400), Command::Close);
    }
    declaration(slug, l)
}

/// The declaration of a whole life, without the jobs it would have started.
fn declaration(slug: String, l: Life) -> Declaration {
    let mut d = Declaration::new(slug, l.events, &Outlets::default()).unwrap();
    d.jobs = Default::default();
    d
}

/// People, services and `n` incidents over the last year, declared `batch` at once so
/// that the group commit writes them together, in order of declaration.
async fn seed(admin: &Client, state: &klaxon_server::AppState, n: usize) {
    for name in PEOPLE {
        let user = NewUser {
            handle: Handle::parse(name).unwrap(),
            name: name.to_uppercase(),
            email: format!("{name}@example.com"),
            role: Some(Scope::Responder),
        };
        admin.create_user(&user).await.unwrap();
    }
    for name in SERVICES {
        let service = NewService {
            name: ServiceName::parse(name).unwrap(),
            description: format!("the {name} service"),
            owner_team: None,
            runbook_links: vec![],
            rules: Default::default(),
        };
        admin.create_service(&service).await.unwrap();
    }
    let policy = Policy::builtin();
    let now = SystemClock.now();
    let mut rng = Rng(20);
    let batch = 512;
    let mut i = 0;
    while i < n {
        let declarations: Vec<Declaration> = (i..(i + batch).min(n))
            .map(|k| life(k, n, &mut rng, &policy, now))
            .collect();
        i += declarations.len();
        // Submitted in order from one task: the writer numbers them in that order.
        let mut pending = Vec::with_capacity(declarations.len());
        for d in declarations {
            let store = state.store.clone();
            pending.push(tokio::spawn(async move { store.declare(d).await }));
            tokio::task::yield_now().await;
        }
        for p in pending {
            p.await.unwrap().unwrap();
        }
        if i % 10_000 < batch {
            eprintln!("seeded {i} incidents");
        }
    }
}

/// The figures the baseline computes: counts by severity and the three spreads.
#[derive(Debug, PartialEq, Default)]
struct Figures {
    by_severity: BTreeMap<i64, i64>,
    /// (samples, median, p90) for acknowledge, mitigate, resolve.
    spreads: BTreeMap<String, (i64, Option<i64>, Option<i64>)>,
}

impl Figures {
    fn of(r: &Report) -> Figures {
        let spread = |s: &klaxon_domain::metrics::Spread| {
            (s.samples as i64, s.median_seconds, s.p90_seconds)
        };
        Figures {
            by_severity: r
                .by_severity
                .iter()
                .filter(|s| s.count > 0)
                .map(|s| {
                    (
                        Severity::parse(&s.severity).unwrap().level().into(),
                        s.count as i64,
                    )
                })
                .collect(),
            spreads: [
                ("acknowledge", spread(&r.time_to_acknowledge)),
                ("mitigate", spread(&r.time_to_mitigate)),
                ("resolve", spread(&r.time_to_resolve)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        }
    }
}

/// The baseline: one statement over the incidents table, the timestamps taken out of
/// the stored projections by the database (on PostgreSQL each projection is parsed once,
/// as `jsonb`: parsing the text for each field cost three times as much; SQLite keeps
/// the last parse for the next `json_extract`), nearest-rank percentiles as the
/// report's.
fn baseline_sql(postgres: bool) -> String {
    let window = "declared_at >= $1 AND declared_at < $2 AND NOT drill \
                  AND status NOT IN ('declined', 'merged')";
    let (epoch, source): (fn(&str) -> String, String) = if postgres {
        (
            |f| format!("extract(epoch from (j->>'{f}')::timestamptz)"),
            // OFFSET 0 keeps the parse in the subquery, once per row.
            format!(
                "(SELECT severity, data::jsonb AS j FROM incidents WHERE {window} OFFSET 0) AS i"
            ),
        )
    } else {
        (
            |f| format!("unixepoch(json_extract(data, '$.{f}'), 'subsec')"),
            format!("incidents WHERE {}", window.replace('$', "?")),
        )
    };
    let spread = |name: &str, column: &str| {
        if postgres {
            format!(
                "SELECT '{name}', NULL::bigint, COUNT({column}), \
                 percentile_disc(0.5) WITHIN GROUP (ORDER BY {column}), \
                 percentile_disc(0.9) WITHIN GROUP (ORDER BY {column}) FROM f"
            )
        } else {
            format!(
                "SELECT '{name}', NULL, MAX(n), MAX(CASE WHEN r = (n + 1) / 2 THEN x END), \
                 MAX(CASE WHEN r = (9 * n + 9) / 10 THEN x END) \
                 FROM (SELECT {column} AS x, ROW_NUMBER() OVER (ORDER BY {column}) AS r, \
                 COUNT(*) OVER () AS n FROM f WHERE {column} IS NOT NULL)"
            )
        }
    };
    let seconds = |field: &str| {
        let x = format!("{} - {}", epoch(field), epoch("declared_at"));
        match postgres {
            true => format!(
                "CASE WHEN j->>'{field}' IS NOT NULL THEN GREATEST(trunc({x}), 0)::bigint END"
            ),
            false => format!("MAX(CAST({x} AS INTEGER), 0)"),
        }
    };
    format!(
        "WITH f AS (SELECT severity, {} AS tta, {} AS ttm, {} AS ttr FROM {source}) \
         SELECT 'count', severity, COUNT(*), NULL, NULL FROM f GROUP BY severity \
         UNION ALL {} UNION ALL {} UNION ALL {}",
        seconds("acknowledged_at"),
        seconds("mitigated_at"),
        seconds("resolved_at"),
        spread("acknowledge", "tta"),
        spread("mitigate", "ttm"),
        spread("resolve", "ttr"),
    )
}

async fn baseline(pool: &sqlx::AnyPool, sql: &str, since: Timestamp, until: Timestamp) -> Figures {
    let rows = sqlx::query(sql)
        .bind(since.as_millisecond())
        .bind(until.as_millisecond())
        .fetch_all(pool)
        .await
        .unwrap();
    let mut f = Figures::default();
    for row in rows {
        let k: String = row.get(0);
        let n: i64 = row.get(2);
        if k == "count" {
            f.by_severity.insert(row.get(1), n);
        } else {
            f.spreads.insert(k, (n, row.get(3), row.get(4)));
        }
    }
    f
}

/// CPU time (user + system) of process `pid` (`self` for this one), from `/proc`.
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are 14 and 15,
    // at 11 and 12 after it. The kernel counts 100 ticks a second.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// CPU time of this process, and with `postgres` of every PostgreSQL process.
fn cpu(postgres: bool) -> Duration {
    let mut total = cpu_of("self");
    if postgres {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if pid.bytes().all(|b| b.is_ascii_digit())
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "postgres")
            {
                total += cpu_of(&pid);
            }
        }
    }
    total
}

/// Wall-clock and CPU times of one kind of request.
#[derive(Default)]
struct Timed {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Timed {
    /// Runs `f`, noting its time and the CPU time spent meanwhile.
    async fn time<T>(&mut self, postgres: bool, f: impl std::future::Future<Output = T>) -> T {
        let (cpu0, started) = (cpu(postgres), Instant::now());
        let out = f.await;
        self.wall.push(started.elapsed());
        self.cpu.push(cpu(postgres).saturating_sub(cpu0));
        out
    }

    fn median(&self) -> (Duration, Duration) {
        let mid = |v: &[Duration]| {
            let mut v = v.to_vec();
            v.sort();
            v[v.len() / 2]
        };
        (mid(&self.wall), mid(&self.cpu))
    }

    /// Median, max and min wall-clock time, and the median CPU time, in ms.
    fn summary(&self) -> String {
        let mut wall = self.wall.clone();
        wall.sort();
        format!(
            "median={:.1}ms max={:.1}ms min={:.1}ms cpu_median={:.0}ms",
            ms(wall[wall.len() / 2]),
            ms(wall[wall.len() - 1]),
            ms(wall[0]),
            ms(self.median().1)
        )
    }
}

/// The machine's load average over the last minute.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_owned()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = arg("--incidents", "100000").parse().expect("--incidents N");
    let runs: usize = arg("--runs", "10").parse().expect("--runs N");
    let cli = std::env::args()
        .any(|a| a == "--cli")
        .then(|| arg("--cli", ""));
    let postgres = std::env::args()
        .any(|a| a == "--postgres")
        .then(|| arg("--postgres", ""));
    let (database_url, backend) = match &postgres {
        Some(url) => (url.clone(), "postgres"),
        None => {
            let default = std::env::temp_dir().join("klaxon-bench-reports.db");
            let path = arg("--sqlite", &default.display().to_string());
            (format!("sqlite://{path}"), "sqlite")
        }
    };
    let config = ServeConfig {
        database_url: database_url.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        policy: Policy::builtin(),
        bootstrap_token: Some(TOKEN.into()),
        public_url: None,
        ingest_rate_limit: None,
        channels: Default::default(),
        metrics_token: None,
        connections: Default::default(),
        status_page: Default::default(),
    };
    let server = klaxon_server::start(config, Arc::new(SystemClock))
        .await
        .unwrap();
    let url = format!("http://{}", server.addr);
    let admin = Client::new(url.clone(), TOKEN);
    let state = server.state.clone();

    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&database_url)
        .await
        .unwrap();
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(&pool)
        .await
        .unwrap();
    if held == 0 {
        let seeding = Instant::now();
        seed(&admin, &state, n).await;
        println!(
            "backend={backend} seeded {n} incidents in {:.1} s",
            seeding.elapsed().as_secs_f64()
        );
        if postgres.is_some() {
            sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        }
    }
    let (incidents, events): (i64, i64) = (
        sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
            .fetch_one(&pool)
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM incident_events")
            .fetch_one(&pool)
            .await
            .unwrap(),
    );
    let window = ReportWindow {
        since: Some("365d".into()),
        ..Default::default()
    };
    let report = admin.report(&window).await.unwrap();
    let json = serde_json::to_vec(&report).unwrap().len();
    println!(
        "backend={backend} incidents={incidents} events={events} counted={} drills={} recurring={} report_json_bytes={json}",
        report.count,
        report.drills,
        report.recurring.len()
    );
    let sql = baseline_sql(postgres.is_some());
    let base = baseline(&pool, &sql, report.since, report.until).await;
    assert_eq!(
        base,
        Figures::of(&report),
        "the baseline's figures are the report's"
    );
    println!("baseline figures equal the report's: {base:?}");

    let filter = |r: &Report| FactsFilter {
        since: r.since,
        until: r.until,
        severity: None,
        service: None,
        viewer: None,
    };
    let pg = postgres.is_some();
    let (mut full, mut facts_t, mut compute_t, mut base_t, mut cli_t) = Default::default();
    let load_before = load();
    for _ in 0..runs {
        let r = Timed::time(&mut full, pg, admin.report(&window))
            .await
            .unwrap();
        let facts = Timed::time(&mut facts_t, pg, state.store.incident_facts(&filter(&r)))
            .await
            .unwrap();
        let again = Timed::time(&mut compute_t, pg, async {
            klaxon_domain::metrics::report(&facts, &state.policy, r.since, r.until)
        })
        .await;
        assert_eq!(again, r, "the report in process is the one served");
        let b = Timed::time(&mut base_t, pg, baseline(&pool, &sql, r.since, r.until)).await;
        assert_eq!(b.by_severity, base.by_severity);
        if let Some(bin) = &cli {
            let status = Timed::time(
                &mut cli_t,
                pg,
                tokio::process::Command::new(bin)
                    .args(["report", "--since", "365d"])
                    .env("KLAXON_URL", &url)
                    .env("KLAXON_TOKEN", TOKEN)
                    .stdout(std::process::Stdio::null())
                    .status(),
            )
            .await
            .unwrap();
            assert!(status.success(), "klaxon report failed");
        }
    }
    let (full_median, full_cpu) = full.median();
    let (base_median, base_cpu) = base_t.median();
    println!("LOAD before={load_before} after={}", load());
    println!("RESULT backend={backend} what=report   {}", full.summary());
    println!(
        "RESULT backend={backend} what=facts    {}",
        facts_t.summary()
    );
    println!(
        "RESULT backend={backend} what=compute  {}",
        compute_t.summary()
    );
    println!(
        "RESULT backend={backend} what=baseline {}",
        base_t.summary()
    );
    if !cli_t.wall.is_empty() {
        println!("RESULT backend={backend} what=cli      {}", cli_t.summary());
    }
    println!(
        "RATIO backend={backend} report/baseline median={:.2} cpu={:.2}",
        full_median.as_secs_f64() / base_median.as_secs_f64(),
        full_cpu.as_secs_f64() / base_cpu.as_secs_f64().max(1e-3)
    );
    server.stop().await.unwrap();
}
