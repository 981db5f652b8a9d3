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
