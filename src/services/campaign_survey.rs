//! An employee answers a campaign: first picks the internal units they dealt with, then rates
//! only those. Each unit's answers are stored as a separate anonymous response, so that not even
//! the set of units one person rated is kept together.

use crate::domain::catalog::ServiceAudience;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::inbox::InboxRow;
use crate::db::{self, DbConnection};
use crate::domain::language::Language;
use crate::domain::period::{day_key, local_day, month_start};
use crate::domain::sealed::InboxKey;
use crate::domain::survey::{parse_answers, AnswerProblems, SurveyDefinition};
use crate::domain::token::{hash_secret, looks_like_survey_token};

use super::responses::{anonymous_response, Closed, SurveyError};
use super::surveys::SurveyCache;

/// An internal unit an employee can rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub department: String,
}

/// An open campaign link.
#[derive(Debug, Clone)]
pub struct CampaignSurvey {
    pub recipient_id: String,
    pub campaign_id: String,
    pub campaign_name: String,
    /// Answers count in the campaign's month.
    pub day: NaiveDate,
    pub language: Language,
    pub survey_id: String,
    pub survey: Arc<SurveyDefinition>,
    pub units: Vec<Unit>,
}

impl CampaignSurvey {
    /// The units named by `units` fields, in catalog order; unknown codes are ignored.
    pub fn chosen(&self, form: &[(String, String)]) -> Vec<Unit> {
        self.units
            .iter()
            .filter(|u| form.iter().any(|(k, v)| k == "units" && *v == u.code))
            .cloned()
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignAnswerError {
    #[error(transparent)]
    Survey(#[from] SurveyError),
    #[error("no unit was chosen")]
    NoUnits(Box<CampaignSurvey>),
    #[error("some answers are missing or invalid")]
    Invalid {
        open: Box<CampaignSurvey>,
        units: Vec<Unit>,
        /// Keyed by the form field's name (`UNIT.QUESTION`).
        problems: AnswerProblems,
    },
}

impl From<crate::db::DbError> for CampaignAnswerError {
    fn from(e: crate::db::DbError) -> Self {
        CampaignAnswerError::Survey(e.into())
    }
}

impl From<diesel::result::Error> for CampaignAnswerError {
    fn from(e: diesel::result::Error) -> Self {
        CampaignAnswerError::Survey(e.into())
    }
}

use super::catalog::localized;

/// Looks up a campaign link for display; reads only.
pub fn open(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    token: &str,
    now: DateTime<Utc>,
) -> Result<CampaignSurvey, SurveyError> {
    if !looks_like_survey_token(token) {
        return Err(SurveyError::NotFound);
    }
    let (recipient, campaign) = db::campaigns::find_by_token_hash(conn, &hash_secret(token))?
        .ok_or(SurveyError::NotFound)?;
    let language = Language::parse(&recipient.language).unwrap_or_default();
    if recipient.answered {
        return Err(SurveyError::Closed {
            closed: Closed::Answered,
            language,
        });
    }
    let open =
        campaign.status == "launched" && recipient.expires_at.is_some_and(|e| e > now.naive_utc());
    if !open {
        return Err(SurveyError::Closed {
            closed: Closed::Expired,
            language,
        });
    }
    let survey = cache.get(conn, &campaign.survey_id)?;
    let departments: BTreeMap<String, (String, String)> = db::catalog::all_departments(conn)?
        .into_iter()
        .map(|d| (d.code, (d.name, d.names_i18n)))
        .collect();
    let units = db::catalog::all_services(conn)?
        .into_iter()
        .filter(|s| s.serves() == ServiceAudience::Employees)
        .map(|s| {
            let department = departments
                .get(&s.department_code)
                .map(|(name, i18n)| localized(i18n, language, name))
                .unwrap_or_default();
            Unit {
                name: localized(&s.names_i18n, language, &s.name),
                code: s.code,
                department,
            }
        })
        .collect();
    Ok(CampaignSurvey {
        recipient_id: recipient.id,
        campaign_id: campaign.id,
        campaign_name: campaign.name,
        day: local_day(campaign.launched_at.unwrap_or(now.naive_utc()).and_utc()),
        language,
        survey_id: campaign.survey_id,
        survey,
        units,
    })
}

/// Checked answers, one anonymous response per unit.
pub struct PreparedCampaign {
    recipient_id: String,
    language: Language,
    /// Every unit's answers, sealed (a row each) until the campaign closes.
    sealed: Vec<InboxRow>,
}

/// Checks a submitted form; reads only.
pub fn prepare(
    conn: &mut DbConnection,
    cache: &SurveyCache,
    inbox: &InboxKey,
    token: &str,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<PreparedCampaign, CampaignAnswerError> {
    let open = open(conn, cache, token, now)?;
    let units = open.chosen(form);
    if units.is_empty() {
        return Err(CampaignAnswerError::NoUnits(Box::new(open)));
    }
    let mut problems = AnswerProblems::new();
    let mut responses = Vec::new();
    let cohort = format!("campaign:{}", open.campaign_id);
    for unit in &units {
        let prefix = format!("{}.", unit.code);
        let section: Vec<(String, String)> = form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
            .collect();
        match parse_answers(&open.survey, &section) {
            Ok(answers) => responses.push(anonymous_response(
                &open.survey,
                &open.survey_id,
                &unit.code,
                &answers,
                open.day,
                &cohort,
            )),
            Err(p) => problems.extend(p.into_iter().map(|(q, why)| (format!("{prefix}{q}"), why))),
        }
    }
    if !problems.is_empty() {
        return Err(CampaignAnswerError::Invalid {
            open: Box::new(open),
            units,
            problems,
        });
    }
    let month = day_key(month_start(open.day));
    Ok(PreparedCampaign {
        recipient_id: open.recipient_id,
        language: open.language,
        sealed: super::inbox::seal(inbox, &cohort, &month, responses).map_err(SurveyError::from)?,
    })
}

/// Stores prepared answers: the recipient is marked answered (without a time) and the sealed
/// answers go to the inbox, all or nothing; of racing submissions exactly one is stored. After
/// the campaign is closed no recipient can be marked (their links have no expiry left), so
/// nothing reaches the inbox once the campaign's group has been drained.
pub fn store(
    conn: &mut DbConnection,
    prepared: &PreparedCampaign,
    now: DateTime<Utc>,
) -> Result<Language, CampaignAnswerError> {
    let language = prepared.language;
    let stored = db::write_transaction(conn, |conn| {
        if db::campaigns::mark_answered(conn, &prepared.recipient_id, now.naive_utc())? == 0 {
            return Ok(false);
        }
        for row in &prepared.sealed {
            db::inbox::insert(conn, row)?;
        }
        Ok::<_, diesel::result::Error>(true)
    })?;
    if stored {
        Ok(language)
    } else {
        Err(SurveyError::Closed {
            closed: Closed::Answered,
            language,
        }
        .into())
    }
}
