//! Shared by the store tests: the contract macro and alerts to work with.

/// Runs each named `async fn(Arc<dyn Store>)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = klaxon_store::testing::TempSqlite::new();
                    let store = klaxon_store::open(&db.url).await.unwrap();
                    super::$name(store).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = klaxon_store::testing::TempPostgres::new().await else { return };
                    let store = klaxon_store::open(&db.url).await.unwrap();
                    super::$name(store).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

pub mod alerts;

/// The change `events` make to `before`, with no outlets configured.
#[allow(dead_code)]
pub fn change(
    before: &klaxon_domain::incident::Incident,
    events: Vec<klaxon_domain::incident::TimelineEvent>,
) -> klaxon_store::Change {
    klaxon_store::Change::new(before, events, &Default::default())
}

/// The declaration of an incident from `events`, with no outlets configured.
#[allow(dead_code)]
pub fn declaration(
    slug_base: &str,
    events: Vec<klaxon_domain::incident::TimelineEvent>,
) -> klaxon_store::Declaration {
    klaxon_store::Declaration::new(slug_base, events, &Default::default())
        .expect("events start with a declaration")
}
