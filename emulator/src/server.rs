//! The router: routes, shared state, request log, CORS and fallbacks.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{self, Tokens};
use crate::config::{ClientConfig, Config};
use crate::errors::ApiError;
use crate::faults::{self, Faults, FAULT_HEADER};
use crate::origins::{self, AllowedOrigins};
use crate::store::Store;
use crate::{groups, jobs, persist, Error};

/// Largest profile upload accepted by `POST /emulator/workspaces/{ws}/profiles`.
const PROFILE_BODY_LIMIT: usize = 256 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub struct Inner {
    pub clients: HashMap<String, ClientConfig>,
    pub token_ttl: Duration,
    pub tokens: Tokens,
    pub faults: Faults,
    /// One lock for every change: writes are serialized, and the state file is written
    /// while it is held, so the file always matches some moment of the store.
    pub store: tokio::sync::Mutex<Store>,
    pub allowed_origins: AllowedOrigins,
    state_file: Option<PathBuf>,
    log_requests: bool,
}

impl Inner {
    /// Writes the whole store to the state file, if there is one.
    pub async fn save(&self, store: &Store) -> Result<(), ApiError> {
        let Some(path) = self.state_file.clone() else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(store)
            .map_err(|e| ApiError::internal(format!("could not encode the state: {e}")))?;
        let written = tokio::task::spawn_blocking(move || persist::write_atomic(&path, &bytes))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r);
        written.map_err(|e| {
            if self.log_requests {
                eprintln!("state file {}: {e}", self.state_file_name());
            }
            ApiError::internal(format!(
                "the emulator could not save its state file ({e}); the change was not made"
            ))
        })
    }

    fn state_file_name(&self) -> String {
        self.state_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// The client id a response was served to, for the request log.
#[derive(Clone)]
pub struct LoggedClient(pub Arc<str>);

/// Now, as the API writes times: RFC 3339 in UTC with milliseconds.
pub fn timestamp() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_string())
}

/// Builds the whole application: reads the state file (and checks it can be written).
pub async fn router(config: Config) -> Result<Router, Error> {
    config.check()?;
    let store = match &config.state_file {
        Some(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let store = persist::load(&path)?;
                // Writing once now finds an unwritable location before the first change.
                let bytes = serde_json::to_vec_pretty(&store).map_err(|e| Error::State {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                persist::write_atomic(&path, &bytes).map_err(|e| Error::State {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                Ok::<_, Error>(store)
            })
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))??
        }
        None => Store {
            version: crate::store::STATE_VERSION,
            ..Store::default()
        },
    };
    let app = AppState(Arc::new(Inner {
        clients: config
            .clients
            .iter()
            .map(|c| (c.id.clone(), c.clone()))
            .collect(),
        token_ttl: config.token_ttl,
        tokens: Tokens::default(),
        faults: Faults::default(),
        store: tokio::sync::Mutex::new(store),
        allowed_origins: config.allowed_origins.clone(),
        state_file: config.state_file.clone(),
        log_requests: config.log_requests,
    }));
    Ok(build(app))
}

/// Registers `path` with and without a trailing slash.
fn both(router: Router<AppState>, path: &str, method: MethodRouter<AppState>) -> Router<AppState> {
    router
        .route(path, method.clone())
        .route(&format!("{path}/"), method)
}

/// Where the routes behind the token check live: `build` registers those routes with
/// `guarded`, and the 405 answer checks the token there too.
const TOKEN_PREFIXES: [&str; 2] = ["/platform/", "/emulator/workspaces/"];

fn needs_token(path: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

/// [`both`], for a route behind the token check; its path must be one `needs_token` knows.
fn guarded(
    router: Router<AppState>,
    path: &str,
    method: MethodRouter<AppState>,
) -> Router<AppState> {
    debug_assert!(needs_token(path), "{path} is not under TOKEN_PREFIXES");
    both(router, path, method)
}

fn build(app: AppState) -> Router {
    let with_token = middleware::from_fn_with_state(app.clone(), auth::require_token);
    let with_faults = middleware::from_fn_with_state(app.clone(), faults::inject);

    let mut token = Router::new();
    token = both(token, "/oauth/token", post(auth::token));
    let token = token.route_layer(with_faults.clone());

    let mut api = Router::new();
    api = guarded(
        api,
        "/platform/workspaces/{ws}/groups",
        get(groups::list).post(groups::create),
    );
    api = guarded(
        api,
        "/platform/workspaces/{ws}/groups/{group_id}",
        get(groups::get)
            .put(groups::update)
            .patch(groups::set_attributes)
            .delete(groups::delete),
    );
    // Faults come before the token check, as a proxy in front of the API would.
    let api = api.route_layer(with_token.clone()).route_layer(with_faults);

    let mut job = Router::new();
    job = guarded(
        job,
        "/emulator/workspaces/{ws}/profiles",
        post(jobs::load_profiles)
            .get(jobs::summary)
            .layer(DefaultBodyLimit::max(PROFILE_BODY_LIMIT)),
    );
    job = guarded(
        job,
        "/emulator/workspaces/{ws}/profiles/{mpid}",
        get(jobs::profile),
    );
    job = guarded(job, "/emulator/workspaces/{ws}/run", post(jobs::run));
    let job = job.route_layer(with_token);

    let mut admin = Router::new();
    admin = both(
        admin,
        "/emulator/faults",
        get(faults::show).post(faults::set).delete(faults::clear),
    );
    admin = both(admin, "/emulator/expire-tokens", post(expire_tokens));
    admin = both(admin, "/emulator/health", get(health));

    // The same pages as `origins::gate` serves: the answer names the page's own origin.
    let allowed = app.allowed_origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            allowed.allows(origin.to_str().unwrap_or_default())
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(FAULT_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(Duration::from_secs(600));

    Router::new()
        .merge(token)
        .merge(api)
        .merge(job)
        .merge(admin)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), origins::gate))
        .layer(middleware::from_fn_with_state(app.clone(), log))
        .layer(cors)
        .with_state(app)
}

/// One line per request: method, path, status, latency, client id. Never headers, tokens
/// or bodies.
async fn log(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if !app.log_requests {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let client = response
        .extensions()
        .get::<LoggedClient>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "-".to_string());
    eprintln!(
        "{} {method} {path} {} {:.1}ms client={client}",
        timestamp(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    response
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint {method} {}", uri.path()))
}

/// 405, in the shape of the endpoint asked for; on the token-guarded endpoints a missing
/// or bad token is told first, as for any other call there.
async fn method_not_allowed(
    State(app): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> ApiError {
    let path = uri.path();
    let message = format!("{path} does not answer {method}");
    if needs_token(path) {
        if let Err(error) = auth::caller(&app, &headers) {
            return error;
        }
    }
    ApiError::for_path(path, StatusCode::METHOD_NOT_ALLOWED, message)
}

/// `POST /emulator/expire-tokens`: every issued token expires now (for refresh tests).
async fn expire_tokens(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "expired": app.tokens.expire_all() }))
}

async fn health() -> impl IntoResponse {
    Json(json!({ "ok": true }))
}
