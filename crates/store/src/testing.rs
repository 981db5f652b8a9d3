//! Fresh databases for tests (this crate's, the server's, the benches'): a SQLite file
//! in a temporary directory, or a new PostgreSQL database on the server at
//! `KLAXON_TEST_POSTGRES_URL`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A SQLite database in its own directory, removed on drop.
pub struct TempSqlite {
    pub dir: PathBuf,
    pub url: String,
}

impl TempSqlite {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique_name("klaxon_store"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("klaxon.db").display());
        Self { dir, url }
    }
}

impl Default for TempSqlite {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh PostgreSQL database, dropped by [`TempPostgres::drop_database`].
pub struct TempPostgres {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TempPostgres {
    /// `None` when no server is configured; under CI that is a failure, not a skip.
    pub async fn new() -> Option<Self> {
        let Ok(admin_url) = std::env::var("KLAXON_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set KLAXON_TEST_POSTGRES_URL"
            );
            eprintln!("skipping: KLAXON_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = unique_name("klaxon_test");
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to KLAXON_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        let base = admin_url.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop_database(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            conn.close().await.ok();
        }
    }
}
