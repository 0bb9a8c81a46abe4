//! `GET /metrics`: Prometheus' text format, for the addresses in `MASHOV_METRICS_FROM` only
//! (loopback by default; anyone else gets `404`, as if there were nothing here). Requests by
//! route and status with their latency, answers acknowledged, emails by kind and state with the
//! age of the oldest waiting, employee answers waiting in the inbox, and the database's doors.

use std::fmt::Write;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::services::operations;
use crate::state::AppState;

pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let allowed = req
        .peer_addr()
        .is_some_and(|a| state.settings.metrics_from.contains(&a.ip()));
    if !allowed {
        return HttpResponse::NotFound().finish();
    }
    let now = state.clock.now().naive_utc();
    let read = state.db.read(operations::backlog).await;
    let mut out = String::with_capacity(8 * 1024);
    state.metrics.render(&mut out);
    let (queued, connections, idle) = state.db.load();
    let _ = writeln!(
        out,
        "# HELP mashov_writer_queue Write jobs waiting for a writer."
    );
    let _ = writeln!(out, "# TYPE mashov_writer_queue gauge");
    let _ = writeln!(out, "mashov_writer_queue {queued}");
    let _ = writeln!(
        out,
        "# HELP mashov_scan_pool_connections The scan pool's connections, and how many are idle."
    );
    let _ = writeln!(out, "# TYPE mashov_scan_pool_connections gauge");
    let _ = writeln!(
        out,
        "mashov_scan_pool_connections{{state=\"open\"}} {connections}"
    );
    let _ = writeln!(out, "mashov_scan_pool_connections{{state=\"idle\"}} {idle}");
    match read {
        Ok(operations::Backlog {
            emails: counts,
            oldest_waiting: oldest,
            inbox_waiting: waiting,
        }) => {
            let _ = writeln!(
                out,
                "# HELP mashov_emails Emails by kind (invitation, reminder, digest, …) and state."
            );
            let _ = writeln!(out, "# TYPE mashov_emails gauge");
            for c in counts {
                let _ = writeln!(
                    out,
                    "mashov_emails{{kind=\"{}\",state=\"{}\"}} {}",
                    c.kind, c.status, c.n
                );
            }
            let age = oldest.map_or(0, |t| (now - t).num_seconds().max(0));
            let _ = writeln!(
                out,
                "# HELP mashov_email_oldest_waiting_seconds Age of the oldest email not yet sent."
            );
            let _ = writeln!(out, "# TYPE mashov_email_oldest_waiting_seconds gauge");
            let _ = writeln!(out, "mashov_email_oldest_waiting_seconds {age}");
            let _ = writeln!(
                out,
                "# HELP mashov_inbox_waiting Employees' sealed answers waiting for their group."
            );
            let _ = writeln!(out, "# TYPE mashov_inbox_waiting gauge");
            let _ = writeln!(out, "mashov_inbox_waiting {waiting}");
            let _ = writeln!(out, "mashov_up 1");
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics could not read the database");
            let _ = writeln!(out, "mashov_up 0");
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}
