//! Which commands an incident's state allows, for offering only those (a web page shows
//! no button for an action that would be refused). [`decide`](super::decide) stays
//! the judge: this is its state rules read ahead, and a test holds the two together.

use super::{Incident, Status, UpdateKind};

/// The actions an incident's status allows now. Inputs may still be refused (an empty
/// note, an unknown user); the state will not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    pub acknowledge: bool,
    /// Assign and relieve roles.
    pub roles: bool,
    pub change_severity: bool,
    /// The status-update templates that may be posted, in the runbook's order.
    pub updates: [bool; 4],
    pub mitigate: bool,
    pub resolve: bool,
    pub close: bool,
    pub reopen: bool,
    pub decline: bool,
    pub merge: bool,
    pub note: bool,
    pub evidence: bool,
    /// Name the status-page components it affects (open, not restricted).
    pub components: bool,
}

impl Actions {
    /// The update templates in the order of [`Actions::updates`].
    pub const UPDATE_KINDS: [UpdateKind; 4] = [
        UpdateKind::Detected,
        UpdateKind::Update,
        UpdateKind::Mitigated,
        UpdateKind::Resolved,
    ];

    /// What `incident` allows.
    pub fn of(incident: &Incident) -> Actions {
        if incident.merged_into.is_some() {
            return Actions::default();
        }
        let status = incident.status;
        let open = status.is_open();
        let workable = open || status == Status::Resolved;
        let update = |kind: UpdateKind| {
            workable
                && match kind {
                    UpdateKind::Resolved => status == Status::Resolved,
                    UpdateKind::Mitigated => {
                        !matches!(status, Status::Triggered | Status::Acknowledged)
                    }
                    UpdateKind::Detected | UpdateKind::Update => true,
                }
        };
        Actions {
            acknowledge: status == Status::Triggered,
            roles: workable,
            change_severity: open,
            updates: Self::UPDATE_KINDS.map(update),
            mitigate: matches!(status, Status::Triggered | Status::Acknowledged),
            resolve: open,
            close: status == Status::Resolved,
            reopen: matches!(status, Status::Resolved | Status::Closed),
            decline: open,
            merge: open,
            note: true,
            evidence: true,
            components: open && !incident.restricted,
        }
    }

    /// Whether an update of `kind` may be posted.
    pub fn update(&self, kind: UpdateKind) -> bool {
        Self::UPDATE_KINDS
            .iter()
            .position(|k| *k == kind)
            .is_some_and(|i| self.updates[i])
    }

    /// Whether any action changes the incident's status or roles (not notes and
    /// evidence alone).
    pub fn any_life_cycle(&self) -> bool {
        self.acknowledge
            || self.roles
            || self.change_severity
            || self.mitigate
            || self.resolve
            || self.close
            || self.reopen
            || self.decline
    }
}
