//! Error answers in the two shapes mParticle uses: the Platform API's
//! `{ "errors": [{ "code", "message" }] }` and the token service's
//! `{ "error", "error_description" }`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use group_identity::definition::Issue;
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
    pub www_authenticate: bool,
}

impl ApiError {
    /// A Platform API error with one entry.
    pub fn platform(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "errors": [{ "code": code, "message": message.into() }] }),
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// A token service error.
    pub fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "error": error, "error_description": description.into() }),
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// An error in the shape of the endpoint at `path`: the token service's under
    /// `/oauth/`, else the Platform API's; the code follows from the status.
    pub fn for_path(path: &str, status: StatusCode, message: impl Into<String>) -> Self {
        if path.starts_with("/oauth/") {
            Self::oauth(status, oauth_code(status), message)
        } else {
            ApiError {
                // A Platform 401 says how to authenticate, as `unauthorized` does.
                www_authenticate: status == StatusCode::UNAUTHORIZED,
                ..Self::platform(status, platform_code(status), message)
            }
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::platform(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::platform(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::platform(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            www_authenticate: true,
            ..Self::platform(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
        }
    }

    pub fn unprocessable(message: impl Into<String>, path: &str) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "errors": [{
                "code": "VALIDATION_ERROR",
                "message": message.into(),
                "path": path,
            }] }),
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// 422 with one entry per error issue; `reason` keeps the core's issue code. Warnings
    /// travel beside them, as the core's issues.
    pub fn validation(errors: &[Issue], warnings: &[Issue]) -> Self {
        let entries: Vec<Value> = errors
            .iter()
            .map(|issue| {
                json!({
                    "code": "VALIDATION_ERROR",
                    "message": issue.message,
                    "path": issue.path,
                    "reason": issue.code,
                })
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "errors": entries, "warnings": warnings }),
            retry_after: None,
            www_authenticate: false,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::platform(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            message,
        )
    }

    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The Platform API code for a status, for errors made from a status alone.
pub fn platform_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        422 => "VALIDATION_ERROR",
        429 => "TOO_MANY_REQUESTS",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        500..=599 => "INTERNAL_SERVER_ERROR",
        _ => "ERROR",
    }
}

/// The OAuth error code for a status, for errors made from a status alone.
pub fn oauth_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 | 403 => "access_denied",
        429 => "too_many_requests",
        503 => "temporarily_unavailable",
        500..=599 => "server_error",
        _ => "invalid_request",
    }
}

/// `text` cut to `max` characters, for quoting what a caller sent in a message.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}
