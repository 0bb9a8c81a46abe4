//! The dashboard's page as the template sees it: links that keep the chosen period, audience
//! and channel, the figures with their change, the trend, the tables and the details.

use actix_web::HttpRequest;
use serde::Serialize;

use super::chart::{self, Chart, Point};
use super::details::{self, CommentView, QuestionLine};
use super::figures::{self, Header, Metric, Row};
use super::{AdminError, Chrome, Signed};
use crate::domain::dashboard::Preset;
use crate::domain::interaction::{Audience, Channel};
use crate::domain::period::day_key;
use crate::domain::report::By;
use crate::state::AppState;

use super::{Computed, Focus, Query};

#[derive(Serialize)]
struct Choice {
    href: String,
    label: String,
    current: bool,
}

#[derive(Serialize)]
struct Table {
    id: &'static str,
    title: String,
    headers: Vec<Header>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct TrendRow {
    label: String,
    value: String,
    n: i64,
}

#[derive(Serialize)]
struct Pick {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Hidden {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct DashboardPage<'a> {
    #[serde(flatten)]
    chrome: Chrome<'a>,
    heading: String,
    action: String,
    period: String,
    presets: Vec<Choice>,
    audiences: Vec<Choice>,
    channels: Vec<Pick>,
    /// The chosen period and audience, kept by the channel and comment forms.
    hidden: Vec<Hidden>,
    metrics: Vec<Metric>,
    withheld: Option<String>,
    trend_title: String,
    chart: Chart,
    trend: Vec<TrendRow>,
    tables: Vec<Table>,
    details: bool,
    questions: Vec<QuestionLine>,
    comments: Vec<CommentView>,
    scores: Vec<Pick>,
    search: String,
    residents: bool,
}

pub(super) fn render(
    state: &AppState,
    req: &HttpRequest,
    signed: &Signed,
    q: &Query,
    focus: &Focus,
    c: Computed,
) -> Result<String, AdminError> {
    let (t, lang) = (&state.templates, signed.lang);
    let text = |k: &str| t.text(lang, &format!("admin.{k}"));
    let base = req.path().to_string();
    let link = |preset: Preset, audience: Audience, sort: Option<&str>| {
        let mut pairs = vec![("period", preset.as_str()), ("audience", audience.as_str())];
        if let Some(ch) = q.channel.filter(|_| audience == Audience::Resident) {
            pairs.push(("channel", ch.as_str()));
        }
        if let Some(s) = sort {
            pairs.push(("sort", s));
        }
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let presets = Preset::ALL
        .into_iter()
        .map(|p| Choice {
            href: link(p, q.audience, None),
            label: text(&format!("periods.{}", p.as_str())),
            current: p == q.preset,
        })
        .collect();
    let audiences = [Audience::Resident, Audience::Employee]
        .into_iter()
        .map(|a| Choice {
            href: link(q.preset, a, None),
            label: text(&format!("audiences.{}", a.as_str())),
            current: a == q.audience,
        })
        .collect();
    let mut channels = vec![Pick {
        value: String::new(),
        label: text("dashboard.all_channels"),
        selected: q.channel.is_none(),
    }];
    channels.extend(Channel::ALL.iter().map(|ch| Pick {
        value: ch.as_str().to_string(),
        label: t.text(lang, &format!("channels.{}", ch.as_str())),
        selected: q.channel == Some(*ch),
    }));
    let withheld = c.now.total.figures.is_none().then(|| {
        let n = c.now.min_group_size.unwrap_or_default().to_string();
        match c.now.counting_until {
            Some(day) => text("counting")
                .replace("{date}", &day.format("%d.%m.%Y").to_string())
                .replace("{n}", &n),
            None => text("withheld").replace("{n}", &n),
        }
    });
    let metrics = c
        .now
        .total
        .figures
        .as_ref()
        .map(|f| figures::metrics(t, lang, f, c.before.total.figures.as_ref()))
        .unwrap_or_default();
    let points: Vec<Point> = figures::periods(&c.trend, q.audience)
        .into_iter()
        .map(|key| {
            let f = c
                .trend
                .rows
                .iter()
                .find(|g| g.key == key)
                .and_then(|g| g.figures.as_ref());
            Point {
                label: key,
                value: f.and_then(|f| f.csat.value),
                n: f.map_or(0, |f| f.csat.n),
            }
        })
        .collect();
    let trend = points
        .iter()
        .map(|p| TrendRow {
            label: p.label.clone(),
            value: p.value.map(figures::percent).unwrap_or_else(|| "–".into()),
            n: p.n,
        })
        .collect();
    let name = |key: &str| c.names.get(key).cloned().unwrap_or_else(|| key.to_string());
    let tables = c
        .tables
        .iter()
        .map(|(by, report)| {
            let mut groups = report.rows.clone();
            let sorted = figures::sort_groups(&mut groups, q.sort.as_deref());
            let rows = groups
                .iter()
                .map(|g| {
                    let (label, href) = match by {
                        By::Department => {
                            (name(&g.key), Some(format!("/admin/departments/{}", g.key)))
                        }
                        By::Service => (name(&g.key), Some(format!("/admin/services/{}", g.key))),
                        By::Channel => (t.text(lang, &format!("channels.{}", g.key)), None),
                        _ => (g.key.clone(), None),
                    };
                    figures::row(g, label, href.filter(|_| !g.key.is_empty()))
                })
                .collect();
            let (id, title) = match by {
                By::Department => ("by-department", text("dashboard.by_department")),
                By::Service => ("by-service", text("dashboard.by_service")),
                _ => ("by-channel", text("dashboard.by_channel")),
            };
            Table {
                id,
                title,
                headers: figures::headers(t, lang, sorted, |s| link(q.preset, q.audience, Some(s))),
                rows,
            }
        })
        .collect();
    let (questions, comments) = match &c.details {
        Some(d) => {
            let comments = d
                .comments
                .iter()
                .map(|cv| CommentView {
                    when: cv.when.clone(),
                    service: name(&cv.service),
                    score: cv.score,
                    text: cv.text.clone(),
                    case: cv
                        .case_id
                        .as_ref()
                        .map(|id| format!("/admin/followups/{id}")),
                })
                .collect();
            (details::question_lines(d, lang), comments)
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut scores = vec![Pick {
        value: String::new(),
        label: text("dashboard.any_score"),
        selected: q.comments.overall.is_none(),
    }];
    scores.extend((1..=5).map(|n| Pick {
        value: n.to_string(),
        label: n.to_string(),
        selected: q.comments.overall == Some(n),
    }));
    let heading = match focus {
        Focus::City => text("dashboard.heading"),
        Focus::Department(code) | Focus::Service(code) => name(code),
    };
    let mut hidden = vec![
        Hidden {
            name: "period",
            value: q.preset.as_str().to_string(),
        },
        Hidden {
            name: "audience",
            value: q.audience.as_str().to_string(),
        },
    ];
    if let Some(s) = &q.sort {
        hidden.push(Hidden {
            name: "sort",
            value: s.clone(),
        });
    }
    let trend_title = match q.audience {
        Audience::Resident => text("dashboard.trend"),
        Audience::Employee => text("dashboard.trend_months"),
    };
    let chrome = Chrome::new(state, req, lang, Some(signed), "dashboard.title");
    Ok(state.templates.render(
        "admin/dashboard",
        &DashboardPage {
            chrome,
            heading,
            action: base.clone(),
            period: format!("{} – {}", day_key(c.now.from), day_key(c.now.to)),
            presets,
            audiences,
            channels,
            hidden,
            metrics,
            withheld,
            trend_title,
            chart: chart::trend(&points),
            trend,
            tables,
            details: *focus != Focus::City,
            questions,
            comments,
            scores,
            search: q.comments.search.clone().unwrap_or_default(),
            residents: q.audience == Audience::Resident,
        },
    )?)
}
