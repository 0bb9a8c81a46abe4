//! `GET /transparency` (`?lang=he|ar|en|ru`) and `GET /api/v1/public/summary.json`: the city's
//! public figures, for anyone, without a key. They change slowly and are asked for often, so
//! they are computed at most every few minutes and served from memory, page and JSON alike:
//! a request costs a lookup and a copy of bytes already rendered.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::language::Language;
use crate::services::reports;
use crate::services::transparency::{self, DepartmentFigures, Summary};
use crate::state::AppState;
use crate::templates::{PageMeta, TemplateError, Templates};

/// How long computed figures are served before they are computed again.
pub const FRESH_FOR: Duration = Duration::minutes(5);

struct Rendered {
    /// Served until then; computed again after.
    fresh_until: DateTime<Utc>,
    /// The city profile the pages were rendered with: a new name or colour renders them again.
    city_version: u64,
    json: Bytes,
    pages: HashMap<Language, Bytes>,
}

/// The figures last computed, rendered in every language.
#[derive(Default)]
pub struct TransparencyCache {
    current: RwLock<Option<Arc<Rendered>>>,
    /// After a failed computation with nothing to fall back on: no new try before then.
    failed_until: RwLock<Option<DateTime<Utc>>>,
    /// One computation at a time: the others wait for it instead of repeating it.
    refreshing: tokio::sync::Mutex<()>,
}

/// How long a failed computation is not tried again (the last good figures are served).
const AFTER_FAILURE: Duration = Duration::minutes(1);

impl TransparencyCache {
    fn last(&self) -> Option<Arc<Rendered>> {
        self.current.read().ok()?.clone()
    }

    fn fresh(&self, now: DateTime<Utc>, city_version: u64) -> Option<Arc<Rendered>> {
        self.last()
            .filter(|r| now < r.fresh_until && r.city_version == city_version)
    }

    fn keep(&self, r: Arc<Rendered>) {
        if let Ok(mut current) = self.current.write() {
            *current = Some(r);
        }
    }
}

async fn rendered(
    state: &web::Data<AppState>,
    cache: &TransparencyCache,
) -> Result<Arc<Rendered>, HttpResponse> {
    if let Some(r) = cache.fresh(state.clock.now(), state.templates.city_version()) {
        return Ok(r);
    }
    let _one = cache.refreshing.lock().await;
    // Read again: whoever held the lock may have just computed them.
    let now = state.clock.now();
    if let Some(r) = cache.fresh(now, state.templates.city_version()) {
        return Ok(r);
    }
    let unavailable = || {
        HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "60"))
            .finish()
    };
    let failed_until = cache.failed_until.read().ok().and_then(|f| *f);
    if failed_until.is_some_and(|until| now < until) {
        return Err(unavailable());
    }
    match compute(state, now).await {
        Ok(fresh) => {
            let fresh = Arc::new(fresh);
            cache.keep(fresh.clone());
            Ok(fresh)
        }
        Err(e) => {
            tracing::error!(error = %e, "transparency figures failed");
            // The last good figures, served a minute longer; without any, a minute's rest.
            match cache.last() {
                Some(last) => {
                    let kept = Arc::new(Rendered {
                        fresh_until: now + AFTER_FAILURE,
                        city_version: state.templates.city_version(),
                        json: last.json.clone(),
                        pages: last.pages.clone(),
                    });
                    cache.keep(kept.clone());
                    Ok(kept)
                }
                None => {
                    if let Ok(mut f) = cache.failed_until.write() {
                        *f = Some(now + AFTER_FAILURE);
                    }
                    Err(unavailable())
                }
            }
        }
    }
}

async fn compute(state: &web::Data<AppState>, now: DateTime<Utc>) -> Result<Rendered, String> {
    let inbox = state.key.inbox_key();
    state
        .db
        .write(move |conn| reports::refresh(conn, &inbox, now))
        .await
        .map_err(|e| e.to_string())?;
    let min = state.policy().transparency_min_answers;
    let summary = state
        .db
        .scan(move |conn| transparency::summary(conn, now, min))
        .await
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_vec(&summary).map_err(|e| e.to_string())?;
    let mut pages = HashMap::new();
    for lang in Language::ALL {
        let page = render(&state.templates, lang, &summary).map_err(|e| e.to_string())?;
        pages.insert(lang, Bytes::from(page));
    }
    Ok(Rendered {
        fresh_until: now + FRESH_FOR,
        city_version: state.templates.city_version(),
        json: Bytes::from(json),
        pages,
    })
}

/// Public, and the same for everyone: shared caches may keep it as long as mashov does.
fn cached(content_type: &'static str, body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(body)
}

pub async fn summary_json(
    state: web::Data<AppState>,
    cache: web::Data<TransparencyCache>,
) -> HttpResponse {
    match rendered(&state, &cache).await {
        Ok(r) => cached("application/json", r.json.clone()),
        Err(refused) => refused,
    }
}

pub async fn page(
    state: web::Data<AppState>,
    cache: web::Data<TransparencyCache>,
    req: HttpRequest,
) -> HttpResponse {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let lang = match query.iter().find(|(k, _)| k == "lang") {
        None => Language::He,
        Some((_, code)) => match Language::parse(code) {
            Some(l) => l,
            None => return HttpResponse::NotFound().finish(),
        },
    };
    match rendered(&state, &cache).await {
        Ok(r) => match r.pages.get(&lang) {
            Some(page) => cached("text/html; charset=utf-8", page.clone()),
            None => HttpResponse::NotFound().finish(),
        },
        Err(refused) => refused,
    }
}

#[derive(Serialize)]
struct Line {
    name: String,
    answers: i64,
    csat: String,
    change: String,
    resolution: String,
    within_sla: String,
}

#[derive(Serialize)]
struct LanguageLink {
    code: &'static str,
    name: String,
    current: bool,
}

#[derive(Serialize)]
struct TransparencyPage<'a> {
    #[serde(flatten)]
    meta: PageMeta<'a>,
    intro: String,
    period: String,
    lines: Vec<Line>,
    languages: Vec<LanguageLink>,
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_string(), |s| format!("{}%", (s * 100.0).round()))
}

fn render(t: &Templates, lang: Language, s: &Summary) -> Result<String, TemplateError> {
    let text = |key: &str| t.text(lang, &format!("transparency.{key}"));
    let change = |d: &DepartmentFigures| match d.csat_change {
        None => text("no_change"),
        Some(c) => {
            let points = (c * 100.0).round() as i64;
            let key = match points {
                p if p > 0 => "up",
                p if p < 0 => "down",
                _ => "same",
            };
            text(key).replace("{points}", &points.abs().to_string())
        }
    };
    let lines = s
        .departments
        .iter()
        .map(|d| Line {
            name: d
                .names
                .get(&lang)
                .or_else(|| d.names.get(&Language::He))
                .cloned()
                .unwrap_or_else(|| d.code.clone()),
            answers: d.answers,
            csat: percent(d.csat),
            change: change(d),
            resolution: percent(d.resolution_rate),
            within_sla: percent(d.followups_within_sla),
        })
        .collect();
    let page = TransparencyPage {
        meta: PageMeta::new(t, lang, text("title")),
        intro: text("intro").replace("{min}", &s.min_answers.to_string()),
        period: text("period")
            .replace("{from}", &s.from.format("%d.%m.%Y").to_string())
            .replace("{to}", &s.to.format("%d.%m.%Y").to_string()),
        lines,
        languages: Language::ALL
            .into_iter()
            .map(|l| LanguageLink {
                code: l.code(),
                name: t.text(l, "admin.language_name"),
                current: l == lang,
            })
            .collect(),
    };
    t.render("public/transparency", &page)
}
