//! Where a page of a list ends, as an opaque `next` token: the sort key of the last item
//! given (keyset pagination). A list walked page by page neither skips nor repeats an item
//! when items are added or change meanwhile, and the token only says where to go on: the
//! caller's scope is applied again on every page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;

/// The last item of a page, by the list's order: a day key (`YYYY-MM-DD`, text in the
/// database), a time and an id, each compared in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub day: String,
    pub at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let text = format!(
            "1\n{}\n{}\n{}",
            self.day,
            self.at.and_utc().timestamp_micros(),
            self.id
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a token this service gave; anything else is `None`.
    pub fn decode(token: &str) -> Option<Cursor> {
        if token.len() > 400 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('\n');
        if parts.next()? != "1" {
            return None;
        }
        let day = parts.next()?.to_string();
        chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
        let at = chrono::DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?.naive_utc();
        let id = parts.next()?.to_string();
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        (id_ok && parts.next().is_none()).then_some(Cursor { day, at, id })
    }
}

/// Where a page of comments ends: residents' comments by day (newest first) and response,
/// employees' by their place in the published list (they carry no id that could lead back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    After { day: String, id: String },
    Offset(u64),
}

impl Position {
    pub fn encode(&self) -> String {
        let text = match self {
            Position::After { day, id } => format!("c\n{day}\n{id}"),
            Position::Offset(n) => format!("o\n{n}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(token: &str) -> Option<Position> {
        if token.len() > 400 {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let parts: Vec<&str> = text.split('\n').collect();
        match parts.as_slice() {
            ["c", day, id] => {
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
                let id_ok = !id.is_empty()
                    && id.len() <= 64
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                id_ok.then(|| Position::After {
                    day: day.to_string(),
                    id: id.to_string(),
                })
            }
            ["o", n] => n
                .parse()
                .ok()
                .filter(|n| *n <= 1_000_000)
                .map(Position::Offset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_anything_else_is_refused() {
        let c = Cursor {
            day: "2026-12-02".into(),
            at: chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456)
                .expect("time")
                .naive_utc(),
            id: "0b6f0d9e-6a59-4d3e-9d2f-0a1b2c3d4e5f".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        for bad in [
            "",
            "!!!",
            "bm90IGEgY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("2\n2026-12-02\n1\nabc"),
            &URL_SAFE_NO_PAD.encode("1\n2026-13-40\n1\nabc"),
            &URL_SAFE_NO_PAD.encode("1\n2026-12-02\nnow\nabc"),
            &URL_SAFE_NO_PAD.encode("1\n2026-12-02\n1\n' OR 1=1 --"),
            &URL_SAFE_NO_PAD.encode("1\n2026-12-02\n1\nabc\nextra"),
            &"A".repeat(401),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
            assert_eq!(Position::decode(bad), None, "{bad}");
        }
        for p in [
            Position::After {
                day: "2026-12-01".into(),
                id: "abc-123".into(),
            },
            Position::Offset(40),
        ] {
            assert_eq!(Position::decode(&p.encode()), Some(p.clone()));
        }
        for bad in [
            "o\n-1",
            "o\n9999999",
            "c\n2026-12-01\n' --",
            "c\nnot-a-day\nabc",
        ] {
            assert_eq!(
                Position::decode(&URL_SAFE_NO_PAD.encode(bad)),
                None,
                "{bad}"
            );
        }
    }
}
