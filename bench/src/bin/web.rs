//! What the web UI's two busiest pages cost, against the JSON API's list of the same
//! incidents, measured in the same run:
//!
//! - `GET /`: the dashboard, with 1,000 incidents open (it lists the newest 200 of
//!   them, its `BOARD_LIMIT`, plus alerts without an incident and who is on call);
//! - `GET /incidents/{n}`: an incident with a 5,000-event timeline, its first page;
//! - `GET /api/v1/incidents?open=true&limit=200`: the same 200 incidents as JSON.
//!
//! Each is requested as a browser would, with `Accept-Encoding: gzip` (`--identity`
//! asks for uncompressed answers), by a signed-in responder (a session cookie for the
//! pages, a token of the same person for the JSON), first by one client at a time, then
//! by `--clients` at once, the three taking turns in ten rounds. Prints p50/p99
//! latencies (request sent to body read), the CPU time this process (server and
//! client; not PostgreSQL's) spent per request, each page's ratio to the JSON list, and
//! the bytes of the dashboard and its CSS and scripts as sent.
//!
//! ```text
//! cargo run --release -p klaxon-bench --bin klaxon-bench-web -- [--postgres URL] [--requests 500] [--clients 4] [--identity]
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use klaxon_client::Client;
use klaxon_domain::api::{AckRequest, MitigateRequest, NewPassword, NewToken, NewUser};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    self, Command, Context, DeclareInput, Evidence, MitigationStrategy, Role, Source,
    StatusUpdateInput, UpdateKind,
};
use klaxon_domain::paging::{EscalationStep, NewEscalationPolicy};
use klaxon_domain::policy::Policy;
use klaxon_domain::service::{AlertRules, NewService, ServiceName};
use klaxon_domain::{Handle, IncidentNumber, Severity};
use klaxon_server::{Clock, ServeConfig, SystemClock};

const TOKEN: &str = "klx_bench_bootstrap_token_0123456789";
const PASSWORD: &str = "correct horse battery";
const OPEN: usize = 1000;
const LONG_TIMELINE: usize = 5000;
/// The dashboard's `BOARD_LIMIT`: the JSON list asks for as many.
const BOARD: usize = 200;
const PEOPLE: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];
const SERVICES: [&str; 12] = [
    "api", "web", "checkout", "payments", "search", "auth", "db", "queue", "cdn", "mail",
    "billing", "mobile",
];
const SYMPTOMS: [&str; 6] = [
    "5xx rate above 2%",
    "p99 latency over 800 ms",
    "error budget burning fast",
    "queue backlog growing",
    "disk 95% full on primary",
    "certificate expires in 3 days",
];

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time this process has used (user + system), from `/proc/self/stat`.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Field n is at n - 3 after the parenthesis; the kernel counts 100 ticks a second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One page or list, as the bench asks for it.
#[derive(Clone)]
struct Target {
    name: &'static str,
    url: String,
    /// `cookie` or `authorization` and its value.
    auth: (&'static str, String),
}

#[derive(Clone)]
struct Requester {
    http: reqwest::Client,
    encoding: &'static str,
}

impl Requester {
    /// The answer's body as sent (compressed if it was), and how long it took.
    async fn get(&self, t: &Target) -> (Vec<u8>, Option<String>, Duration) {
        let started = Instant::now();
        let r = self
            .http
            .get(&t.url)
            .header(t.auth.0, &t.auth.1)
            .header("accept-encoding", self.encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", t.url);
        let encoding = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.bytes().await.unwrap().to_vec();
        (body, encoding, started.elapsed())
    }
}

/// What a target took over all its rounds.
#[derive(Default)]
struct Figures {
    times: Vec<Duration>,
    elapsed: Duration,
    cpu: Duration,
}

impl Figures {
    fn p(&mut self, p: f64) -> Duration {
        self.times.sort();
        percentile(&self.times, p)
    }
}

/// `requests` requests of `t` by `clients` clients at once, added to `figures`.
async fn load(r: &Requester, t: &Target, requests: usize, clients: usize, figures: &mut Figures) {
    let cpu_before = cpu();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (r, t) = (r.clone(), t.clone());
            let mine = requests / clients + usize::from(c < requests % clients);
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(mine);
                for _ in 0..mine {
                    times.push(r.get(&t).await.2);
                }
                times
            })
        })
        .collect();
    for task in tasks {
        figures.times.extend(task.await.unwrap());
    }
    figures.elapsed += started.elapsed();
    figures.cpu += cpu().saturating_sub(cpu_before);
}

fn context<'a>(policy: &'a Policy, actor: &str, now: Timestamp) -> Context<'a> {
    Context {
        actor: Handle::parse(actor).unwrap(),
        source: Source::Web,
        now,
        policy,
        link_base: None,
    }
}

/// People, services with escalation policies, 1,000 open incidents (all severities and
/// open states, most with a commander) through the API, the last of them with 5,000
/// events written through the store in batches. Answers the long incident's number.
async fn seed(admin: &Client, state: &klaxon_server::AppState) -> IncidentNumber {
    for name in PEOPLE {
        let user = NewUser {
            handle: Handle::parse(name).unwrap(),
            name: name.to_uppercase(),
            email: format!("{name}@example.com"),
            role: Some(Scope::Responder),
        };
        admin.create_user(&user).await.unwrap();
    }
    for (i, team) in ["core", "edge", "data", "money"].iter().enumerate() {
        let policy = NewEscalationPolicy {
            name: (*team).into(),
            description: String::new(),
            steps: vec![EscalationStep {
                targets: vec![
                    klaxon_domain::paging::Target::User(Handle::parse(PEOPLE[2 * i]).unwrap()),
                    klaxon_domain::paging::Target::User(Handle::parse(PEOPLE[2 * i + 1]).unwrap()),
                ],
                delay_minutes: 60,
            }],
            repeat: 0,
            ack_timeout_minutes: None,
        };
        admin.create_escalation_policy(&policy).await.unwrap();
    }
    for (i, name) in SERVICES.iter().enumerate() {
        let service = NewService {
            name: ServiceName::parse(name).unwrap(),
            description: format!("the {name} service"),
            owner_team: None,
            runbook_links: vec![],
            rules: AlertRules {
                escalation_policy: Some(["core", "edge", "data", "money"][i % 4].into()),
                ..Default::default()
            },
        };
        admin.create_service(&service).await.unwrap();
    }
    // Severities as they come: few SEV1s, mostly SEV3 and SEV4.
    let severity = |i: usize| match i % 20 {
        0 => 1,
        1..=4 => 2,
        5..=13 => 3,
        _ => 4,
    };
    let writers = 4;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let admin = admin.clone();
            tokio::spawn(async move {
                for i in (w..OPEN).step_by(writers) {
                    let service = SERVICES[i % SERVICES.len()];
                    let input = DeclareInput {
                        title: format!("{service}: {} ({i})", SYMPTOMS[i % SYMPTOMS.len()]),
                        severity: Some(Severity::new(severity(i)).unwrap()),
                        service: Some(service.into()),
                        summary: Some(format!("Seen from the {service} dashboards at {i} past.")),
                        customer_facing: i % 3 == 0,
                        restricted: i % 97 == 0,
                        commander: (i % 7 != 0)
                            .then(|| Handle::parse(PEOPLE[i % PEOPLE.len()]).unwrap()),
                        ..Default::default()
                    };
                    let n = admin.declare(&input).await.unwrap().incident.number;
                    if i % 5 >= 2 {
                        admin.ack(n, &AckRequest { at: None }).await.unwrap();
                    }
                    if i % 5 == 4 {
                        let mitigation = MitigateRequest {
                            strategy: MitigationStrategy::Rollback,
                            action: format!("rolled {service} back to the previous release"),
                            at: None,
                        };
                        admin.mitigate(n, &mitigation).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // The newest incident gets the long timeline, so the dashboard lists it too.
    let long = admin
        .list_incidents(&klaxon_domain::api::IncidentQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .incidents[0]
        .incident
        .number;
    let policy = Policy::builtin();
    let mut current = state.store.incident(long).await.unwrap();
    let start = SystemClock.now() - SignedDuration::from_secs(LONG_TIMELINE as i64 * 2);
    let mut batch = vec![];
    let mut k = 0usize;
    while (current.version as usize) < LONG_TIMELINE {
        k += 1;
        let person = PEOPLE[k % PEOPLE.len()];
        let command = match k % 20 {
            12..=14 => {
                let mut update = StatusUpdateInput::new(UpdateKind::Update);
                update.status = Some(format!("Still investigating; step {k} of the runbook"));
                update.impact = Some("About 3% of checkout requests fail".into());
                update.next_steps = Some("Compare the canary with the fleet".into());
                Command::PostUpdate(update)
            }
            15 => Command::AttachEvidence(Evidence::Text {
                text: format!(
                    "2026-12-06T10:{:02}:00Z ERROR upstream timed out after 30s\n\
                     2026-12-06T10:{:02}:01Z WARN retrying request {k} (attempt 2)\n\
                     2026-12-06T10:{:02}:03Z ERROR pool exhausted: 64/64 connections busy",
                    k % 60,
                    k % 60,
                    k % 60
                ),
            }),
            16 => Command::Assign {
                role: Role::Investigator,
                user: Handle::parse(person).unwrap(),
            },
            17 => Command::Relieve {
                role: Role::Investigator,
                user: Handle::parse(PEOPLE[(k - 1) % PEOPLE.len()]).unwrap(),
            },
            18 => Command::ChangeSeverity {
                severity: Severity::new(1 + (current.severity.level() as i64 % 2)).unwrap(),
                reason: "impact reassessed against the severity table".into(),
            },
            _ => Command::Note {
                text: format!(
                    "{person}: checked host db-{} — replication lag {} s, nothing unusual in dmesg",
                    k % 16,
                    k % 9
                ),
                at: None,
            },
        };
        let at = start + SignedDuration::from_secs(k as i64);
        let events = incident::decide(&current, &command, &context(&policy, person, at))
            .unwrap_or_else(|e| panic!("event {k}: {e}"));
        let change = klaxon_domain::incident::Change::new(&current, events, &state.outlets);
        current = change.incident.clone();
        batch.push(change);
        if batch.len() == 100 {
            state.store.commit(&batch).await.unwrap();
            batch.clear();
        }
    }
    if !batch.is_empty() {
        state.store.commit(&batch).await.unwrap();
    }
    long
}

/// Signs `handle` in through the login form: the session cookie.
async fn sign_in(http: &reqwest::Client, url: &str, handle: &str) -> String {
    let form = http.get(format!("{url}/login")).send().await.unwrap();
    let login_cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("klaxon_login="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let at = html.find("name=\"login_csrf\" value=\"").unwrap() + 25;
    let token = &html[at..at + html[at..].find('"').unwrap()];
    let answer = http
        .post(format!("{url}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("handle", handle),
            ("password", PASSWORD),
            ("login_csrf", token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "signing in");
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("klaxon_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let requests: usize = arg("--requests", "500").parse().expect("--requests N");
    let clients: usize = arg("--clients", "4").parse().expect("--clients N");
    let encoding = if std::env::args().any(|a| a == "--identity") {
        "identity"
    } else {
        "gzip"
    };
    let postgres = std::env::args()
        .any(|a| a == "--postgres")
        .then(|| arg("--postgres", ""));
    let dir = std::env::temp_dir().join(format!("klaxon-bench-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (database_url, backend) = match &postgres {
        Some(url) => (url.clone(), "postgres"),
        None => (
            format!("sqlite://{}", dir.join("bench.db").display()),
            "sqlite",
        ),
    };
    let config = ServeConfig {
        database_url,
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

    let seeding = Instant::now();
    let long = seed(&admin, &server.state).await;
    // Paging the incidents' first steps is engine work: let it finish first.
    loop {
        let backlog = server
            .state
            .store
            .job_backlog(SystemClock.now())
            .await
            .unwrap();
        if backlog.iter().all(|b| b.due == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let alice = Handle::parse("alice").unwrap();
    admin
        .set_password(
            &alice,
            &NewPassword {
                password: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    let token = admin
        .create_token(&NewToken {
            name: "bench".into(),
            scope: Scope::Responder,
            user: Some(alice.clone()),
        })
        .await
        .unwrap()
        .token;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = sign_in(&http, &url, "alice").await;
    println!(
        "backend={backend} seeded {OPEN} open incidents, #{} with {LONG_TIMELINE} events, in {:.1} s; encoding={encoding}",
        long.0,
        seeding.elapsed().as_secs_f64()
    );

    let page = |name, path: String| Target {
        name,
        url: format!("{url}{path}"),
        auth: ("cookie", cookie.clone()),
    };
    let targets = [
        page("dashboard", "/".into()),
        page("incident", format!("/incidents/{}", long.0)),
        Target {
            name: "json_list",
            url: format!("{url}/api/v1/incidents?open=true&limit={BOARD}"),
            auth: ("authorization", format!("Bearer {token}")),
        },
    ];
    let r = Requester { http, encoding };

    // What each answers, and the dashboard's transfer with its assets.
    let (board, board_encoding, _) = r.get(&targets[0]).await;
    let (list, _, _) = r.get(&targets[2]).await;
    let listed = r
        .http
        .get(&targets[2].url)
        .header("authorization", &targets[2].auth.1)
        .send()
        .await
        .unwrap()
        .json::<klaxon_domain::api::IncidentPage>()
        .await
        .unwrap()
        .incidents
        .len();
    let (incident_page, _, _) = r.get(&targets[1]).await;
    let html = r
        .http
        .get(&targets[0].url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = html.matches("<tr class=\"sev").count();
    let mut assets = 0;
    let mut assets_plain = 0;
    for part in html.split('"').filter(|s| s.starts_with("/static/")) {
        let asset = Target {
            name: "asset",
            url: format!("{url}{part}"),
            auth: ("cookie", cookie.clone()),
        };
        assets += r.get(&asset).await.0.len();
        let plain = Requester {
            http: r.http.clone(),
            encoding: "identity",
        };
        assets_plain += plain.get(&asset).await.0.len();
    }
    println!(
        "backend={backend} dashboard: {rows} incident rows, html {} B ({}), html+css+js {} B as sent ({} B uncompressed); json_list: {listed} incidents, {} B as sent; incident page: {} B as sent",
        board.len(),
        board_encoding.as_deref().unwrap_or("identity"),
        board.len() + assets,
        html.len() + assets_plain,
        list.len(),
        incident_page.len(),
    );

    for t in &targets {
        for _ in 0..20 {
            r.get(t).await;
        }
    }
    // The targets take turns, a tenth of the requests at a time, so that a machine
    // that slows down meanwhile slows all three alike.
    const ROUNDS: usize = 10;
    for (phase, c) in [("sequential", 1), ("concurrent", clients)] {
        let mut figures: Vec<Figures> = targets.iter().map(|_| Figures::default()).collect();
        for _ in 0..ROUNDS {
            for (t, f) in targets.iter().zip(&mut figures) {
                load(&r, t, requests.div_ceil(ROUNDS), c, f).await;
            }
        }
        let (json50, json99) = (ms(figures[2].p(0.50)), ms(figures[2].p(0.99)));
        let json_cpu = figures[2].cpu.as_secs_f64() / figures[2].times.len() as f64;
        for (t, f) in targets.iter().zip(&mut figures) {
            let n = f.times.len() as f64;
            let cpu_per_request = f.cpu.as_secs_f64() / n;
            println!(
                "backend={backend} {phase} clients={c} {:<9} p50={:.2}ms p99={:.2}ms req/s={:.0} cpu/req={:.0}us ratio_to_json p50={:.2} p99={:.2} cpu={:.2}",
                t.name,
                ms(f.p(0.50)),
                ms(f.p(0.99)),
                n / f.elapsed.as_secs_f64(),
                cpu_per_request * 1e6,
                ms(f.p(0.50)) / json50,
                ms(f.p(0.99)) / json99,
                cpu_per_request / json_cpu,
            );
        }
    }
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
