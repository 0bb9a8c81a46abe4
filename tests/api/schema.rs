//! Both migration folders must give the same tables and columns.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::{Kind, TestDb};
use mashov::db::connection::Manager;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn columns(db: &TestDb) -> BTreeSet<(String, String)> {
    let manager = Manager::new(&db.url).expect("url");
    let mut conn = manager.open().expect("connect");
    mashov::services::setup::migrate(&mut conn, chrono::Utc::now()).expect("migrate");
    let sql = match manager.backend() {
        mashov::db::Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        mashov::db::Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        }
    };
    diesel::sql_query(sql)
        .load::<Column>(&mut conn)
        .expect("columns")
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

#[test]
fn both_backends_get_the_same_tables_and_columns_and_migrate_is_idempotent() {
    let sqlite = TestDb::new(Kind::Sqlite).expect("sqlite");
    let Some(pg) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let a = columns(&sqlite);
    let b = columns(&pg);
    assert!(a.len() > 30, "{a:?}");
    assert_eq!(a, b);
    // A second run applies nothing and changes nothing.
    assert_eq!(columns(&sqlite), a);
    assert_eq!(columns(&pg), b);
}
