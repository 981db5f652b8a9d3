//! Reading a policy file: serde catches malformed values (with their position), then
//! [`validate`] checks the rules that span several values and locates each problem in
//! the source with `toml_edit`'s spans.

use std::fmt;
use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

use super::Policy;
use crate::template;
use crate::Severity;

/// One problem in a policy file, with its 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

pub(super) fn parse(source: &str) -> Result<Policy, Vec<PolicyError>> {
    let policy: Policy = toml::from_str(source).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        vec![located(source, span, e.message().trim().to_owned())]
    })?;
    let problems = validate(&policy);
    if problems.is_empty() {
        return Ok(policy);
    }
    let doc = ImDocument::parse(source).ok();
    Err(problems
        .into_iter()
        .map(|(path, message)| {
            let span = doc.as_ref().and_then(|d| span_of(d, &path)).unwrap_or(0..0);
            located(source, span, message)
        })
        .collect())
}

/// A step in the path to a value: a key or an array index.
enum Step {
    Key(&'static str),
    Index(usize),
}

/// The rules that no single value can check alone.
fn validate(policy: &Policy) -> Vec<(Vec<Step>, String)> {
    use Step::{Index, Key};
    let mut problems = Vec::new();
    for level in Severity::ALL {
        let found: Vec<usize> = policy
            .severities
            .iter()
            .enumerate()
            .filter(|(_, s)| s.level == level)
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => problems.push((
                vec![Key("severities")],
                format!(
                    "severity {} is not defined; define levels 1, 2, 3 and 4 once each",
                    level.level()
                ),
            )),
            [_] => {}
            [_, again, ..] => problems.push((
                vec![Key("severities"), Index(*again), Key("level")],
                format!("severity {} is defined twice", level.level()),
            )),
        }
    }
    for (i, s) in policy.severities.iter().enumerate() {
        if s.review.required && s.review.due.is_none() {
            problems.push((
                vec![Key("severities"), Index(i), Key("review")],
                format!(
                    "SEV{} requires a review, so it needs `due`, e.g. due = \"48h\"",
                    s.level.level()
                ),
            ));
        }
        if s.name.trim().is_empty() {
            problems.push((
                vec![Key("severities"), Index(i), Key("name")],
                "name must not be empty".into(),
            ));
        }
    }
    if policy.incident_channel.trim().is_empty() {
        problems.push((
            vec![Key("incident_channel")],
            "incident_channel must not be empty".into(),
        ));
    }
    let hours = &policy.business_hours;
    if hours.start >= hours.end {
        problems.push((
            vec![Key("business_hours"), Key("end")],
            "business hours must end after they start".into(),
        ));
    }
    if hours.days.is_empty() {
        problems.push((
            vec![Key("business_hours"), Key("days")],
            "name at least one business day".into(),
        ));
    }
    if policy.triage.questions.is_empty() {
        problems.push((
            vec![Key("triage"), Key("questions")],
            "the decision tree needs at least one question".into(),
        ));
    }
    let sets = [
        ("internal", &policy.templates.internal),
        ("customer", &policy.templates.customer),
    ];
    for (audience, set) in sets {
        let kinds = [
            ("detected", &set.detected),
            ("update", &set.update),
            ("mitigated", &set.mitigated),
            ("resolved", &set.resolved),
        ];
        for (kind, text) in kinds {
            if let Err(message) = template::check(text) {
                problems.push((vec![Key("templates"), Key(audience), Key(kind)], message));
            }
        }
    }
    problems
}

/// A node of the parsed document, whichever way toml_edit holds it.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        }
    }

    fn child(self, step: &Step) -> Option<Node<'a>> {
        match (step, self) {
            (Step::Key(k), Node::Item(Item::Table(t)) | Node::Table(t)) => t.get(k).map(Node::Item),
            (
                Step::Key(k),
                Node::Item(Item::Value(Value::InlineTable(t))) | Node::Value(Value::InlineTable(t)),
            ) => t.get(k).map(Node::Value),
            (Step::Index(i), Node::Item(Item::ArrayOfTables(a))) => a.get(*i).map(Node::Table),
            (
                Step::Index(i),
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)),
            ) => a.get(*i).map(Node::Value),
            _ => None,
        }
    }
}

/// The source span of the value at `path`, or of the deepest part of it that exists.
fn span_of(doc: &ImDocument<&str>, path: &[Step]) -> Option<Range<usize>> {
    let mut node = Node::Item(doc.as_item());
    let mut span = None;
    for step in path {
        match node.child(step) {
            Some(found) => {
                span = found.span().or(span);
                node = found;
            }
            None => break,
        }
    }
    span
}

fn located(source: &str, span: Range<usize>, message: String) -> PolicyError {
    let before = &source[..span.start.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    PolicyError {
        line,
        column,
        message,
    }
}
