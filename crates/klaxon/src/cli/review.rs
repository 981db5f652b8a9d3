//! `klaxon review ...` and `klaxon action ...`: the post-incident review of an incident
//! (its sections, 5-whys, stars, status and exports) and action items across incidents.

use std::io::Read;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use klaxon_client::Client;
use klaxon_domain::review::api::WhysInput;
use klaxon_domain::review::api::{ActionQuery, NoteInput, ReviewSettings};
use klaxon_domain::review::{
    ActionItemPatch, ActionItemRef, ActionStatus, Answers, Category, Impact, Lessons, ListedAction,
    Meeting, NewActionItem, OpenReview, ReviewStatus, ReviewView, RootCauseInput, Summary,
    WhyNodeInput,
};
use klaxon_domain::{Handle, IncidentNumber};

use super::{handle, id, incident_number, named, Connection, Usage};
use crate::output;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// Show an incident's post-incident review.
    Show {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
    },
    /// Open a review by hand (one opens by itself when a severity's policy requires it).
    Open {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        /// Who writes it; the commander if not given.
        #[arg(long, value_parser = handle)]
        owner: Option<Handle>,
        /// When it is due: an instant, a date (due by its end, UTC) or a time from now (3 days).
        #[arg(long, value_parser = deadline)]
        due: Option<Timestamp>,
    },
    /// Change a review's owner or deadline.
    Set {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        #[arg(long, value_parser = handle)]
        owner: Option<Handle>,
        #[arg(long, value_parser = deadline)]
        due: Option<Timestamp>,
    },
    /// Replace a section with JSON from a file (`-` for standard input), as the API takes
    /// it: summary, impact, root-cause, lessons, meeting or whys.
    #[command(
        after_help = "Example: echo '{\"went_well\": \"Fast rollback\", \"could_improve\": \"Alerting\"}' | klaxon review edit 42 lessons -"
    )]
    Edit {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        #[arg(value_parser = ["summary", "impact", "root-cause", "lessons", "meeting", "whys"])]
        section: String,
        file: String,
    },
    /// Add a 5-whys node: after node `--follows`, or starting a new chain.
    Why {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        #[arg(long)]
        follows: Option<u32>,
        #[arg(long)]
        why: String,
        #[arg(long)]
        because: String,
    },
    /// Star a timeline event (or unstar it), with context; the event itself is kept.
    Star {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        seq: i64,
        #[arg(long, default_value = "")]
        context: String,
        #[arg(long)]
        unstar: bool,
    },
    /// Submit a draft for review.
    Submit {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
    },
    /// Publish a review in review (its required sections filled).
    Publish {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
    },
    /// Take a review back to draft.
    Reopen {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
    },
    /// Print the review as Markdown (the report for a wiki), printable HTML or JSON.
    Export {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        #[arg(long, default_value = "markdown", value_parser = ["markdown", "html", "json"])]
        format: String,
    },
}

#[derive(Debug, Args)]
pub struct ActionArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ActionCommand,
}

#[derive(Debug, Subcommand)]
enum ActionCommand {
    /// Action items across incidents, by deadline.
    #[command(after_help = "Example: klaxon action list --mine --overdue")]
    List {
        /// Only yours.
        #[arg(long)]
        mine: bool,
        /// Only those still owed and past their deadline.
        #[arg(long)]
        overdue: bool,
        /// Only those still owed (open or in progress).
        #[arg(long)]
        pending: bool,
        #[arg(long, value_parser = handle, conflicts_with = "mine")]
        owner: Option<Handle>,
        #[arg(long, value_parser = incident_number)]
        incident: Option<IncidentNumber>,
    },
    /// Show one action item (INCIDENT-N, e.g. 42-3).
    Show {
        #[arg(value_parser = id::<ActionItemRef>)]
        item: ActionItemRef,
    },
    /// Add an action item to an incident's review.
    Add {
        #[arg(value_parser = incident_number)]
        incident: IncidentNumber,
        title: String,
        #[arg(long, value_parser = handle)]
        owner: Handle,
        /// Its deadline follows from the policy unless `--due` is given.
        #[arg(long, default_value = "short_term", value_parser = named::<Category>(&["immediate", "short_term", "long_term"]))]
        category: Category,
        #[arg(long, value_parser = deadline)]
        due: Option<Timestamp>,
        /// The 5-whys node or contributing factor it answers: why:3 or factor:2.
        #[arg(long, value_parser = id::<Answers>)]
        answers: Option<Answers>,
        /// A link to its ticket.
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Change an action item.
    #[command(after_help = "Example: klaxon action update 42-3 --status done")]
    Update {
        #[arg(value_parser = id::<ActionItemRef>)]
        item: ActionItemRef,
        #[arg(long, value_parser = named::<ActionStatus>(&["open", "in_progress", "done", "wont_do"]))]
        status: Option<ActionStatus>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long, value_parser = handle)]
        owner: Option<Handle>,
        #[arg(long, value_parser = deadline)]
        due: Option<Timestamp>,
        #[arg(long, value_parser = id::<Answers>, conflicts_with = "unlink")]
        answers: Option<Answers>,
        /// It answers nothing in particular any more.
        #[arg(long)]
        unlink: bool,
        /// A link to its ticket; empty to remove it.
        #[arg(long)]
        ticket: Option<String>,
    },
}

/// A deadline as typed: an RFC 3339 instant, a date (due by the end of that day, UTC),
/// or an amount of time from now (`7 days`, `48h`).
fn deadline(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(at) = t.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>() {
        return date
            .tomorrow()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    let ahead = t.strip_prefix("in ").unwrap_or(t);
    match klaxon_domain::time::parse_duration("due", ahead) {
        Ok(d) => Timestamp::now().checked_add(d).map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "'{text}' is not a deadline; use an instant (2026-12-03T17:00:00Z), a date (2026-12-03) or a time from now (7 days)"
        )),
    }
}

pub async fn review(args: ReviewArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let view = match args.command {
        ReviewCommand::Show { incident } => client.review(incident).await?,
        ReviewCommand::Open {
            incident,
            owner,
            due,
        } => {
            let body = OpenReview { owner, due_at: due };
            client.open_review(incident, &body).await?
        }
        ReviewCommand::Set {
            incident,
            owner,
            due,
        } => {
            let body = ReviewSettings { owner, due_at: due };
            client.review_settings(incident, &body).await?
        }
        ReviewCommand::Edit {
            incident,
            section,
            file,
        } => edit(&client, incident, &section, &file).await?,
        ReviewCommand::Why {
            incident,
            follows,
            why,
            because,
        } => {
            let body = WhyNodeInput {
                follows,
                why,
                because,
            };
            client.add_why(incident, &body).await?
        }
        ReviewCommand::Star {
            incident,
            seq,
            context,
            unstar,
        } => {
            let body = NoteInput {
                starred: !unstar,
                context,
            };
            client.note_event(incident, seq, &body).await?
        }
        ReviewCommand::Submit { incident } => {
            client
                .set_review_status(incident, ReviewStatus::InReview)
                .await?
        }
        ReviewCommand::Publish { incident } => {
            client
                .set_review_status(incident, ReviewStatus::Published)
                .await?
        }
        ReviewCommand::Reopen { incident } => {
            client
                .set_review_status(incident, ReviewStatus::Draft)
                .await?
        }
        ReviewCommand::Export { incident, format } => {
            print!("{}", client.export_review(incident, &format).await?);
            return Ok(());
        }
    };
    if json {
        return output::json(&view);
    }
    show(&view);
    Ok(())
}

/// A section read from `file` (`-`: standard input) as JSON, sent to its route.
async fn edit(
    client: &Client,
    n: IncidentNumber,
    section: &str,
    file: &str,
) -> anyhow::Result<ReviewView> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text =
            std::fs::read_to_string(file).map_err(|e| Usage(format!("cannot read {file}: {e}")))?;
    }
    let bad = |e: serde_json::Error| Usage(format!("{file} is not a {section} section: {e}"));
    Ok(match section {
        "summary" => {
            let body: Summary = serde_json::from_str(&text).map_err(bad)?;
            client.review_summary(n, &body).await?
        }
        "impact" => {
            let body: Impact = serde_json::from_str(&text).map_err(bad)?;
            client.review_impact(n, &body).await?
        }
        "root-cause" => {
            let body: RootCauseInput = serde_json::from_str(&text).map_err(bad)?;
            client.review_root_cause(n, &body).await?
        }
        "lessons" => {
            let body: Lessons = serde_json::from_str(&text).map_err(bad)?;
            client.review_lessons(n, &body).await?
        }
        "meeting" => {
            let body: Meeting = serde_json::from_str(&text).map_err(bad)?;
            client.review_meeting(n, &body).await?
        }
        _ => {
            let body: WhysInput = serde_json::from_str(&text).map_err(bad)?;
            client.set_whys(n, body.nodes).await?
        }
    })
}

fn show(v: &ReviewView) {
    let r = &v.review;
    println!(
        "Post-incident review of {} {} — {}{}",
        v.incident.number,
        v.incident.title,
        r.status,
        if v.overdue { " (overdue)" } else { "" }
    );
    println!("  due      {}", output::when(r.due_at));
    println!(
        "  owner    {}",
        r.owner
            .as_ref()
            .map_or("nobody".to_owned(), |o| format!("@{o}"))
    );
    if !v.missing_sections.is_empty() {
        println!("  to fill  {}", v.missing_sections.join(", "));
    }
    println!(
        "  actions  {} completed, {} in progress, {} planned",
        v.lists.completed.len(),
        v.lists.in_progress.len(),
        v.lists.planned.len()
    );
    if let Some(score) = &v.drill_score {
        println!("  drill score {}", score.fraction());
        let mut t = output::table(["TARGET", "EXPECTED", "ACTUAL", "RESULT"]);
        for c in &score.criteria {
            t.add_row([
                c.question.clone(),
                c.expected.clone(),
                c.actual.clone(),
                if c.met { "met" } else { "missed" }.to_owned(),
            ]);
        }
        output::print_table(&t);
    }
    for chain in klaxon_domain::review::chains(&r.whys) {
        println!("  5 whys:");
        for (depth, node) in chain {
            println!(
                "  {}[{}] {} — because {}",
                "  ".repeat(depth + 1),
                node.id,
                node.why,
                node.because
            );
        }
    }
    println!(
        "Export it with `klaxon review export {}`.",
        v.incident.number.0
    );
}

pub async fn action(args: ActionArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let item = match args.command {
        ActionCommand::List {
            mine,
            overdue,
            pending,
            owner,
            incident,
        } => {
            let query = ActionQuery {
                mine: mine.then_some(true),
                owner,
                overdue: overdue.then_some(true),
                pending: pending.then_some(true),
                incident,
                limit: None,
            };
            let items = client.actions(&query).await?;
            if json {
                return output::json(&items);
            }
            list(&items);
            return Ok(());
        }
        ActionCommand::Show { item } => client.action(item).await?,
        ActionCommand::Add {
            incident,
            title,
            owner,
            category,
            due,
            answers,
            ticket,
        } => {
            let body = NewActionItem {
                title,
                owner,
                category,
                due_at: due,
                status: None,
                answers,
                ticket,
            };
            client.add_action(incident, &body).await?
        }
        ActionCommand::Update {
            item,
            status,
            title,
            owner,
            due,
            answers,
            unlink,
            ticket,
        } => {
            let answers = if unlink {
                Some(None)
            } else {
                answers.map(Some)
            };
            let body = ActionItemPatch {
                title,
                owner,
                category: None,
                due_at: due,
                status,
                answers,
                ticket,
            };
            client.update_action(item, &body).await?
        }
    };
    if json {
        return output::json(&item);
    }
    list(std::slice::from_ref(&item));
    Ok(())
}

fn list(items: &[ListedAction]) {
    if items.is_empty() {
        println!("No action items.");
        return;
    }
    let mut t = output::table([
        "ITEM", "TITLE", "OWNER", "CATEGORY", "STATUS", "DUE", "INCIDENT",
    ]);
    for a in items {
        let due = output::when(a.item.due_at);
        t.add_row([
            a.reference.clone(),
            output::one_line(&a.item.title, 60),
            format!("@{}", a.item.owner),
            a.item.category.as_str().to_owned(),
            a.item.status.as_str().to_owned(),
            if a.overdue {
                format!("{due} (overdue)")
            } else {
                due
            },
            format!(
                "{} {}",
                a.item.incident,
                output::one_line(&a.incident_title, 40)
            ),
        ]);
    }
    output::print_table(&t);
}
