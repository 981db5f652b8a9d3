//! The public status page's rules: components and their groups, how incidents give them
//! a status and reach the page, the overall banner, uptime, and the public view the page
//! and its Statuspage-compatible JSON are rendered from.

pub mod component;
pub mod incidents;
pub mod maintenance;
pub mod notices;
pub mod rollup;
pub mod statuspage;
pub mod subscribers;
pub mod uptime;
pub mod view;

pub use component::{
    check_delete, check_manual_status, check_placement, page_order, Component, ComponentFields,
    ComponentStatus, ComponentUpdate, NewComponent,
};
pub use incidents::{
    impacts, may_publish, public_timeline, published, update_status, AffectedComponent,
    ComponentChoice, ComponentsRequest, PeriodChange, PublicStatus, PublicTimeline, PublicUpdate,
    StatusChange, StatusPageChange, MAX_AFFECTED, POSTMORTEM_BODY,
};
pub use maintenance::{
    MaintenanceChange, MaintenancePost, MaintenanceStatus, MaintenanceUpdate,
    NewScheduledMaintenance, ScheduledMaintenance,
};
pub use notices::{
    Notice, NoticeKind, NoticePage, NoticeSource, SubscriberDelivery, SubscriberMessage,
};
pub use rollup::{effective, page_status, Impact, PageStatus};
pub use subscribers::{
    AddedSubscriber, NewSubscriber, Subscriber, SubscriberFields, SubscriberKind,
};
pub use uptime::{ComponentPeriod, Day, Period};
pub use view::{Public, PublicComponent, PublicIncident, PublicView, Sources};

#[cfg(test)]
mod tests;
