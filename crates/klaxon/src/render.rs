//! Incidents for people to read: the list table, the `show` page with its timeline, and
//! the one-line confirmations of changes.

use jiff::Timestamp;
use klaxon_domain::api::IncidentPage;
use klaxon_domain::incident::{
    describe, Affected, IncidentView, Recurrence, Status, TimelineEvent,
};
use klaxon_domain::Severity;

use crate::output::{self, one_line, severity_paint, status_paint, when, Paint};

/// `#42 acknowledged (SEV2, incident-20261126-api-down)`.
pub fn confirmation(view: &IncidentView, done: &str) -> String {
    let i = &view.incident;
    format!("{} {done} ({}, {})", i.number, i.severity, i.slug)
}

pub fn list(page: &IncidentPage) {
    if page.incidents.is_empty() {
        println!("No incidents match.");
        return;
    }
    let mut t = output::table([
        "#",
        "SEV",
        "STATUS",
        "TITLE",
        "SERVICE",
        "DECLARED",
        "COMMANDER",
    ]);
    output::unwrapped(&mut t, &[0, 1, 2, 5]);
    for view in &page.incidents {
        let i = &view.incident;
        t.add_row([
            i.number.0.to_string(),
            i.severity.to_string(),
            i.status.to_string(),
            one_line(&i.title, 60),
            i.service.clone().unwrap_or_default(),
            when(i.declared_at),
            i.roles
                .commander
                .as_ref()
                .map(|c| format!("@{c}"))
                .unwrap_or_default(),
        ]);
    }
    output::print_painted(
        &t,
        &[
            ("SEV", |w| Severity::parse(w).ok().map(severity_paint)),
            ("STATUS", |w| Status::parse(w).ok().map(status_paint)),
        ],
    );
    if let Some(before) = page.next_before {
        println!("\nMore: klaxon incident list --before {}", before.0);
    }
}

/// The whole incident: its header block, then its timeline.
pub fn show(view: &IncidentView, now: Timestamp) {
    let i = &view.incident;
    println!(
        "{} {}",
        Paint::Bold.paint(i.number),
        Paint::Bold.paint(&i.title)
    );
    let mut rows: Vec<(&str, String)> = vec![
        ("severity", severity_paint(i.severity).paint(i.severity)),
        ("status", status_paint(i.status).paint(i.status)),
        ("slug", i.slug.clone()),
    ];
    let mut add = |label, value: Option<String>| {
        if let Some(v) = value {
            rows.push((label, v));
        }
    };
    add("service", i.service.clone());
    let flags: Vec<&str> = [
        (i.customer_facing, "customer-facing"),
        (i.drill, "drill"),
        (i.restricted, "restricted"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    add("flags", (!flags.is_empty()).then(|| flags.join(", ")));
    add(
        "declared",
        Some(format!("{} by {}", when(i.declared_at), i.declared_by)),
    );
    add(
        "impact started",
        (i.impact_started_at() != i.declared_at).then(|| when(i.impact_started_at())),
    );
    let d = &view.durations;
    let after = |t: Option<Timestamp>, secs: Option<i64>| {
        t.map(|t| match secs {
            Some(s) => format!("{} (after {})", when(t), output::duration(s)),
            None => when(t),
        })
    };
    add("acknowledged", after(i.acknowledged_at, d.to_acknowledge));
    add("mitigated", after(i.mitigated_at, d.to_mitigate));
    add("resolved", after(i.resolved_at, d.to_resolve));
    add("closed", i.closed_at.map(when));
    add("ended", i.ended_at.map(when));
    add("duration", d.duration.map(output::duration));
    add("response", Some(response(view, now)));
    add("next update", view.next_update_due_at.map(|t| due(t, now)));
    add(
        "customer update",
        view.next_customer_update_due_at.map(|t| due(t, now)),
    );
    let r = &i.roles;
    let at = |h: &klaxon_domain::Handle| format!("@{h}");
    add("commander", r.commander.as_ref().map(at));
    add(
        "investigators",
        (!r.investigators.is_empty()).then(|| {
            r.investigators
                .iter()
                .map(at)
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    add("communicator", r.communicator.as_ref().map(at));
    add("scribe", r.scribe.as_ref().map(at));
    add(
        "missing roles",
        (!view.missing_roles.is_empty()).then(|| {
            let names: Vec<&str> = view.missing_roles.iter().map(|r| r.as_str()).collect();
            Paint::Yellow.paint(names.join(", "))
        }),
    );
    add("summary", i.summary.clone());
    let a = &i.assessment;
    add("what is broken", a.what_is_broken.clone());
    let affected = a.affected.map(|x| match x {
        Affected::All => "all users",
        Affected::Some => "some users",
        Affected::Segment => "a segment of users",
    });
    let affected = match (affected, &a.affected_estimate) {
        (Some(who), Some(est)) => Some(format!("{who}: {est}")),
        (Some(who), None) => Some(who.to_owned()),
        (None, est) => est.clone(),
    };
    add("affected", affected);
    add(
        "recurrence",
        a.recurrence.map(|r| match r {
            Recurrence::New => "new".to_owned(),
            Recurrence::Recurring => "has happened before".to_owned(),
        }),
    );
    add("recent changes", a.recent_changes.clone());
    add(
        "mitigation",
        i.mitigation
            .as_ref()
            .map(|m| format!("{} ({})", m.action, strategy(m.strategy))),
    );
    if let Some(res) = &i.resolution {
        add("root cause", res.root_cause.clone());
        add("fix", res.fix.clone());
    }
    add("merged into", i.merged_into.map(|n| n.to_string()));
    add(
        "merged from",
        (!i.merged_from.is_empty()).then(|| {
            let ns: Vec<String> = i.merged_from.iter().map(|n| n.to_string()).collect();
            ns.join(", ")
        }),
    );
    for (label, value) in rows {
        let mut lines = value.lines();
        println!("  {label:<16}{}", lines.next().unwrap_or(""));
        for more in lines {
            println!("  {:<16}{more}", "");
        }
    }
    if let Some(changes) = view.recent_changes.as_ref().filter(|c| !c.is_empty()) {
        println!();
        println!(
            "{}",
            Paint::Bold.paint("Recent changes (what changed before it started?)")
        );
        let mut t = output::table(["TIME", "SOURCE", "CHANGE"]);
        for c in changes {
            t.add_row([
                output::when(c.occurred_at),
                c.source.clone().unwrap_or_default(),
                one_line(&c.summary, 80),
            ]);
        }
        output::print_table(&t);
    }
    if let Some(timeline) = &view.timeline {
        println!();
        println!("{}", Paint::Bold.paint("Timeline"));
        self::timeline(timeline);
    }
}

fn response(view: &IncidentView, now: Timestamp) -> String {
    let due_at = view.response.due_at;
    match (view.incident.acknowledged_at, view.response.breached) {
        (Some(_), false) => Paint::Green.paint(format!("met (acknowledge by {})", when(due_at))),
        (Some(_), true) => Paint::Red.paint(format!("missed (acknowledge by {})", when(due_at))),
        (None, true) => Paint::Red.paint(format!(
            "BREACHED: acknowledgement was due {}",
            output::when_relative(due_at, now)
        )),
        (None, false) if view.incident.status.is_open() => {
            format!("acknowledge by {}", output::when_relative(due_at, now))
        }
        (None, false) => format!("acknowledge by {}", when(due_at)),
    }
}

fn due(t: Timestamp, now: Timestamp) -> String {
    let text = output::when_relative(t, now);
    if t < now {
        Paint::Red.paint(format!("overdue since {text}"))
    } else {
        format!("due {text}")
    }
}

pub fn timeline(events: &[TimelineEvent]) {
    let mut t = output::table(["TIME", "ACTOR", "SOURCE", "EVENT"]);
    output::unwrapped(&mut t, &[0, 1, 2]);
    for e in events {
        let mut text = describe(&e.kind, excerpt);
        if e.occurred_at.is_some_and(|o| o != e.recorded_at) {
            text.push_str(&format!(
                "\n(stated time; recorded {})",
                when(e.recorded_at)
            ));
        }
        t.add_row([
            when(e.effective_at()).trim_end_matches(" UTC").to_owned(),
            e.actor.clone(),
            e.source.as_str().to_owned(),
            text,
        ]);
    }
    output::print_table(&t);
}

/// The first lines of a long text, with a note of how many more there are.
fn excerpt(text: &str) -> String {
    const LINES: usize = 12;
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= LINES {
        return lines.join("\n");
    }
    format!(
        "{}\n… {} more lines (see --json)",
        lines[..LINES].join("\n"),
        lines.len() - LINES
    )
}

pub fn strategy(s: klaxon_domain::incident::MitigationStrategy) -> String {
    s.as_str().to_owned()
}
