//! An interaction: a request or ticket that a CRM reports as closed. Parsed from the API's JSON
//! into checked values, naming every bad field at once.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use validator::{ValidateEmail, ValidateLength};

use super::language::Language;
use super::FieldErrors;

/// How far in the future `closed_at` may be, to forgive a CRM clock that runs a little fast.
const CLOCK_SKEW: i64 = 60;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{text:?} is not one of {}",
                        $name::choices()
                    ))
                })
            }
        }
    };
}

string_enum!(
    /// Who was served: a resident, or an employee served by an internal unit.
    Audience { Resident => "resident", Employee => "employee" }
);

string_enum!(
    /// Where the request came in.
    Channel {
        Phone => "phone", Web => "web", App => "app", WalkIn => "walk_in", Email => "email",
        Whatsapp => "whatsapp", Chat => "chat", Other => "other",
    }
);

string_enum!(
    /// How the CRM says the request ended.
    Resolution { Resolved => "resolved", Partially => "partially", NotResolved => "not_resolved" }
);

/// Who to ask, and in which language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub language: Language,
}

/// A checked interaction, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInteraction {
    pub external_id: String,
    pub audience: Audience,
    pub service_code: String,
    pub channel: Option<Channel>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: NaiveDateTime,
    pub resolution: Option<Resolution>,
    pub contact: Contact,
}

/// Parses the JSON body of `POST /api/v1/interactions`. `known_service` answers whether a
/// (well-formed) service code is in the catalog for that audience, so that one reply names
/// every bad field.
pub fn parse_interaction(
    body: &Value,
    now: DateTime<Utc>,
    mut known_service: impl FnMut(&str, Audience) -> bool,
) -> Result<NewInteraction, FieldErrors> {
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        errors.insert("body".into(), "must be a JSON object".into());
        return Err(errors);
    };

    let external_id = text_field(obj, "external_id", 128, true, &mut errors);
    let audience = enum_field(
        obj,
        "audience",
        true,
        Audience::parse,
        Audience::choices,
        &mut errors,
    );
    let service_code = text_field(obj, "service_code", 128, true, &mut errors);
    if let Some(code) = &service_code {
        let why = match audience {
            Some(Audience::Resident) if !known_service(code, Audience::Resident) => {
                Some("is not a resident service in the catalog")
            }
            Some(Audience::Employee) if !known_service(code, Audience::Employee) => {
                Some("is not an internal (employees) service in the catalog")
            }
            None if !known_service(code, Audience::Resident)
                && !known_service(code, Audience::Employee) =>
            {
                Some("is not in the service catalog")
            }
            _ => None,
        };
        if let Some(why) = why {
            errors.insert("service_code".into(), why.into());
        }
    }
    let channel = enum_field(
        obj,
        "channel",
        false,
        Channel::parse,
        Channel::choices,
        &mut errors,
    );
    let resolution = enum_field(
        obj,
        "resolution",
        false,
        Resolution::parse,
        Resolution::choices,
        &mut errors,
    );
    let closed_at = time_field(obj, "closed_at", true, &mut errors);
    if let Some(closed) = closed_at {
        if closed > now.naive_utc() + Duration::seconds(CLOCK_SKEW) {
            errors.insert("closed_at".into(), "must not be in the future".into());
        }
    }
    let opened_at = time_field(obj, "opened_at", false, &mut errors);
    if let (Some(opened), Some(closed)) = (opened_at, closed_at) {
        if opened > closed {
            errors.insert("opened_at".into(), "must not be after closed_at".into());
        }
    }
    let contact = parse_contact(obj.get("contact"), &mut errors);

    match (external_id, audience, service_code, closed_at) {
        (Some(external_id), Some(audience), Some(service_code), Some(closed_at))
            if errors.is_empty() =>
        {
            Ok(NewInteraction {
                external_id,
                audience,
                service_code,
                channel,
                opened_at,
                closed_at,
                resolution,
                contact,
            })
        }
        _ => Err(errors),
    }
}

fn parse_contact(value: Option<&Value>, errors: &mut FieldErrors) -> Contact {
    let obj = match value {
        None | Some(Value::Null) => return Contact::default(),
        Some(Value::Object(obj)) => obj,
        Some(_) => {
            errors.insert("contact".into(), "must be an object".into());
            return Contact::default();
        }
    };
    let mut sub = FieldErrors::new();
    let email = text_field(obj, "email", 254, false, &mut sub);
    if let Some(email) = &email {
        if !email.validate_email() {
            sub.insert("email".into(), "is not a valid email address".into());
        }
    }
    let phone = text_field(obj, "phone", 32, false, &mut sub);
    if let Some(phone) = &phone {
        let ok = phone.chars().any(|c| c.is_ascii_digit())
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !ok {
            sub.insert("phone".into(), "is not a phone number".into());
        }
    }
    let name = text_field(obj, "name", 200, false, &mut sub);
    let language = enum_field(
        obj,
        "language",
        false,
        Language::parse,
        || "he, ar, en, ru".to_string(),
        &mut sub,
    )
    .unwrap_or_default();
    for (field, why) in sub {
        errors.insert(format!("contact.{field}"), why);
    }
    Contact {
        email,
        phone,
        name,
        language,
    }
}

/// A string field: `null` counts as absent; control characters other than tab are refused.
fn text_field(
    obj: &Map<String, Value>,
    name: &str,
    max_chars: u64,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    match obj.get(name) {
        None | Some(Value::Null) => {
            if required {
                errors.insert(name.into(), "is required".into());
            }
            None
        }
        Some(Value::String(s)) => {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                errors.insert(name.into(), "must not be empty".into());
                None
            } else if !trimmed.validate_length(None, Some(max_chars), None) {
                errors.insert(
                    name.into(),
                    format!("must be at most {max_chars} characters"),
                );
                None
            } else if trimmed.chars().any(|c| c.is_control() && c != '\t') {
                errors.insert(name.into(), "must not contain control characters".into());
                None
            } else {
                Some(trimmed.to_string())
            }
        }
        Some(_) => {
            errors.insert(name.into(), "must be a string".into());
            None
        }
    }
}

fn enum_field<T>(
    obj: &Map<String, Value>,
    name: &str,
    required: bool,
    parse: impl Fn(&str) -> Option<T>,
    choices: impl Fn() -> String,
    errors: &mut FieldErrors,
) -> Option<T> {
    let text = text_field(obj, name, 64, required, errors)?;
    let parsed = parse(&text);
    if parsed.is_none() {
        errors.insert(name.into(), format!("must be one of: {}", choices()));
    }
    parsed
}

/// The earliest `opened_at` or `closed_at` taken.
const EARLIEST: DateTime<Utc> = DateTime::from_timestamp_nanos(946_684_800_000_000_000);

fn time_field(
    obj: &Map<String, Value>,
    name: &str,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<NaiveDateTime> {
    let text = text_field(obj, name, 64, required, errors)?;
    match DateTime::parse_from_rfc3339(&text) {
        // No city request is older than the century: an earlier date is a CRM's placeholder
        // (0001-01-01, 1970-01-01) and would land in reports as a real one.
        Ok(t) if t.with_timezone(&Utc) < EARLIEST => {
            errors.insert(name.into(), "must not be before 2000-01-01".into());
            None
        }
        Ok(t) => Some(crate::clock::truncate(t.with_timezone(&Utc)).naive_utc()),
        Err(_) => {
            errors.insert(
                name.into(),
                "must be an RFC 3339 time with an offset, such as 2026-11-27T10:15:00+02:00".into(),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_before_2000_are_refused() {
        for (field, value) in [
            ("opened_at", "1999-12-31T23:59:59Z"),
            ("closed_at", "1970-01-01T00:00:00Z"),
            ("opened_at", "0001-01-01T00:00:00+02:00"),
        ] {
            let mut body = json!({"external_id": "x", "audience": "resident",
                "service_code": "a.b", "closed_at": "2026-11-27T10:15:00Z"});
            body[field] = value.into();
            let errors = parse_interaction(&body, now(), |_, _| true).expect_err(value);
            assert!(errors[field].contains("2000"), "{field} {value}");
        }
        let body = json!({"external_id": "x", "audience": "resident", "service_code": "a.b",
            "opened_at": "2000-01-01T00:00:00Z", "closed_at": "2026-11-27T10:15:00Z"});
        assert!(parse_interaction(&body, now(), |_, _| true).is_ok());
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn good() -> Value {
        json!({
            "external_id": "106-2026-118842", "audience": "resident",
            "service_code": "sanitation.bulky-waste", "channel": "phone",
            "opened_at": "2026-11-24T08:02:00+02:00", "closed_at": "2026-11-27T10:15:00+02:00",
            "resolution": "resolved",
            "contact": {"email": "r@example.org", "phone": "+972501234567", "name": "רות", "language": "ar"}
        })
    }

    #[test]
    fn a_complete_request_parses_to_utc_times() {
        let i = parse_interaction(&good(), now(), |_, _| true).expect("valid");
        assert_eq!(i.closed_at.to_string(), "2026-11-27 08:15:00");
        assert_eq!(i.contact.language, Language::Ar);
        assert_eq!(i.channel, Some(Channel::Phone));
        assert_eq!(i.resolution, Some(Resolution::Resolved));
    }

    #[test]
    fn only_the_required_fields_are_needed_and_language_defaults_to_hebrew() {
        let body = json!({"external_id": "x", "audience": "resident",
                          "service_code": "a.b", "closed_at": "2026-11-27T10:15:00Z"});
        let i = parse_interaction(&body, now(), |_, _| true).expect("valid");
        assert_eq!(i.contact.language, Language::He);
        assert_eq!(i.channel, None);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let body = json!({
            "external_id": "", "audience": "alien", "service_code": "no.such", "channel": "fax",
            "opened_at": "yesterday", "closed_at": "2030-01-01T00:00:00Z", "resolution": 3,
            "contact": {"email": "not-an-email", "language": "fr", "phone": "call me"}
        });
        let errors = parse_interaction(&body, now(), |_, _| false).expect_err("invalid");
        for field in [
            "external_id",
            "audience",
            "service_code",
            "channel",
            "opened_at",
            "closed_at",
            "resolution",
            "contact.email",
            "contact.language",
            "contact.phone",
        ] {
            assert!(
                errors.contains_key(field),
                "{field} not named in {errors:?}"
            );
        }
    }

    #[test]
    fn missing_required_fields_and_non_objects_are_refused() {
        let errors = parse_interaction(&json!({}), now(), |_, _| true).expect_err("invalid");
        let keys: Vec<_> = errors.keys().cloned().collect();
        assert_eq!(
            keys,
            ["audience", "closed_at", "external_id", "service_code"]
        );
        let errors = parse_interaction(&json!([1, 2]), now(), |_, _| true).expect_err("invalid");
        assert!(errors.contains_key("body"));
    }

    #[test]
    fn opened_after_closed_and_oversized_ids_are_refused() {
        let mut body = good();
        body["opened_at"] = json!("2026-11-27T11:00:00+02:00");
        body["external_id"] = json!("x".repeat(129));
        let errors = parse_interaction(&body, now(), |_, _| true).expect_err("invalid");
        assert!(errors.contains_key("opened_at"));
        assert!(errors.contains_key("external_id"));
        body["external_id"] = json!("x".repeat(128));
        body["opened_at"] = Value::Null;
        assert!(parse_interaction(&body, now(), |_, _| true).is_ok());
    }

    #[test]
    fn control_characters_are_refused_but_markup_is_kept_verbatim() {
        let mut body = good();
        body["external_id"] = json!("a\u{0}b");
        assert!(parse_interaction(&body, now(), |_, _| true).is_err());
        body["external_id"] = json!("<script>alert(1)</script>");
        let i = parse_interaction(&body, now(), |_, _| true).expect("valid");
        assert_eq!(i.external_id, "<script>alert(1)</script>");
    }

    #[test]
    fn a_closing_time_a_little_ahead_is_forgiven() {
        let mut body = good();
        body["closed_at"] = json!("2026-11-28T12:00:30Z");
        body["opened_at"] = Value::Null;
        assert!(parse_interaction(&body, now(), |_, _| true).is_ok());
        body["closed_at"] = json!("2026-11-28T12:05:00Z");
        assert!(parse_interaction(&body, now(), |_, _| true).is_err());
    }
}
