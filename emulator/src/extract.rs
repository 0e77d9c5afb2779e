//! Reading request bodies and paths, and refusing them in the shape of the endpoint asked.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};

use crate::errors::{shorten, ApiError};

pub fn path_error(rejection: PathRejection) -> ApiError {
    ApiError::bad_request(rejection.body_text())
}

/// A body that could not be read (too large, cut off), in the shape of the endpoint at
/// `path`.
pub fn body_error(path: &str, rejection: BytesRejection) -> ApiError {
    ApiError::for_path(path, rejection.status(), rejection.body_text())
}

/// A body sent as JSON: 415 unless the Content-Type says so, as the live API requires (a
/// JSON body sent as a form or as plain text is refused there too). Errors take the shape
/// of the endpoint asked, the token service's included.
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let path = request.uri().path().to_owned();
        let declared = declared_json(request.headers());
        // Read even when refused, as a plain `Bytes` argument is.
        let body = Bytes::from_request(request, state).await;
        declared.map_err(|message| {
            ApiError::for_path(&path, StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
        })?;
        body.map(JsonBytes).map_err(|r| body_error(&path, r))
    }
}

/// Whether the Content-Type is `application/json` (any letter case or parameters); the
/// message says what came instead.
fn declared_json(headers: &HeaderMap) -> Result<(), String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    let found = if content_type.is_empty() {
        "none".to_string()
    } else {
        format!("{:?}", shorten(content_type, 80))
    };
    Err(format!(
        "the body must be sent as Content-Type: application/json, got {found}"
    ))
}
