//! Build the application state, bind, serve.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::db::{Db, DbError};
use crate::http;
use crate::services;
use crate::state::AppState;
use crate::templates::{TemplateError, Templates};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
}

/// Connects, migrates, loads the key and the templates.
pub fn build_state(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
    let db = Db::start(&settings.database_url)?;
    // Before anything is served: the schema, then the key's check against waiting answers.
    let mut conn = db.connection()?;
    services::setup::migrate(&mut conn, clock.now())?;
    let key = settings.server_key()?;
    {
        for (cohort, month) in services::inbox::unreadable_groups(&mut conn, &key.inbox_key())? {
            tracing::error!(
                %cohort,
                %month,
                "employee answers waiting in the anonymous inbox cannot be opened with this server \
                 key: they stay sealed until the key they were sealed with (MASHOV_SECRET or the \
                 key file) is configured again"
            );
        }
    }
    let city = services::city::load(&mut conn, &settings)?;
    let policy = services::city::policy(&mut conn, &settings)?;
    drop(conn);
    // The hash that unknown addresses are checked against, made now so that the first sign-in
    // with an unknown address takes no longer than any other.
    crate::domain::password::warm_up();
    let templates = Templates::load()?;
    templates.set_city(city);
    let state = AppState::new(db, settings, key, templates, clock);
    state.set_policy(policy);
    Ok(state)
}

/// After the server stopped: background work takes nothing new, and the emails being sent
/// are finished (for up to `patience`); then `serve` may exit.
pub async fn wind_down(state: &web::Data<AppState>, patience: std::time::Duration) {
    state.stop();
    if tokio::time::timeout(patience, state.sending.write())
        .await
        .is_err()
    {
        tracing::warn!(
            "emails were still being sent at exit: their claims expire and they are sent again"
        );
    }
    tracing::info!("stopped");
}

/// Starts serving on an already bound listener (port 0 in tests). Must run inside an actix
/// system.
pub fn run(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    start_delivery(&state);
    let housekeeper = state.clone();
    actix_web::rt::spawn(async move { housekeeping(housekeeper).await });
    let watcher = state.clone();
    actix_web::rt::spawn(async move { follow_city_settings(watcher).await });
    // Shared by every worker: a page rendered once serves them all.
    let pages = web::Data::new(http::public::pages::PageCache::default());
    let transparency = web::Data::new(http::public::transparency::TransparencyCache::default());
    let https = state.settings.base_url.starts_with("https://");
    let body_timeout = state.settings.body_timeout;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(pages.clone())
            .app_data(transparency.clone())
            .wrap_fn(http::limits::limit_clients)
            .wrap_fn(http::json_not_stored)
            .wrap(http::security_headers(https))
            .wrap_fn(http::access_log)
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                srv.call(http::body_deadline(req, body_timeout))
            })
            .configure(http::configure)
            .default_service(web::to(not_found))
    })
    // Slow clients never starve the others: a request's head must arrive within 5 seconds
    // and its body within `body_timeout`; idle keep-alive connections close after 5 seconds;
    // and each worker holds at most 4,096 connections (beyond, new ones wait to be accepted).
    // On SIGTERM or SIGINT: stop accepting, finish the requests in flight (their writes
    // included: a request is answered only once its commit is durable) for up to 7 seconds.
    .shutdown_timeout(7)
    .client_request_timeout(std::time::Duration::from_secs(5))
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .keep_alive(std::time::Duration::from_secs(5))
    .max_connections(4096)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn not_found(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        return HttpResponse::NotFound()
            .json(serde_json::json!({"error": "not_found", "message": "no such endpoint"}));
    }
    http::public::pages::html(
        actix_web::http::StatusCode::NOT_FOUND,
        http::public::pages::not_found_page(&state),
    )
}

/// Starts the outbox's delivery worker when a mail server is configured; says once that email is
/// off otherwise (emails then stay queued until it is).
fn start_delivery(state: &web::Data<AppState>) {
    let Some(smtp) = state.settings.smtp.clone() else {
        tracing::warn!(
            "email is off: MASHOV_SMTP_URL is not set; emails stay queued in the outbox"
        );
        return;
    };
    let scheduler = state.clone();
    actix_web::rt::spawn(async move { digest_scheduler(scheduler).await });
    let state = state.clone();
    actix_web::rt::spawn(async move {
        match crate::email::transport::build(&smtp) {
            Ok(mailer) => {
                // Never dropped: lettre's pool closes its connections on a task spawned from its
                // destructor, which panics once the runtime is shutting down. The process (or
                // test) ends with it instead.
                let mailer: &'static crate::email::transport::Mailer = Box::leak(Box::new(mailer));
                crate::email::outbox_worker::run(state, mailer).await
            }
            Err(e) => tracing::error!(error = %e, "cannot set up the SMTP transport; email is off"),
        }
    });
}

#[derive(Debug, thiserror::Error)]
enum HousekeepingError {
    #[error("closing due campaigns: {0}")]
    Campaigns(#[from] services::campaigns::CampaignError),
    #[error("draining the inbox: {0}")]
    Db(#[from] DbError),
}

/// Every `housekeeping_poll` (ten minutes): closes the campaigns past their closing date, then
/// moves the employee groups that have become complete out of the anonymous inbox, so that
/// sealed answers do not wait for the next report to be asked for. Reports drain too; of racing
/// drains (or closes) only one acts.
/// How often a server reads the city's settings again: another instance sharing the database
/// may have saved new ones (this one applies its own saves at once).
const CITY_POLL: std::time::Duration = std::time::Duration::from_secs(30);

async fn follow_city_settings(state: web::Data<AppState>) {
    loop {
        tokio::time::sleep(CITY_POLL).await;
        match state
            .db
            .read(|conn| {
                let profile = services::city::load(conn, &state.settings)?;
                Ok::<_, crate::db::DbError>((
                    profile,
                    services::city::policy(conn, &state.settings)?,
                ))
            })
            .await
        {
            Ok((profile, policy)) => {
                state.templates.set_city(profile);
                state.set_policy(policy);
            }
            Err(e) => tracing::warn!(error = %e, "could not read the city's settings"),
        }
    }
}

async fn housekeeping(state: web::Data<AppState>) {
    let mut purged: Option<std::time::Instant> = None;
    loop {
        // Once a day: contact details past their retention are erased.
        if purged.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(24 * 3600)) {
            let (retention, now) = (state.policy().contact_retention, state.clock.now());
            match state
                .db
                .write(move |conn| services::privacy::purge(conn, retention, now, false))
                .await
            {
                Ok(e) => {
                    purged = Some(std::time::Instant::now());
                    if e.interactions + e.cases + e.emails > 0 {
                        tracing::info!(
                            requests = e.interactions,
                            cases = e.cases,
                            emails = e.emails,
                            "contact details past their retention erased"
                        );
                    }
                }
                Err(e) => tracing::error!(error = %e, "erasing old contact details failed"),
            }
        }
        let (key, now) = (state.key.inbox_key(), state.clock.now());
        let done = state
            .db
            .write(move |conn| {
                let closed = services::campaigns::close_due(conn, &key, now)?;
                let drained = services::inbox::drain_frozen(conn, &key, now)?;
                services::sessions::sweep(conn, now)?;
                // Reads of personal data are kept 24 months, then forgotten.
                services::audit::purge_reads(conn, now)?;
                Ok::<_, HousekeepingError>((closed, drained))
            })
            .await;
        match done {
            Ok((closed, drained)) => {
                for (id, c) in closed {
                    tracing::info!(
                        campaign = %id,
                        recipients = c.recipients,
                        answered = c.answered,
                        "campaign closed on its closing date; addresses deleted"
                    );
                }
                if drained.answers > 0 {
                    tracing::info!(
                        groups = drained.groups,
                        answers = drained.answers,
                        "employee groups published"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "housekeeping failed"),
        }
        tokio::time::sleep(state.settings.housekeeping_poll).await;
    }
}

/// Once a minute, queues the weekly digests that are due (each recipient's once per week,
/// whatever the number of instances and restarts: the outbox's idempotency key sees to it).
async fn digest_scheduler(state: web::Data<AppState>) {
    loop {
        let now = state.clock.now();
        if let Some(week) = state.policy().digest_schedule.due_week(now) {
            let domain = state.settings.mail_from.email.domain().to_string();
            let queued = state
                .db
                .write(move |conn| crate::services::digest::enqueue_week(conn, week, now, &domain))
                .await;
            match queued {
                Ok((n, _)) if n > 0 => {
                    tracing::info!(week = %week, queued = n, "weekly digests queued")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "queueing weekly digests failed"),
            }
        }
        tokio::time::sleep(state.settings.digest_poll).await;
    }
}
