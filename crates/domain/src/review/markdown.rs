//! The review as Markdown: the report a team pastes into its wiki, headed like the
//! runbook's template (incident summary, timeline of events, impact assessment, root
//! cause analysis, then the 5-whys, lessons, action items by the runbook's lists and
//! the blameless post-mortem). Free text goes in as the team wrote it: it is Markdown.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::actions::{ActionItem, Answers};
use super::view::{chains, ReviewView};
use crate::metrics::DrillScore;
use crate::time::human_duration;

fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn or_none(text: &str) -> &str {
    if text.trim().is_empty() {
        "_Not written yet._"
    } else {
        text
    }
}

/// The report of `view` in Markdown.
pub fn markdown(view: &ReviewView) -> String {
    let r = &view.review;
    let i = &view.incident;
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Post-incident review: {} {}\n", i.number, i.title);
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| Incident | {} (`{}`) |", i.number, i.slug);
    let _ = writeln!(w, "| Severity | {} ({}) |", i.severity, i.severity_name);
    if let Some(s) = &i.service {
        let _ = writeln!(w, "| Service | {s} |");
    }
    let _ = writeln!(
        w,
        "| Review | {}, due {}{} |",
        r.status,
        at(r.due_at),
        if view.overdue { " (overdue)" } else { "" }
    );
    let owner = r
        .owner
        .as_ref()
        .map_or("nobody".to_owned(), |o| format!("@{o}"));
    let _ = writeln!(w, "| Owner | {owner} |");
    if let Some(c) = &i.commander {
        let _ = writeln!(w, "| Incident commander | @{c} |");
    }
    let _ = writeln!(w);
    if let Some(score) = &view.drill_score {
        drill(w, score, &i.severity.to_string());
    }

    let _ = writeln!(w, "## Incident summary\n");
    let _ = writeln!(
        w,
        "**What happened?**\n\n{}\n",
        or_none(&r.summary.what_happened)
    );
    let _ = writeln!(w, "**When did it happen?**\n");
    let _ = writeln!(w, "- Impact started: {}", at(i.impact_started_at));
    let _ = writeln!(w, "- Declared: {}", at(i.declared_at));
    if let Some(t) = i.acknowledged_at {
        let late = if i.response_target_missed {
            " (after the response target)"
        } else {
            ""
        };
        let _ = writeln!(w, "- Acknowledged: {}{late}", at(t));
    }
    if let Some(t) = i.mitigated_at {
        let _ = writeln!(w, "- Mitigated: {}", at(t));
    }
    if let Some(t) = i.resolved_at {
        let _ = writeln!(w, "- Resolved: {}", at(t));
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "**Who was affected?**\n\n{}\n",
        or_none(&r.summary.who_affected)
    );
    let _ = writeln!(
        w,
        "**How was it detected?**\n\n{}\n",
        or_none(&r.summary.detection)
    );

    let _ = writeln!(w, "## Timeline of events\n");
    let key: Vec<_> = view
        .timeline
        .iter()
        .filter(|e| e.milestone || e.starred)
        .collect();
    if key.is_empty() {
        let _ = writeln!(w, "_No events._");
    }
    for e in key {
        let star = if e.starred { " ⭐" } else { "" };
        let _ = writeln!(w, "- {} - {}{star}", at(e.at), e.text);
        if !e.context.is_empty() {
            for line in e.context.lines() {
                let _ = writeln!(w, "  > {line}");
            }
        }
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Impact assessment\n");
    if let Some(d) = i.durations.duration {
        let _ = writeln!(
            w,
            "- Duration: {} (from the start of impact to resolution)",
            human_duration(d)
        );
    }
    for f in &r.impact.figures {
        let _ = writeln!(
            w,
            "- {}: {} {} (source: {})",
            f.name,
            number(f.value),
            f.unit,
            f.source
        );
    }
    if !r.impact.description.trim().is_empty() {
        let _ = writeln!(w, "\n{}", r.impact.description);
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Root cause analysis\n");
    let _ = writeln!(
        w,
        "### Technical cause\n\n{}\n",
        or_none(&r.root_cause.technical_cause)
    );
    let _ = writeln!(w, "### Contributing factors\n");
    if r.root_cause.factors.is_empty() {
        let _ = writeln!(w, "_None named._");
    }
    for f in &r.root_cause.factors {
        let _ = writeln!(
            w,
            "{}. {}{}",
            f.id,
            f.text,
            linked(view, Answers::Factor(f.id))
        );
    }
    let _ = writeln!(
        w,
        "\n### Why it wasn't caught earlier\n\n{}\n",
        or_none(&r.root_cause.why_not_caught)
    );

    let _ = writeln!(w, "## 5 whys\n");
    let all = chains(&r.whys);
    if all.is_empty() {
        let _ = writeln!(w, "_No chain yet._\n");
    }
    for (c, chain) in all.iter().enumerate() {
        let _ = writeln!(w, "### Chain {}\n", c + 1);
        for (depth, node) in chain {
            let _ = writeln!(
                w,
                "{}- {} — **because** {}{}",
                "  ".repeat(*depth),
                node.why,
                node.because,
                linked(view, Answers::Why(node.id))
            );
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(
        w,
        "## What went well\n\n{}\n",
        or_none(&r.lessons.went_well)
    );
    let _ = writeln!(
        w,
        "## What could improve\n\n{}\n",
        or_none(&r.lessons.could_improve)
    );

    let _ = writeln!(w, "## Action items\n");
    let lists = [
        ("✅ Completed", &view.lists.completed),
        ("🔄 In progress", &view.lists.in_progress),
        ("📋 Planned", &view.lists.planned),
        ("Not doing", &view.lists.dropped),
    ];
    if view.action_items.is_empty() {
        let _ = writeln!(w, "_None yet._\n");
    }
    for (title, items) in lists {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(w, "### {title}\n");
        for item in items.iter() {
            let _ = writeln!(w, "- {}", item_line(item));
        }
        let _ = writeln!(w);
    }

    let m = &r.meeting;
    let _ = writeln!(w, "## Blameless post-mortem\n");
    let _ = writeln!(
        w,
        "- Date: {}",
        m.at.map_or_else(|| "not held yet".to_owned(), at)
    );
    let attendees = if m.attendees.is_empty() {
        "none recorded".to_owned()
    } else {
        m.attendees.join(", ")
    };
    let _ = writeln!(w, "- Attendees: {attendees}");
    let total: u32 = m.agenda.iter().map(|a| a.minutes).sum();
    let _ = writeln!(w, "- Agenda ({total} min):");
    for a in &m.agenda {
        let _ = writeln!(w, "  - {} ({} min)", a.topic, a.minutes);
        for line in a.notes.lines().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(w, "    - {line}");
        }
    }
    md.trim_end().to_owned() + "\n"
}

/// A drill's score: each target with what was expected and what happened.
fn drill(w: &mut String, score: &DrillScore, severity: &str) {
    let _ = writeln!(w, "## Drill score: {}\n", score.fraction());
    let _ = writeln!(
        w,
        "This incident was a drill: its response is scored against the policy's targets for {severity}.\n"
    );
    let _ = writeln!(w, "| Target | Expected | Actual | |\n|---|---|---|---|");
    for c in &score.criteria {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            c.question,
            c.expected,
            c.actual,
            if c.met { "✅ met" } else { "❌ missed" }
        );
    }
    let _ = writeln!(w);
}

/// A figure without a needless `.0`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The items answering `what`, as ` (action items 42-1, 42-3)`.
fn linked(view: &ReviewView, what: Answers) -> String {
    let refs: Vec<String> = view
        .action_items
        .iter()
        .filter(|i| i.answers == Some(what))
        .map(|i| i.reference().to_string())
        .collect();
    match refs.len() {
        0 => String::new(),
        1 => format!(" (action item {})", refs[0]),
        _ => format!(" (action items {})", refs.join(", ")),
    }
}

fn item_line(item: &ActionItem) -> String {
    let mut line = format!(
        "**{}** {} — @{}, {}, due {}",
        item.reference(),
        item.title,
        item.owner,
        item.category.as_str().replace('_', " "),
        item.due_at.strftime("%Y-%m-%d")
    );
    if let Some(a) = item.answers {
        let _ = write!(line, ", answers {a}");
    }
    if let Some(t) = &item.ticket {
        let _ = write!(line, " ({t})");
    }
    line
}
