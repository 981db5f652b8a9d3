//! PostgreSQL alone: the plans its statements get (a grown table is analyzed, the inbox
//! index serves the inbox read alone) and its singletons, held by one process at a time.

mod support;

use klaxon_domain::alert::AlertAction;
use klaxon_store::testing::TempPostgres;
use support::alerts::{entry, service};

/// A fresh database, a store on it and a connection of the test's own; `None` without
/// a PostgreSQL server to test against.
async fn fresh() -> Option<(
    TempPostgres,
    std::sync::Arc<dyn klaxon_store::Store>,
    sqlx::PgConnection,
)> {
    let db = TempPostgres::new().await?;
    let store = klaxon_store::open(&db.url).await.unwrap();
    let conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    Some((db, store, conn))
}

/// On PostgreSQL the check for an alert's waiting acknowledgement or resolution can only
/// use the index made for it, never the inbox worker's index of all waiting events in
/// order, which a storm fills with triggers (migration 0016); the worker's read still
/// uses its own.
#[tokio::test]
async fn postgres_keeps_the_inbox_index_to_the_inbox_read() {
    let Some((db, store, mut conn)) = fresh().await else {
        return;
    };
    let plan = async |conn: &mut sqlx::PgConnection, sql: &str| -> String {
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("SET enable_sort = off")
            .execute(&mut *conn)
            .await
            .unwrap();
        let rows: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        rows.join("\n")
    };
    let probe_sql = "SELECT 1 FROM alert_events w WHERE w.service_id = 1 AND w.dedup_key = 'disk' \
         AND w.alert_id IS NULL AND w.failed_at IS NULL AND (w.action IS NULL OR w.action <> 'trigger')";
    let probe = plan(&mut conn, probe_sql).await;
    assert!(probe.contains("alert_events_waiting_by_key"), "{probe}");
    // Even without its own index the probe finds no way into the inbox index.
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("DROP INDEX alert_events_waiting_by_key")
        .execute(&mut conn)
        .await
        .unwrap();
    let without = plan(&mut conn, probe_sql).await;
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    assert!(
        !without.contains("alert_events_waiting_in_order"),
        "{without}"
    );
    let read = plan(
        &mut conn,
        "SELECT id FROM alert_events WHERE alert_id IS NULL AND failed_at IS NULL AND id > 0 ORDER BY id LIMIT 1024",
    )
    .await;
    assert!(read.contains("alert_events_waiting_in_order"), "{read}");
    // The worker's read as the store makes it returns the waiting events in order.
    let api = service(&store).await;
    let entries = ["a", "b", "c"].map(|k| entry(api, k, AlertAction::Trigger));
    store.enqueue_alerts(entries.to_vec()).await.unwrap();
    let keys: Vec<String> = store
        .inbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.entry.dedup_key)
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
    drop(conn);
    drop(store);
    db.drop_database().await;
}

/// On PostgreSQL a table that has grown is analyzed within seconds, not when autovacuum
/// comes round a minute later: until then the plans cached for it are made for the
/// empty table it was (for accepted events, a scan of every alert per batch).
#[tokio::test]
async fn postgres_analyzes_tables_that_have_grown() {
    let Some((db, store, mut conn)) = fresh().await else {
        return;
    };
    // Autovacuum stays away from the table, so only Klaxon can have analyzed it.
    sqlx::query("ALTER TABLE alert_events SET (autovacuum_enabled = false)")
        .execute(&mut conn)
        .await
        .unwrap();
    let api = service(&store).await;
    for chunk in 0..3 {
        let entries = (0..400)
            .map(|i| entry(api, &format!("{chunk}-{i}"), AlertAction::Trigger))
            .collect();
        store.enqueue_alerts(entries).await.unwrap();
    }
    let mut estimate = -1.0;
    for _ in 0..100 {
        estimate = sqlx::query_scalar::<_, f32>(
            "SELECT reltuples FROM pg_class WHERE relname = 'alert_events'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if estimate >= 1000.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        estimate >= 1000.0,
        "alert_events holds 1,200 events; its statistics say {estimate}"
    );
    drop(conn);
    drop(store);
    db.drop_database().await;
}

#[tokio::test]
async fn a_singleton_has_one_holder_until_its_process_goes() {
    let Some(db) = TempPostgres::new().await else {
        return;
    };
    let one = klaxon_store::open(&db.url).await.unwrap();
    let two = klaxon_store::open(&db.url).await.unwrap();
    assert!(one.hold_singleton("inbox").await.unwrap());
    assert!(
        one.hold_singleton("inbox").await.unwrap(),
        "the holder keeps it"
    );
    assert!(!two.hold_singleton("inbox").await.unwrap());
    assert!(
        two.hold_singleton("other").await.unwrap(),
        "singletons are by name"
    );
    drop(one);
    let mut taken = false;
    for _ in 0..100 {
        if two.hold_singleton("inbox").await.unwrap() {
            taken = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(taken, "a store that is gone gives its singletons up");
    drop(two);
    db.drop_database().await;
}
