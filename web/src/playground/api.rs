//! The Live API panel: list, get, create, update, set attributes and delete with the
//! definition from the form, through the crate's `GroupsClient`; each answer or `ApiError`
//! is shown in full.
//!
//! Credentials and tokens live in this module's memory only (the cached client): never in
//! storage, a URL, the share link or the output.

use std::cell::{Cell, RefCell};

use js_sys::{Object, Promise, Reflect, JSON};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Document;

use crate::client::GroupsClient;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    List,
    Get,
    Create,
    Update,
    SetAttributes,
    Delete,
}

#[derive(Clone, PartialEq, Eq)]
struct Settings {
    api_url: String,
    auth_url: String,
    workspace: String,
    client_id: String,
    client_secret: String,
    access_token: String,
}

thread_local! {
    /// One client per set of settings, so its token cache is reused across clicks.
    static CLIENT: RefCell<Option<(Settings, GroupsClient)>> = const { RefCell::new(None) };
    /// Calls started so far: the output box belongs to the latest one.
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

fn value_of(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn show(doc: &Document, text: &str) {
    if let Some(el) = doc.get_element_by_id("api-output") {
        el.set_text_content(Some(text));
    }
}

fn settings(doc: &Document) -> Settings {
    Settings {
        api_url: value_of(doc, "api-url").trim_end_matches('/').to_string(),
        auth_url: value_of(doc, "auth-url").trim_end_matches('/').to_string(),
        workspace: value_of(doc, "workspace"),
        client_id: value_of(doc, "client-id"),
        client_secret: value_of(doc, "client-secret"),
        access_token: value_of(doc, "access-token"),
    }
}

/// Starts a call on the cached client for these settings, or on a new one (whose
/// constructor's `TypeError` names a missing or wrong option).
fn call(
    settings: &Settings,
    start: impl FnOnce(&GroupsClient) -> Promise,
) -> Result<Promise, String> {
    let cached = CLIENT.with(|c| c.borrow().as_ref().is_some_and(|(s, _)| s == settings));
    if !cached {
        let options = Object::new();
        let put = |key: &str, value: &str| {
            if !value.is_empty() {
                let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
            }
        };
        put("workspaceId", &settings.workspace);
        put("apiUrl", &settings.api_url);
        put("authUrl", &settings.auth_url);
        if settings.access_token.is_empty() {
            put("clientId", &settings.client_id);
            put("clientSecret", &settings.client_secret);
        } else {
            put("accessToken", &settings.access_token);
        }
        let client = GroupsClient::new(options.into()).map_err(|e| error_message(&e))?;
        CLIENT.with(|c| *c.borrow_mut() = Some((settings.clone(), client)));
    }
    CLIENT.with(|c| match c.borrow().as_ref() {
        Some((_, client)) => Ok(start(client)),
        None => Err("no client".into()),
    })
}

fn error_message(error: &JsValue) -> String {
    Reflect::get(error, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "failed".into())
}

/// Runs one operation in the background and shows its outcome in the output box, unless
/// a later call has started since (answers can come back in any order, and an older one
/// must not overwrite the newer call's).
pub fn run(doc: Document, op: Op, body: Value, text: String, group_id: String) {
    let settings = settings(&doc);
    let call = CALLS.with(|calls| {
        calls.set(calls.get() + 1);
        calls.get()
    });
    show(&doc, "Sending...");
    wasm_bindgen_futures::spawn_local(async move {
        let shown = perform(&settings, op, &body, &text, &group_id).await;
        if CALLS.with(Cell::get) == call {
            show(&doc, &shown);
        }
    });
}

/// `text` is the definition as written: create and update send it as it stands (the
/// client validates it), so a number no double holds (`1e400`) goes out as written.
async fn perform(settings: &Settings, op: Op, body: &Value, text: &str, group_id: &str) -> String {
    let collection = format!("/platform/workspaces/{}/groups", settings.workspace);
    let (method, path) = match op {
        Op::List => ("GET", collection),
        Op::Create => ("POST", collection),
        Op::Get => ("GET", format!("{collection}/{group_id}")),
        Op::Update => ("PUT", format!("{collection}/{group_id}")),
        Op::SetAttributes => ("PATCH", format!("{collection}/{group_id}")),
        Op::Delete => ("DELETE", format!("{collection}/{group_id}")),
    };
    let heading = format!("{method} {path}");
    let body_js = JSON::parse(&body.to_string()).unwrap_or(JsValue::NULL);
    let id = JsValue::from_str(group_id);
    let started = call(settings, |client| match op {
        Op::List => client.list(),
        Op::Get => client.get(id),
        Op::Create => client.create(JsValue::from_str(text)),
        Op::Update => client.update(id, JsValue::from_str(text)),
        Op::SetAttributes => {
            let attributes = Reflect::get(&body_js, &JsValue::from_str("attributes"))
                .unwrap_or(JsValue::UNDEFINED);
            client.set_attributes(id, attributes)
        }
        Op::Delete => client.delete(id),
    });
    let promise = match started {
        Ok(promise) => promise,
        Err(message) => return format!("{heading}\nnot sent: {message}"),
    };
    match JsFuture::from(promise).await {
        Ok(value) if value.is_undefined() => format!("{heading}\nsucceeded (no content)"),
        Ok(value) => format!("{heading}\nsucceeded\n\n{}", pretty(&value)),
        Err(error) => format!("{heading}\n{}", describe_error(&error)),
    }
}

fn pretty(value: &JsValue) -> String {
    JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from(2))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "(unprintable)".into())
}

/// Every field of an `ApiError` (or the message of any other error).
fn describe_error(error: &JsValue) -> String {
    let get =
        |name: &str| Reflect::get(error, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    let status = get("status").as_f64();
    let code = get("code").as_string().unwrap_or_default();
    let message = error_message(error);
    let mut text = match status {
        Some(status) => format!("failed: status {status}, code {code}\n{message}"),
        None => format!("failed: {message}"),
    };
    let issues = get("issues");
    if let Some(list) = issues.dyn_ref::<js_sys::Array>() {
        text.push_str("\n\nissues:");
        for issue in list.iter() {
            let field = |n: &str| {
                Reflect::get(&issue, &JsValue::from_str(n))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            let path = field("path");
            let path = if path.is_empty() {
                "/".to_string()
            } else {
                path
            };
            text.push_str(&format!(
                "\n  {path} ({}): {}",
                field("code"),
                field("message")
            ));
        }
    }
    let body = get("body");
    if !body.is_undefined() && !body.is_null() {
        let shown = body.as_string().unwrap_or_else(|| pretty(&body));
        text.push_str(&format!("\n\nbody:\n{shown}"));
    }
    if status == Some(0.0) {
        text.push_str(
            "\n\nNo answer arrived. If the API or its token service refuses calls from this \
             page (CORS), serve the page through the proxy described in the playground README.",
        );
    }
    text
}
