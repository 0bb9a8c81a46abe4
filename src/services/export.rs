//! Exporting responses: one row per response, one column per question, headers and choices in
//! Hebrew; read a page at a time so that a million responses stream in constant memory.
//! Employees' answers are exported only from groups the reports show (`reports::released`).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::{self, DbConnection};
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::period::{day_key, month_end, month_start};
use crate::domain::report::ReportParams;
use crate::domain::survey::{QuestionType, SurveyDefinition};
use crate::templates::Templates;

use super::reports::{self, ReportContext, ReportQueryError};
use super::surveys::survey_key;

/// Responses read per page.
pub const PAGE: i64 = 2000;

/// One exported value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}

impl Cell {
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// Everything an export needs to turn stored rows into cells.
pub struct ExportPlan {
    pub audience: Audience,
    /// Which rows: the audience, the days (whole months for employees), services, channel.
    pub filter: db::reports::Filter,
    pub headers: Vec<String>,
    /// Question ids in column order.
    questions: Vec<String>,
    /// (question id, stored value) → Hebrew label, for choices and yes/no.
    labels: HashMap<(String, String), String>,
    service_names: HashMap<String, (String, String)>,
    channel_names: HashMap<String, String>,
    /// Employees only: the (service, month day, cohort) groups that may be shown.
    released: Option<HashSet<(String, String, String)>>,
    /// How many rows to expect (for progress), where known.
    pub expected: i64,
}

/// Checks the parameters (as the reports do) and prepares the columns.
pub fn plan(
    conn: &mut DbConnection,
    templates: &Templates,
    ctx: &ReportContext,
    params: &ReportParams,
) -> Result<ExportPlan, ReportQueryError> {
    // The report checks every parameter and, for employees, decides which groups are shown.
    let report = reports::report(conn, ctx, params, None)?;
    let he = Language::He;
    let t = |key: &str| templates.text(he, &format!("export.{key}"));
    let mut headers: Vec<String> = match params.audience {
        Audience::Resident => [
            "id",
            "day",
            "time",
            "department",
            "service",
            "service_code",
            "channel",
            "language",
        ]
        .iter()
        .map(|k| t(k))
        .collect(),
        Audience::Employee => ["month", "department", "unit", "unit_code"]
            .iter()
            .map(|k| t(k))
            .collect(),
    };
    // Every version's questions, the built-in questionnaire's first, the newest first, each
    // id once; then the city's own questionnaires' for the same audience.
    let mut questions: Vec<String> = Vec::new();
    let mut labels = HashMap::new();
    let builtin = survey_key(params.audience);
    let mut rows = db::surveys::all(conn)?;
    rows.retain(|row| row.audience == params.audience.as_str());
    rows.sort_by_key(|row| row.survey_key != builtin);
    for row in rows {
        let Ok(def) = SurveyDefinition::from_json(&row.definition) else {
            continue;
        };
        for q in &def.questions {
            let label = |m: &BTreeMap<Language, String>| m.get(&he).cloned().unwrap_or_default();
            if !questions.contains(&q.id) {
                questions.push(q.id.clone());
                headers.push(label(&q.text));
            }
            for o in &q.options {
                labels
                    .entry((q.id.clone(), o.value.clone()))
                    .or_insert_with(|| label(&o.label));
            }
            if q.kind == QuestionType::YesNo {
                labels.insert((q.id.clone(), "1".into()), templates.text(he, "survey.yes"));
                labels.insert((q.id.clone(), "0".into()), templates.text(he, "survey.no"));
            }
        }
    }
    let departments: HashMap<String, String> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let catalog = db::catalog::all_services(conn)?;
    let service_names = catalog
        .iter()
        .map(|s| {
            let dept = departments
                .get(&s.department_code)
                .cloned()
                .unwrap_or_default();
            (s.code.clone(), (dept, s.name.clone()))
        })
        .collect();
    // The very services the report covers: the same rule, so that a scope (a key's
    // departments) can never be forgotten here.
    let in_scope = reports::services_for(conn, params)?;
    let filtered =
        params.service.is_some() || params.department.is_some() || !params.scope.is_empty();
    let channel_names = crate::domain::interaction::Channel::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                templates.text(he, &format!("channels.{}", c.as_str())),
            )
        })
        .collect();
    let (from, to, released) = match params.audience {
        Audience::Resident => (day_key(params.from), day_key(params.to), None),
        Audience::Employee => {
            let filter = db::reports::Filter {
                audience: Audience::Employee,
                from_day: day_key(month_start(params.from)),
                to_day: day_key(month_end(params.to)),
                services: Some(in_scope.clone()),
                channel: None,
            };
            let released = reports::released_cells(conn, ctx, &filter)?;
            (filter.from_day, filter.to_day, Some(released))
        }
    };
    Ok(ExportPlan {
        audience: params.audience,
        filter: db::reports::Filter {
            audience: params.audience,
            from_day: from,
            to_day: to,
            services: (filtered || params.audience == Audience::Employee).then_some(in_scope),
            channel: params.channel.map(|c| c.as_str().to_string()),
        },
        headers,
        questions,
        labels,
        service_names,
        channel_names,
        released,
        expected: report.total.figures.map_or(0, |f| f.responses),
    })
}

/// The next page of rows after the key `after`; returns the rows and the key to continue from
/// (None when done).
#[allow(clippy::type_complexity)]
pub fn page(
    conn: &mut DbConnection,
    plan: &ExportPlan,
    after: Option<&(String, String)>,
) -> Result<(Vec<Vec<Cell>>, Option<(String, String)>), ReportQueryError> {
    let rows = db::export::page(conn, &plan.filter, after, PAGE)?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| (r.day.clone(), r.id.clone())))
        .flatten();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| match &plan.released {
            None => true,
            Some(released) => released.contains(&(
                r.service_code.clone(),
                r.day.clone(),
                r.cohort.clone().unwrap_or_default(),
            )),
        })
        .collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_response: HashMap<String, HashMap<String, Cell>> = HashMap::new();
    for a in db::export::answers_of(conn, &ids)? {
        let cell = match (a.int_value, a.text_value) {
            (Some(n), _) => match plan.labels.get(&(a.question_id.clone(), n.to_string())) {
                Some(label) => Cell::Text(label.clone()),
                None => Cell::Int(i64::from(n)),
            },
            (None, Some(text)) => {
                // Several choices are stored comma-joined; each becomes its label.
                let labelled: Vec<String> = text
                    .split(',')
                    .map(|v| {
                        plan.labels
                            .get(&(a.question_id.clone(), v.to_string()))
                            .cloned()
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect();
                let is_choice = plan.labels.contains_key(&(
                    a.question_id.clone(),
                    text.split(',').next().unwrap_or_default().to_string(),
                ));
                Cell::Text(if is_choice { labelled.join(", ") } else { text })
            }
            (None, None) => Cell::Empty,
        };
        by_response
            .entry(a.response_id)
            .or_default()
            .insert(a.question_id, cell);
    }
    let out = rows
        .into_iter()
        .map(|r| {
            let (dept, service) = plan
                .service_names
                .get(&r.service_code)
                .cloned()
                .unwrap_or_default();
            let mut cells = match plan.audience {
                Audience::Resident => {
                    let local = r
                        .submitted_at
                        .and_utc()
                        .with_timezone(&chrono_tz::Asia::Jerusalem);
                    vec![
                        Cell::Text(r.id.clone()),
                        Cell::Text(r.day.clone()),
                        Cell::Text(local.format("%H:%M").to_string()),
                        Cell::Text(dept),
                        Cell::Text(service),
                        Cell::Text(r.service_code.clone()),
                        r.channel.as_ref().map_or(Cell::Empty, |c| {
                            Cell::Text(
                                plan.channel_names
                                    .get(c)
                                    .cloned()
                                    .unwrap_or_else(|| c.clone()),
                            )
                        }),
                        Cell::Text(r.language.clone()),
                    ]
                }
                Audience::Employee => vec![
                    Cell::Text(r.day.get(..7).unwrap_or_default().to_string()),
                    Cell::Text(dept),
                    Cell::Text(service),
                    Cell::Text(r.service_code.clone()),
                ],
            };
            let mut answers = by_response.remove(&r.id).unwrap_or_default();
            cells.extend(
                plan.questions
                    .iter()
                    .map(|q| answers.remove(q).unwrap_or(Cell::Empty)),
            );
            cells
        })
        .collect();
    Ok((out, next))
}

/// A CSV line per row (the header first when `header`), as Excel reads UTF-8 with a BOM.
pub fn csv_chunk(header: Option<&[String]>, rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 128 + 256));
    if let Some(h) = header {
        let _ = w.write_record(h);
    }
    for row in rows {
        let _ = w.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => defuse_formula(t),
            other => other.as_text(),
        }));
    }
    let mut bytes = w.into_inner().unwrap_or_default();
    if header.is_some() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.append(&mut bytes);
        bytes = with_bom;
    }
    bytes
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula: a resident's
/// comment could then run a command on a manager's computer. Such text gets a leading `'`,
/// which spreadsheets show as text (OWASP's advice for CSV injection).
fn defuse_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}
