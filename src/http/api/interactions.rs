//! `POST /api/v1/interactions`: a CRM reports a closed request.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{authenticate, read_json, ApiError};
use crate::domain::account::Scope;
use crate::domain::api_scope::ApiScope;
use crate::services::catalog;
use crate::services::interactions::{record, validate, ReportContext, Reported};
use crate::state::AppState;

#[tracing::instrument(name = "api.interactions.create", skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let grant = authenticate(&state, &req, ApiScope::InteractionsWrite).await?;
    let body = read_json(payload).await?;
    let now = state.clock.now();
    let new = state
        .db
        .read(|conn| {
            let new = validate(conn, &body, now).map_err(ApiError::from)?;
            // A key limited to some departments reports only their services' requests.
            let scope = grant.scope();
            if scope != Scope::All {
                let owner = catalog::department_of(conn, &new.service_code)?.unwrap_or_default();
                if !scope.allows(&owner) {
                    return Err(ApiError::OutsideDepartments(format!(
                        "service {}",
                        new.service_code
                    )));
                }
            }
            Ok(new)
        })
        .await?;
    let st = state.clone();
    let reported = state
        .db
        .write(move |conn| {
            let policy = st.policy();
            let ctx = ReportContext {
                key: &st.key,
                base_url: &st.settings.base_url,
                link_ttl: policy.link_ttl,
                rules: &policy.send_rules,
                message_domain: st.settings.mail_from.email.domain(),
                now,
            };
            record(conn, &ctx, &new).map_err(ApiError::from)
        })
        .await?;
    Ok(match reported {
        Reported::Created(r) => HttpResponse::Created().json(r),
        Reported::Existing(r) => HttpResponse::Ok().json(r),
    })
}
