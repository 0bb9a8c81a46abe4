//! What an outbox row asks the mail worker to send. The row stores it as a `kind` and a JSON
//! payload (columns a CRM's operator can read); this type is the only code that writes or
//! reads that pair, so a kind and its payload cannot disagree, and a row that is not one of
//! these is refused by name instead of being sent as something else.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailJob {
    /// A resident's or an employee's survey link, for the row's invitation.
    Invitation,
    /// The same link again, a few days later, if it is still unanswered.
    Reminder,
    /// An employee campaign's link, for a recipient of the campaign.
    Campaign { recipient: String },
    /// The weekly digest of the week starting on `week` (a Sunday), for a digest recipient.
    Digest { recipient: String, week: NaiveDate },
}

#[derive(Serialize, Deserialize)]
struct CampaignPayload {
    recipient: String,
}

#[derive(Serialize, Deserialize)]
struct DigestPayload {
    recipient: String,
    week: NaiveDate,
}

/// Why a stored row is not a job this version can send.
#[derive(Debug, thiserror::Error)]
pub enum UnknownJob {
    #[error("{0:?} emails have no renderer")]
    Kind(String),
    #[error("a {kind} email's payload is unreadable: {source}")]
    Payload {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl EmailJob {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            EmailJob::Invitation => "invitation",
            EmailJob::Reminder => "reminder",
            EmailJob::Campaign { .. } => "campaign",
            EmailJob::Digest { .. } => "digest",
        }
    }

    /// The `payload` column.
    pub fn payload(&self) -> String {
        let value = match self {
            EmailJob::Invitation | EmailJob::Reminder => serde_json::json!({}),
            EmailJob::Campaign { recipient } => serde_json::json!(CampaignPayload {
                recipient: recipient.clone()
            }),
            EmailJob::Digest { recipient, week } => serde_json::json!(DigestPayload {
                recipient: recipient.clone(),
                week: *week,
            }),
        };
        value.to_string()
    }

    /// Reads a stored row's kind and payload back.
    pub fn read(kind: &str, payload: &str) -> Result<EmailJob, UnknownJob> {
        fn parse<'a, T: Deserialize<'a>>(
            kind: &'static str,
            payload: &'a str,
        ) -> Result<T, UnknownJob> {
            serde_json::from_str(payload).map_err(|source| UnknownJob::Payload { kind, source })
        }
        match kind {
            "invitation" => Ok(EmailJob::Invitation),
            "reminder" => Ok(EmailJob::Reminder),
            "campaign" => {
                let p: CampaignPayload = parse("campaign", payload)?;
                Ok(EmailJob::Campaign {
                    recipient: p.recipient,
                })
            }
            "digest" => {
                let p: DigestPayload = parse("digest", payload)?;
                Ok(EmailJob::Digest {
                    recipient: p.recipient,
                    week: p.week,
                })
            }
            other => Err(UnknownJob::Kind(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_reads_back_as_written() {
        let week = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
        for job in [
            EmailJob::Invitation,
            EmailJob::Reminder,
            EmailJob::Campaign {
                recipient: "r1".into(),
            },
            EmailJob::Digest {
                recipient: "d1".into(),
                week,
            },
        ] {
            let read = EmailJob::read(job.kind(), &job.payload()).expect("readable");
            assert_eq!(read, job);
        }
    }

    #[test]
    fn the_payloads_stored_before_this_type_still_read() {
        let digest = EmailJob::read("digest", r#"{"recipient":"d1","week":"2026-11-29"}"#);
        assert!(matches!(digest, Ok(EmailJob::Digest { ref recipient, .. }) if recipient == "d1"));
        assert!(EmailJob::read("invitation", "{}").is_ok());
    }

    #[test]
    fn an_unknown_kind_or_a_broken_payload_is_refused_by_name() {
        let e = EmailJob::read("fax", "{}").expect_err("unknown");
        assert_eq!(e.to_string(), "\"fax\" emails have no renderer");
        for bad in ["", "{}", r#"{"recipient":"d1","week":"next week"}"#] {
            let e = EmailJob::read("digest", bad).expect_err("broken");
            assert!(e.to_string().starts_with("a digest email's payload"), "{e}");
        }
        assert!(EmailJob::read("campaign", r#"{"recipient":7}"#).is_err());
    }
}
