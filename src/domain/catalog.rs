//! The city's service catalog ("the table of services"), as read from its CSV file.

use std::collections::{BTreeMap, HashMap};

use super::language::Language;

/// The columns every catalog file must start with, in this order.
pub const REQUIRED_HEADER: [&str; 5] = [
    "department_code",
    "department_name",
    "service_code",
    "service_name",
    "sla_days",
];

/// Files larger than this are refused before parsing: a city's catalog is a few thousand rows.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
const MAX_REPORTED_ERRORS: usize = 50;

/// Whom a service serves: residents (the default) or the city's own employees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAudience {
    Residents,
    Employees,
}

impl ServiceAudience {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAudience::Residents => "residents",
            ServiceAudience::Employees => "employees",
        }
    }

    /// A stored or posted audience: `employees`, or residents (the default, so an empty or
    /// older value serves residents).
    pub fn of(text: &str) -> ServiceAudience {
        if text == ServiceAudience::Employees.as_str() {
            ServiceAudience::Employees
        } else {
            ServiceAudience::Residents
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// Names in other languages, from `department_name_<lang>` columns.
    pub names: BTreeMap<Language, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub code: String,
    pub department_code: String,
    pub name: String,
    pub names: BTreeMap<Language, String>,
    pub sla_days: i32,
    pub audience: ServiceAudience,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub departments: Vec<Department>,
    pub services: Vec<Service>,
}

/// One refused line of a catalog file (line 1 is the header): in English for the command line,
/// and as problems that a page words in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
    pub problems: Vec<Problem>,
}

/// One thing wrong, as a key under `admin.catalog.problems` and the values its text names
/// (`{code}`, `{line}`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: &'static str,
    pub values: Vec<(&'static str, String)>,
}

impl LineError {
    /// A refusal with its English words only (pages show them as they are).
    pub fn new(line: u64, message: impl Into<String>) -> LineError {
        LineError {
            line,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

/// The English words and the problem they stand for.
pub fn problem(
    key: &'static str,
    values: &[(&'static str, &str)],
    english: String,
) -> (String, Problem) {
    (
        english,
        Problem {
            key,
            values: values.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        },
    )
}

/// A line refused for these problems.
pub fn refused(line: u64, problems: Vec<(String, Problem)>) -> LineError {
    let (words, problems): (Vec<String>, Vec<Problem>) = problems.into_iter().unzip();
    LineError {
        line,
        message: words.join("; "),
        problems,
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A department or service code: lower-case ASCII letters, digits, `.`, `_` and `-`.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn err(
    line: u64,
    key: &'static str,
    values: &[(&'static str, &str)],
    english: String,
) -> LineError {
    refused(line, vec![problem(key, values, english)])
}

/// Parses a whole catalog file; any error refuses the whole file, so that nothing half-applied
/// reaches the database.
pub fn parse_catalog(bytes: &[u8]) -> Result<Catalog, Vec<LineError>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![err(
            0,
            "too_big",
            &[],
            "the file is larger than 8 MiB".into(),
        )]);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(vec![err(
            first_bad_utf8_line(bytes),
            "not_utf8",
            &[],
            "the file is not UTF-8 (in Excel: Save As, \"CSV UTF-8\")".into(),
        )]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => {
            return Err(vec![err(
                1,
                "header",
                &[],
                format!("unreadable header: {e}"),
            )])
        }
    };
    if header.len() < REQUIRED_HEADER.len() || header[..REQUIRED_HEADER.len()] != REQUIRED_HEADER {
        let columns = REQUIRED_HEADER.join(",");
        let refusal = if header.iter().all(|c| c.is_empty()) {
            err(1, "empty", &[], "the file is empty".into())
        } else {
            err(
                1,
                "header",
                &[("columns", &columns)],
                format!("the header must start with {columns}"),
            )
        };
        return Err(vec![refusal]);
    }
    let extra = |prefix: &str| -> Vec<(usize, Language)> {
        header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let lang = Language::parse(h.strip_prefix(prefix)?)?;
                Some((i, lang))
            })
            .collect()
    };
    let dept_names = extra("department_name_");
    let service_names = extra("service_name_");
    let audience_col = header.iter().position(|h| h == "audience");

    let mut catalog = Catalog::default();
    let mut errors = Vec::new();
    let mut dept_seen: HashMap<String, (u64, String)> = HashMap::new();
    let mut service_seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(err(line, "row", &[], format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let names = |cols: &[(usize, Language)]| -> BTreeMap<Language, String> {
            cols.iter()
                .filter_map(|(i, l)| {
                    let s = cell(*i);
                    (!s.is_empty()).then_some((*l, s))
                })
                .collect()
        };
        let (dept_code, dept_name, code, name) = (cell(0), cell(1), cell(2), cell(3));
        let mut problems = Vec::new();
        if !is_valid_code(&dept_code) {
            problems.push(problem(
                "department_code",
                &[("code", &dept_code)],
                format!(
                    "department_code {dept_code:?} must be lower-case letters, digits, '.', '_' or '-'"
                ),
            ));
        }
        if dept_name.is_empty() || dept_name.chars().count() > 200 {
            problems.push(problem(
                "department_name",
                &[],
                "department_name must have 1 to 200 characters".into(),
            ));
        }
        if !is_valid_code(&code) {
            problems.push(problem(
                "service_code",
                &[("code", &code)],
                format!(
                    "service_code {code:?} must be lower-case letters, digits, '.', '_' or '-'"
                ),
            ));
        }
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(problem(
                "service_name",
                &[],
                "service_name must have 1 to 200 characters".into(),
            ));
        }
        let sla_days = match cell(4).parse::<i32>() {
            Ok(n) if (0..=365).contains(&n) => n,
            _ => {
                let given = cell(4);
                problems.push(problem(
                    "sla_days",
                    &[("value", &given)],
                    format!("sla_days {given:?} must be a whole number from 0 to 365"),
                ));
                0
            }
        };
        let audience = match audience_col.map(cell).as_deref() {
            None | Some("") | Some("residents") => ServiceAudience::Residents,
            Some("employees") => ServiceAudience::Employees,
            Some(other) => {
                problems.push(problem(
                    "audience",
                    &[("value", other)],
                    format!("audience {other:?} must be residents or employees"),
                ));
                ServiceAudience::Residents
            }
        };
        if let Some(first) = service_seen.get(&code) {
            let first = first.to_string();
            problems.push(problem(
                "service_repeated",
                &[("code", &code), ("line", &first)],
                format!("service_code {code:?} already appears on line {first}"),
            ));
        }
        match dept_seen.get(&dept_code) {
            Some((first, known)) if *known != dept_name => {
                let first = first.to_string();
                problems.push(problem(
                    "department_renamed",
                    &[("code", &dept_code), ("name", known), ("line", &first)],
                    format!("department {dept_code:?} is named {known:?} on line {first}"),
                ))
            }
            _ => {}
        }
        if !problems.is_empty() {
            errors.push(refused(line, problems));
            continue;
        }
        service_seen.insert(code.clone(), line);
        if !dept_seen.contains_key(&dept_code) {
            dept_seen.insert(dept_code.clone(), (line, dept_name.clone()));
            catalog.departments.push(Department {
                code: dept_code.clone(),
                name: dept_name,
                names: names(&dept_names),
            });
        }
        catalog.services.push(Service {
            code,
            department_code: dept_code,
            name,
            names: names(&service_names),
            sla_days,
            audience,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if catalog.services.is_empty() {
        return Err(vec![err(
            2,
            "no_services",
            &[],
            "the file has a header but no services".into(),
        )]);
    }
    Ok(catalog)
}

fn first_bad_utf8_line(bytes: &[u8]) -> u64 {
    let valid = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |s| s.len());
    1 + bytes[..valid].iter().filter(|b| **b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "department_code,department_name,service_code,service_name,sla_days";

    #[test]
    fn a_plain_catalog_parses_with_its_departments_once() {
        let text = format!(
            "{HEADER}\nsanitation,אגף תברואה,sanitation.bulky-waste,פינוי פסולת גושית,3\n\
             sanitation,אגף תברואה,sanitation.bins,החלפת פח,5\n"
        );
        let c = parse_catalog(text.as_bytes()).expect("valid");
        assert_eq!(c.departments.len(), 1);
        assert_eq!(c.services.len(), 2);
        assert_eq!(c.services[0].sla_days, 3);
        assert_eq!(c.services[1].audience, ServiceAudience::Residents);
    }

    #[test]
    fn a_byte_order_mark_crlf_extra_columns_and_other_languages_are_understood() {
        let text = format!(
            "\u{feff}{HEADER},service_name_en,audience,notes\r\nhr,משאבי אנוש,hr.payslip,תלוש שכר,2,Payslip,employees,x\r\n"
        );
        let c = parse_catalog(text.as_bytes()).expect("valid");
        assert_eq!(
            c.services[0].names.get(&Language::En).map(String::as_str),
            Some("Payslip")
        );
        assert_eq!(c.services[0].audience, ServiceAudience::Employees);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_numbers_and_refuse_the_file() {
        let text = format!(
            "{HEADER}\nok,אגף,ok.one,שירות,3\nBad Code,אגף,x.y,שירות,3\nok,אגף,ok.two,שירות,many\n\
             ok,אגף,ok.one,שוב,3\nok,אגף אחר,ok.three,שירות,3\n"
        );
        let errors = parse_catalog(text.as_bytes()).expect_err("invalid");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(errors[2].message.contains("line 2"));
    }

    #[test]
    fn an_empty_file_a_wrong_header_and_a_header_alone_are_refused() {
        assert!(parse_catalog(b"").expect_err("empty")[0]
            .message
            .contains("empty"));
        assert!(parse_catalog(b"code,name\n").expect_err("header")[0]
            .message
            .contains("header"));
        assert!(parse_catalog(HEADER.as_bytes()).is_err());
    }

    #[test]
    fn a_legacy_hebrew_encoding_is_refused_with_its_line() {
        // "פינוי" in Windows-1255.
        let mut bytes = format!("{HEADER}\nok,x,ok.one,").into_bytes();
        bytes.extend_from_slice(&[0xF4, 0xE9, 0xF0, 0xE5, 0xE9]);
        bytes.extend_from_slice(b",3\n");
        let errors = parse_catalog(&bytes).expect_err("not utf-8");
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("UTF-8"));
    }
}
