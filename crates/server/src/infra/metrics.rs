//! Prometheus metrics: requests and their latency per route, incidents by status and
//! severity (read from the store at scrape time, drills left out), the alert inbox, and
//! the engine's jobs due and dead by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use std::sync::atomic::AtomicU64;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::metrics::{self, Kept};
use klaxon_domain::policy::Policy;
use klaxon_store::{FactsFilter, Store};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// A server-wide outlet (`events`, `teams`, `mattermost`) and what became of one
/// attempt: `delivered`, `failed` (will be retried) or `dead` (given up).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutletLabels {
    pub outlet: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
}

/// A time from declaration (`acknowledge`, `mitigate`, `resolve`) at a quantile.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TimeLabels {
    to: String,
    quantile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabels {
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AudienceLabels {
    audience: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IncidentLabels {
    status: String,
    severity: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    incidents: Family<IncidentLabels, Gauge>,
    inbox_depth: Gauge,
    jobs_due: Family<JobLabels, Gauge>,
    jobs_dead: Family<JobLabels, Gauge>,
    /// The report over the last 30 days (`klaxon report --since 30d`), as gauges.
    response_seconds: Family<TimeLabels, Gauge>,
    target_kept: Family<SeverityLabels, Gauge<f64, AtomicU64>>,
    cadence_kept: Family<AudienceLabels, Gauge<f64, AtomicU64>>,
    recurring: Gauge,
    /// Alert events applied from the inbox, and set aside after failing repeatedly.
    pub alert_events_applied: Counter,
    pub alert_events_failed: Counter,
    /// Attempts at the event webhook and shared rooms, by outlet and outcome.
    pub outlet_deliveries: Family<OutletLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("klaxon");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
        });
        let incidents = Family::<IncidentLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "incidents",
            "Incidents by status and severity, drills excluded",
            incidents.clone(),
        );
        let inbox_depth = Gauge::default();
        registry.register(
            "alert_inbox_depth",
            "Accepted alert events not yet applied, set-aside ones included",
            inbox_depth.clone(),
        );
        let jobs_due = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs_due",
            "Engine jobs due and not yet done, by kind: a number that stays up means the engine is behind",
            jobs_due.clone(),
        );
        let jobs_dead = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs_dead",
            "Engine jobs given up after their last attempt, by kind",
            jobs_dead.clone(),
        );
        let alert_events_applied = Counter::default();
        registry.register(
            "alert_events_applied",
            "Alert events applied from the inbox",
            alert_events_applied.clone(),
        );
        let alert_events_failed = Counter::default();
        registry.register(
            "alert_events_set_aside",
            "Alert events set aside after failing repeatedly (rows of the alert_events table with failed_at set)",
            alert_events_failed.clone(),
        );
        let outlet_deliveries = Family::<OutletLabels, Counter>::default();
        registry.register(
            "outlet_deliveries",
            "Deliveries to the event webhook and shared chat rooms by outcome \
             (dead: given up, the job stays dead in the jobs table)",
            outlet_deliveries.clone(),
        );
        let response_seconds = Family::<TimeLabels, Gauge>::default();
        registry.register(
            "incident_time_seconds",
            "Over the last 30 days: seconds from declaration to acknowledgement, mitigation and resolution, median and 90th percentile (drills, declined and merged incidents left out)",
            response_seconds.clone(),
        );
        let target_kept = Family::<SeverityLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "response_target_kept_ratio",
            "Over the last 30 days: the share of incidents acknowledged within their severity's response target",
            target_kept.clone(),
        );
        let cadence_kept = Family::<AudienceLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "update_cadence_kept_ratio",
            "Over the last 30 days: the share of incidents whose internal or customer updates kept the policy's cadence",
            cadence_kept.clone(),
        );
        let recurring = Gauge::default();
        registry.register(
            "recurring_incidents",
            "Over the last 30 days: incidents that recur one declared at most 30 days before them",
            recurring.clone(),
        );
        Self {
            registry,
            requests,
            response_seconds,
            target_kept,
            cadence_kept,
            recurring,
            latency,
            incidents,
            inbox_depth,
            jobs_due,
            jobs_dead,
            alert_events_applied,
            alert_events_failed,
            outlet_deliveries,
        }
    }

    /// Counts one attempt at an outlet.
    pub fn count_outlet(&self, outlet: &str, outcome: &klaxon_store::JobOutcome) {
        let outcome = match outcome {
            klaxon_store::JobOutcome::Done => "delivered",
            klaxon_store::JobOutcome::Retry { .. } => "failed",
            klaxon_store::JobOutcome::Dead { .. } => "dead",
            klaxon_store::JobOutcome::Wait { .. } => return,
        };
        self.outlet_deliveries
            .get_or_create(&OutletLabels {
                outlet: outlet.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts and times one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// Sets the report gauges from the last 30 days' incidents.
    async fn report(
        &self,
        store: &dyn Store,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<(), klaxon_store::StoreError> {
        let since = now - SignedDuration::from_hours(24 * 30);
        let filter = FactsFilter {
            since,
            until: now,
            severity: None,
            service: None,
            viewer: None,
        };
        let facts = store.incident_facts(&filter).await?;
        let r = metrics::report(&facts, policy, since, now);
        self.response_seconds.clear();
        for (to, s) in [
            ("acknowledge", r.time_to_acknowledge),
            ("mitigate", r.time_to_mitigate),
            ("resolve", r.time_to_resolve),
        ] {
            for (quantile, v) in [("0.5", s.median_seconds), ("0.9", s.p90_seconds)] {
                if let Some(v) = v {
                    let labels = TimeLabels {
                        to: to.to_owned(),
                        quantile: quantile.to_owned(),
                    };
                    self.response_seconds.get_or_create(&labels).set(v);
                }
            }
        }
        let ratio = |k: Kept| (k.of > 0).then(|| k.kept as f64 / k.of as f64);
        self.target_kept.clear();
        for s in &r.by_severity {
            if let Some(v) = ratio(s.response_target) {
                let labels = SeverityLabels {
                    severity: s.severity.clone(),
                };
                self.target_kept.get_or_create(&labels).set(v);
            }
        }
        self.cadence_kept.clear();
        for (audience, k) in [
            ("internal", r.internal_updates),
            ("customer", r.customer_updates),
        ] {
            if let Some(v) = ratio(k) {
                let labels = AudienceLabels {
                    audience: audience.to_owned(),
                };
                self.cadence_kept.get_or_create(&labels).set(v);
            }
        }
        self.recurring.set(r.recurring.len() as i64);
        Ok(())
    }

    /// Renders every metric, refreshing incident counts from the store first.
    pub async fn render(
        &self,
        store: &dyn Store,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<String, klaxon_store::StoreError> {
        let counts = store.incident_counts().await?;
        let m = self;
        m.report(store, policy, now).await?;
        m.inbox_depth.set(store.inbox_depth().await?);
        m.jobs_due.clear();
        m.jobs_dead.clear();
        for backlog in store.job_backlog(now).await? {
            let labels = JobLabels {
                kind: backlog.kind.as_str().to_owned(),
            };
            m.jobs_due.get_or_create(&labels).set(backlog.due);
            m.jobs_dead.get_or_create(&labels).set(backlog.dead);
        }
        m.incidents.clear();
        for (status, severity, n) in counts {
            let labels = IncidentLabels {
                status: status.as_str().to_owned(),
                severity: severity.level().to_string(),
            };
            m.incidents.get_or_create(&labels).set(n);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry)
            .map_err(|e| klaxon_store::StoreError::Other(e.to_string()))?;
        Ok(out)
    }
}
