//! The recipients file of an employee campaign: `email,department_code,language`.

use std::collections::HashMap;

use validator::ValidateEmail;

use super::catalog::LineError;
use super::csv_file::utf8_text;
use super::language::Language;

/// The header a recipients file must have.
pub const HEADER: [&str; 3] = ["email", "department_code", "language"];
/// Errors reported before giving up on a file.
const MAX_REPORTED_ERRORS: usize = 50;

/// One employee to invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Trimmed and lower-cased, so that duplicates are found whatever their case.
    pub email: String,
    pub department_code: String,
    pub language: Language,
}

/// A checked file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientList {
    pub recipients: Vec<Recipient>,
    /// Lines that repeated an earlier address and were merged into it (the first wins).
    pub duplicates: usize,
}

/// Parses a whole file; any error refuses the whole file. `known_department` answers whether
/// a department code is in the catalog. `progress` is told the bytes read so far.
pub fn parse_recipients(
    bytes: &[u8],
    known_department: impl Fn(&str) -> bool,
    mut progress: impl FnMut(u64),
) -> Result<RecipientList, Vec<LineError>> {
    let text = utf8_text(bytes).map_err(|e| vec![e])?;
    let err = |line: u64, message: String| LineError::new(line, message);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![err(1, format!("unreadable header: {e}"))]),
    };
    if header.iter().all(|c| c.is_empty()) {
        return Err(vec![err(1, "the file is empty".into())]);
    }
    if header != HEADER {
        return Err(vec![err(
            1,
            format!("the header must be exactly {}", HEADER.join(",")),
        )]);
    }
    let mut list = RecipientList::default();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut dept_known: HashMap<String, bool> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i as u64 + 2, |p| p.line());
                errors.push(err(line, format!("unreadable line: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(i as u64 + 2, |p| p.line());
        if i % 4096 == 0 {
            progress(record.position().map_or(0, |p| p.byte()));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != HEADER.len() {
            errors.push(err(
                line,
                format!("expected 3 columns, found {}", record.len()),
            ));
            continue;
        }
        let email = record[0].trim().to_lowercase();
        let dept = record[1].trim();
        let lang_text = record[2].trim();
        let mut problems = Vec::new();
        if email.is_empty() {
            problems.push("the email is missing".to_string());
        } else if email.len() > 254 || !email.validate_email() {
            problems.push(format!(
                "{:?} is not a valid email address",
                record[0].trim()
            ));
        }
        if dept.is_empty() {
            problems.push("the department_code is missing".to_string());
        } else if !*dept_known
            .entry(dept.to_string())
            .or_insert_with(|| known_department(dept))
        {
            problems.push(format!("department {dept:?} is not in the catalog"));
        }
        let language = if lang_text.is_empty() {
            Some(Language::He)
        } else {
            Language::parse(&lang_text.to_ascii_lowercase())
        };
        if language.is_none() {
            problems.push(format!(
                "language {lang_text:?} is not one of he, ar, en, ru"
            ));
        }
        if !problems.is_empty() {
            errors.push(err(line, problems.join("; ")));
            continue;
        }
        if seen.contains_key(&email) {
            list.duplicates += 1;
            continue;
        }
        seen.insert(email.clone(), line);
        list.recipients.push(Recipient {
            email,
            department_code: dept.to_string(),
            language: language.unwrap_or_default(),
        });
    }
    progress(text.len() as u64);
    if !errors.is_empty() {
        return Err(errors);
    }
    if list.recipients.is_empty() {
        return Err(vec![err(
            2,
            "the file has a header but no recipients".into(),
        )]);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RecipientList, Vec<LineError>> {
        parse_recipients(text.as_bytes(), |d| d == "hr" || d == "it", |_| {})
    }

    #[test]
    fn excel_files_with_a_bom_and_crlf_parse() {
        let list = parse("\u{feff}email,department_code,language\r\nA@City.example,hr,ar\r\nb@city.example,it,\r\n")
            .expect("valid");
        assert_eq!(list.recipients.len(), 2);
        assert_eq!(list.recipients[0].email, "a@city.example");
        assert_eq!(list.recipients[0].language, Language::Ar);
        assert_eq!(list.recipients[1].language, Language::He);
    }

    #[test]
    fn duplicates_are_merged_whatever_their_case() {
        let list = parse("email,department_code,language\na@x.example,hr,he\nA@X.example,it,en\n")
            .expect("valid");
        assert_eq!(list.recipients.len(), 1);
        assert_eq!(list.duplicates, 1);
        assert_eq!(list.recipients[0].department_code, "hr");
    }

    #[test]
    fn every_bad_line_is_numbered() {
        let errors = parse(
            "email,department_code,language\nnot-an-email,hr,he\nc@x.example,sales,he\n\
             d@x.example,hr,fr\ne@x.example,hr\n",
        )
        .expect_err("invalid");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(errors[1].message.contains("sales"));
    }

    #[test]
    fn bad_headers_and_empty_files_are_refused() {
        assert!(parse("").expect_err("empty")[0].message.contains("empty"));
        assert!(
            parse("mail,dept,lang\na@x.example,hr,he\n").expect_err("header")[0]
                .message
                .contains("header")
        );
        assert!(
            parse("email,department_code,language\n").expect_err("no rows")[0]
                .message
                .contains("no recipients")
        );
    }
}
