//! Renders a weekly digest: subject, text and HTML from the templates, and the trend chart.

use chrono::{Datelike, Duration, NaiveDate};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use serde::Serialize;

use crate::charts::TrendPoint;
use crate::domain::language::Language;
use crate::domain::metrics::QuestionFigure;
use crate::services::digest::{DigestData, RANK_MIN_ANSWERS};
use crate::templates::{TemplateError, Templates};

/// The Content-ID of the chart inside the email.
pub const CHART_CID: &str = "trend";

#[derive(Serialize)]
struct MetricView {
    name: String,
    this_week: String,
    previous: String,
    long_run: String,
}

#[derive(Serialize)]
struct RankedView {
    name: String,
    csat: String,
    n: i64,
}

#[derive(Serialize)]
struct OverdueView {
    service: String,
    due_on: String,
}

#[derive(Serialize)]
struct CommentView {
    service: String,
    text: String,
}

#[derive(Serialize)]
struct DigestContext<'a> {
    lang: &'static str,
    dir: &'static str,
    align: &'static str,
    t: &'a serde_json::Value,
    city: String,
    color: &'a str,
    subject: String,
    week_label: String,
    scope: String,
    metrics: Vec<MetricView>,
    best: Vec<RankedView>,
    worst: Vec<RankedView>,
    cases: crate::domain::followup::Cases,
    overdue: Vec<OverdueView>,
    comments: Vec<CommentView>,
    chart_src: String,
    /// The chart's numbers in words, for those who cannot see it.
    chart_alt: String,
    /// How to read the chart (the dots, their counts, the hollow ones).
    chart_key: String,
    /// What the response rate counts, under the figures.
    rate_note: String,
    /// How to read the other questions' rows, where there are any.
    question_note: Option<String>,
}

/// A rendered digest and its chart.
pub struct RenderedDigest {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub chart_png: Vec<u8>,
}

fn percent(v: Option<f64>) -> Option<String> {
    v.map(|v| format!("{:.0}%", v * 100.0))
}

fn with_n(value: Option<String>, n: i64, none: &str) -> String {
    match value {
        Some(v) => format!("{v} (n={n})"),
        None => none.to_string(),
    }
}

/// The trend in words: "…: 06.09 80% (n=12); 13.09 —; …".
fn chart_alt(prefix: &str, trend: &[(NaiveDate, Option<f64>, i64)], none: &str) -> String {
    let weeks: Vec<String> = trend
        .iter()
        .map(|(week, csat, n)| match csat {
            Some(v) => format!("{} {:.0}% (n={n})", week.format("%d.%m"), v * 100.0),
            None => format!("{} {none}", week.format("%d.%m")),
        })
        .collect();
    format!("{prefix}: {}", weeks.join("; "))
}

/// The digest in `lang`; `chart_src` is where the HTML finds the chart (`cid:trend` in an
/// email, a file name in a preview).
pub fn render(
    templates: &Templates,
    data: &DigestData,
    lang: Language,
    chart_src: &str,
) -> Result<RenderedDigest, TemplateError> {
    let t = |k: &str| templates.text(lang, &format!("digest.{k}"));
    let none = t("no_data");
    let end = data.week + Duration::days(6);
    let week_label = format!(
        "{:02}.{:02}–{:02}.{:02}.{}",
        data.week.day(),
        data.week.month(),
        end.day(),
        end.month(),
        end.year()
    );
    let figures = [&data.this_week, &data.previous, &data.long_run];
    let row = |name: &str, cell: &dyn Fn(&crate::domain::metrics::Figures) -> String| MetricView {
        name: t(name),
        this_week: cell(figures[0]),
        previous: cell(figures[1]),
        long_run: cell(figures[2]),
    };
    let metrics = vec![
        row("csat", &|f| with_n(percent(f.csat.value), f.csat.n, &none)),
        row("ces", &|f| {
            with_n(f.ces.value.map(|v| format!("{v:.1}")), f.ces.n, &none)
        }),
        row("nps", &|f| {
            with_n(f.nps.value.map(|v| format!("{v:+.0}")), f.nps.n, &none)
        }),
        row("resolution", &|f| {
            with_n(percent(f.resolution_rate.value), f.resolution_rate.n, &none)
        }),
        row("response_rate", &|f| {
            with_n(percent(f.response_rate.value), f.response_rate.n, &none)
        }),
        row("responses", &|f| f.responses.to_string()),
    ];
    // Every other scale question (professionalism, timeliness…): its mean and the share of its
    // two top points, with n. The ones that carry CSAT, CES or NPS are already rows above.
    let mut metrics = metrics;
    for (i, q) in data.questions[0].iter().enumerate() {
        if q.measures.is_some() {
            continue;
        }
        let cell = |figures: &[QuestionFigure]| match figures.get(i) {
            Some(f) if f.mean.is_some() => with_n(
                f.mean.map(|m| {
                    format!(
                        "{m:.1} · {}",
                        percent(f.top_two.value).unwrap_or_else(|| none.clone())
                    )
                }),
                f.n,
                &none,
            ),
            _ => none.clone(),
        };
        metrics.push(MetricView {
            name: q.text.clone(),
            this_week: cell(&data.questions[0]),
            previous: cell(&data.questions[1]),
            long_run: cell(&data.questions[2]),
        });
    }
    let ranked = |list: &[crate::services::digest::Ranked]| {
        list.iter()
            .map(|r| RankedView {
                name: r.name.clone(),
                csat: format!("{:.0}%", r.csat * 100.0),
                n: r.n,
            })
            .collect()
    };
    let scope = if data.departments.is_empty() {
        t("all_city")
    } else {
        data.departments.join(", ")
    };
    let rtl = lang.dir() == "rtl";
    let strings = templates.strings(lang);
    let color = templates.city().color.clone();
    let mut ctx = DigestContext {
        lang: lang.code(),
        dir: lang.dir(),
        align: if rtl { "right" } else { "left" },
        t: &strings["digest"],
        city: templates.city_name(lang),
        color: &color,
        subject: String::new(),
        week_label,
        scope,
        metrics,
        best: ranked(&data.best),
        worst: ranked(&data.worst),
        cases: data.cases,
        overdue: data
            .overdue
            .iter()
            .map(|o| OverdueView {
                service: o.service.clone(),
                due_on: crate::domain::period::parse_day(&o.due_on)
                    .map_or_else(|| o.due_on.clone(), |d| d.format("%d.%m.%Y").to_string()),
            })
            .collect(),
        comments: data
            .comments
            .iter()
            .map(|(service, text)| CommentView {
                service: service.clone(),
                text: text.clone(),
            })
            .collect(),
        chart_src: chart_src.to_string(),
        chart_alt: chart_alt(&t("chart_alt"), &data.trend, &none),
        chart_key: t("chart_key").replace("{n}", &RANK_MIN_ANSWERS.to_string()),
        rate_note: t("rate_note"),
        question_note: data.questions[0]
            .iter()
            .any(|q| q.measures.is_none())
            .then(|| t("question_note")),
    };
    ctx.subject = templates
        .render_text("email/digest/subject.txt", &ctx)?
        .trim()
        .to_string();
    let points: Vec<TrendPoint> = data
        .trend
        .iter()
        .map(|(week, csat, n)| TrendPoint {
            week: *week,
            csat: *csat,
            n: *n,
        })
        .collect();
    let chart_png = crate::charts::csat_trend_png(&points, RANK_MIN_ANSWERS)
        .map_err(|e| TemplateError::Template("chart".into(), e))?;
    Ok(RenderedDigest {
        text: templates.render_text("email/digest/body.txt", &ctx)?,
        html: templates.render("email/digest/body.html", &ctx)?,
        subject: ctx.subject,
        chart_png,
    })
}

/// The MIME message: text, and HTML with the chart inline.
pub fn build(
    from: Mailbox,
    to: &str,
    message_id: &str,
    rendered: RenderedDigest,
) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| "invalid recipient address".to_string())?;
    let image = Attachment::new_inline(CHART_CID.to_string()).body(
        rendered.chart_png,
        ContentType::parse("image/png").map_err(|e| e.to_string())?,
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id.to_string()))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(rendered.text))
                .multipart(
                    MultiPart::related()
                        .singlepart(SinglePart::html(rendered.html))
                        .singlepart(image),
                ),
        )
        .map_err(|e| e.to_string())
}
