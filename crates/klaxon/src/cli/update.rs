//! `klaxon incident update`: a status update filled into the policy's template. The
//! server renders it; the CLI prints what it rendered, ready to paste.

use clap::Args;
use klaxon_client::Client;
use klaxon_domain::incident::{
    EventKind, IncidentView, StatusUpdateInput, UpdateAudience, UpdateKind,
};
use klaxon_domain::IncidentNumber;

use super::{incident_number, named};
use crate::output;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The incident: 42 or #42.
    #[arg(value_parser = incident_number)]
    number: IncidentNumber,
    /// Which template: the first report, a regular update, mitigated or resolved.
    #[arg(long, value_parser = named::<UpdateKind>(&["detected", "update", "mitigated", "resolved"]))]
    kind: UpdateKind,
    /// Who the update is for.
    #[arg(long, default_value = "internal", value_parser = named::<UpdateAudience>(&["internal", "customer"]))]
    audience: UpdateAudience,
    /// The current status, e.g. "Investigating"; required for --kind update.
    #[arg(long)]
    status: Option<String>,
    /// What has been done since the last update.
    #[arg(long)]
    progress: Option<String>,
    /// Who or what is affected, e.g. "~50% of API requests".
    #[arg(long)]
    impact: Option<String>,
    #[arg(long)]
    next_steps: Option<String>,
    /// When the next milestone is expected.
    #[arg(long)]
    eta: Option<String>,
    /// What was done to mitigate.
    #[arg(long)]
    action: Option<String>,
    #[arg(long)]
    root_cause: Option<String>,
    #[arg(long)]
    fix: Option<String>,
    /// The impact as customers saw it.
    #[arg(long)]
    customer_impact: Option<String>,
    /// What happens next: the review, the action items.
    #[arg(long)]
    follow_up: Option<String>,
}

pub async fn run(client: &Client, a: UpdateArgs, json: bool) -> anyhow::Result<()> {
    let input = StatusUpdateInput {
        kind: a.kind,
        audience: a.audience,
        status: a.status,
        progress: a.progress,
        impact: a.impact,
        next_steps: a.next_steps,
        eta: a.eta,
        action: a.action,
        root_cause: a.root_cause,
        fix: a.fix,
        customer_impact: a.customer_impact,
        follow_up: a.follow_up,
    };
    let view = client.post_update(a.number, &input).await?;
    if json {
        return output::json(&view);
    }
    // The answer may come without the timeline; the rendered text lives there.
    let view = match view.timeline {
        Some(_) => view,
        None => client.incident(a.number).await?,
    };
    match last_update_text(&view) {
        Some(text) => println!("{text}"),
        None => println!(
            "{} status update posted ({}, {})",
            view.incident.number, view.incident.severity, view.incident.slug
        ),
    }
    Ok(())
}

/// The text of the newest status update on the timeline.
fn last_update_text(view: &IncidentView) -> Option<&str> {
    view.timeline
        .as_deref()?
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::StatusUpdated { message, .. } => Some(message.text.as_str()),
            _ => None,
        })
}
