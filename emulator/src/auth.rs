//! The token endpoint, issued tokens, and the bearer check in front of the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{shorten, ApiError};
use crate::extract::JsonBytes;
use crate::server::{AppState, LoggedClient};

/// The audience the token service requires.
pub const AUDIENCE: &str = "https://api.mparticle.com";

/// Expired tokens are kept this long to answer "expired" rather than "invalid".
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Tokens a client holds at once; a new one past this many retires the client's oldest,
/// so that a client asking for a token per call (a script in a loop) cannot grow the
/// emulator's memory for a whole token lifetime.
const MAX_TOKENS_PER_CLIENT: usize = 1000;

/// Who is calling: set by [`require_token`] for the handlers.
#[derive(Clone, Debug)]
pub struct Caller {
    pub client_id: Arc<str>,
    pub workspaces: Arc<[u64]>,
}

impl Caller {
    /// Reads the `{ws}` path segment and checks this client may use it.
    pub fn workspace(&self, raw: &str) -> Result<u64, ApiError> {
        // Digits only, without leading zeros: Rust's parse would take `+1000` and `01000`,
        // which the API's integer ids are not written as.
        let canonical =
            raw.bytes().all(|b| b.is_ascii_digit()) && (raw == "0" || !raw.starts_with('0'));
        let ws: u64 = raw.parse().ok().filter(|_| canonical).ok_or_else(|| {
            ApiError::bad_request(format!(
                "the workspace id must be a whole number written in digits without leading \
                 zeros, got {:?}",
                shorten(raw, 40)
            ))
        })?;
        if self.workspaces.contains(&ws) {
            Ok(ws)
        } else {
            Err(ApiError::forbidden(format!(
                "client {} may not use workspace {ws}",
                self.client_id
            )))
        }
    }
}

struct Issued {
    client_id: Arc<str>,
    expires_at: Instant,
}

/// Tokens live in memory only: never in the state file, never in a log.
#[derive(Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, Issued>>,
}

pub enum Lookup {
    Valid(Arc<str>),
    Expired,
    Unknown,
}

impl Tokens {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Issued>> {
        // A panic elsewhere while holding the lock leaves the map itself consistent.
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn issue(&self, client_id: Arc<str>, ttl: Duration) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut issued = self.lock();
        // Checked: the configuration bounds a lifetime, but no clock arithmetic may panic.
        issued.retain(|_, t| {
            t.expires_at
                .checked_add(FORGET_AFTER)
                .is_none_or(|forget| forget > now)
        });
        let held = issued.values().filter(|t| t.client_id == client_id).count();
        if held >= MAX_TOKENS_PER_CLIENT {
            let oldest = issued
                .iter()
                .filter(|(_, t)| t.client_id == client_id)
                .min_by_key(|(_, t)| t.expires_at)
                .map(|(token, _)| token.clone());
            if let Some(oldest) = oldest {
                issued.remove(&oldest);
            }
        }
        issued.insert(
            token.clone(),
            Issued {
                client_id,
                expires_at: now.checked_add(ttl).unwrap_or(now),
            },
        );
        Ok(token)
    }

    pub fn lookup(&self, token: &str) -> Lookup {
        match self.lock().get(token) {
            Some(t) if t.expires_at > Instant::now() => Lookup::Valid(t.client_id.clone()),
            Some(_) => Lookup::Expired,
            None => Lookup::Unknown,
        }
    }

    /// Makes every issued token expired now; returns how many were still valid.
    pub fn expire_all(&self) -> usize {
        let now = Instant::now();
        let mut valid = 0;
        for token in self.lock().values_mut() {
            if token.expires_at > now {
                valid += 1;
                token.expires_at = now;
            }
        }
        valid
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /oauth/token`: client credentials for a bearer token.
pub async fn token(State(app): State<AppState>, JsonBytes(body): JsonBytes) -> Response {
    match issue_token(&app, &body) {
        Ok((client_id, response)) => {
            let mut response = response.into_response();
            response.extensions_mut().insert(LoggedClient(client_id));
            response
        }
        Err(error) => error.into_response(),
    }
}

fn issue_token(app: &AppState, body: &[u8]) -> Result<(Arc<str>, impl IntoResponse), ApiError> {
    let invalid =
        |message: String| ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", message);
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "the body must be a JSON object with client_id, client_secret, audience and grant_type ({e})"
        ))
    })?;
    let Some(fields) = value.as_object() else {
        return Err(invalid(
            "the body must be a JSON object with client_id, client_secret, audience and grant_type"
                .into(),
        ));
    };
    let field = |name: &str| -> Result<&str, ApiError> {
        match fields.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
            None => Err(invalid(format!("{name} is required"))),
        }
    };
    let grant_type = field("grant_type")?;
    if grant_type != "client_credentials" {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be \"client_credentials\"",
        ));
    }
    let client_id = field("client_id")?;
    let client_secret = field("client_secret")?;
    let audience = field("audience")?;
    if audience != AUDIENCE {
        return Err(invalid(format!("audience must be \"{AUDIENCE}\"")));
    }
    let client = app
        .clients
        .get(client_id)
        .filter(|c| same_secret(&c.secret, client_secret))
        .ok_or_else(|| {
            ApiError::oauth(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "unknown client_id or wrong client_secret",
            )
        })?;
    let id: Arc<str> = Arc::from(client.id.as_str());
    let token = app.tokens.issue(id.clone(), app.token_ttl).map_err(|e| {
        ApiError::oauth(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("no randomness: {e}"),
        )
    })?;
    // Whole seconds, rounded up, as the token service answers.
    let expires_in = app.token_ttl.as_secs() + u64::from(app.token_ttl.subsec_nanos() > 0);
    let body = json!({ "access_token": token, "expires_in": expires_in, "token_type": "Bearer" });
    Ok((
        id,
        (
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::PRAGMA, HeaderValue::from_static("no-cache")),
            ],
            Json(body),
        ),
    ))
}

/// Middleware: a valid bearer token or 401; puts the [`Caller`] in the request.
pub async fn require_token(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match caller(&app, request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let client_id = caller.client_id.clone();
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(LoggedClient(client_id));
    response
}

/// The client a request's bearer token was issued to, or the 401 (400 for two tokens).
pub fn caller(app: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let how = "send \"Authorization: Bearer <access_token>\" with a token from POST /oauth/token";
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::unauthorized(format!(
            "no Authorization header; {how}"
        )));
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "more than one Authorization header; send exactly one",
        ));
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "the Authorization header is not a bearer token; {how}"
            ))
        })?;
    match app.tokens.lookup(token) {
        Lookup::Valid(client_id) => {
            let workspaces = app
                .clients
                .get(&*client_id)
                .map(|c| Arc::from(c.workspaces.as_slice()))
                .unwrap_or_else(|| Arc::from(Vec::new()));
            Ok(Caller {
                client_id,
                workspaces,
            })
        }
        Lookup::Expired => Err(ApiError::unauthorized(
            "the access token has expired; request a new one from POST /oauth/token",
        )),
        Lookup::Unknown => Err(ApiError::unauthorized(format!(
            "the access token is not valid; {how}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_expire() {
        let tokens = Tokens::default();
        let a = tokens
            .issue(Arc::from("c"), Duration::from_secs(60))
            .unwrap();
        let b = tokens
            .issue(Arc::from("c"), Duration::from_secs(60))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(matches!(tokens.lookup(&a), Lookup::Valid(id) if &*id == "c"));
        assert!(matches!(tokens.lookup("nope"), Lookup::Unknown));
        assert_eq!(tokens.expire_all(), 2);
        assert!(matches!(tokens.lookup(&a), Lookup::Expired));
    }

    #[test]
    fn a_client_holds_a_bounded_number_of_tokens() {
        let tokens = Tokens::default();
        let ttl = Duration::from_secs(60);
        let first = tokens.issue(Arc::from("c"), ttl).unwrap();
        let other = tokens.issue(Arc::from("d"), ttl).unwrap();
        for _ in 1..MAX_TOKENS_PER_CLIENT {
            tokens.issue(Arc::from("c"), ttl).unwrap();
        }
        assert!(matches!(tokens.lookup(&first), Lookup::Valid(_)));
        let newest = tokens.issue(Arc::from("c"), ttl).unwrap();
        // The oldest of that client went; another client's token stays.
        assert_eq!(tokens.lock().len(), MAX_TOKENS_PER_CLIENT + 1);
        assert!(matches!(tokens.lookup(&newest), Lookup::Valid(_)));
        assert!(matches!(tokens.lookup(&other), Lookup::Valid(_)));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
