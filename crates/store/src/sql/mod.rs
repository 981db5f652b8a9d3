//! The SQL both backends share, as plain functions over `sqlx::Any` connections, one
//! file per group of tables. SQLite and PostgreSQL agree on everything here (`$N`
//! parameters, `RETURNING`, `ON CONFLICT`, `VALUES` lists); where they differ, a
//! function takes the [`crate::backend::Dialect`] fragment it needs.
//!
//! Two quirks of `sqlx::Any`, both handled here: its query builder writes `?`
//! placeholders, which PostgreSQL refuses, so statements built at run time use
//! [`Sql`]; and it reads a value by its stored type, so a SQLite `BOOLEAN` (stored as an
//! integer) cannot be read as a `bool`: such columns are selected as `CASE … THEN 1
//! ELSE 0 END` and read as integers.
//!
//! Public so that `cargo doc` shows every query; the rest of Klaxon goes through the
//! [`crate::Store`] traits, which run these in the right transaction or writer.
#![warn(missing_docs)]

pub mod alerts;
pub mod inbox;
pub mod incidents;
pub mod jobs;
pub mod links;
pub mod maintenance;
pub mod metrics;
pub mod people;
pub mod reviews;
pub mod schedules;
pub mod services;
pub mod sessions;
pub mod status;
pub mod subscribers;
pub mod users;

use std::fmt::Write as _;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Encode, Type};

use crate::{Result, StoreError};

/// A statement built at run time (lists of values, optional filters), with `$N`
/// placeholders numbered as values are bound. On SQLite they are sent as plain `?`:
/// SQLite finds a named parameter's number by a scan of every name, which sqlx does for
/// each parameter, so a statement writing 500 rows at once spent more time binding
/// than writing.
pub struct Sql<'q> {
    text: String,
    args: AnyArguments<'q>,
    bound: usize,
    /// Where each placeholder starts in `text`, and its length.
    placeholders: Vec<(usize, usize)>,
    error: Option<String>,
}

/// Where a statement runs: on SQLite its placeholders are sent as `?`.
pub trait Target<'c>: sqlx::Executor<'c, Database = Any> {
    /// Whether the statement runs on SQLite.
    fn is_sqlite(&self) -> bool;
}

impl<'c> Target<'c> for &'c AnyPool {
    fn is_sqlite(&self) -> bool {
        self.connect_options().database_url.scheme() == "sqlite"
    }
}

impl<'c> Target<'c> for &'c mut AnyConnection {
    fn is_sqlite(&self) -> bool {
        self.backend_name() == "SQLite"
    }
}

impl<'q> Sql<'q> {
    /// A statement starting with `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: AnyArguments::default(),
            bound: 0,
            placeholders: Vec::new(),
            error: None,
        }
    }

    /// Appends SQL text as it is.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        self.bound += 1;
        let start = self.text.len();
        let _ = write!(self.text, "${}", self.bound);
        self.placeholders.push((start, self.text.len() - start));
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e.to_string());
        }
        self
    }

    /// Appends `a, b, c`: a placeholder for each of `values`.
    pub fn list<T, I>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self
    }

    /// Appends `VALUES (…), (…)`: a row per item, its values pushed by `row`.
    pub fn values<I>(
        &mut self,
        items: I,
        mut row: impl FnMut(&mut Row<'_, 'q>, I::Item),
    ) -> &mut Self
    where
        I: IntoIterator,
    {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            row(
                &mut Row {
                    sql: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
        self
    }

    /// The text (with `?` placeholders on SQLite: they are numbered in the order they
    /// appear, which is the order of the values) and the values.
    fn parts(self, sqlite: bool) -> Result<(String, AnyArguments<'q>), sqlx::Error> {
        if let Some(e) = self.error {
            return Err(sqlx::Error::Encode(e.into()));
        }
        if !sqlite {
            return Ok((self.text, self.args));
        }
        let mut text = String::with_capacity(self.text.len());
        let mut from = 0;
        for (start, len) in &self.placeholders {
            text.push_str(&self.text[from..*start]);
            text.push('?');
            from = start + len;
        }
        text.push_str(&self.text[from..]);
        Ok((text, self.args))
    }

    /// Runs the statement; how many rows it changed.
    pub async fn execute<'c, E>(self, conn: E) -> Result<u64, sqlx::Error>
    where
        E: Target<'c>,
    {
        let (text, args) = self.parts(conn.is_sqlite())?;
        Ok(sqlx::query_with(&text, args)
            .execute(conn)
            .await?
            .rows_affected())
    }

    /// Runs the statement; every row it returns.
    pub async fn fetch_all<'c, E>(self, conn: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Target<'c>,
    {
        let (text, args) = self.parts(conn.is_sqlite())?;
        sqlx::query_with(&text, args).fetch_all(conn).await
    }

    /// Runs the statement; the first column of every row it returns.
    pub async fn fetch_scalars<'c, E, T>(self, conn: E) -> Result<Vec<T>, sqlx::Error>
    where
        E: Target<'c>,
        T: for<'r> sqlx::Decode<'r, Any> + Type<Any> + Send + Unpin,
    {
        let (text, args) = self.parts(conn.is_sqlite())?;
        sqlx::query_scalar_with(&text, args).fetch_all(conn).await
    }

    /// Runs the statement; the first column of its first row, if any.
    pub async fn fetch_scalar<'c, E, T>(self, conn: E) -> Result<Option<T>, sqlx::Error>
    where
        E: Target<'c>,
        T: for<'r> sqlx::Decode<'r, Any> + Type<Any> + Send + Unpin,
    {
        let (text, args) = self.parts(conn.is_sqlite())?;
        sqlx::query_scalar_with(&text, args)
            .fetch_optional(conn)
            .await
    }
}

/// One parenthesised row of [`Sql::values`].
pub struct Row<'s, 'q> {
    sql: &'s mut Sql<'q>,
    first: bool,
}

impl<'q> Row<'_, 'q> {
    fn separate(&mut self) {
        if !std::mem::replace(&mut self.first, false) {
            self.sql.push(", ");
        }
    }

    /// The next value of the row, as a placeholder.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        self.separate();
        self.sql.bind(value);
        self
    }

    /// The next value of the row, as SQL text (a constant).
    pub fn raw(&mut self, text: &str) -> &mut Self {
        self.separate();
        self.sql.push(text);
        self
    }
}

/// Rows per statement when many rows are written together: well under both databases'
/// limits on bound parameters.
pub const CHANGE_ROWS: usize = 500;

/// Milliseconds since the epoch, as every time is stored.
pub fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// A stored time.
pub fn instant(ms: i64) -> jiff::Timestamp {
    klaxon_domain::time::from_unix_ms(ms)
}

/// A stored value that does not parse.
pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} cannot be read: {e}"))
}

/// Plain data as the JSON text it is stored as.
pub fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serialises")
}

/// `e`, with a unique-constraint violation turned into `Duplicate` of `field`.
pub fn unique_violation(
    e: sqlx::Error,
    field: &'static str,
    message: impl FnOnce() -> String,
) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            field,
            message: message(),
        },
        _ => StoreError::from(e),
    }
}

/// Reads a flag selected as `CASE WHEN … THEN 1 ELSE 0 END` (see the module's
/// documentation).
pub fn flag(row: &AnyRow, index: usize) -> Result<bool> {
    use sqlx::Row as _;
    Ok(row.try_get::<i64, _>(index)? != 0)
}

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    fn statement() -> Sql<'static> {
        let mut q = Sql::new("INSERT INTO t (a, b) ");
        q.values([(1i64, "x'$1"), (2, "y")], |row, (a, b)| {
            row.bind(a).raw("'$9'").bind(b);
        });
        q
    }

    #[test]
    fn sqlite_gets_plain_placeholders_in_the_same_order() {
        let (sqlite, _) = statement().parts(true).unwrap();
        assert_eq!(
            sqlite,
            "INSERT INTO t (a, b) VALUES (?, '$9', ?), (?, '$9', ?)"
        );
        let (postgres, _) = statement().parts(false).unwrap();
        assert_eq!(
            postgres,
            "INSERT INTO t (a, b) VALUES ($1, '$9', $2), ($3, '$9', $4)"
        );
    }
}
