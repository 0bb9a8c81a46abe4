//! Renders a survey email (invitation or reminder) from its templates and builds the MIME
//! message: text and HTML parts, the unsubscribe headers of RFC 8058, a fixed Message-ID.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use serde::Serialize;

use crate::db::campaigns::{CampaignRow, RecipientRow};
use crate::db::interactions::MailView;
use crate::db::outbox::OutboxRow;
use crate::domain::interaction::Audience;
use crate::domain::language::Language;
use crate::domain::survey::{Measure, QuestionType, SurveyDefinition};
use crate::state::AppState;
use crate::templates::TemplateError;

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("invalid recipient address")]
    Recipient,
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// `List-Unsubscribe: <URL>`.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

#[derive(Serialize)]
struct Point {
    n: i32,
    label: String,
    url: String,
}

#[derive(Serialize)]
struct EmailContext<'a> {
    lang: &'static str,
    dir: &'static str,
    align: &'static str,
    align_end: &'static str,
    t: &'a serde_json::Value,
    city: String,
    /// The city's logo, an absolute address (emails are read away from mashov's origin).
    logo: Option<String>,
    color: &'a str,
    reminder: bool,
    /// An internal unit served an employee: its own wording, and the promise of anonymity.
    employee: bool,
    subject: String,
    service: String,
    date: String,
    question: String,
    low: String,
    high: String,
    points: Vec<Point>,
    survey_url: String,
    unsubscribe_url: String,
    expires: String,
}

fn day(t: NaiveDateTime) -> String {
    let local = t
        .and_utc()
        .with_timezone(&chrono_tz::Asia::Jerusalem)
        .date_naive();
    format!("{:02}.{:02}.{}", local.day(), local.month(), local.year())
}

fn pick(map: &BTreeMap<Language, String>, lang: Language) -> String {
    map.get(&lang)
        .or_else(|| map.get(&Language::He))
        .cloned()
        .unwrap_or_default()
}

/// The subject, text and HTML of a survey email.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn render(
    state: &AppState,
    reminder: bool,
    view: &MailView,
    survey: &SurveyDefinition,
) -> Result<Rendered, TemplateError> {
    let lang = Language::parse(&view.language).unwrap_or_default();
    let templates = &state.templates;
    let token = state.key.survey_token(&view.invitation_id);
    let base = &state.settings.base_url;
    let survey_url = format!("{base}/s/{}", token.expose());
    let unsubscribe_url = format!("{base}/u/{}", token.expose());
    let names: BTreeMap<Language, String> =
        serde_json::from_str(&view.service_names_i18n).unwrap_or_default();
    let service = names
        .get(&lang)
        .cloned()
        .unwrap_or_else(|| view.service_name.clone());
    let first_scale = survey
        .measuring(Measure::Satisfaction)
        .or_else(|| {
            survey
                .questions
                .iter()
                .find(|q| q.kind == QuestionType::Rating)
        })
        .or_else(|| survey.questions.iter().find(|q| q.kind.scale().is_some()));
    let (question, low, high, points) = match first_scale {
        Some(q) => {
            let low = q.low.as_ref().map(|m| pick(m, lang)).unwrap_or_default();
            let high = q.high.as_ref().map(|m| pick(m, lang)).unwrap_or_default();
            let range = q.kind.scale().unwrap_or(1..=5);
            let (first, last) = (*range.start(), *range.end());
            let points = range
                .map(|n| Point {
                    n,
                    label: if n == first {
                        low.clone()
                    } else if n == last {
                        high.clone()
                    } else {
                        String::new()
                    },
                    url: format!("{survey_url}?{}={n}", q.id),
                })
                .collect();
            (pick(&q.text, lang), low, high, points)
        }
        None => (String::new(), String::new(), String::new(), Vec::new()),
    };
    let strings = templates.strings(lang);
    let city = templates.city_name(lang);
    let color = templates.city().color.clone();
    let rtl = lang.dir() == "rtl";
    let mut ctx = EmailContext {
        lang: lang.code(),
        dir: lang.dir(),
        align: if rtl { "right" } else { "left" },
        align_end: if rtl { "left" } else { "right" },
        t: &strings["email"],
        city,
        logo: templates.logo_address(&state.settings.base_url),
        color: &color,
        reminder,
        employee: Audience::parse(&view.audience) == Some(Audience::Employee),
        subject: String::new(),
        service,
        date: day(view.closed_at),
        question,
        low,
        high,
        points,
        survey_url,
        unsubscribe_url,
        expires: day(view.expires_at),
    };
    ctx.subject = templates
        .render_text("email/survey/subject.txt", &ctx)?
        .trim()
        .to_string();
    Ok(Rendered {
        text: templates.render_text("email/survey/body.txt", &ctx)?,
        html: templates.render("email/survey/body.html", &ctx)?,
        subject: ctx.subject,
    })
}

#[derive(Serialize)]
struct CampaignEmailContext<'a> {
    lang: &'static str,
    dir: &'static str,
    align: &'static str,
    t: &'a serde_json::Value,
    city: String,
    /// The city's logo, an absolute address (emails are read away from mashov's origin).
    logo: Option<String>,
    color: &'a str,
    subject: String,
    campaign: String,
    survey_url: String,
    expires: String,
}

/// The subject, text and HTML of a campaign invitation.
pub fn render_campaign(
    state: &AppState,
    recipient: &RecipientRow,
    campaign: &CampaignRow,
) -> Result<Rendered, TemplateError> {
    let lang = Language::parse(&recipient.language).unwrap_or_default();
    let templates = &state.templates;
    let token = state.key.survey_token(&recipient.id);
    let strings = templates.strings(lang);
    let color = templates.city().color.clone();
    let mut ctx = CampaignEmailContext {
        lang: lang.code(),
        dir: lang.dir(),
        align: if lang.dir() == "rtl" { "right" } else { "left" },
        t: &strings["campaign_email"],
        city: templates.city_name(lang),
        logo: templates.logo_address(&state.settings.base_url),
        color: &color,
        subject: String::new(),
        campaign: campaign.name.clone(),
        survey_url: format!("{}/s/{}", state.settings.base_url, token.expose()),
        expires: recipient.expires_at.map(day).unwrap_or_default(),
    };
    ctx.subject = templates
        .render_text("email/campaign/subject.txt", &ctx)?
        .trim()
        .to_string();
    Ok(Rendered {
        text: templates.render_text("email/campaign/body.txt", &ctx)?,
        html: templates.render("email/campaign/body.html", &ctx)?,
        subject: ctx.subject,
    })
}

/// The MIME message of a rendered email; with the one-click unsubscribe headers where there is
/// an unsubscribe link (residents' surveys).
pub fn build(
    state: &AppState,
    row: &OutboxRow,
    rendered: Rendered,
    unsubscribe_url: Option<&str>,
) -> Result<Message, MessageError> {
    let to: Mailbox = row.recipient.parse().map_err(|_| MessageError::Recipient)?;
    let mut builder = Message::builder()
        .from(state.settings.mail_from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(row.message_id.clone()));
    if let Some(url) = unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(format!("<{url}>")))
            .header(ListUnsubscribePost);
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(
        rendered.text,
        rendered.html,
    ))?)
}

/// The unsubscribe link of an invitation.
pub fn unsubscribe_url(state: &AppState, invitation_id: &str) -> String {
    format!(
        "{}/u/{}",
        state.settings.base_url,
        state.key.survey_token(invitation_id).expose()
    )
}
