//! `klaxon report`: metrics across incidents, as tables or JSON.

use clap::Args;
use klaxon_client::ReportWindow;
use klaxon_domain::metrics::{Kept, Report, Spread};

use super::Connection;
use crate::output;

#[derive(Debug, Args)]
#[command(
    after_help = "Drills, declined and merged incidents are left out (drills are listed apart, each with its score); restricted incidents count only for those who may see them.\n\nExamples:\n  klaxon report --since 30d\n  klaxon report --since 90d --service api --severity 2\n  klaxon report --since 2026-01-01T00:00:00Z --until 2026-04-01T00:00:00Z --json"
)]
pub struct ReportArgs {
    #[command(flatten)]
    connection: Connection,
    /// From: an instant (RFC 3339) or a time ago (30d, 12 weeks).
    #[arg(long, default_value = "30d")]
    since: String,
    /// Until: an instant or a time ago; now by default.
    #[arg(long)]
    until: Option<String>,
    /// Only this service's incidents.
    #[arg(long)]
    service: Option<String>,
    /// Only this severity (2 or SEV2).
    #[arg(long)]
    severity: Option<String>,
}

fn spread(s: &Spread) -> [String; 3] {
    let show = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), output::duration);
    [
        s.samples.to_string(),
        show(s.median_seconds),
        show(s.p90_seconds),
    ]
}

fn kept(k: Kept) -> String {
    if k.of == 0 {
        return "-".to_owned();
    }
    format!("{} of {} ({}%)", k.kept, k.of, k.kept * 100 / k.of)
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let window = ReportWindow {
        since: Some(args.since),
        until: args.until,
        service: args.service,
        severity: args.severity,
    };
    let report = client.report(&window).await?;
    if args.connection.json {
        return output::json(&report);
    }
    print(&report);
    Ok(())
}

fn print(r: &Report) {
    println!(
        "{} incidents from {} to {} ({} drills left out)\n",
        r.count,
        output::when(r.since),
        output::when(r.until),
        r.drills
    );
    let mut t = output::table(["", "INCIDENTS", "MEDIAN", "P90"]);
    for (name, s) in [
        ("time to acknowledge", &r.time_to_acknowledge),
        ("time to mitigate", &r.time_to_mitigate),
        ("time to resolve", &r.time_to_resolve),
    ] {
        let [n, median, p90] = spread(s);
        t.add_row([name.to_owned(), n, median, p90]);
    }
    output::print_table(&t);
    println!();
    let mut t = output::table(["SEVERITY", "INCIDENTS", "ACKNOWLEDGED IN TIME"]);
    for s in &r.by_severity {
        t.add_row([
            s.severity.clone(),
            s.count.to_string(),
            kept(s.response_target),
        ]);
    }
    output::print_table(&t);
    println!(
        "\nupdates on cadence: internal {}, customer {}\n",
        kept(r.internal_updates),
        kept(r.customer_updates)
    );
    if !r.by_service.is_empty() {
        let mut t = output::table(["SERVICE", "INCIDENTS"]);
        for c in &r.by_service {
            t.add_row([c.name.clone(), c.count.to_string()]);
        }
        output::print_table(&t);
        println!();
    }
    if !r.by_week.is_empty() {
        let mut t = output::table(["WEEK", "INCIDENTS"]);
        for c in &r.by_week {
            t.add_row([c.name.clone(), c.count.to_string()]);
        }
        output::print_table(&t);
        println!();
    }
    if !r.drill_scores.is_empty() {
        let mut t = output::table(["DRILL", "SEVERITY", "DECLARED", "SCORE", "MISSED", "TITLE"]);
        for d in &r.drill_scores {
            let missed: Vec<&str> = d
                .score
                .criteria
                .iter()
                .filter(|c| !c.met)
                .map(|c| c.kind.as_str())
                .collect();
            t.add_row([
                format!("#{}", d.number),
                d.severity.clone(),
                output::when(d.declared_at),
                d.score.fraction(),
                if missed.is_empty() {
                    "-".to_owned()
                } else {
                    missed.join(", ")
                },
                output::one_line(&d.title, 60),
            ]);
        }
        output::print_table(&t);
        println!();
    }
    if r.recurring.is_empty() {
        println!("no incident recurred within 30 days");
    } else {
        let mut t = output::table(["INCIDENT", "RECURS", "BECAUSE", "TITLE"]);
        for x in &r.recurring {
            t.add_row([
                format!("#{}", x.number),
                format!("#{}", x.recurs),
                x.because.clone(),
                output::one_line(&x.title, 60),
            ]);
        }
        output::print_table(&t);
    }
}
