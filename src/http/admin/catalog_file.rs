//! The catalog as a file in the admin app: the lines of a preview (what a pasted file would
//! change) and `GET /admin/catalog.csv`, the catalog as a file that imports back unchanged.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::setup::admin_page;
use super::{refusal, AdminError};
use crate::services::catalog_file::{self, Planned, PlannedLine};
use crate::state::AppState;

#[derive(Serialize)]
pub struct PreviewLine {
    kind: String,
    code: String,
    name: String,
    what: String,
}

/// The preview's lines, in the page's words (`text` reads `admin.catalog.*`).
pub fn preview_lines(text: &dyn Fn(&str) -> String, lines: Vec<PlannedLine>) -> Vec<PreviewLine> {
    lines
        .into_iter()
        .map(|l| PreviewLine {
            kind: text(if l.service {
                "kind_service"
            } else {
                "kind_department"
            }),
            code: l.code,
            name: l.name,
            what: match l.plan {
                Planned::New => text("plan_new"),
                Planned::Same => text("plan_same"),
                Planned::Changed(fields) => format!(
                    "{} {}",
                    text("plan_changed"),
                    fields
                        .iter()
                        .map(|f| text(&format!("fields.{f}")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        })
        .collect()
}

/// `GET /admin/catalog.csv`: the catalog as a file `mashov catalog import` reads back.
pub async fn export(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        admin_page(&state, &req).await?;
        let bytes = state.db.read(catalog_file::export_csv).await?;
        Ok::<_, AdminError>(
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"catalog.csv\"",
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(bytes),
        )
    };
    result.await.unwrap_or_else(|e| refusal(&state, &req, e))
}
