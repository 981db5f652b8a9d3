//! The status page's storage, on SQLite and PostgreSQL: components and their groups, the
//! stretches of their status history that hands and incidents start and end, the
//! incidents published on the page, and the version every change moves on.

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::incident::{
    self, Command, Context, DeclareInput, Incident, Source, StatusUpdateInput, UpdateAudience,
    UpdateKind,
};
use klaxon_domain::policy::Policy;
use klaxon_domain::status::{
    AffectedComponent, Component, ComponentFields, ComponentStatus, NewComponent,
};
use klaxon_domain::{ComponentId, Handle, IncidentNumber, Severity};
use klaxon_store::{Store, StoreError};

fn t0() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn at(minutes: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(minutes)
}

fn ctx(policy: &Policy, minutes: i64) -> Context<'_> {
    Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Api,
        now: at(minutes),
        policy,
        link_base: None,
    }
}

fn fields(name: &str, group: bool, group_id: Option<ComponentId>) -> ComponentFields {
    NewComponent {
        name: name.into(),
        group,
        group_id,
        ..NewComponent::default()
    }
    .validated()
    .unwrap()
}

async fn create(store: &Arc<dyn Store>, name: &str, group_id: Option<ComponentId>) -> Component {
    store
        .create_component(&fields(name, false, group_id), at(0))
        .await
        .unwrap()
}

async fn declare(
    store: &Arc<dyn Store>,
    components: Vec<AffectedComponent>,
    restricted: bool,
) -> Incident {
    let policy = Policy::builtin();
    let input = DeclareInput {
        title: "Elevated API errors".into(),
        severity: Some(Severity::new(2).unwrap()),
        customer_facing: true,
        restricted,
        ..Default::default()
    };
    let events = incident::declare_with_components(&input, components, &ctx(&policy, 0)).unwrap();
    store
        .declare(support::declaration("incident-api", events))
        .await
        .unwrap()
}

async fn run(store: &Arc<dyn Store>, number: IncidentNumber, command: Command, minutes: i64) {
    let policy = Policy::builtin();
    let incident = store.incident(number).await.unwrap();
    let events = incident::decide(&incident, &command, &ctx(&policy, minutes)).unwrap();
    store
        .commit(&[support::change(&incident, events)])
        .await
        .unwrap();
}

fn affected(c: &Component, status: ComponentStatus) -> AffectedComponent {
    AffectedComponent {
        component: c.id,
        name: c.name.clone(),
        status,
    }
}

async fn components_keep_their_groups_and_places(store: Arc<dyn Store>) {
    let v0 = store.status_page_version().await.unwrap();
    let core = store
        .create_component(&fields("Core", true, None), at(0))
        .await
        .unwrap();
    assert!(core.group && !core.showcase);
    let api = create(&store, "API", Some(core.id)).await;
    let web = create(&store, "Web", Some(core.id)).await;
    let billing = create(&store, "Billing", None).await;
    assert_eq!(
        (api.position, web.position),
        (1, 2),
        "children count from 1"
    );
    assert_eq!((core.position, billing.position), (1, 2));
    assert!(store.status_page_version().await.unwrap() > v0);

    let taken = store
        .create_component(&fields("api", false, None), at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(taken, StoreError::Duplicate { field: "name", .. }),
        "{taken:?}"
    );

    let mut moved = fields("Web app", false, None);
    moved.description = Some("The dashboard".into());
    let web = store
        .update_component(web.id, &moved, None, &[], at(1))
        .await
        .unwrap();
    assert_eq!(
        (web.name.as_str(), web.group_id, web.position),
        ("Web app", None, 3)
    );
    assert_eq!(web.description.as_deref(), Some("The dashboard"));
    assert_eq!(web.updated_at, at(1));

    store.delete_component(web.id).await.unwrap();
    let all = store.components().await.unwrap();
    let names: Vec<_> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Core", "API", "Billing"]);
    assert!(matches!(
        store.component(web.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_component(web.id).await,
        Err(StoreError::NotFound(_))
    ));
    let (secret, version) = store.status_page().await.unwrap();
    assert!(secret.len() >= 32, "a random secret: {secret}");
    assert_eq!(version, store.status_page_version().await.unwrap());
}

async fn a_status_set_by_hand_is_a_stretch_of_history(store: Arc<dyn Store>) {
    let api = create(&store, "API", None).await;
    let f = fields("API", false, None);
    let set = |status, minutes| {
        let (store, f) = (store.clone(), f.clone());
        async move {
            store
                .update_component(api.id, &f, Some(status), &[], at(minutes))
                .await
                .unwrap()
        }
    };
    let degraded = set(ComponentStatus::DegradedPerformance, 10).await;
    assert_eq!(degraded.manual_status, ComponentStatus::DegradedPerformance);
    set(ComponentStatus::DegradedPerformance, 15).await;
    set(ComponentStatus::UnderMaintenance, 20).await;
    let back = set(ComponentStatus::Operational, 50).await;
    assert_eq!(back.manual_status, ComponentStatus::Operational);
    let periods = store.component_periods(at(0)).await.unwrap();
    let seen: Vec<_> = periods
        .iter()
        .map(|p| (p.period.status, p.period.start, p.period.end, p.incident))
        .collect();
    assert_eq!(
        seen,
        [
            (
                ComponentStatus::DegradedPerformance,
                at(10),
                Some(at(20)),
                None
            ),
            (
                ComponentStatus::UnderMaintenance,
                at(20),
                Some(at(50)),
                None
            ),
        ]
    );
    assert!(store.component_periods(at(51)).await.unwrap().is_empty());
}

async fn incidents_start_and_end_their_components_history(store: Arc<dyn Store>) {
    let api = create(&store, "API", None).await;
    let web = create(&store, "Web", None).await;
    let v0 = store.status_page_version().await.unwrap();
    let i = declare(
        &store,
        vec![affected(&api, ComponentStatus::PartialOutage)],
        false,
    )
    .await;
    let v1 = store.status_page_version().await.unwrap();
    assert!(v1 > v0, "a published incident moves the version on");
    let open = store.component_periods(at(0)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].incident, Some(i.number));
    assert_eq!(open[0].period.end, None);

    // The engine's paging and notes change nothing on the page.
    run(
        &store,
        i.number,
        Command::Note {
            text: "looking".into(),
            at: None,
        },
        1,
    )
    .await;
    assert_eq!(store.status_page_version().await.unwrap(), v1);

    run(
        &store,
        i.number,
        Command::SetComponents {
            components: vec![
                affected(&api, ComponentStatus::MajorOutage),
                affected(&web, ComponentStatus::DegradedPerformance),
            ],
        },
        5,
    )
    .await;
    let mut customer = StatusUpdateInput::new(UpdateKind::Update);
    customer.audience = UpdateAudience::Customer;
    customer.status = Some("rolling back".into());
    run(&store, i.number, Command::PostUpdate(customer), 6).await;
    run(
        &store,
        i.number,
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        30,
    )
    .await;
    let history: Vec<_> = store
        .component_periods(at(0))
        .await
        .unwrap()
        .iter()
        .map(|p| (p.component, p.period.status, p.period.start, p.period.end))
        .collect();
    assert_eq!(
        history,
        [
            (api.id, ComponentStatus::PartialOutage, at(0), Some(at(5))),
            (api.id, ComponentStatus::MajorOutage, at(5), Some(at(30))),
            (
                web.id,
                ComponentStatus::DegradedPerformance,
                at(5),
                Some(at(30))
            ),
        ]
    );
    assert!(store.status_page_version().await.unwrap() > v1);

    let public = store.public_incidents(at(-60), 50).await.unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].components.len(), 2);
    let events = store.public_events(&[i.number]).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|(_, e)| e.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "components_changed",
            "components_changed",
            "status_updated",
            "resolved"
        ],
        "the page reads no notes and no declaration"
    );
    // A resolved incident declared before `since` is history the page no longer shows.
    assert!(store.public_incidents(at(60), 50).await.unwrap().is_empty());
}

async fn restricted_incidents_leave_no_trace_on_the_page(store: Arc<dyn Store>) {
    create(&store, "API", None).await;
    let v0 = store.status_page_version().await.unwrap();
    let i = declare(&store, vec![], true).await;
    let mut customer = StatusUpdateInput::new(UpdateKind::Detected);
    customer.audience = UpdateAudience::Customer;
    run(&store, i.number, Command::PostUpdate(customer), 1).await;
    assert_eq!(store.status_page_version().await.unwrap(), v0);
    assert!(store
        .public_incidents(at(-60), 50)
        .await
        .unwrap()
        .is_empty());
    assert!(store.component_periods(at(-60)).await.unwrap().is_empty());
}

async fn a_deleted_component_keeps_no_history(store: Arc<dyn Store>) {
    let api = create(&store, "API", None).await;
    let web = create(&store, "Web", None).await;
    let i = declare(
        &store,
        vec![affected(&api, ComponentStatus::MajorOutage)],
        false,
    )
    .await;
    store.delete_component(web.id).await.unwrap();
    // Naming a component deleted since the request was checked still commits.
    run(
        &store,
        i.number,
        Command::SetComponents {
            components: vec![
                affected(&api, ComponentStatus::MajorOutage),
                affected(&web, ComponentStatus::MajorOutage),
            ],
        },
        2,
    )
    .await;
    store.delete_component(api.id).await.unwrap();
    assert!(store.component_periods(at(-60)).await.unwrap().is_empty());
    run(
        &store,
        i.number,
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        3,
    )
    .await;
}

contract!(
    components_keep_their_groups_and_places,
    a_status_set_by_hand_is_a_stretch_of_history,
    incidents_start_and_end_their_components_history,
    restricted_incidents_leave_no_trace_on_the_page,
    a_deleted_component_keeps_no_history,
);
