//! `ApiError`: every way a client call can fail, and the tolerant reading of error bodies.
//!
//! mParticle's services answer errors in different shapes (the Platform API
//! `{ "errors": [{ "code", "message" }] }`, the token service
//! `{ "error", "error_description" }`, proxies plain text or HTML); one reader takes what it
//! can from any of them and always keeps the raw body.

use group_identity::{Issue, Validation};
use serde_json::Value;
use wasm_bindgen::JsValue;

/// A failed call, before it becomes a JavaScript `Error` named `ApiError`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiFailure {
    /// HTTP status; 0 when no response arrived (network failure, timeout).
    pub status: u16,
    /// Stable, lower-case machine code (`not_found`, `validation_failed`, `timeout`...).
    pub code: String,
    pub message: String,
    /// Validation issues: from local validation, or a server 422 whose errors carry a `path`.
    pub issues: Option<Vec<Issue>>,
    /// With a local validation failure: the validation warnings, which often explain the
    /// errors (a misspelt field is unknown, and the field it meant is missing).
    pub warnings: Option<Vec<Issue>>,
    /// The raw response body, when there was one (already scrubbed of secrets).
    pub body: Option<String>,
}

impl ApiFailure {
    fn new(status: u16, code: &str, message: String) -> ApiFailure {
        ApiFailure {
            status,
            code: code.to_owned(),
            message,
            issues: None,
            warnings: None,
            body: None,
        }
    }

    /// A request body that failed local validation: no request was made. The message
    /// names the first error, and for a missing field the warning that may explain it.
    pub(crate) fn validation(validation: Validation) -> ApiFailure {
        let Validation {
            errors, warnings, ..
        } = validation;
        let message =
            crate::errors::validation_message("invalid request body, not sent", &errors, &warnings);
        ApiFailure {
            issues: Some(errors),
            warnings: Some(warnings),
            ..ApiFailure::new(422, "validation_failed", message)
        }
    }

    /// A group id that cannot be put into a path (empty, `.` or `..` would address another
    /// resource once the URL is normalised).
    pub(crate) fn bad_group_id(group_id: &str) -> ApiFailure {
        let message = format!(
            "group id {group_id:?} cannot be used in a request path (expected 3 to 32 characters)"
        );
        ApiFailure {
            status: 422,
            code: "validation_failed".to_owned(),
            message: format!("invalid group id, not sent: {message}"),
            issues: Some(vec![Issue {
                code: "invalid_group_id".to_owned(),
                path: String::new(),
                message,
            }]),
            warnings: None,
            body: None,
        }
    }

    pub(crate) fn timeout(method: &str, url: &str, timeout_ms: u32) -> ApiFailure {
        ApiFailure::new(
            0,
            "timeout",
            format!("{method} {url} timed out after {timeout_ms} ms"),
        )
    }

    pub(crate) fn network(method: &str, url: &str, detail: &str) -> ApiFailure {
        ApiFailure::new(
            0,
            "network_error",
            format!(
                "{method} {url} failed before any response: {detail} (in a browser this is also \
                 how a request refused by CORS, or a redirect refused by the client, appears)"
            ),
        )
    }

    /// The answer was a redirect, which fetch refused as told (Node says so; a browser's
    /// refusal looks like any network failure).
    pub(crate) fn redirect(method: &str, url: &str, detail: &str) -> ApiFailure {
        ApiFailure::new(
            0,
            "network_error",
            format!(
                "{method} {url} answered with a redirect, which was refused ({detail}): the \
                 client never follows redirects, so credentials cannot be sent on to another \
                 URL; set apiUrl or authUrl to the address the service answers at"
            ),
        )
    }

    /// A response the client cannot use although its status says success.
    pub(crate) fn invalid_response(status: u16, what: String, body: String) -> ApiFailure {
        ApiFailure {
            body: (!body.is_empty()).then_some(body),
            ..ApiFailure::new(status, "invalid_response", what)
        }
    }

    /// An error response, read tolerantly. `body` must already be scrubbed of secrets.
    pub(crate) fn from_response(status: u16, status_text: &str, body: String) -> ApiFailure {
        let json: Option<Value> = serde_json::from_str(&body).ok();
        let json = json.as_ref();
        let message = json
            .and_then(message_of)
            .or_else(|| plain_text(&body))
            .or_else(|| Some(status_text.trim().to_owned()).filter(|text| !text.is_empty()))
            .unwrap_or_else(|| reason_phrase(status).to_owned());
        let code = json
            .and_then(code_of)
            .unwrap_or_else(|| code_for_status(status).to_owned());
        let issues = if status == 422 {
            json.and_then(issues_of)
        } else {
            None
        };
        ApiFailure {
            status,
            code,
            message,
            issues,
            warnings: None,
            body: (!body.is_empty()).then_some(body),
        }
    }

    /// Prefixes the message, e.g. with the service that answered.
    pub(crate) fn context(mut self, prefix: &str) -> ApiFailure {
        self.message = format!("{prefix}{}", self.message);
        self
    }

    /// The JavaScript value a Promise rejects with: an `Error` named `ApiError` carrying
    /// `status`, `code`, `message`, and `issues` and `body` when present.
    pub(crate) fn into_js(self) -> JsValue {
        let error = js_sys::Error::new(&self.message);
        error.set_name("ApiError");
        set(&error, "status", &JsValue::from(f64::from(self.status)));
        set(&error, "code", &JsValue::from_str(&self.code));
        if let Some(issues) = &self.issues {
            set(&error, "issues", &crate::errors::issues_to_js(issues));
        }
        if let Some(warnings) = &self.warnings {
            set(&error, "warnings", &crate::errors::issues_to_js(warnings));
        }
        if let Some(body) = &self.body {
            // Parsed JSON when the body is JSON, else the text itself.
            let value = js_sys::JSON::parse(body).unwrap_or_else(|_| JsValue::from_str(body));
            set(&error, "body", &value);
        }
        error.into()
    }
}

fn set(error: &js_sys::Error, key: &str, value: &JsValue) {
    // Setting a data property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(error, &JsValue::from_str(key), value);
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// `errors[].message` (all of them, joined), `message`, `error_description`, `error`
/// (a string, or an object with a `message`).
fn message_of(json: &Value) -> Option<String> {
    if let Some(errors) = json.get("errors").and_then(Value::as_array) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|error| match error {
                Value::String(text) => Some(text.trim()).filter(|text| !text.is_empty()),
                other => non_empty_str(other.get("message")),
            })
            .collect();
        if !messages.is_empty() {
            return Some(messages.join("; "));
        }
    }
    non_empty_str(json.get("message"))
        .or_else(|| non_empty_str(json.get("error_description")))
        .or_else(|| non_empty_str(json.get("error")))
        .or_else(|| non_empty_str(json.get("error").and_then(|error| error.get("message"))))
        .map(str::to_owned)
}

/// `errors[0].code`, `code`, `error` (when a string), lower-cased so every source agrees
/// with the codes derived from a status (`NOT_FOUND` and `not_found` are one code).
fn code_of(json: &Value) -> Option<String> {
    let first_error = json
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first());
    non_empty_str(first_error.and_then(|error| error.get("code")))
        .or_else(|| non_empty_str(json.get("code")))
        .or_else(|| non_empty_str(json.get("error")))
        .filter(|code| code.len() <= 64 && !code.contains(char::is_whitespace))
        .map(str::to_ascii_lowercase)
}

/// The server's validation errors that point somewhere (`path`), as issues.
fn issues_of(json: &Value) -> Option<Vec<Issue>> {
    let errors = json.get("errors").and_then(Value::as_array)?;
    let issues: Vec<Issue> = errors
        .iter()
        .filter_map(|error| {
            let path = error.get("path").and_then(Value::as_str)?;
            Some(Issue {
                // The emulator keeps the engine's issue code in `reason`.
                code: non_empty_str(error.get("reason"))
                    .or_else(|| non_empty_str(error.get("code")))
                    .unwrap_or("invalid")
                    .to_owned(),
                path: path.to_owned(),
                message: non_empty_str(error.get("message")).unwrap_or("").to_owned(),
            })
        })
        .collect();
    (!issues.is_empty()).then_some(issues)
}

/// A short plain-text body (not JSON, not an HTML page) is itself the message.
fn plain_text(body: &str) -> Option<String> {
    let text = body.trim();
    let usable = !text.is_empty()
        && text.chars().count() <= 300
        && !text.starts_with('<')
        && !text.starts_with('{')
        && !text.starts_with('[');
    usable.then(|| text.to_owned())
}

pub(crate) fn code_for_status(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        500..=599 => "server_error",
        _ => "http_error",
    }
}

/// HTTP/2 responses carry no status text; these stand in for it.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "HTTP error",
    }
}

/// Replaces every occurrence of each secret with `[redacted]`, so a service that echoes a
/// credential cannot leak it into an error message or `body`: as given, and as a JSON
/// string or a URL would escape it. Every secret counts, however short: a few mangled
/// words in an error are better than a leaked credential.
pub(crate) fn scrub(text: String, secrets: &[&str]) -> String {
    // Every written form of every secret, worked out once for all the strings below.
    let forms: Vec<String> = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .flat_map(|s| escaped_forms(s))
        .collect();
    let mut text = replace_forms(&text, &forms).unwrap_or(text);
    // JSON may write any character as `\uXXXX`, in more ways than any list of forms holds,
    // and the message and `body` are read from the decoded JSON: a JSON body is scrubbed
    // again string by string once decoded, and written anew when that found a secret.
    match serde_json::from_str::<Value>(&text) {
        Ok(mut json) => {
            if scrub_strings(&mut json, &forms) {
                text = json.to_string();
            }
        }
        // JSON serde cannot read (`1e400`, deep nesting) may still be read by the page's
        // `JSON.parse`, which decodes its escapes: when decoding them shows a secret, the
        // body is withheld whole.
        Err(_) if text.contains('\\') => {
            if replace_forms(&decode_escapes(&text), &forms).is_some() {
                text = WITHHELD.to_owned();
            }
        }
        Err(_) => {}
    }
    text
}

/// What an error body becomes when a secret hides in it where it cannot be cut out.
const WITHHELD: &str = "[the body was withheld: it echoed a credential]";

/// `text` with JSON's backslash escapes decoded wherever they stand (a lone surrogate as
/// U+FFFD), to look for secrets they spell.
fn decode_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut high: Option<u16> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.extend(high.take().map(|_| char::REPLACEMENT_CHARACTER));
            out.push(c);
            continue;
        }
        let unit = match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).ok()
            }
            other => {
                out.extend(high.take().map(|_| char::REPLACEMENT_CHARACTER));
                out.extend(other.map(|e| match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    e => e,
                }));
                continue;
            }
        };
        let Some(unit) = unit else { continue };
        match high.take() {
            Some(h) if (0xDC00..0xE000).contains(&unit) => {
                out.extend(
                    char::decode_utf16([h, unit]).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
                );
            }
            held => {
                out.extend(held.map(|_| char::REPLACEMENT_CHARACTER));
                if (0xD800..0xDC00).contains(&unit) {
                    high = Some(unit);
                } else {
                    out.push(
                        char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                    );
                }
            }
        }
    }
    out.extend(high.map(|_| char::REPLACEMENT_CHARACTER));
    out
}

/// `text` with every one of `forms` replaced, or `None` when it holds none.
fn replace_forms(text: &str, forms: &[String]) -> Option<String> {
    let mut out: Option<String> = None;
    for form in forms {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(form.as_str()) {
            out = Some(current.replace(form.as_str(), "[redacted]"));
        }
    }
    out
}

/// Scrubs every string of a JSON value, object keys included; true when one changed.
fn scrub_strings(value: &mut Value, forms: &[String]) -> bool {
    match value {
        Value::String(text) => match replace_forms(text, forms) {
            Some(clean) => {
                *text = clean;
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| scrub_strings(item, forms) | changed),
        Value::Object(map) => {
            let mut changed = false;
            for (key, mut item) in std::mem::take(map) {
                changed |= scrub_strings(&mut item, forms);
                let key = replace_forms(&key, forms).map_or(key, |clean| {
                    changed = true;
                    clean
                });
                map.insert(key, item);
            }
            changed
        }
        _ => false,
    }
}

/// A secret as written, in a JSON string (also with `/` escaped, as some services write
/// it) and percent-encoded (hex digits in either case), each once.
fn escaped_forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(secret)
        .to_owned();
    let mut forms = vec![
        secret.to_owned(),
        json.replace('/', "\\/"),
        json,
        percent_encoded(secret, false),
        percent_encoded(secret, true),
    ];
    forms.sort();
    forms.dedup();
    // The longest first, so no shorter form cuts a longer one apart before it is found.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// `encodeURIComponent`'s escaping: every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, with
/// upper-case hex digits as it writes them, or lower-case ones as some servers do.
fn percent_encoded(text: &str, lower: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else if lower {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, status_text: &str, body: &str) -> ApiFailure {
        ApiFailure::from_response(status, status_text, body.to_owned())
    }

    #[test]
    fn platform_shape_joins_messages_and_lowercases_code() {
        let failure = read(
            404,
            "Not Found",
            r#"{"errors":[{"code":"NOT_FOUND","message":"no group"},{"message":"really"}]}"#,
        );
        assert_eq!(failure.code, "not_found");
        assert_eq!(failure.message, "no group; really");
        assert_eq!(failure.issues, None);
        assert!(failure.body.is_some());
    }

    #[test]
    fn token_service_shape() {
        let failure = read(
            401,
            "Unauthorized",
            r#"{"error":"access_denied","error_description":"Unauthorized client"}"#,
        );
        assert_eq!(failure.code, "access_denied");
        assert_eq!(failure.message, "Unauthorized client");
    }

    #[test]
    fn message_field_and_status_fallbacks() {
        let failure = read(500, "Internal Server Error", r#"{"message":"boom"}"#);
        assert_eq!(
            (failure.code.as_str(), failure.message.as_str()),
            ("server_error", "boom")
        );
        let failure = read(429, "", "");
        assert_eq!(failure.code, "rate_limited");
        assert_eq!(failure.message, "Too Many Requests");
        assert_eq!(failure.body, None);
        let failure = read(503, "Service Unavailable", "<html><body>down</body></html>");
        assert_eq!(failure.message, "Service Unavailable");
        let failure = read(502, "Bad Gateway", "upstream reset");
        assert_eq!(failure.message, "upstream reset");
        let failure = read(418, "", "[1,2]");
        assert_eq!(
            (failure.code.as_str(), failure.message.as_str()),
            ("http_error", "HTTP error")
        );
    }

    #[test]
    fn server_422_maps_paths_into_issues() {
        let failure = read(
            422,
            "Unprocessable Entity",
            r#"{"errors":[{"code":"too_long","path":"/id","message":"id too long"},{"code":"VALIDATION_ERROR","reason":"missing_field","path":"","message":"m"},{"code":"VALIDATION_ERROR","message":"no path"}]}"#,
        );
        assert_eq!(failure.code, "too_long");
        let issues = failure.issues.unwrap_or_default();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].path, "/id");
        assert_eq!(issues[0].code, "too_long");
        assert_eq!(issues[1].code, "missing_field");
    }

    #[test]
    fn scrub_removes_secrets() {
        let text = scrub(
            "bad secret local-secret here".to_owned(),
            &["local-secret", "xyz", ""],
        );
        assert_eq!(text, "bad secret [redacted] here");
        // However short, and however the service escaped it.
        assert_eq!(scrub("key abc!".to_owned(), &["abc"]), "key [redacted]!");
        let secret = "a/b+c\"d";
        for echoed in [
            r#"{"error":"bad a/b+c\"d"}"#,
            r#"{"error":"bad a\/b+c\"d"}"#,
            "bad a%2Fb%2Bc%22d",
            "bad a/b+c\"d",
        ] {
            let text = scrub(echoed.to_owned(), &[secret]);
            assert!(text.contains("[redacted]"), "{echoed} -> {text}");
            assert!(!text.contains("b+c") && !text.contains("b%2Bc"), "{text}");
        }
    }

    #[test]
    fn scrub_finds_secrets_json_escapes_hide() {
        let secret = "abc+def/ghi";
        // `\u002B` is `+` as .NET writes it; a key may echo the secret too.
        let echoed = r#"{"error":"invalid_client","error_description":"bad secret abc\u002Bdef/ghi","\u0061bc+def/ghi":[1,"x abc\u002bdef\/ghi"]}"#;
        let text = scrub(echoed.to_owned(), &[secret]);
        let decoded: Value = serde_json::from_str(&text).unwrap_or_default();
        assert!(!decoded.to_string().contains(secret), "{text}");
        assert_eq!(
            decoded.get("error_description"),
            Some(&Value::from("bad secret [redacted]"))
        );
        let failure = ApiFailure::from_response(401, "Unauthorized", text);
        assert_eq!(failure.message, "bad secret [redacted]");
        // Lower-case percent escapes, and a body with no secret left as it was sent.
        assert_eq!(
            scrub("bad abc%2bdef%2fghi".to_owned(), &[secret]),
            "bad [redacted]"
        );
        let clean = r#"{ "b": "\u0041", "a": 1 }"#;
        assert_eq!(scrub(clean.to_owned(), &[secret]), clean);
        // JSON serde cannot read, which a page's JSON.parse still decodes: withheld whole
        // when its escapes spell a secret, kept when they do not.
        let unreadable = r#"{"error":"bad abc\u002Bdef\/ghi","n":1e400}"#;
        assert_eq!(scrub(unreadable.to_owned(), &[secret]), WITHHELD);
        let harmless = r#"{"error":"bad \u0041\ud83d\ude00\ud800","n":1e400}"#;
        assert_eq!(scrub(harmless.to_owned(), &[secret]), harmless);
        assert_eq!(
            decode_escapes(r#"a\u0041\ud83d\ude00\ud800x\n\"\/"#),
            "aA\u{1F600}\u{FFFD}x\n\"/"
        );
    }

    #[test]
    fn validation_message_counts_issues() {
        let issue = |path: &str| Issue {
            code: "too_long".to_owned(),
            path: path.to_owned(),
            message: "m".to_owned(),
        };
        let failure = ApiFailure::validation(Validation {
            valid: false,
            errors: vec![issue("/id"), issue("")],
            warnings: Vec::new(),
        });
        assert_eq!(failure.status, 422);
        assert_eq!(failure.code, "validation_failed");
        assert_eq!(
            failure.message,
            "invalid request body, not sent: /id: m (and 1 more issue)"
        );
    }
}
