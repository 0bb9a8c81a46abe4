//! Statements whose shape depends on the request (a report's grouping and filters), built for
//! one backend as they are written. Each bound value writes that backend's own placeholder
//! (`?` or `$n`) at the moment it is pushed, so no statement text is ever patched afterwards,
//! and the values are bound in the order their placeholders appear, whatever that order is.
//!
//! Every value is bound as text: the report columns that are filtered on are text (days as
//! `YYYY-MM-DD`, codes), and a typed column is never compared with a bound value here.

use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::{Backend, DbConnection};

/// A statement being written, with its values.
#[derive(Debug)]
pub struct Sql {
    backend: Backend,
    text: String,
    binds: Vec<String>,
}

impl Sql {
    /// An empty statement for the connection's backend.
    pub fn for_conn(conn: &DbConnection) -> Self {
        let backend = match conn {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        };
        Sql {
            backend,
            text: String::new(),
            binds: Vec::new(),
        }
    }

    /// Appends statement text (never a value: values go through [`Sql::bind`]).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<String>) -> &mut Self {
        self.binds.push(value.into());
        match self.backend {
            Backend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.binds.len().to_string());
            }
            Backend::Sqlite => self.text.push('?'),
        }
        self
    }

    /// Appends `column IN (…)` for `values`, or a condition that is never true for none (SQL has
    /// no empty list).
    pub fn push_in(&mut self, column: &str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("1 = 0");
        }
        self.push(column).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self.push(")")
    }

    pub fn load<T>(self, conn: &mut DbConnection) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        match conn {
            DbConnection::Postgres(c) => boxed(self.text, self.binds).load(c),
            DbConnection::Sqlite(c) => boxed(self.text, self.binds).load(c),
        }
    }

    pub fn execute(self, conn: &mut DbConnection) -> QueryResult<usize> {
        match conn {
            DbConnection::Postgres(c) => boxed(self.text, self.binds).execute(c),
            DbConnection::Sqlite(c) => boxed(self.text, self.binds).execute(c),
        }
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        &self.text
    }
}

fn boxed<DB>(text: String, binds: Vec<String>) -> BoxedSqlQuery<'static, DB, SqlQuery>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text>,
    String: diesel::serialize::ToSql<Text, DB>,
{
    binds
        .into_iter()
        .fold(diesel::sql_query(text).into_boxed::<DB>(), |q, b| {
            q.bind::<Text, _>(b)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(backend: Backend) -> Sql {
        Sql {
            backend,
            text: String::new(),
            binds: Vec::new(),
        }
    }

    #[test]
    fn each_backend_gets_its_own_placeholders_in_order() {
        for (backend, expected) in [
            (Backend::Postgres, "a = $1 AND b IN ($2, $3) AND c < $4"),
            (Backend::Sqlite, "a = ? AND b IN (?, ?) AND c < ?"),
        ] {
            let mut q = sql(backend);
            q.push("a = ")
                .bind("x")
                .push(" AND ")
                .push_in("b", &["y".into(), "z".into()])
                .push(" AND c < ")
                .bind("w");
            assert_eq!(q.text(), expected);
            assert_eq!(q.binds, ["x", "y", "z", "w"]);
        }
    }

    #[test]
    fn a_question_mark_in_the_text_is_left_alone() {
        let mut q = sql(Backend::Postgres);
        q.push("SELECT '?' WHERE a = ").bind("x");
        assert_eq!(q.text(), "SELECT '?' WHERE a = $1");
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        let mut q = sql(Backend::Sqlite);
        q.push_in("b", &[]);
        assert_eq!(q.text(), "1 = 0");
        assert!(q.binds.is_empty());
    }
}
