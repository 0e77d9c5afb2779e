//! `GroupsClient`: the live Group Identity API client (SPEC sections 6 and 7).
//!
//! Each method returns a Promise. Bodies are validated locally first (nothing is sent when
//! they are invalid); tokens are fetched, cached and shared in [`token`]; each HTTP exchange
//! and the retry policy live in [`transport`]; every failure becomes an `ApiError` in
//! [`error`].

mod error;
mod token;
mod transport;

use std::fmt;
use std::rc::Rc;

use gloo_net::http::Method;
use group_identity::{Mode, Validation};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::future_to_promise;

use crate::convert::{definition_text, Unreadable};
use error::{scrub, ApiFailure};
use token::{header_safe, Auth, Credentials, Secret, Tokens};
use transport::{Exchange, Policy};

const DEFAULT_API_URL: &str = "https://api.mparticle.com";
const DEFAULT_AUTH_URL: &str = "https://sso.auth.mparticle.com";
const DEFAULT_TIMEOUT_MS: u32 = 30_000;
const DEFAULT_MAX_RETRIES: u32 = 2;
/// `setTimeout` fires at once for delays past 2^31 - 1 ms.
const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;
const MAX_RETRIES_LIMIT: u32 = 10;
const OPTION_NAMES: [&str; 8] = [
    "workspaceId",
    "clientId",
    "clientSecret",
    "accessToken",
    "apiUrl",
    "authUrl",
    "timeoutMs",
    "maxRetries",
];

#[wasm_bindgen(typescript_custom_section)]
const CLIENT_TYPES: &str = r#"
/** Options of `new GroupsClient(...)`: client credentials, or an access token pasted in. */
export type GroupsClientOptions = {
  /** The workspace id (an integer, as a number, a BigInt or a string of digits). */
  workspaceId: number | bigint | string;
  /** Platform API base URL; default "https://api.mparticle.com". */
  apiUrl?: string;
  /** Token service base URL; default "https://sso.auth.mparticle.com". */
  authUrl?: string;
  /** Limit of each HTTP attempt in milliseconds; default 30000. */
  timeoutMs?: number;
  /** Retries of a 429, a 5xx or a network failure; default 2, at most 10. */
  maxRetries?: number;
} & (
  | { clientId: string; clientSecret: string; accessToken?: undefined }
  | { accessToken: string; clientId?: undefined; clientSecret?: undefined }
);

/** What `JSON.stringify(client)` shows: settings only, never a secret or a token. */
export interface GroupsClientSummary {
  workspaceId: string;
  apiUrl: string;
  authUrl: string;
  timeoutMs: number;
  maxRetries: number;
  auth: "clientCredentials" | "accessToken";
  clientId?: string;
}

/** A group attribute as the API takes and returns it. */
export type GroupAttributeDefinition = GroupAttribute;

/** A request body for `create` (with `id`) or `update` (`id` optional); read-only arrays
 * (`as const`) are accepted. Either method also takes the body as JSON text or its UTF-8
 * bytes (a `Uint8Array`). */
export interface GroupDefinitionRequest {
  id?: string;
  description?: string;
  source_user_attribute: string;
  attributes: readonly GroupAttributeDefinition[];
}

/** A group definition as the API returns it, server-set fields included. */
export interface GroupDefinitionResponse {
  id: string;
  description?: string;
  source_user_attribute: string;
  attributes: GroupAttributeDefinition[];
  created_on?: string;
  created_by?: string;
  last_modified_on?: string;
  last_modified_by?: string;
  [field: string]: unknown;
}

/**
 * What every `GroupsClient` promise rejects with: an `Error` whose `name` is "ApiError".
 * `status` is 0 when no response arrived (`code` "timeout" or "network_error"); a body that
 * failed local validation is status 422, code "validation_failed", with `issues`, and was
 * not sent. `code` is lower case: the server's code, or one derived from the status.
 */
export interface ApiError extends Error {
  name: "ApiError";
  status: number;
  code: string;
  message: string;
  /** Validation issues (`path` is a JSON Pointer into the request body). */
  issues?: Issue[];
  /** With a local validation failure: the validation warnings (an unknown field such as
   * `atributes`, with its "did you mean"). */
  warnings?: Issue[];
  /** The raw response body: parsed JSON when it is JSON, else the text. */
  body?: unknown;
}
"#;

/// A client of one workspace of the Group Identity API.
#[wasm_bindgen]
pub struct GroupsClient {
    inner: Rc<Inner>,
}

struct Inner {
    workspace_id: String,
    api_url: String,
    auth_url: String,
    policy: Policy,
    tokens: Rc<Tokens>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Tokens` prints secrets as prefixes only.
        f.debug_struct("GroupsClient")
            .field("workspace_id", &self.workspace_id)
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .field("policy", &self.policy)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl fmt::Debug for GroupsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[wasm_bindgen]
impl GroupsClient {
    /// Builds a client; throws a `TypeError` naming the option that is missing or wrong.
    /// Nothing is sent until a method is called.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "GroupsClientOptions")] options: JsValue,
    ) -> Result<GroupsClient, JsValue> {
        let inner = read_options(&options).map_err(|message| {
            JsValue::from(js_sys::TypeError::new(&format!("GroupsClient: {message}")))
        })?;
        Ok(GroupsClient {
            inner: Rc::new(inner),
        })
    }

    /// All group definitions of the workspace.
    #[wasm_bindgen(unchecked_return_type = "Promise<GroupDefinitionResponse[]>")]
    pub fn list(&self) -> Promise {
        let path = self.inner.groups_path();
        self.run(Method::GET, Ok(path), None)
    }

    /// One group definition.
    #[wasm_bindgen(unchecked_return_type = "Promise<GroupDefinitionResponse>")]
    pub fn get(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "string")] group_id: JsValue,
    ) -> Promise {
        let path = self.inner.group_path(&group_id);
        self.run(Method::GET, path, None)
    }

    /// Creates a group definition (validated locally in create mode first).
    #[wasm_bindgen(unchecked_return_type = "Promise<GroupDefinitionResponse>")]
    pub fn create(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "(GroupDefinitionRequest & { id: string }) | string | Uint8Array"
        )]
        definition: JsValue,
    ) -> Promise {
        let body = body_of(&definition, &Mode::Create);
        self.run(Method::POST, Ok(self.inner.groups_path()), Some(body))
    }

    /// Replaces a group definition (validated locally in update mode with the path's id).
    #[wasm_bindgen(unchecked_return_type = "Promise<GroupDefinitionResponse>")]
    pub fn update(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "string")] group_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GroupDefinitionRequest | string | Uint8Array")]
        definition: JsValue,
    ) -> Promise {
        let path = self.inner.group_path(&group_id);
        let body = match (&path, group_id.as_string()) {
            (Ok(_), Some(group_id)) => body_of(&definition, &Mode::Update { group_id }),
            _ => Ok(String::new()),
        };
        self.run(Method::PUT, path, Some(body))
    }

    /// Sets a group's attributes: `PATCH` with the body `{ attributes }`.
    #[wasm_bindgen(
        js_name = setAttributes,
        unchecked_return_type = "Promise<GroupDefinitionResponse>"
    )]
    pub fn set_attributes(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "string")] group_id: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "readonly GroupAttributeDefinition[] | string | Uint8Array"
        )]
        attributes: JsValue,
    ) -> Promise {
        let path = self.inner.group_path(&group_id);
        let body = attributes_body(&attributes);
        self.run(Method::PATCH, path, Some(body))
    }

    /// Deletes a group definition; resolves to `undefined` (the API answers 204).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(js_name = groupId, unchecked_param_type = "string")] group_id: JsValue,
    ) -> Promise {
        let path = self.inner.group_path(&group_id);
        self.run(Method::DELETE, path, None)
    }

    /// What `JSON.stringify(client)` shows: the settings, never a secret or a token.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "GroupsClientSummary")]
    pub fn to_json(&self) -> JsValue {
        let inner = &self.inner;
        let object = Object::new();
        let put = |key: &str, value: JsValue| {
            let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
        };
        put("workspaceId", JsValue::from_str(&inner.workspace_id));
        put("apiUrl", JsValue::from_str(&inner.api_url));
        put("authUrl", JsValue::from_str(&inner.auth_url));
        put("timeoutMs", JsValue::from(inner.policy.timeout_ms));
        put("maxRetries", JsValue::from(inner.policy.max_retries));
        match inner.tokens.auth() {
            Auth::Credentials(credentials) => {
                put("auth", JsValue::from_str("clientCredentials"));
                put("clientId", JsValue::from_str(&credentials.client_id));
            }
            Auth::Pasted(_) => put("auth", JsValue::from_str("accessToken")),
        }
        object.into()
    }

    /// `String(client)`: a one-line description without secrets.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!(
            "GroupsClient(workspace {}, {})",
            self.inner.workspace_id, self.inner.api_url
        )
    }
}

impl GroupsClient {
    /// Runs one call as a Promise; a path or body that failed locally rejects without any
    /// request.
    fn run(
        &self,
        method: Method,
        path: Result<String, Rejection>,
        body: Option<Result<String, Rejection>>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let path = path.map_err(Rejection::into_js)?;
            let body = body.transpose().map_err(Rejection::into_js)?;
            inner
                .call(method, &path, body.as_deref())
                .await
                .map_err(ApiFailure::into_js)
        })
    }
}

/// Why a call was refused before any request.
enum Rejection {
    /// An argument of the wrong JavaScript type.
    Type(String),
    Api(Box<ApiFailure>),
}

impl Rejection {
    /// A body that failed local validation: a 422 with every issue and the warnings.
    fn invalid(validation: Validation) -> Rejection {
        Rejection::Api(Box::new(ApiFailure::validation(validation)))
    }

    fn into_js(self) -> JsValue {
        match self {
            Rejection::Type(message) => js_sys::TypeError::new(&message).into(),
            Rejection::Api(failure) => failure.into_js(),
        }
    }
}

impl Inner {
    fn groups_path(&self) -> String {
        format!("/platform/workspaces/{}/groups", self.workspace_id)
    }

    fn group_path(&self, group_id: &JsValue) -> Result<String, Rejection> {
        let Some(group_id) = group_id.as_string() else {
            return Err(Rejection::Type(format!(
                "groupId must be a string, got {}",
                describe(group_id)
            )));
        };
        // Empty would address the list; "." and ".." are removed by URL normalisation, even
        // percent-encoded. None of them is a valid group id (3 to 32 characters).
        if matches!(group_id.as_str(), "" | "." | "..") {
            return Err(Rejection::Api(Box::new(ApiFailure::bad_group_id(
                &group_id,
            ))));
        }
        let encoded = String::from(js_sys::encode_uri_component(&group_id));
        Ok(format!("{}/{encoded}", self.groups_path()))
    }

    /// One API call: a token, the exchange with its retries, one token refresh on a 401.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<JsValue, ApiFailure> {
        let url = format!("{}{path}", self.api_url);
        let mut refreshed = false;
        // One budget of retries for the whole call: a refresh after a 401 does not renew it.
        let mut retries = 0;
        loop {
            let token = self.tokens.get().await?;
            let exchange = Exchange {
                // A POST that reached the server may have created the group.
                idempotent: method != Method::POST,
                method: method.clone(),
                url: &url,
                body,
                bearer: Some(token.expose()),
            };
            let reply = transport::send(&exchange, self.policy, &mut retries).await?;
            if reply.status == 401 && !refreshed && self.tokens.refreshable() {
                // The token was refused (expired or revoked): one new token, one more try.
                self.tokens.invalidate(&token);
                refreshed = true;
                continue;
            }
            // Only what goes into an error is scrubbed: a successful body is the caller's
            // data, and a short secret must not rewrite it.
            let secrets = self.tokens.secrets();
            let mut shown: Vec<&str> = secrets.iter().map(String::as_str).collect();
            shown.push(token.expose());
            let text = reply.text;
            if !(200..=299).contains(&reply.status) {
                return Err(ApiFailure::from_response(
                    reply.status,
                    &reply.status_text,
                    scrub(text, &shown),
                ));
            }
            // DELETE resolves to nothing: whatever a proxy writes in a success body (the
            // API itself answers 204) must not turn a done deletion into a failure.
            if text.trim().is_empty() || method == Method::DELETE || reply.status == 205 {
                return Ok(JsValue::UNDEFINED);
            }
            return js_sys::JSON::parse(&text).map_err(|_| {
                ApiFailure::invalid_response(
                    reply.status,
                    format!(
                        "{} {url} answered {} with a body that is not JSON",
                        method.as_str(),
                        reply.status
                    ),
                    scrub(text.clone(), &shown),
                )
            });
        }
    }
}

/// The JSON text of a request body, validated in `mode`; invalid bodies become a 422
/// `validation_failed` rejection with every issue and the warnings. The body may be an
/// object, JSON text, or that text's UTF-8 bytes (a `Uint8Array`, e.g. a file read).
fn body_of(value: &JsValue, mode: &Mode) -> Result<String, Rejection> {
    checked_body(definition_text(value, "definition")?, mode)
}

/// The `PATCH` body `{ "attributes": ... }` of `setAttributes`: the attributes as an array,
/// JSON text or its UTF-8 bytes.
fn attributes_body(attributes: &JsValue) -> Result<String, Rejection> {
    let text = match definition_text(attributes, "attributes") {
        Ok(text) => text,
        // As `JSON.stringify({ attributes })` writes a value with no JSON (undefined, a
        // function): left out, so the body lacks its field.
        Err(Unreadable::NoJson(_)) => return checked_body("{}".to_owned(), &Mode::Patch),
        Err(unreadable) => return Err(unreadable.into()),
    };
    // A syntax check only: text that is not one JSON value is validated as given, so its
    // issue is placed in the text itself.
    if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_err() {
        return checked_body(text, &Mode::Patch);
    }
    // The text as written, inside the body: a repeated key keeps its warning and a number
    // its digits, as in the text of `create` and `update`.
    checked_body(format!("{{\"attributes\":{text}}}"), &Mode::Patch)
}

impl From<Unreadable> for Rejection {
    fn from(unreadable: Unreadable) -> Rejection {
        match unreadable {
            Unreadable::NotUtf8(validation) => Rejection::invalid(validation),
            Unreadable::NoJson(message) => Rejection::Type(message),
            Unreadable::Thrown(err) => Rejection::Type(describe(&err)),
        }
    }
}

/// Validates body text in `mode` and returns what is sent.
fn checked_body(text: String, mode: &Mode) -> Result<String, Rejection> {
    // Validated as text: a syntax error is placed, a lone surrogate or deep nesting that
    // JSON.stringify may write is refused with its issue, and a number no double holds
    // (`1e400`) is a number.
    let validation = group_identity::validate_definition_text(&text, mode);
    if !validation.valid {
        return Err(Rejection::invalid(validation));
    }
    // Sent compact with a repeated key's last value, as the warning says; text serde
    // cannot hold (`1e400`) goes as it was written.
    Ok(serde_json::from_str::<serde_json::Value>(&text).map_or(text, |parsed| parsed.to_string()))
}

/// `typeof value`, with null and arrays told apart; never the value itself.
fn describe(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "an array".to_owned()
    } else if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        String::from(error.message())
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// Reads the constructor's options; the error names the option, never a secret's value.
fn read_options(options: &JsValue) -> Result<Inner, String> {
    if !options.is_object() || js_sys::Array::is_array(options) {
        return Err(format!(
            "options must be an object {{ workspaceId, clientId, clientSecret }} or \
             {{ workspaceId, accessToken }}, got {}",
            describe(options)
        ));
    }
    let keys = Object::keys(options.unchecked_ref::<Object>());
    for key in keys.iter() {
        let key = key.as_string().unwrap_or_default();
        if !OPTION_NAMES.contains(&key.as_str()) {
            return Err(format!(
                "unknown option {key:?}; the options are {}",
                OPTION_NAMES.join(", ")
            ));
        }
    }
    let get = |key: &str| -> Option<JsValue> {
        Reflect::get(options, &JsValue::from_str(key))
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    };
    let string = |key: &str| -> Result<Option<String>, String> {
        match get(key) {
            None => Ok(None),
            Some(value) => match value.as_string() {
                Some(text) => Ok(Some(text)),
                None => Err(format!("{key} must be a string, got {}", describe(&value))),
            },
        }
    };

    let workspace_id = match get("workspaceId") {
        None => return Err("workspaceId is required".to_owned()),
        Some(value) => workspace_id(&value)?,
    };
    let api_url = base_url("apiUrl", string("apiUrl")?, DEFAULT_API_URL)?;
    let auth_url = base_url("authUrl", string("authUrl")?, DEFAULT_AUTH_URL)?;
    let timeout_ms = match get("timeoutMs") {
        None => DEFAULT_TIMEOUT_MS,
        Some(value) => match value.as_f64() {
            Some(ms) if ms > 0.0 && ms <= MAX_TIMEOUT_MS => ms.ceil() as u32,
            _ => {
                return Err(format!(
                    "timeoutMs must be a number of milliseconds from 1 to {MAX_TIMEOUT_MS}, got {}",
                    shown_number(&value)
                ))
            }
        },
    };
    let max_retries = match get("maxRetries") {
        None => DEFAULT_MAX_RETRIES,
        Some(value) => match value.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=f64::from(MAX_RETRIES_LIMIT)).contains(&n) => {
                n as u32
            }
            _ => {
                return Err(format!(
                    "maxRetries must be an integer from 0 to {MAX_RETRIES_LIMIT}, got {}",
                    shown_number(&value)
                ))
            }
        },
    };
    let policy = Policy {
        timeout_ms,
        max_retries,
    };

    let access_token = string("accessToken")?;
    let client_id = string("clientId")?;
    let client_secret = string("clientSecret")?;
    let auth = match (access_token, client_id, client_secret) {
        (Some(token), None, None) => {
            let token = token.trim();
            // A token copied with its scheme is accepted.
            let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
            if !header_safe(token) {
                return Err(
                    "accessToken must be a non-empty token of visible ASCII characters \
                     (it is sent in the Authorization header)"
                        .to_owned(),
                );
            }
            Auth::Pasted(Secret::new(token.to_owned()))
        }
        (Some(_), _, _) => {
            return Err("give either accessToken or clientId and clientSecret, not both".to_owned())
        }
        (None, Some(client_id), Some(client_secret)) => {
            if client_id.trim().is_empty() {
                return Err("clientId must not be empty".to_owned());
            }
            if client_secret.is_empty() {
                return Err("clientSecret must not be empty".to_owned());
            }
            Auth::Credentials(Credentials {
                client_id,
                client_secret: Secret::new(client_secret),
                token_url: format!("{auth_url}/oauth/token"),
                policy,
            })
        }
        (None, Some(_), None) => return Err("clientSecret is required with clientId".to_owned()),
        (None, None, Some(_)) => return Err("clientId is required with clientSecret".to_owned()),
        (None, None, None) => {
            return Err(
                "credentials are required: clientId and clientSecret, or accessToken".to_owned(),
            )
        }
    };
    Ok(Inner {
        workspace_id,
        api_url,
        auth_url,
        policy,
        tokens: Rc::new(Tokens::new(auth)),
    })
}

fn shown_number(value: &JsValue) -> String {
    match value.as_f64() {
        Some(n) => n.to_string(),
        None => describe(value),
    }
}

/// A workspace id: a non-negative integer, as a number, a BigInt or a string of digits.
fn workspace_id(value: &JsValue) -> Result<String, String> {
    if let Some(big) = value.dyn_ref::<js_sys::BigInt>() {
        let digits = big.to_string(10).map(String::from).unwrap_or_default();
        if !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(digits);
        }
        return Err(format!(
            "workspaceId must be a whole number of 0 or more, got {digits}n"
        ));
    }
    if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) {
            // Whole and within 2^53, so exact as an integer; `-0` is written `0`.
            return Ok((n as u64).to_string());
        }
        return Err(format!("workspaceId must be a whole number, got {n}"));
    }
    if let Some(text) = value.as_string() {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            // Canonical digits, as the API's integer ids are written: "01000" is 1000, and
            // "000" is 0.
            let digits = text.trim_start_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            if digits.len() <= 20 {
                return Ok(digits.to_owned());
            }
        }
        let shown: String = text.chars().take(40).collect();
        return Err(format!(
            "workspaceId must be digits only, got the string {shown:?}"
        ));
    }
    Err(format!(
        "workspaceId must be a number or a string of digits, got {}",
        describe(value)
    ))
}

/// An absolute http(s) base URL without credentials, query or fragment, trailing slashes
/// removed. Plain `http://` only reaches a loopback host: anywhere else the client secret
/// and the tokens would cross the network unencrypted.
fn base_url(key: &str, value: Option<String>, default: &str) -> Result<String, String> {
    let Some(value) = value else {
        return Ok(default.to_owned());
    };
    // A value that may hold credentials (`user:password@host`, `?access_token=...`) is
    // never repeated in a message: messages end up in logs.
    let shown = if value.contains(['@', '?', '#']) {
        "a value not shown here, as it may hold credentials".to_owned()
    } else {
        format!("{value:?}")
    };
    let trimmed = value.trim().trim_end_matches('/');
    let https = trimmed.starts_with("https://");
    let scheme_ok = https || trimmed.starts_with("http://");
    let parsed = if scheme_ok {
        web_sys::Url::new(trimmed).ok()
    } else {
        None
    };
    let Some(parsed) = parsed else {
        return Err(format!(
            "{key} must be an absolute http(s) URL such as \"https://api.mparticle.com\", got {shown}"
        ));
    };
    if !parsed.username().is_empty() || !parsed.password().is_empty() {
        // The value is not shown: it holds a password.
        return Err(format!("{key} must not hold credentials (user:password@)"));
    }
    if trimmed.contains(['?', '#']) {
        return Err(format!(
            "{key} must be a base URL without query or fragment, got {shown}"
        ));
    }
    if !https && !is_loopback(&parsed.hostname()) {
        return Err(format!(
            "{key} must use https:// (plain http:// is allowed only for a loopback host: \
             127.0.0.1, localhost or [::1]), as the client secret and tokens would otherwise \
             cross the network unencrypted; got {shown}"
        ));
    }
    Ok(trimmed.to_owned())
}

/// A loopback host as the URL parser writes it (lower case, IPv4 in dotted decimal even
/// when given as `127.1` or `0x7f.0.0.1`, IPv6 in brackets): 127.0.0.0/8, `localhost`,
/// `[::1]`.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}
