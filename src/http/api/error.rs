//! API errors, mapped to status codes and JSON bodies in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::api_scope::ApiScope;
use crate::domain::FieldErrors;
use crate::services::interactions::ReportError;
use crate::services::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API key is required: Authorization: Bearer KEY")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("the body is larger than 64 KiB")]
    TooLarge,
    #[error("some fields are missing or invalid")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("this API key lacks the scope {0}")]
    MissingScope(ApiScope),
    #[error("{0} is outside this API key's departments")]
    OutsideDepartments(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; try again after Retry-After seconds")]
    TooManyRequests(std::time::Duration),
    /// The cause is kept whole (with its own sources) for the log; the caller only learns
    /// that it failed.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match &e {
            ReportError::Invalid(fields) => ApiError::Invalid(fields.clone()),
            ReportError::ExternalIdTaken(_) => ApiError::Conflict(e.to_string()),
            _ => ApiError::Internal(Box::new(e)),
        }
    }
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::TooLarge => "payload_too_large",
            ApiError::Invalid(_) => "invalid_fields",
            ApiError::NotFound => "not_found",
            ApiError::MissingScope(_) | ApiError::OutsideDepartments(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MissingScope(_) | ApiError::OutsideDepartments(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({"error": self.code(), "message": self.to_string()});
        match self {
            ApiError::Invalid(fields) => body["fields"] = json!(fields),
            ApiError::MissingScope(scope) => body["missing_scope"] = json!(scope.as_str()),
            // The cause goes to the log, never to the caller.
            ApiError::Internal(cause) => {
                tracing::error!(error = %Chain(cause.as_ref()), "API request failed")
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized => {
                res.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ApiError::TooManyRequests(wait) => {
                res.insert_header(("Retry-After", crate::limits::retry_after(*wait).to_string()));
            }
            _ => {}
        }
        res.json(body)
    }
}

/// An error and every source under it, `outer: inner: innermost`, for one log line.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        let mut next = self.0.source();
        while let Some(e) = next {
            // Many errors already print their source in their own message: say it once.
            let text = e.to_string();
            if !shown.contains(&text) {
                shown = format!("{shown}: {text}");
            }
            next = e.source();
        }
        f.write_str(&shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log_and_not_for_the_caller() {
        let cause = DbError::Query(diesel::result::Error::NotFound);
        let e = ApiError::from(cause);
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("database query failed: Record not found")
        );
        assert_eq!(e.to_string(), "internal error");
        let ApiError::Internal(inner) = &e else {
            panic!("an internal error")
        };
        assert_eq!(
            Chain(inner.as_ref()).to_string(),
            "database query failed: Record not found"
        );
        let body = actix_web::body::to_bytes(e.error_response().into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .and_then(Result::ok)
            .unwrap_or_default();
        assert!(!String::from_utf8_lossy(&body).contains("Record not found"));
    }
}
