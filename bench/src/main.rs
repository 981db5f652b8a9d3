//! Mutation throughput and latency of the incident API.
//!
//! Starts Klaxon in this process on a fresh database (SQLite in a temporary directory, or
//! PostgreSQL at the URL given), then runs `--connections` clients that each declare an
//! incident and post a status update to it, over HTTP, until `--mutations` requests
//! have been answered. Prints requests per second and the latency percentiles.
//!
//! Without `--rate` each client sends its next request as soon as the last is answered
//! (closed loop): that finds the most the server sustains, with latency inflated by
//! queueing at saturation. With `--rate R` the clients together send R requests per
//! second on a fixed schedule (open loop), and each latency counts from the moment the
//! request was due, so a server that falls behind is charged for the wait.
//!
//! ```text
//! cargo run --release -p klaxon-bench -- [--postgres URL] [--mutations N] [--connections C] [--rate R]
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use klaxon_client::Client;
use klaxon_domain::incident::{DeclareInput, StatusUpdateInput, UpdateKind};
use klaxon_domain::policy::Policy;
use klaxon_domain::Severity;
use klaxon_server::{ServeConfig, SystemClock};

const TOKEN: &str = "klx_bench_bootstrap_token_0123456789";

struct Options {
    postgres: Option<String>,
    mutations: usize,
    connections: usize,
    rate: Option<f64>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        postgres: None,
        mutations: 20_000,
        connections: 16,
        rate: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--postgres" => o.postgres = Some(value()?),
            "--mutations" => {
                o.mutations = value()?.parse().map_err(|e| format!("--mutations: {e}"))?
            }
            "--connections" => {
                o.connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            "--rate" => o.rate = Some(value()?.parse().map_err(|e| format!("--rate: {e}"))?),
            other => {
                return Err(format!(
                    "unknown option {other}; use --postgres URL, --mutations N, --connections C, --rate R"
                ))
            }
        }
    }
    Ok(o)
}

fn update() -> StatusUpdateInput {
    StatusUpdateInput {
        status: Some("Investigating".into()),
        progress: Some("Identified high memory usage in API pods".into()),
        next_steps: Some("Raise the memory limit".into()),
        eta: Some("10 minutes".into()),
        ..StatusUpdateInput::new(UpdateKind::Update)
    }
}

/// One client's share: declare, update, declare, update… recording each latency. With
/// a schedule `(offset, interval)`, request `i` is due at `offset + i * interval` after
/// the start; offsets spread the clients evenly so requests do not arrive in bursts.
async fn worker(
    client: Client,
    mutations: usize,
    schedule: Option<(Duration, Duration)>,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(mutations);
    let input = DeclareInput {
        title: "API returning 502 errors".into(),
        severity: Some(Severity::new(2).expect("valid")),
        ..Default::default()
    };
    let body = update();
    let mut current = None;
    let start = tokio::time::Instant::now();
    for i in 0..mutations {
        let started = match schedule {
            Some((offset, every)) => {
                let due = start + offset + every * i as u32;
                tokio::time::sleep_until(due).await;
                due.into_std()
            }
            None => Instant::now(),
        };
        match current.take().filter(|_| i % 2 == 1) {
            Some(n) => {
                client.post_update(n, &body).await.expect("update");
            }
            None => {
                current = Some(
                    client
                        .declare(&input)
                        .await
                        .expect("declare")
                        .incident
                        .number,
                )
            }
        }
        latencies.push(started.elapsed());
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("klaxon-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (database_url, backend) = match &o.postgres {
        Some(url) => (url.clone(), "postgres"),
        None => (
            format!("sqlite://{}", dir.join("bench.db").display()),
            "sqlite",
        ),
    };
    let config = ServeConfig {
        database_url,
        listen: "127.0.0.1:0".parse().expect("addr"),
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
        .expect("server starts");
    let url = format!("http://{}", server.addr);
    let per_worker = o.mutations / o.connections;
    let interval = o
        .rate
        .map(|r| Duration::from_secs_f64(o.connections as f64 / r));
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.connections)
        .map(|k| {
            let schedule = interval.map(|every| (every * k as u32 / o.connections as u32, every));
            tokio::spawn(worker(
                Client::new(url.clone(), TOKEN),
                per_worker,
                schedule,
            ))
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    println!(
        "backend={backend} connections={} rate={} mutations={} seconds={:.2} mutations_per_second={:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        o.connections,
        o.rate.map_or("max".to_owned(), |r| r.to_string()),
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.90).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    server.stop().await.expect("server stops");
    let _ = std::fs::remove_dir_all(&dir);
}
