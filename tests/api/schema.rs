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

/// Employee answers stored by an earlier version (each in its own transaction, in arrival
/// order) are rewritten by the upgrade in one transaction and random order; residents' rows are
/// left alone.
#[test]
fn upgrading_postgresql_rewrites_earlier_employee_answers_in_one_shuffled_transaction() {
    use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
    use mashov::db::responses::{AnswerRow, ResponseRow};
    use mashov::db::DbConnection;

    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    let Some(pg) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let now = chrono::Utc::now();
    let mut conn = Manager::new(&pg.url).expect("url").open().expect("connect");
    {
        let DbConnection::Postgres(inner) = &mut conn else {
            panic!("a PostgreSQL connection")
        };
        // Up to the version before the anonymous inbox.
        for _ in 0..7 {
            inner.run_next_migration(POSTGRES).expect("migration");
        }
    }
    assert_eq!(
        crate::helpers::count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"
        ),
        7
    );
    mashov::services::surveys::ensure_defaults(&mut conn, now).expect("surveys");
    let catalog =
        mashov::domain::catalog::parse_catalog(crate::helpers::CATALOG.as_bytes()).expect("csv");
    mashov::services::catalog::import(&mut conn, &catalog, now).expect("catalog");
    let survey = mashov::db::surveys::latest(&mut conn, "employee.internal_service")
        .expect("query")
        .expect("stored")
        .id;
    let row = |i: usize, audience: &str, service: &str| ResponseRow {
        id: format!("{i:02}-{}", uuid::Uuid::new_v4()),
        invitation_id: None,
        survey_id: survey.clone(),
        audience: audience.into(),
        service_code: service.into(),
        channel: None,
        language: String::new(),
        submitted_at: now.naive_utc(),
        day: "2026-10-01".into(),
        overall: Some(3),
        effort: None,
        nps: None,
        resolved: None,
        cohort: Some("tickets".into()),
    };
    let mut arrival = Vec::new();
    for i in 0..12 {
        let r = row(i, "employee", "hr.payslip");
        let answers = [AnswerRow {
            response_id: r.id.clone(),
            question_id: "overall".into(),
            int_value: Some(3),
            text_value: None,
        }];
        // Autocommit: one transaction each, as answers arrived before.
        insert_at_version_7(&mut conn, &r, &answers);
        arrival.push(r.id);
    }
    let resident = row(99, "resident", "sanitation.bulky-waste");
    insert_at_version_7(&mut conn, &resident, &[]);
    let xmins = |conn: &mut DbConnection, audience: &str| {
        crate::helpers::count(
            conn,
            &format!(
                "SELECT COUNT(DISTINCT xmin::text) AS n FROM responses WHERE audience = '{audience}'"
            ),
        )
    };
    let resident_xmin = "SELECT xmin::text::bigint AS n FROM responses WHERE audience = 'resident'";
    let before = crate::helpers::count(&mut conn, resident_xmin);
    assert_eq!(xmins(&mut conn, "employee"), 12);

    {
        let DbConnection::Postgres(inner) = &mut conn else {
            panic!("a PostgreSQL connection")
        };
        inner
            .run_next_migration(POSTGRES)
            .expect("the anonymous inbox's migration");
    }
    // The migrations after it leave employee answers as they are, up to the one that
    // classifies every stored answer (000019, which rewrites every row by design).
    {
        let DbConnection::Postgres(inner) = &mut conn else {
            panic!("a PostgreSQL connection")
        };
        let pending = inner.pending_migrations(POSTGRES).expect("pending");
        let mut ran = 0;
        for m in pending {
            if m.name().to_string().contains("response_measures") {
                break;
            }
            inner.run_migration(&*m).expect("migration");
            ran += 1;
        }
        assert!(ran >= 1);
    }
    assert_eq!(
        xmins(&mut conn, "employee"),
        1,
        "one transaction wrote them all"
    );
    assert_eq!(crate::helpers::count(&mut conn, resident_xmin), before);
    assert_eq!(
        crate::helpers::count(&mut conn, "SELECT COUNT(*) AS n FROM answers"),
        12
    );
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let physical: Vec<String> =
        diesel::sql_query("SELECT id FROM responses WHERE audience = 'employee' ORDER BY ctid")
            .load::<Id>(&mut conn)
            .expect("ids")
            .into_iter()
            .map(|r| r.id)
            .collect();
    let mut sorted = physical.clone();
    sorted.sort();
    assert_eq!(sorted, arrival, "the same answers");
    // In arrival order by chance: 1 in 479,001,600.
    assert_ne!(physical, arrival, "rows still lie in arrival order");
    assert!(mashov::db::migrations::run_pending(&mut conn).expect("the rest") >= 1);
    // Answers stored before 000019 are classified by the rule they were counted by: a 3 is not
    // satisfied, and no NPS was asked.
    assert_eq!(
        crate::helpers::count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM responses WHERE satisfied = 0 AND nps_group IS NULL"
        ),
        13
    );
}

/// A response and its answers as the service stored them at schema version 7 (today's insert
/// writes columns that did not exist then).
fn insert_at_version_7(
    conn: &mut mashov::db::DbConnection,
    r: &mashov::db::responses::ResponseRow,
    answers: &[mashov::db::responses::AnswerRow],
) {
    use diesel::sql_types::{Integer, Nullable, Timestamp};
    diesel::sql_query(
        "INSERT INTO responses (id, invitation_id, survey_id, audience, service_code, channel, \
         language, submitted_at, day, overall, effort, nps, resolved, cohort) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind::<Text, _>(&r.id)
    .bind::<Nullable<Text>, _>(&r.invitation_id)
    .bind::<Text, _>(&r.survey_id)
    .bind::<Text, _>(&r.audience)
    .bind::<Text, _>(&r.service_code)
    .bind::<Nullable<Text>, _>(&r.channel)
    .bind::<Text, _>(&r.language)
    .bind::<Timestamp, _>(r.submitted_at)
    .bind::<Text, _>(&r.day)
    .bind::<Nullable<Integer>, _>(r.overall)
    .bind::<Nullable<Integer>, _>(r.effort)
    .bind::<Nullable<Integer>, _>(r.nps)
    .bind::<Nullable<Integer>, _>(r.resolved)
    .bind::<Nullable<Text>, _>(&r.cohort)
    .execute(conn)
    .expect("insert");
    for a in answers {
        diesel::sql_query(
            "INSERT INTO answers (response_id, question_id, int_value, text_value) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind::<Text, _>(&a.response_id)
        .bind::<Text, _>(&a.question_id)
        .bind::<Nullable<Integer>, _>(a.int_value)
        .bind::<Nullable<Text>, _>(&a.text_value)
        .execute(conn)
        .expect("insert");
    }
}
