//! `klaxon incident declare`: the runbook's initial assessment as options, and the
//! policy's triage questions asked one by one when the severity is not known.

use std::io::{BufRead, Write};

use anyhow::bail;
use clap::Args;
use jiff::Timestamp;
use klaxon_client::Client;
use klaxon_domain::incident::{Affected, Assessment, DeclareInput, Recurrence};
use klaxon_domain::policy::Policy;
use klaxon_domain::{Handle, Severity};

use super::incident::changed;
use super::{handle, named, severity};
use crate::time::parse_time;

#[derive(Debug, Args)]
pub struct DeclareArgs {
    /// What is wrong, in a few words: "API returns 500s".
    title: String,
    /// The severity: 1 (critical) to 4 (low), or SEV1 to SEV4.
    #[arg(long, value_parser = severity, required_unless_present = "triage", conflicts_with = "triage")]
    severity: Option<Severity>,
    /// Answer the policy's triage questions to choose the severity.
    #[arg(long)]
    triage: bool,
    /// The service that is affected.
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    summary: Option<String>,
    /// What is broken: service, feature, user flow.
    #[arg(long)]
    broken: Option<String>,
    /// How many users are affected.
    #[arg(long, value_parser = named::<Affected>(&["all", "some", "segment"]))]
    affected: Option<Affected>,
    /// An estimate or the segment, e.g. "~50% of API requests" or "EU customers".
    #[arg(long)]
    estimate: Option<String>,
    /// This has happened before.
    #[arg(long, conflicts_with = "new")]
    recurring: bool,
    /// This is new.
    #[arg(long)]
    new: bool,
    /// When the impact started: RFC 3339, HH:MM (UTC) or an amount ago (20m).
    #[arg(long, value_parser = parse_time)]
    started: Option<Timestamp>,
    /// What changed recently: deployments, config changes.
    #[arg(long)]
    changes: Option<String>,
    /// Customers notice it: customer updates are due on the policy's cadence.
    #[arg(long)]
    customer_facing: bool,
    /// A practice run, kept out of metrics.
    #[arg(long)]
    drill: bool,
    /// Visible only to participants and admins (security incidents).
    #[arg(long)]
    restricted: bool,
    /// Who leads the response.
    #[arg(long, value_parser = handle)]
    commander: Option<Handle>,
}

pub async fn run(client: &Client, a: DeclareArgs, json: bool) -> anyhow::Result<()> {
    let triage = if a.triage {
        let policy = client.policy().await?;
        Some(ask_triage(
            &policy,
            &mut std::io::stdin().lock(),
            &mut std::io::stderr(),
        )?)
    } else {
        None
    };
    let recurrence = match (a.recurring, a.new) {
        (true, _) => Some(Recurrence::Recurring),
        (_, true) => Some(Recurrence::New),
        _ => None,
    };
    let input = DeclareInput {
        title: a.title,
        severity: a.severity,
        triage,
        service: a.service,
        summary: a.summary,
        assessment: Assessment {
            what_is_broken: a.broken,
            affected: a.affected,
            affected_estimate: a.estimate,
            recurrence,
            started_at: a.started,
            recent_changes: a.changes,
        },
        customer_facing: a.customer_facing,
        drill: a.drill,
        restricted: a.restricted,
        commander: a.commander,
        at: None,
        // The server names the components linked to a customer-facing incident's
        // service; `klaxon incident components` changes them.
        components: None,
    };
    let view = client.declare(&input).await?;
    changed(&view, "declared", json)?;
    if !json && !view.missing_roles.is_empty() {
        let names: Vec<&str> = view.missing_roles.iter().map(|r| r.as_str()).collect();
        eprintln!(
            "Roles to fill: {} (klaxon incident assign {} ROLE HANDLE)",
            names.join(", "),
            view.incident.number.0
        );
    }
    Ok(())
}

/// Asks the decision tree's questions in order until the first "yes"; returns the
/// answers given. Questions go to `ask`, answers come from `answers`.
fn ask_triage(
    policy: &Policy,
    answers: &mut impl BufRead,
    ask: &mut impl Write,
) -> anyhow::Result<Vec<bool>> {
    let questions = &policy.triage.questions;
    let mut given = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let yes = loop {
            write!(ask, "{}/{} {} [y/n] ", i + 1, questions.len(), q.ask)?;
            ask.flush()?;
            let mut line = String::new();
            if answers.read_line(&mut line)? == 0 {
                writeln!(ask)?;
                bail!("no answer to triage question {}: input ended", i + 1);
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => break true,
                "n" | "no" => break false,
                _ => writeln!(ask, "Please answer y or n.")?,
            }
        };
        given.push(yes);
        if yes {
            break;
        }
    }
    let chosen = policy.triage(&given)?;
    let name = &policy.severity(chosen).name;
    writeln!(ask, "Severity: {chosen} ({name})")?;
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_stops_at_the_first_yes_and_reasks_unclear_answers() {
        let policy = Policy::builtin();
        let mut asked = Vec::new();
        let answers = ask_triage(&policy, &mut "n\nmaybe\ny\n".as_bytes(), &mut asked).unwrap();
        assert_eq!(answers, vec![false, true]);
        let asked = String::from_utf8(asked).unwrap();
        assert!(asked.contains("Please answer y or n."), "{asked}");
        let expected = policy.triage.questions[1].severity;
        assert!(asked.contains(&format!("Severity: {expected}")), "{asked}");
    }

    #[test]
    fn triage_with_every_answer_no_takes_the_default() {
        let policy = Policy::builtin();
        let n = policy.triage.questions.len();
        let input = "no\n".repeat(n);
        let answers = ask_triage(&policy, &mut input.as_bytes(), &mut Vec::new()).unwrap();
        assert_eq!(answers, vec![false; n]);
    }

    #[test]
    fn triage_fails_when_input_ends() {
        let policy = Policy::builtin();
        let err = ask_triage(&policy, &mut "n\n".as_bytes(), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("input ended"), "{err}");
    }
}
