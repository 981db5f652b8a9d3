//! The paging benchmark, against a fake Twilio in this process that notes when
//! each SMS arrives:
//!
//! 1. **Alert to page**: with `--open` incidents already open (each paged once), sends
//!    `--alerts` more critical alerts one at a time through the Events API and measures,
//!    for each, the time from its 202 to the first SMS request about its incident.
//! 2. **A minute of escalations**: `--due` escalation jobs for as many incidents, all due
//!    at the same instant; how long after that instant the last of them has fired (its
//!    page requested from Twilio).
//!
//! ```text
//! cargo run --release -p klaxon-bench --bin klaxon-bench-paging -- [--postgres URL] [--open 1000] [--alerts 300] [--due 10000] [--lead 30]
//! ```
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use jiff::SignedDuration;
use klaxon_client::Client;
use klaxon_domain::api::NewUser;
use klaxon_domain::incident::{self, Context, Declaration, DeclareInput, Source};
use klaxon_domain::paging::{
    ContactKind, EscalateJob, EscalationStep, NewContactMethod, NewEscalationPolicy,
    NewNotificationRule, Target, Urgency,
};
use klaxon_domain::policy::Policy;
use klaxon_domain::service::{AlertRules, NewService, ServiceName};
use klaxon_domain::Handle;
use klaxon_server::{ChannelConfig, Clock, ServeConfig, SystemClock, TwilioConfig};

const TOKEN: &str = "klx_bench_bootstrap_token_0123456789";

/// SMS arrivals by the text after the subject's `]`: the incident's title.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn sms(
    State(arrivals): State<Arrivals>,
    body: Bytes,
) -> (axum::http::StatusCode, Json<serde_json::Value>) {
    let now = Instant::now();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let text = form
        .iter()
        .find(|(k, _)| k == "Body")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let title = text
        .split("] ")
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned();
    arrivals.lock().unwrap().entry(title).or_insert(now);
    (
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({"sid": "SMbench", "status": "queued"})),
    )
}

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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let open: usize = arg("--open", "1000").parse().expect("--open N");
    let alerts: usize = arg("--alerts", "300").parse().expect("--alerts N");
    let due: usize = arg("--due", "10000").parse().expect("--due N");
    let postgres = std::env::args()
        .any(|a| a == "--postgres")
        .then(|| arg("--postgres", ""));

    let arrivals: Arrivals = Arc::default();
    let fake = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_url = format!("http://{}", fake.local_addr().unwrap());
    let app = Router::new()
        .route("/2010-04-01/Accounts/ACbench/Messages.json", post(sms))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(fake, app).await });

    let dir = std::env::temp_dir().join(format!("klaxon-bench-paging-{}", std::process::id()));
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
        public_url: Some("https://klaxon.example.com".into()),
        ingest_rate_limit: None,
        channels: ChannelConfig {
            twilio: Some(TwilioConfig {
                base_url: format!("{fake_url}/2010-04-01"),
                account_sid: "ACbench".into(),
                auth_token: "bench".into(),
                from: "+15550000000".into(),
            }),
            ..Default::default()
        },
        metrics_token: None,
        connections: Default::default(),
        status_page: Default::default(),
    };
    let server = klaxon_server::start(config, Arc::new(SystemClock))
        .await
        .unwrap();
    let url = format!("http://{}", server.addr);
    let client = Client::new(url.clone(), TOKEN);

    // alice is paged by SMS at once; the policy pages her and waits an hour.
    let alice = Handle::parse("alice").unwrap();
    client
        .create_user(&NewUser {
            handle: alice.clone(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
            role: None,
        })
        .await
        .unwrap();
    let method = client
        .add_contact_method(
            &alice,
            &NewContactMethod {
                kind: ContactKind::Sms,
                address: "+15551110001".into(),
                label: None,
            },
        )
        .await
        .unwrap();
    client
        .add_notification_rule(
            &alice,
            &NewNotificationRule {
                urgency: Urgency::High,
                contact_method: method.id,
                delay_minutes: 0,
            },
        )
        .await
        .unwrap();
    let policy = NewEscalationPolicy {
        name: "bench".into(),
        description: String::new(),
        steps: vec![EscalationStep {
            targets: vec![Target::User(alice.clone())],
            delay_minutes: 60,
        }],
        repeat: 0,
        ack_timeout_minutes: None,
    };
    client.create_escalation_policy(&policy).await.unwrap();
    let service = NewService {
        name: ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            escalation_policy: Some("bench".into()),
            ..Default::default()
        },
    };
    let key = client
        .create_service(&service)
        .await
        .unwrap()
        .integration_key
        .unwrap();
    let http = reqwest::Client::new();
    let send = |title: String| {
        let body = serde_json::json!({"routing_key": key, "event_action": "trigger", "dedup_key": title,
            "payload": {"summary": title, "source": "bench", "severity": "critical"}});
        http.post(format!("{url}/v2/enqueue")).json(&body).send()
    };
    let wait_for = |n: usize| {
        let arrivals = arrivals.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(600);
            while arrivals.lock().unwrap().len() < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    // 1. Open incidents, each paged once, then one alert at a time.
    for i in 0..open {
        assert_eq!(send(format!("open-{i}")).await.unwrap().status(), 202);
    }
    wait_for(open).await;
    let mut latencies = Vec::with_capacity(alerts);
    for i in 0..alerts {
        let title = format!("measured-{i}");
        assert_eq!(send(title.clone()).await.unwrap().status(), 202);
        let accepted = Instant::now();
        let deadline = accepted + Duration::from_secs(30);
        let arrived = loop {
            if let Some(at) = arrivals.lock().unwrap().get(&title).copied() {
                break at;
            }
            assert!(Instant::now() < deadline, "{title} was never paged");
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        latencies.push(arrived.saturating_duration_since(accepted));
    }
    latencies.sort();
    println!(
        "backend={backend} open_incidents={} alerts={alerts} alert_to_first_page_ms p50={:.1} p90={:.1} p99={:.1} max={:.1}",
        open + alerts,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );

    // 2. `due` incidents (drills: they start no escalation of their own), each with an
    //    escalation job due at the same instant.
    let clock = SystemClock;
    let workers = 32;
    let declares: Vec<_> = (0..workers)
        .map(|w| {
            let state = server.state.clone();
            let alice = alice.clone();
            tokio::spawn(async move {
                let policy = Policy::builtin();
                let mut numbers = vec![];
                for i in (w..due).step_by(workers) {
                    let input = DeclareInput {
                        title: format!("due-{i}"),
                        severity: Some(klaxon_domain::Severity::new(2).unwrap()),
                        service: Some("api".into()),
                        drill: true,
                        ..Default::default()
                    };
                    let ctx = Context {
                        actor: alice.clone(),
                        source: Source::Api,
                        now: SystemClock.now(),
                        policy: &policy,
                        link_base: None,
                    };
                    let events = incident::declare(&input, &ctx).unwrap();
                    let declaration =
                        Declaration::new(format!("due-{i}"), events, &state.outlets).unwrap();
                    numbers.push(state.store.declare(declaration).await.unwrap().number);
                }
                numbers
            })
        })
        .collect();
    let mut numbers = vec![];
    for d in declares {
        numbers.extend(d.await.unwrap());
    }
    let lead: i64 = arg("--lead", "30").parse().expect("--lead SECONDS");
    let fire_at = clock.now() + SignedDuration::from_secs(lead);
    let job = EscalateJob {
        generation: "bench".into(),
        round: 0,
        step: 0,
    }
    .planned(fire_at);
    let adds: Vec<_> = numbers
        .chunks(numbers.len().div_ceil(workers).max(1))
        .map(|chunk| {
            let state = server.state.clone();
            let (chunk, job) = (chunk.to_vec(), job.clone());
            tokio::spawn(async move {
                for n in chunk {
                    state
                        .store
                        .add_jobs(Some(n), std::slice::from_ref(&job), SystemClock.now())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for a in adds {
        a.await.unwrap();
    }
    let ahead = fire_at.duration_since(clock.now()).as_secs_f64();
    assert!(
        ahead > 0.0,
        "setting up {due} jobs took longer than the lead time; raise it"
    );
    let fire_instant = Instant::now() + Duration::from_secs_f64(ahead);
    let total = open + alerts + due;
    // When the last escalation step ran: no escalation job due any more. The backlog
    // is counted in SQL, so looking costs the engine little.
    let stepped = loop {
        let backlog = server.state.store.job_backlog(fire_at).await.unwrap();
        if !backlog
            .iter()
            .any(|b| b.kind == klaxon_domain::paging::JobKind::Escalate && b.due > 0)
        {
            break Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for(total).await;
    let last = arrivals.lock().unwrap().values().copied().max().unwrap();
    println!(
        "backend={backend} due_jobs={due} all_steps_ran_within_s={:.2} all_paged_within_s={:.2} (after their due time; {} pages received)",
        stepped.saturating_duration_since(fire_instant).as_secs_f64(),
        last.saturating_duration_since(fire_instant).as_secs_f64(),
        arrivals.lock().unwrap().len() - open - alerts,
    );
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
