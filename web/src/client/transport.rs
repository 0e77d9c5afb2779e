//! One HTTP exchange with a deadline, and the retry policy around it.
//!
//! Requests go through gloo-net, which calls the global `fetch`: present in browsers, workers
//! and Node 20+. Timers and the abort controller are taken from the global object too
//! (`setTimeout`, `AbortController`), never from `window`, which Node does not have.

use gloo_net::http::{Headers, Method, RequestBuilder};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::ApiFailure;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(request: &web_sys::Request) -> Promise;

    /// The global `AbortController` (bound here so the web-sys feature is not needed).
    #[wasm_bindgen(js_name = AbortController)]
    type Controller;
    #[wasm_bindgen(constructor, js_class = "AbortController", catch)]
    fn new() -> Result<Controller, JsValue>;
    #[wasm_bindgen(method, getter, js_class = "AbortController")]
    fn signal(this: &Controller) -> web_sys::AbortSignal;
}

/// First backoff step and the most any single backoff may wait.
const BACKOFF_BASE_MS: f64 = 250.0;
const BACKOFF_CAP_MS: f64 = 8_000.0;
/// A `Retry-After` longer than this is not waited for: the error is returned instead, so a
/// call never hangs for minutes on a server's say-so.
pub(crate) const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// A request, ready to be sent as often as the policy allows.
pub(crate) struct Exchange<'a> {
    pub method: Method,
    pub url: &'a str,
    /// JSON text, sent with `Content-Type: application/json`.
    pub body: Option<&'a str>,
    /// The bearer token, if the endpoint needs one.
    pub bearer: Option<&'a str>,
    /// Whether a request that may have reached the server can be sent again (everything
    /// but the API's `POST`).
    pub idempotent: bool,
}

/// The parts of a response the client uses.
pub(crate) struct Reply {
    pub status: u16,
    pub status_text: String,
    pub retry_after: Option<String>,
    pub text: String,
}

/// How the retry loop is tuned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub timeout_ms: u32,
    pub max_retries: u32,
}

enum SendError {
    Timeout,
    Network(String),
    /// The answer was a redirect, which fetch refused (`redirect: "error"`): sent again, it
    /// would only be refused again.
    Redirect(String),
}

/// Sends `exchange`, retrying 429 and 5xx answers (5xx only when idempotent) and network
/// failures before any response (idempotent only), while `retries` (those the call has
/// made so far, counted across a token refresh) is below `policy.max_retries`. A timeout
/// is not retried: the caller's `timeoutMs` is a promise about each attempt, and an
/// attempt that timed out may have reached the server. Any final HTTP answer is returned as a
/// `Reply`, error statuses included.
pub(crate) async fn send(
    exchange: &Exchange<'_>,
    policy: Policy,
    retries: &mut u32,
) -> Result<Reply, ApiFailure> {
    loop {
        let attempt = *retries;
        let outcome = send_once(exchange, policy.timeout_ms).await;
        let delay = match &outcome {
            Ok(reply) => {
                let retryable = reply.status == 429
                    || (exchange.idempotent && (500..=599).contains(&reply.status));
                if !retryable || attempt >= policy.max_retries {
                    None
                } else {
                    match reply.retry_after.as_deref().and_then(retry_after_ms) {
                        Some(ms) if ms > MAX_RETRY_AFTER_MS => None,
                        Some(ms) => Some(ms),
                        None => Some(backoff_ms(attempt, js_sys::Math::random())),
                    }
                }
            }
            Err(SendError::Network(_)) if exchange.idempotent && attempt < policy.max_retries => {
                Some(backoff_ms(attempt, js_sys::Math::random()))
            }
            Err(_) => None,
        };
        match delay {
            Some(ms) => {
                sleep(ms).await;
                *retries += 1;
            }
            None => {
                let method = exchange.method.as_str();
                return outcome.map_err(|err| match err {
                    SendError::Timeout => {
                        ApiFailure::timeout(method, exchange.url, policy.timeout_ms)
                    }
                    SendError::Network(detail) => {
                        ApiFailure::network(method, exchange.url, &detail)
                    }
                    SendError::Redirect(detail) => {
                        ApiFailure::redirect(method, exchange.url, &detail)
                    }
                });
            }
        }
    }
}

/// One attempt: the deadline covers the response headers and the whole body.
async fn send_once(exchange: &Exchange<'_>, timeout_ms: u32) -> Result<Reply, SendError> {
    let deadline = Deadline::start(timeout_ms).map_err(|err| SendError::Network(describe(&err)))?;
    let headers = web_sys::Headers::new().map_err(|err| SendError::Network(describe(&err)))?;
    let mut pairs = vec![("Accept", "application/json".to_owned())];
    if exchange.body.is_some() {
        pairs.push(("Content-Type", "application/json".to_owned()));
    }
    if let Some(token) = exchange.bearer {
        pairs.push(("Authorization", format!("Bearer {token}")));
    }
    for (name, value) in &pairs {
        // Values are checked when the client is built; a refusal here is reported, and
        // never names the value (it may be a token).
        headers
            .append(name, value)
            .map_err(|_| SendError::Network(format!("the {name} header could not be set")))?;
    }
    let builder = RequestBuilder::new(exchange.url)
        .method(exchange.method.clone())
        .headers(Headers::from_raw(headers))
        // A redirect is never followed: a 307 or 308 would send the body (the client
        // secret) or the bearer token again, to wherever the Location points.
        .redirect(web_sys::RequestRedirect::Error)
        .abort_signal(Some(&deadline.signal));
    let request = match exchange.body {
        Some(body) => builder.body(body),
        None => builder.build(),
    }
    .map_err(|err| SendError::Network(err.to_string()))?;

    let request = web_sys::Request::from(request);

    let failed = |err: JsValue| {
        if deadline.expired() {
            return SendError::Timeout;
        }
        let detail = network_detail(&err);
        if is_refused_redirect(&detail) {
            SendError::Redirect(detail)
        } else {
            SendError::Network(detail)
        }
    };
    // gloo-net builds the request; the global `fetch` is called here rather than through
    // `Request::send` so the rejection reaches us whole (Node keeps the reason, such as
    // ECONNREFUSED, in `cause`) and a rejection that is not an `Error` cannot panic.
    let response: web_sys::Response = JsFuture::from(fetch(&request))
        .await
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| SendError::Network("fetch did not answer with a Response".to_owned()))?;
    let status = response.status();
    let status_text = response.status_text();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    Ok(Reply {
        status,
        status_text,
        retry_after,
        text,
    })
}

/// Whether a fetch rejection says a redirect was refused: Node's cause is exactly
/// "unexpected redirect" (a host name holding the word, in a DNS error, is not one);
/// browsers give no reason at all.
fn is_refused_redirect(detail: &str) -> bool {
    detail.ends_with("(unexpected redirect)")
}

/// The message of a fetch rejection, with Node's `cause` (`connect ECONNREFUSED ...`) when
/// present; browsers only say "Failed to fetch". Neither names credentials.
fn network_detail(err: &JsValue) -> String {
    let mut detail = describe(err);
    if let Ok(cause) = Reflect::get(err, &JsValue::from_str("cause")) {
        if cause.is_object() {
            let cause_text = describe(&cause);
            if cause_text != "unknown error" && !cause_text.is_empty() {
                detail = format!("{detail} ({cause_text})");
            }
        }
    }
    detail
}

fn describe(err: &JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// An `AbortController` whose `abort` runs after `timeout_ms`; dropping it clears the timer,
/// so a finished request leaves nothing pending (Node would otherwise stay alive for it).
struct Deadline {
    signal: web_sys::AbortSignal,
    handle: JsValue,
}

impl Deadline {
    fn start(timeout_ms: u32) -> Result<Deadline, JsValue> {
        let controller = Controller::new()?;
        let abort: Function = Reflect::get(&controller, &JsValue::from_str("abort"))?.dyn_into()?;
        // `abort` bound to its controller: no Rust closure has to outlive this call.
        let handle = set_timeout(&abort.bind0(&controller), f64::from(timeout_ms));
        Ok(Deadline {
            signal: controller.signal(),
            handle,
        })
    }

    /// Only the timer aborts, so an aborted signal means the deadline passed.
    fn expired(&self) -> bool {
        self.signal.aborted()
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// Waits `ms` milliseconds on the global `setTimeout`.
pub(crate) async fn sleep(ms: f64) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    });
    // The promise only resolves.
    let _ = JsFuture::from(promise).await;
}

/// Exponential backoff with full jitter: uniform in `[0, min(cap, base * 2^attempt))`.
pub(crate) fn backoff_ms(attempt: u32, random: f64) -> f64 {
    let ceiling = (BACKOFF_BASE_MS * 2f64.powi(attempt.min(30) as i32)).min(BACKOFF_CAP_MS);
    ceiling * random.clamp(0.0, 1.0)
}

/// `Retry-After` as milliseconds from now: delta seconds, or an HTTP date.
pub(crate) fn retry_after_ms(value: &str) -> Option<f64> {
    let value = value.trim();
    if let Some(seconds) = retry_after_seconds(value) {
        return Some(seconds * 1000.0);
    }
    // Date.parse reads almost anything as some date long past ("-1", "3, 3" from two
    // joined headers), which would mean retrying at once: only HTTP's date forms count.
    if !is_http_date(value) {
        return None;
    }
    // The asctime form names no zone, and Date.parse would read it as local time: HTTP
    // dates are GMT.
    let at = if value.ends_with(" GMT") {
        js_sys::Date::parse(value)
    } else {
        js_sys::Date::parse(&format!("{value} GMT"))
    };
    at.is_finite().then(|| (at - js_sys::Date::now()).max(0.0))
}

/// The shapes RFC 9110 gives an HTTP date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`)
/// and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`) forms. Letters, digits and punctuation by position; the
/// values themselves are left to `Date.parse`.
fn is_http_date(value: &str) -> bool {
    // `a` a letter, `9` a digit, `_` a digit or a space; anything else stands for itself.
    let fits = |text: &str, pattern: &str| {
        text.len() == pattern.len()
            && text.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
                b'a' => c.is_ascii_alphabetic(),
                b'9' => c.is_ascii_digit(),
                b'_' => c.is_ascii_digit() || c == b' ',
                _ => c == p,
            })
    };
    if fits(value, "aaa, 99 aaa 9999 99:99:99 GMT") || fits(value, "aaa aaa _9 99:99:99 9999") {
        return true;
    }
    value.split_once(", ").is_some_and(|(weekday, rest)| {
        (6..=9).contains(&weekday.len())
            && weekday.bytes().all(|c| c.is_ascii_alphabetic())
            && fits(rest, "99-aaa-99 99:99:99 GMT")
    })
}

/// The delta-seconds form; fractional seconds are accepted though the RFC has none.
fn retry_after_seconds(value: &str) -> Option<f64> {
    let looks_numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !looks_numeric {
        return None;
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(0, 1.0), 250.0);
        assert_eq!(backoff_ms(1, 1.0), 500.0);
        assert_eq!(backoff_ms(3, 0.5), 1000.0);
        assert_eq!(backoff_ms(10, 1.0), 8000.0);
        assert_eq!(backoff_ms(u32::MAX, 1.0), 8000.0);
        assert_eq!(backoff_ms(2, 0.0), 0.0);
    }

    #[test]
    fn retry_after_delta_seconds() {
        assert_eq!(retry_after_seconds("2"), Some(2.0));
        assert_eq!(retry_after_seconds("0.5"), Some(0.5));
        assert_eq!(retry_after_seconds("-1"), None);
        assert_eq!(retry_after_seconds(""), None);
        assert_eq!(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn retry_after_dates_only_in_http_forms() {
        for date in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert!(is_http_date(date), "{date}");
        }
        // What Date.parse would still read as some date long past.
        for junk in [
            "-1",
            "+5",
            "3, 3",
            "soon 5",
            "2015-10-21",
            "Wed, 21 Oct 2015 07:28:00",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed,  21 Oct 2015 07:28:00 GMT",
            "Wednesdays, 21-Oct-15 07:28:00 GMT",
            "",
        ] {
            assert!(!is_http_date(junk), "{junk}");
        }
    }

    #[test]
    fn only_nodes_own_cause_means_a_refused_redirect() {
        assert!(is_refused_redirect("fetch failed (unexpected redirect)"));
        for other in [
            "fetch failed (getaddrinfo ENOTFOUND redirect.invalid)",
            "fetch failed (connect ECONNREFUSED 127.0.0.1:1) redirect",
            "Failed to fetch",
        ] {
            assert!(!is_refused_redirect(other), "{other}");
        }
    }
}
