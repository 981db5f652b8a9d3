//! The 5-whys as structure: nodes of "why? — because", each following the node it
//! asks further about, from the problem (a node that follows none starts a chain) to a
//! root cause. Several chains may stand side by side, and a chain may branch. Action
//! items answer a node by its id ([`super::Answers::Why`]).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::actions::{ActionItem, Answers};
use super::sections::{required, MAX_SECTION};
use crate::DomainError;

/// The most nodes one review's 5-whys may hold.
pub const MAX_NODES: usize = 100;

/// One step of a chain: the question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhyNode {
    /// Unique within the review, from 1.
    pub id: u32,
    /// The node this one asks further about; none for the start of a chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<u32>,
    pub why: String,
    pub because: String,
}

/// A node to add: its id is given out by the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhyNodeInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<u32>,
    pub why: String,
    pub because: String,
}

/// Checks a whole set of nodes and returns it with its text trimmed: ids unique and
/// positive, every `follows` naming a node of the set (no dangling link), no node
/// following itself round a loop (no cycle), and every action item that answers a node
/// still finding it.
pub fn check_whys(nodes: &[WhyNode], items: &[ActionItem]) -> Result<Vec<WhyNode>, DomainError> {
    if nodes.len() > MAX_NODES {
        return Err(DomainError::invalid(
            "whys",
            format!("holds at most {MAX_NODES} nodes"),
        ));
    }
    let mut ids = HashSet::new();
    let mut checked = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if n.id == 0 || !ids.insert(n.id) {
            return Err(DomainError::invalid(
                "whys.id",
                format!(
                    "whys[{i}]: node ids are unique numbers from 1; {} is taken or zero",
                    n.id
                ),
            ));
        }
        let in_node = |e: DomainError| match e {
            DomainError::Invalid { field, message } => DomainError::Invalid {
                field,
                message: format!("whys[{i}]: {message}"),
            },
            other => other,
        };
        checked.push(WhyNode {
            id: n.id,
            follows: n.follows,
            why: required("whys.why", &n.why, MAX_SECTION).map_err(in_node)?,
            because: required("whys.because", &n.because, MAX_SECTION).map_err(in_node)?,
        });
    }
    let follows: HashMap<u32, Option<u32>> = checked.iter().map(|n| (n.id, n.follows)).collect();
    for (i, n) in checked.iter().enumerate() {
        if let Some(f) = n.follows {
            if !follows.contains_key(&f) {
                return Err(DomainError::invalid(
                    "whys.follows",
                    format!(
                        "whys[{i}]: node {} follows node {f}, which does not exist",
                        n.id
                    ),
                ));
            }
        }
        // Walk back towards the start of the chain; coming round to this node again is
        // a cycle.
        let mut path = vec![n.id];
        let mut at = n.follows;
        while let Some(prev) = at {
            if prev == n.id {
                path.push(prev);
                let path: Vec<String> = path.iter().map(u32::to_string).collect();
                return Err(DomainError::invalid(
                    "whys.follows",
                    format!(
                        "whys[{i}]: node {} comes round to itself ({}, each following the next): a cycle; a chain starts at a node that follows none",
                        n.id,
                        path.join(" → ")
                    ),
                ));
            }
            if path.len() > checked.len() {
                break;
            }
            path.push(prev);
            at = follows.get(&prev).copied().flatten();
        }
    }
    for item in items {
        if let Some(Answers::Why(node)) = item.answers {
            if !follows.contains_key(&node) {
                return Err(DomainError::invalid(
                    "whys",
                    format!(
                        "action item {} answers node {node}, which would no longer exist; link it elsewhere first",
                        item.reference()
                    ),
                ));
            }
        }
    }
    Ok(checked)
}
