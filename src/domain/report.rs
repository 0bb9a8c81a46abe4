//! What a report may be asked: the query parameters of the reports API and the export, checked
//! into typed values, naming every bad parameter at once.

use chrono::{Months, NaiveDate};

use super::interaction::{Audience, Channel};
use super::language::Language;
use super::period::parse_day;
use super::FieldErrors;

/// The longest range a report covers.
pub const MAX_RANGE_MONTHS: u32 = 36;

/// How a breakdown groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Department,
    Service,
    Channel,
    Week,
    Month,
}

impl By {
    pub fn parse(text: &str) -> Option<By> {
        Some(match text {
            "department" => By::Department,
            "service" => By::Service,
            "channel" => By::Channel,
            "week" => By::Week,
            "month" => By::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Department => "department",
            By::Service => "service",
            By::Channel => "channel",
            By::Week => "week",
            By::Month => "month",
        }
    }
}

/// A checked report request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub audience: Audience,
    pub department: Option<String>,
    /// A scope of several departments (a digest recipient's); empty for no such restriction.
    /// Not a query parameter.
    pub scope: Vec<String>,
    pub service: Option<String>,
    pub channel: Option<Channel>,
    /// The language of labels and notes (Hebrew unless asked).
    pub lang: Language,
}

/// Parses query pairs. `extra` names further parameters the caller accepts (such as `by`);
/// they are returned unparsed. Unknown and repeated parameters are refused, so that a typo
/// never silently widens a report.
pub fn parse_report_params(
    pairs: &[(String, String)],
    extra: &[&str],
) -> Result<(ReportParams, Vec<(String, String)>), FieldErrors> {
    const KNOWN: &[&str] = &[
        "from",
        "to",
        "audience",
        "department",
        "service",
        "channel",
        "lang",
    ];
    let mut errors = FieldErrors::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = Vec::new();
    for (k, v) in pairs {
        if seen.contains(&k.as_str()) {
            errors.insert(k.clone(), "is given more than once".into());
            continue;
        }
        seen.push(k.as_str());
        // An empty value would read as "no filter" and quietly widen the report.
        if v.trim().is_empty() {
            errors.insert(k.clone(), "must not be empty (leave it out instead)".into());
            continue;
        }
        if extra.contains(&k.as_str()) {
            rest.push((k.clone(), v.clone()));
        } else if !KNOWN.contains(&k.as_str()) {
            errors.insert(k.clone(), "is not a parameter of this report".into());
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let day = |name: &str, errors: &mut FieldErrors| match get(name) {
        None => {
            errors.insert(name.into(), "is required (YYYY-MM-DD)".into());
            None
        }
        Some(text) => parse_day(text).or_else(|| {
            errors.insert(name.into(), "is not a date such as 2026-11-01".into());
            None
        }),
    };
    let from = day("from", &mut errors);
    let to = day("to", &mut errors);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.insert("to".into(), "must not be before from".into());
        } else if from
            .checked_add_months(Months::new(MAX_RANGE_MONTHS))
            .is_none_or(|limit| to >= limit)
        {
            errors.insert("to".into(), "the range must be shorter than 3 years".into());
        }
    }
    let audience = match get("audience") {
        None => Some(Audience::Resident),
        Some(text) => Audience::parse(text).or_else(|| {
            errors.insert("audience".into(), "must be resident or employee".into());
            None
        }),
    };
    let code = |name: &str, errors: &mut FieldErrors| {
        get(name).and_then(|text| {
            let ok = text.len() <= 128
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            if ok {
                Some(text.to_string())
            } else {
                errors.insert(name.into(), "is not a catalog code".into());
                None
            }
        })
    };
    let department = code("department", &mut errors);
    let service = code("service", &mut errors);
    let channel = get("channel").and_then(|text| {
        Channel::parse(text).or_else(|| {
            errors.insert("channel".into(), "is not a known channel".into());
            None
        })
    });
    let lang = match get("lang") {
        None => Some(Language::He),
        Some(text) => Language::parse(text).or_else(|| {
            errors.insert("lang".into(), "must be he, ar, en or ru".into());
            None
        }),
    };
    match (from, to, audience, lang) {
        (Some(from), Some(to), Some(audience), Some(lang)) if errors.is_empty() => Ok((
            ReportParams {
                from,
                to,
                audience,
                department,
                scope: Vec::new(),
                service,
                channel,
                lang,
            },
            rest,
        )),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).expect("pairs")
    }

    #[test]
    fn a_full_request_parses() {
        let (p, rest) = parse_report_params(
            &pairs("from=2026-11-01&to=2026-11-30&audience=employee&department=hr&by=service"),
            &["by"],
        )
        .expect("valid");
        assert_eq!(p.audience, Audience::Employee);
        assert_eq!(p.department.as_deref(), Some("hr"));
        assert_eq!(rest, vec![("by".to_string(), "service".to_string())]);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let e = parse_report_params(
            &pairs(
                "from=2026-13-01&to=yesterday&audience=all&channel=fax&service=a%20b&x=1&lang=fr",
            ),
            &[],
        )
        .expect_err("invalid");
        let names: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["audience", "channel", "from", "lang", "service", "to", "x"]
        );
    }

    #[test]
    fn an_empty_filter_is_refused_rather_than_read_as_none() {
        for name in ["department", "service", "channel", "lang", "by"] {
            let e = parse_report_params(
                &pairs(&format!("from=2026-11-01&to=2026-11-30&{name}=%20")),
                &["by"],
            )
            .expect_err(name);
            assert!(e[name].contains("empty"), "{name}: {e:?}");
        }
    }

    #[test]
    fn ranges_are_ordered_and_shorter_than_three_years() {
        assert!(parse_report_params(&pairs("from=2026-11-02&to=2026-11-01"), &[]).is_err());
        assert!(parse_report_params(&pairs("from=2023-11-02&to=2026-11-01"), &[]).is_ok());
        let e = parse_report_params(&pairs("from=2023-11-01&to=2026-11-01"), &[])
            .expect_err("three years");
        assert!(e["to"].contains("3 years"));
        let e = parse_report_params(&pairs("to=2026-11-01&to=2026-11-02"), &[]).expect_err("dup");
        assert!(e.contains_key("to") && e.contains_key("from"));
    }
}
