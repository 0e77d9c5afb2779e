//! Access tokens: fetched with client credentials, cached in memory until 60 s before they
//! expire, and shared by every call that needs one while a request for it is in flight.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_net::http::Method;
use serde_json::Value;

use super::error::{scrub, ApiFailure};
use super::transport::{self, Exchange, Policy};

/// The audience every Platform API token is issued for.
const AUDIENCE: &str = "https://api.mparticle.com";
/// A cached token is not used in its last minute, so it cannot expire in flight.
const EXPIRY_MARGIN_MS: f64 = 60_000.0;

/// A credential or token: kept in memory only, never printed whole.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // At most a 6-character prefix, as a hint of which one it is.
        let prefix: String = self.0.chars().take(6).collect();
        write!(f, "\"{prefix}…\"")
    }
}

/// Whether a value can travel in an HTTP header: visible ASCII only.
pub(crate) fn header_safe(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    /// `{authUrl}/oauth/token`.
    pub token_url: String,
    pub policy: Policy,
}

#[derive(Debug)]
pub(crate) enum Auth {
    /// Client credentials: tokens are fetched, cached and refreshed.
    Credentials(Credentials),
    /// A pasted access token: used as it is, never refreshed.
    Pasted(Secret),
}

type TokenFuture = Shared<LocalBoxFuture<'static, Result<Secret, ApiFailure>>>;

#[derive(Default)]
struct Slot {
    cached: Option<(Secret, f64)>,
    pending: Option<TokenFuture>,
}

/// The token state of one client.
pub(crate) struct Tokens {
    auth: Auth,
    slot: RefCell<Slot>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub(crate) fn new(auth: Auth) -> Tokens {
        Tokens {
            auth,
            slot: RefCell::new(Slot::default()),
        }
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Whether a 401 may be answered by fetching a new token.
    pub(crate) fn refreshable(&self) -> bool {
        matches!(self.auth, Auth::Credentials(_))
    }

    /// Every secret value this client knows, to scrub from error bodies.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        match &self.auth {
            Auth::Credentials(credentials) => {
                secrets.push(credentials.client_secret.expose().to_owned());
            }
            Auth::Pasted(token) => secrets.push(token.expose().to_owned()),
        }
        if let Some((token, _)) = &self.slot.borrow().cached {
            secrets.push(token.expose().to_owned());
        }
        secrets
    }

    /// A token to call the API with: the pasted one, the cached one while it has more than a
    /// minute left, or the result of the one token request in flight (started if none is).
    pub(crate) async fn get(self: &Rc<Self>) -> Result<Secret, ApiFailure> {
        let credentials = match &self.auth {
            Auth::Pasted(token) => return Ok(token.clone()),
            Auth::Credentials(credentials) => credentials,
        };
        let pending = {
            let mut slot = self.slot.borrow_mut();
            if let Some((token, usable_until)) = &slot.cached {
                if js_sys::Date::now() < *usable_until {
                    return Ok(token.clone());
                }
            }
            match &slot.pending {
                Some(pending) => pending.clone(),
                None => {
                    let pending = fetch_and_store(credentials.clone(), Rc::downgrade(self))
                        .boxed_local()
                        .shared();
                    slot.pending = Some(pending.clone());
                    pending
                }
            }
        };
        // No borrow is held across this await.
        pending.await
    }

    /// Forgets `token` after the API refused it, unless a newer one has replaced it.
    pub(crate) fn invalidate(&self, token: &Secret) {
        let mut slot = self.slot.borrow_mut();
        if slot
            .cached
            .as_ref()
            .is_some_and(|(cached, _)| cached == token)
        {
            slot.cached = None;
        }
    }
}

/// Requests a token and, when it arrives, caches it and clears the in-flight slot. The slot
/// is reached through a weak reference so a pending request never keeps a client alive.
async fn fetch_and_store(
    credentials: Credentials,
    tokens: Weak<Tokens>,
) -> Result<Secret, ApiFailure> {
    let requested_at = js_sys::Date::now();
    let result = fetch_token(&credentials).await;
    if let Some(tokens) = tokens.upgrade() {
        let mut slot = tokens.slot.borrow_mut();
        slot.pending = None;
        if let Ok((token, expires_in)) = &result {
            // Counted from when the request left, so the margin is never short.
            let usable_until = requested_at + expires_in * 1000.0 - EXPIRY_MARGIN_MS;
            slot.cached = Some((token.clone(), usable_until));
        }
    }
    result.map(|(token, _)| token)
}

/// `POST {authUrl}/oauth/token` with client credentials. Asking for a token changes nothing
/// on the server, so this request is retried like an idempotent one.
async fn fetch_token(credentials: &Credentials) -> Result<(Secret, f64), ApiFailure> {
    let body = serde_json::json!({
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret.expose(),
        "audience": AUDIENCE,
        "grant_type": "client_credentials",
    })
    .to_string();
    let exchange = Exchange {
        method: Method::POST,
        url: &credentials.token_url,
        body: Some(&body),
        bearer: None,
        idempotent: true,
    };
    // The token request is a request of its own, with its own retries.
    let reply = transport::send(&exchange, credentials.policy, &mut 0)
        .await
        .map_err(|failure| failure.context("token service: "))?;
    let text = scrub(reply.text, &[credentials.client_secret.expose()]);
    if !(200..=299).contains(&reply.status) {
        return Err(
            ApiFailure::from_response(reply.status, &reply.status_text, text)
                .context("token service: "),
        );
    }
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let token = json
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|token| header_safe(token));
    let Some(token) = token else {
        // The body is not kept: it may hold a token in a shape we did not expect.
        return Err(ApiFailure::invalid_response(
            reply.status,
            "token service: the answer has no usable access_token".to_owned(),
            String::new(),
        ));
    };
    // Without a usable `expires_in` the token serves the calls waiting for it and is not
    // cached.
    let expires_in = match json.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
    .unwrap_or(0.0);
    Ok((Secret::new(token.to_owned()), expires_in))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_shows_a_prefix_only() {
        let secret = Secret::new("abcdefghijklmnop".to_owned());
        assert_eq!(format!("{secret:?}"), "\"abcdef…\"");
        let auth = Auth::Credentials(Credentials {
            client_id: "id".to_owned(),
            client_secret: Secret::new("super-secret-value".to_owned()),
            token_url: "https://sso.example/oauth/token".to_owned(),
            policy: Policy {
                timeout_ms: 1,
                max_retries: 0,
            },
        });
        let shown = format!("{:?}", Tokens::new(auth));
        assert!(!shown.contains("super-secret-value"), "{shown}");
    }

    #[test]
    fn header_values() {
        assert!(header_safe("eyJ.abc-_~+/="));
        assert!(!header_safe(""));
        assert!(!header_safe("a b"));
        assert!(!header_safe("a\nb"));
        assert!(!header_safe("é"));
    }
}
