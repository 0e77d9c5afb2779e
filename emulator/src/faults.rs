//! The fault switch: forced error statuses and slow answers for client tests, per request
//! (`X-Emulator-Fault` header) or for the next N requests (`POST /emulator/faults`).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::extract::body_error;
use crate::server::AppState;

pub const FAULT_HEADER: &str = "x-emulator-fault";

/// Retry-After sent with 429 and 503 unless the fault names another.
const DEFAULT_RETRY_AFTER: u64 = 1;
/// Longest forced delay, so a typo cannot hang a test run for hours.
const MAX_DELAY_MS: u64 = 600_000;

/// One forced answer: wait `delay`, then answer `status` (or serve normally if `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fault {
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay: Duration,
}

impl Fault {
    /// Reads a header value: comma-separated items, each `STATUS[;retry-after=SECONDS]` or
    /// `slow=MILLISECONDS`, e.g. `429`, `503;retry-after=2`, `slow=1500`, `slow=200,500`.
    pub fn parse(text: &str) -> Result<Fault, String> {
        let mut fault = Fault::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(ms) = item.strip_prefix("slow=") {
                let ms = ms
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|&ms| ms <= MAX_DELAY_MS)
                    .ok_or_else(|| {
                        format!("slow= expects milliseconds from 0 to {MAX_DELAY_MS}, got {ms:?}")
                    })?;
                fault.delay = Duration::from_millis(ms);
                continue;
            }
            let mut parts = item.split(';').map(str::trim);
            let status = parts.next().unwrap_or_default();
            let status = parse_status(status)?;
            if fault.status.replace(status).is_some() {
                return Err("name at most one status".into());
            }
            for param in parts {
                match param.split_once('=') {
                    Some((name, value)) if name.trim().eq_ignore_ascii_case("retry-after") => {
                        let seconds = value.trim().parse::<u64>().map_err(|_| {
                            format!("retry-after expects whole seconds, got {:?}", value.trim())
                        })?;
                        fault.retry_after = Some(seconds);
                    }
                    _ => {
                        return Err(format!(
                            "unknown parameter {param:?}; use retry-after=SECONDS"
                        ))
                    }
                }
            }
        }
        if fault.status.is_none() && fault.delay.is_zero() {
            return Err(format!(
                "{text:?} names no fault; use e.g. 429, 503;retry-after=2, 500 or slow=1500"
            ));
        }
        Ok(fault)
    }

    /// The Retry-After to send: the one asked for, else a default on 429 and 503.
    fn retry_after(&self) -> Option<u64> {
        match self.status {
            Some(429 | 503) => Some(self.retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
            Some(_) => self.retry_after,
            None => None,
        }
    }
}

fn parse_status(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(status) if (400..=599).contains(&status) => Ok(status),
        _ => Err(format!(
            "a fault status must be an error status from 400 to 599, got {text:?}"
        )),
    }
}

/// A fault for the next `remaining` API requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pending {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    delay_ms: u64,
    remaining: u32,
}

#[derive(Default)]
pub struct Faults {
    pending: Mutex<Option<Pending>>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Option<Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one request's worth of the pending fault, if any.
    fn take(&self) -> Option<Fault> {
        let mut pending = self.lock();
        let current = pending.as_mut()?;
        let fault = Fault {
            status: current.status,
            retry_after: current.retry_after,
            delay: Duration::from_millis(current.delay_ms),
        };
        current.remaining = current.remaining.saturating_sub(1);
        if current.remaining == 0 {
            *pending = None;
        }
        Some(fault)
    }
}

/// Middleware on the token and group endpoints: applies the header's fault, else the next
/// pending one.
pub async fn inject(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let fault = match request.headers().get(FAULT_HEADER) {
        Some(value) => {
            let parsed = value
                .to_str()
                .map_err(|_| "the value is not visible ASCII".to_string())
                .and_then(Fault::parse);
            match parsed {
                Ok(fault) => Some(fault),
                Err(message) => {
                    let message = format!("X-Emulator-Fault: {message}");
                    // In the shape of the endpoint asked, as every other error.
                    return ApiError::for_path(
                        request.uri().path(),
                        StatusCode::BAD_REQUEST,
                        message,
                    )
                    .into_response();
                }
            }
        }
        None => app.faults.take(),
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return next.run(request).await;
    };
    let message = format!(
        "fault injected by the emulator: {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("error")
    );
    ApiError::for_path(request.uri().path(), status, message)
        .with_retry_after(fault.retry_after())
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FaultRequest {
    status: Option<u16>,
    #[serde(alias = "retry_after")]
    retry_after: Option<u64>,
    #[serde(alias = "delay_ms")]
    delay_ms: Option<u64>,
    count: Option<u32>,
}

/// `POST /emulator/faults`: `{ "status": 503, "count": 2 }`, `{ "delayMs": 2000 }`, ...
pub async fn set(
    State(app): State<AppState>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|r| body_error(uri.path(), r))?;
    let request: FaultRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{ \"status\"?, \"retryAfter\"?, \"delayMs\"?, \"count\"? }}: {e}"
        ))
    })?;
    if let Some(status) = request.status {
        parse_status(&status.to_string()).map_err(ApiError::bad_request)?;
    }
    let delay_ms = request.delay_ms.unwrap_or(0);
    if delay_ms > MAX_DELAY_MS {
        return Err(ApiError::bad_request(format!(
            "delayMs may be at most {MAX_DELAY_MS}, got {delay_ms}"
        )));
    }
    if request.status.is_none() && delay_ms == 0 {
        return Err(ApiError::bad_request(
            "name a \"status\" (400 to 599), a \"delayMs\", or both",
        ));
    }
    let count = request.count.unwrap_or(1);
    if count == 0 {
        return Err(ApiError::bad_request("count must be at least 1"));
    }
    let pending = Pending {
        status: request.status,
        retry_after: request.retry_after,
        delay_ms,
        remaining: count,
    };
    *app.faults.lock() = Some(pending.clone());
    Ok(Json(json!({ "pending": pending })))
}

/// `GET /emulator/faults`: the pending fault, or null.
pub async fn show(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "pending": *app.faults.lock() }))
}

/// `DELETE /emulator/faults`.
pub async fn clear(State(app): State<AppState>) -> StatusCode {
    *app.faults.lock() = None;
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        assert_eq!(
            Fault::parse("429").unwrap(),
            Fault {
                status: Some(429),
                ..Fault::default()
            }
        );
        assert_eq!(Fault::parse("429").unwrap().retry_after(), Some(1));
        assert_eq!(Fault::parse("500").unwrap().retry_after(), None);
        let f = Fault::parse("503; retry-after=7").unwrap();
        assert_eq!((f.status, f.retry_after()), (Some(503), Some(7)));
        let f = Fault::parse("slow=250").unwrap();
        assert_eq!((f.status, f.delay), (None, Duration::from_millis(250)));
        let f = Fault::parse("slow=10, 500").unwrap();
        assert_eq!((f.status, f.delay), (Some(500), Duration::from_millis(10)));
        for bad in [
            "",
            "200",
            "abc",
            "429;foo=1",
            "slow=x",
            "429,503",
            "slow=99999999",
        ] {
            assert!(Fault::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pending_faults_count_down() {
        let faults = Faults::default();
        *faults.lock() = Some(Pending {
            status: Some(503),
            retry_after: None,
            delay_ms: 0,
            remaining: 2,
        });
        assert_eq!(faults.take().unwrap().status, Some(503));
        assert_eq!(faults.take().unwrap().status, Some(503));
        assert!(faults.take().is_none());
    }
}
