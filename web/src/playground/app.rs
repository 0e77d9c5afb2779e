//! The playground page: wires the static markup of `index.html` to the engine.
//!
//! State lives in one `App` behind `Rc<RefCell<_>>`; every handler borrows it briefly and
//! never across a call that may re-enter. Small inputs are previewed on the page's thread;
//! files and large pastes go to a background worker that reads them in slices.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use group_identity::audience::AudienceResult;
use group_identity::definition::validate_definition_text;
use group_identity::generator::{generate, GeneratorOptions};
use group_identity::{
    preview_audience, preview_groups, AudienceOptions, Condition, Format, GroupDefinition, Issue,
    Mode, Preview, PreviewOptions, Validation,
};
use js_sys::{Array, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Blob, BlobPropertyBag, Document, DragEvent, Element, Event, File, HtmlAnchorElement,
    HtmlElement, HtmlInputElement, HtmlProgressElement, MessageEvent, Url, Worker, WorkerOptions,
    WorkerType,
};

use super::dom::{
    by_id, clear, copy_to_clipboard, event_element, log_error, on, thousands, El, JsResult,
};
use super::enrich::{enrich, OutFormat};
use super::model::{
    apply_fields, condition_value, container_for, decode_utf16, detect_format, fields_from_value,
    format_label, format_name, parse_format, preview_body, wide_bom, wide_encoding_message,
    FormFields, ModeKind, AGGREGATIONS, MAX_ATTRIBUTES,
};
use super::render::{self, PAGE_SIZE};
use super::share::SharedState;

/// Pasted text up to this size is previewed on the page's thread; larger goes to the worker.
const SYNC_LIMIT: usize = 2 << 20;
/// Files up to this size are read into the editable text box.
const EDITABLE_FILE_LIMIT: f64 = 256.0 * 1024.0;
const STORE_DEFINITION: &str = "group-identity-playground.definition";
const STORE_MODE: &str = "group-identity-playground.mode";
/// What "Detected" says when no profiles were read.
const NOT_READ: &str = "not read";
/// The pause in typing after which the group search runs.
const SEARCH_DELAY_MS: i32 = 200;
const OPERATORS: [&str; 9] = [
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "exists",
    "not_exists",
    "contains",
];

const DEFAULT_DEFINITION: &str = r#"{
  "id": "household",
  "description": "users who share the same physical address",
  "source_user_attribute": "$address",
  "attributes": [
    {
      "id": "has_dog",
      "type": "boolean_or"
    }
  ]
}"#;

#[derive(Clone, Debug, Default)]
struct ConditionRow {
    attribute: String,
    operator: String,
    value: String,
}

struct App {
    doc: Document,
    body: Value,
    rows: usize,
    file: Option<File>,
    preview: Option<Preview>,
    filtered: Vec<usize>,
    page: usize,
    conditions: Vec<ConditionRow>,
    /// One background worker per kind of job, so that a preview started by an edit does
    /// not cut short a download or an audience count, nor they a preview.
    background: [Option<Background>; 3],
    /// The id of each kind's current job; a message from an older one is dropped.
    jobs: [u32; 3],
    /// Bumped whenever the profiles change, so a file read that finishes late does not
    /// replace newer input.
    inputs: u32,
    timer: Option<i32>,
    tick: Option<Closure<dyn FnMut()>>,
    /// An edit not yet written into a share link that the address bar holds.
    share_pending: bool,
    /// The group search waits for a pause in typing: filtering a million groups at every
    /// key would block the page.
    search_timer: Option<i32>,
    search_tick: Option<Closure<dyn FnMut()>>,
}

type Shared = Rc<RefCell<App>>;

fn value_of(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn set_value(doc: &Document, id: &str, value: &str) {
    if let Some(el) = doc.get_element_by_id(id) {
        Reflect::set(&el, &JsValue::from_str("value"), &JsValue::from_str(value)).ok();
    }
}

fn checked(doc: &Document, id: &str) -> bool {
    by_id::<HtmlInputElement>(doc, id).is_ok_and(|el| el.checked())
}

fn set_text(doc: &Document, id: &str, text: &str) {
    if let Some(el) = doc.get_element_by_id(id) {
        el.set_text_content(Some(text));
    }
}

fn set_hidden(doc: &Document, id: &str, hidden: bool) {
    if let Ok(el) = by_id::<HtmlElement>(doc, id) {
        el.set_hidden(hidden);
    }
}

/// Hides the progress box; the focus, when one of its controls held it, goes back to where
/// files are chosen rather than to the page itself.
fn hide_progress(doc: &Document) {
    let Ok(progress) = by_id::<HtmlElement>(doc, "progress-box") else {
        return;
    };
    let held = doc
        .active_element()
        .is_some_and(|el| progress.contains(Some(&el)));
    progress.set_hidden(true);
    if held {
        focus(doc, "profiles-file");
    }
}

fn focus(doc: &Document, id: &str) {
    if let Ok(el) = by_id::<HtmlElement>(doc, id) {
        el.focus().ok();
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn mode_kind(doc: &Document) -> ModeKind {
    doc.query_selector("input[name=mode]:checked")
        .ok()
        .flatten()
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .map_or(ModeKind::Create, |v| ModeKind::parse(&v))
}

fn set_mode(doc: &Document, mode: ModeKind) {
    let selector = format!("input[name=mode][value={}]", mode.name());
    if let Ok(Some(el)) = doc.query_selector(&selector) {
        if let Ok(input) = el.dyn_into::<HtmlInputElement>() {
            input.set_checked(true);
        }
    }
}

/// The group id of the path: the explicit field, else the definition's own id.
fn path_group_id(doc: &Document, body: &Value) -> String {
    let typed = value_of(doc, "path-group-id").trim().to_string();
    if !typed.is_empty() {
        return typed;
    }
    match body.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        // A body serde cannot hold (a number such as `1e400` in it): its id from the text.
        None if body.is_null() => text_id(&value_of(doc, "def-json")).unwrap_or_default(),
        None => String::new(),
    }
}

/// The `id` string of a JSON object's text, read without typing its other values.
fn text_id(text: &str) -> Option<String> {
    let members: HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(text).ok()?;
    serde_json::from_str(members.get("id")?.get()).ok()
}

fn mode_of(doc: &Document, body: &Value) -> Mode {
    match mode_kind(doc) {
        ModeKind::Create => Mode::Create,
        ModeKind::Update => Mode::Update {
            group_id: path_group_id(doc, body),
        },
        ModeKind::Patch => Mode::Patch,
    }
}

fn preview_options(doc: &Document) -> PreviewOptions {
    PreviewOptions {
        format: parse_format(&value_of(doc, "format")),
        normalize_keys: checked(doc, "normalize"),
        ..PreviewOptions::default()
    }
}

/// The definition that drives previews, if the text is valid in the selected mode (the
/// status line's errors block a preview) and holds a whole definition.
fn runnable(doc: &Document, body: &Value) -> Option<GroupDefinition> {
    if !validate_definition_text(&value_of(doc, "def-json"), &mode_of(doc, body)).valid {
        return None;
    }
    GroupDefinition::from_value(&preview_body(body, &path_group_id(doc, body))).ok()
}

pub fn start(doc: Document) -> JsResult {
    let app: Shared = Rc::new(RefCell::new(App {
        doc: doc.clone(),
        body: Value::Null,
        rows: 0,
        file: None,
        preview: None,
        filtered: Vec::new(),
        page: 0,
        conditions: vec![ConditionRow {
            operator: "=".into(),
            ..ConditionRow::default()
        }],
        background: [None, None, None],
        jobs: [0; 3],
        inputs: 0,
        timer: None,
        tick: None,
        share_pending: false,
        search_timer: None,
        search_tick: None,
    }));
    let tick_app = app.clone();
    app.borrow_mut().tick = Some(Closure::new(move || {
        tick_app.borrow_mut().timer = None;
        if tick_app.borrow().share_pending {
            follow_share_link(&tick_app);
        }
        run_preview(&tick_app);
    }));
    let search_app = app.clone();
    app.borrow_mut().search_tick = Some(Closure::new(move || {
        search_app.borrow_mut().search_timer = None;
        search_now(&search_app);
    }));

    restore(&app)?;
    bind(&app)?;
    // A share link pasted into the address bar of an open playground.
    if let Some(window) = web_sys::window() {
        let a = app.clone();
        on(&window, "hashchange", move |_| {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            if SharedState::from_fragment(&hash).is_some() {
                new_input(&a);
                a.borrow_mut().file = None;
                show_file(&a.borrow().doc.clone(), None);
                restore(&a).unwrap_or_else(|e| log_error(&e));
                definition_from_json(&a, false);
            } else if hash.starts_with(&format!("#{}", super::share::FRAGMENT_KEY)) {
                // As a fresh load says; the page keeps what it shows.
                let doc = a.borrow().doc.clone();
                set_value(&doc, "share-url", "");
                set_text(
                    &doc,
                    "share-status",
                    "The share link could not be read (damaged, or longer than a link may be); the page keeps what it had.",
                );
            }
        })?;
    }
    // Found from the build's own files, as the worker is: a page opened on a sub-path
    // without its final slash would look for the examples one folder up.
    if let Some(link) = doc.get_element_by_id("examples-link") {
        link.set_attribute("href", &build_file_url("examples.html"))
            .ok();
    }
    definition_from_json(&app, false);
    render_conditions(&app)?;
    live_defaults(&doc);
    if let Ok(main) = by_id::<HtmlElement>(&doc, "playground") {
        main.remove_attribute("inert").ok();
        main.remove_attribute("data-loading").ok();
    }
    set_hidden(&doc, "loading-status", true);
    run_preview(&app);
    Ok(())
}

/// The share link's state if the URL has one, else the last definition from this browser.
fn restore(app: &Shared) -> JsResult {
    let doc = app.borrow().doc.clone();
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if let Some(state) = SharedState::from_fragment(&hash) {
        set_value(&doc, "def-json", &state.definition);
        set_mode(&doc, ModeKind::parse(&state.mode));
        set_value(&doc, "path-group-id", &state.group_id);
        set_value(&doc, "profiles-text", &state.profiles);
        set_value(&doc, "format", format_name(parse_format(&state.format)));
        if let Ok(el) = by_id::<HtmlInputElement>(&doc, "normalize") {
            el.set_checked(state.normalize_keys);
        }
        set_text(&doc, "share-status", "Restored from the share link.");
        return Ok(());
    }
    if hash.starts_with(&format!("#{}", super::share::FRAGMENT_KEY)) {
        set_text(
            &doc,
            "share-status",
            "The share link could not be read (damaged, or longer than a link may be); this is your last definition.",
        );
    }
    let saved = storage().and_then(|s| s.get_item(STORE_DEFINITION).ok().flatten());
    let mode = storage().and_then(|s| s.get_item(STORE_MODE).ok().flatten());
    set_value(
        &doc,
        "def-json",
        saved.as_deref().unwrap_or(DEFAULT_DEFINITION),
    );
    set_mode(&doc, ModeKind::parse(mode.as_deref().unwrap_or("create")));
    Ok(())
}

fn bind(app: &Shared) -> JsResult {
    let doc = app.borrow().doc.clone();
    let target = |id: &str| -> JsResult<Element> { by_id::<Element>(&doc, id) };

    let a = app.clone();
    on(&target("def-form")?, "input", move |_| {
        definition_from_form(&a)
    })?;
    let a = app.clone();
    on(&target("def-form")?, "change", move |_| {
        definition_from_form(&a)
    })?;
    let a = app.clone();
    on(&target("def-form")?, "submit", move |e| {
        e.prevent_default();
        definition_from_form(&a);
    })?;
    let a = app.clone();
    on(&target("def-json")?, "input", move |_| {
        definition_from_json(&a, true)
    })?;
    let a = app.clone();
    on(&target("attr-add")?, "click", move |_| {
        let doc = a.borrow().doc.clone();
        let mut fields = read_form(&a);
        if fields.attributes.len() < MAX_ATTRIBUTES {
            fields.attributes.push((String::new(), "latest".into()));
        }
        write_form(&a, &fields, true);
        let last = fields.attributes.len().saturating_sub(1);
        if let Ok(el) = by_id::<HtmlElement>(&doc, &format!("attr-id-{last}")) {
            el.focus().ok();
        }
    })?;
    let a = app.clone();
    on(&target("attr-rows")?, "click", move |e| {
        let index = event_element(&e)
            .and_then(|el| el.get_attribute("data-remove"))
            .and_then(|i| i.parse::<usize>().ok());
        if let Some(index) = index {
            let mut fields = read_form(&a);
            if index < fields.attributes.len() {
                fields.attributes.remove(index);
            }
            write_form(&a, &fields, true);
            if let Ok(el) = by_id::<HtmlElement>(&a.borrow().doc, "attr-add") {
                el.focus().ok();
            }
        }
    })?;
    for name in ["create", "update", "patch"] {
        let selector = format!("input[name=mode][value={name}]");
        if let Some(el) = doc.query_selector(&selector)? {
            let a = app.clone();
            on(&el, "change", move |_| {
                let doc = a.borrow().doc.clone();
                persist(&doc);
                validate(&a);
                edited(&a);
            })?;
        }
    }
    let a = app.clone();
    on(&target("path-group-id")?, "input", move |_| {
        validate(&a);
        edited(&a);
    })?;

    // Profiles.
    let a = app.clone();
    on(&target("profiles-text")?, "input", move |_| {
        new_input(&a);
        edited(&a);
    })?;
    for id in ["format", "normalize"] {
        let a = app.clone();
        on(&target(id)?, "change", move |_| edited(&a))?;
    }
    let a = app.clone();
    on(&target("profiles-file")?, "change", move |e| {
        let file = event_element(&e)
            .and_then(|el| el.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            use_file(&a, file);
        }
    })?;
    // The highlight goes on the zone itself, whichever element inside it the pointer is on.
    let drop_zone = target("drop-zone")?;
    let zone = drop_zone.clone();
    on(&drop_zone, "dragover", move |e| {
        e.prevent_default();
        zone.class_list().add_1("dragging").ok();
    })?;
    let zone = drop_zone.clone();
    on(&drop_zone, "dragleave", move |_| {
        zone.class_list().remove_1("dragging").ok();
    })?;
    let a = app.clone();
    let zone = drop_zone.clone();
    on(&drop_zone, "drop", move |e| {
        e.prevent_default();
        zone.class_list().remove_1("dragging").ok();
        let file = e
            .dyn_ref::<DragEvent>()
            .and_then(DragEvent::data_transfer)
            .and_then(|dt| dt.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            use_file(&a, file);
        }
    })?;
    let a = app.clone();
    on(&target("file-clear")?, "click", move |_| {
        let doc = a.borrow().doc.clone();
        new_input(&a);
        a.borrow_mut().file = None;
        set_value(&doc, "profiles-file", "");
        show_file(&doc, None);
        edited(&a);
        focus(&doc, "profiles-text");
    })?;
    let a = app.clone();
    on(&target("sample")?, "click", move |_| {
        let doc = a.borrow().doc.clone();
        let count = value_of(&doc, "sample-size")
            .parse::<usize>()
            .unwrap_or(200);
        let mut out = Vec::new();
        generate(
            &GeneratorOptions {
                seed: 7,
                profiles: count.min(100_000),
                format: Format::Ndjson,
                flat: true,
                edge_cases: false,
            },
            &mut out,
        );
        new_input(&a);
        a.borrow_mut().file = None;
        show_file(&doc, None);
        set_value(&doc, "profiles-text", &String::from_utf8_lossy(&out));
        follow_share_link(&a);
        run_preview(&a);
    })?;
    let a = app.clone();
    on(&target("cancel")?, "click", move |_| {
        cancel(&a, Job::Preview);
        let doc = a.borrow().doc.clone();
        hide_progress(&doc);
        // The results shown were for other input: none stay beside the cancelled file.
        set_preview(&a, None);
        set_text(&doc, "format-detected", NOT_READ);
        set_text(
            &doc,
            "results-status",
            "Cancelled: the file was not read to the end.",
        );
    })?;

    // Results.
    let a = app.clone();
    on(&target("group-search")?, "input", move |_| {
        schedule_search(&a)
    })?;
    // Enter searches at once.
    let a = app.clone();
    on(&target("group-search")?, "keydown", move |e| {
        let key = Reflect::get(&e, &"key".into())
            .ok()
            .and_then(|k| k.as_string());
        if key.as_deref() == Some("Enter") {
            e.prevent_default();
            search_now(&a);
        }
    })?;
    for (id, step) in [("page-prev", -1i64), ("page-next", 1)] {
        let a = app.clone();
        on(&target(id)?, "click", move |_| {
            // Pages of the search as typed, not of the one before it.
            if a.borrow().search_timer.is_some() {
                search_now(&a);
            }
            {
                let mut app = a.borrow_mut();
                let pages = app.filtered.len().div_ceil(PAGE_SIZE).max(1) as i64;
                app.page = (app.page as i64 + step).clamp(0, pages - 1) as usize;
            }
            render_page(&a).unwrap_or_else(|e| log_error(&e));
        })?;
    }
    for (id, out) in [("dl-ndjson", OutFormat::Ndjson), ("dl-csv", OutFormat::Csv)] {
        let a = app.clone();
        on(&target(id)?, "click", move |_| download(&a, out))?;
    }

    // Audience.
    let a = app.clone();
    on(&target("cond-add")?, "click", move |_| {
        a.borrow_mut().conditions.push(ConditionRow {
            operator: "=".into(),
            ..ConditionRow::default()
        });
        conditions_changed(&a);
        render_conditions(&a).unwrap_or_else(|e| log_error(&e));
    })?;
    let a = app.clone();
    on(&target("cond-rows")?, "input", move |e| {
        condition_edited(&a, &e)
    })?;
    let a = app.clone();
    on(&target("cond-rows")?, "change", move |e| {
        condition_edited(&a, &e)
    })?;
    let a = app.clone();
    on(&target("cond-rows")?, "click", move |e| {
        let index = event_element(&e)
            .and_then(|el| el.get_attribute("data-cond-remove"))
            .and_then(|i| i.parse::<usize>().ok());
        if let Some(index) = index {
            {
                let mut app = a.borrow_mut();
                if index < app.conditions.len() {
                    app.conditions.remove(index);
                }
            }
            conditions_changed(&a);
            render_conditions(&a).unwrap_or_else(|e| log_error(&e));
            // The removed row held the focus: it goes to "Add condition".
            focus(&a.borrow().doc.clone(), "cond-add");
        }
    })?;
    let a = app.clone();
    on(&target("audience-run")?, "click", move |_| run_audience(&a))?;
    let a = app.clone();
    on(&target("audience-cancel")?, "click", move |_| {
        cancelled(&a, Job::Audience)
    })?;
    let a = app.clone();
    on(&target("dl-cancel")?, "click", move |_| {
        cancelled(&a, Job::Enrich)
    })?;

    // Warehouse SQL: any edit of its form rewrites the queries.
    for event in ["input", "change", "submit"] {
        let a = app.clone();
        on(&target("sql-form")?, event, move |e| {
            if e.type_() == "submit" {
                e.prevent_default();
            }
            let (doc, body) = {
                let app = a.borrow();
                (app.doc.clone(), app.body.clone())
            };
            refresh_sql(&doc, &body);
        })?;
    }
    for (query, _, button, _) in super::sql::QUERIES {
        let a = app.clone();
        on(&target(button)?, "click", move |_| {
            let doc = a.borrow().doc.clone();
            super::sql::copy(&doc, query);
        })?;
    }

    // Share and live API.
    let a = app.clone();
    on(&target("share")?, "click", move |_| share(&a))?;
    for (id, op) in [
        ("api-list", super::api::Op::List),
        ("api-get", super::api::Op::Get),
        ("api-create", super::api::Op::Create),
        ("api-update", super::api::Op::Update),
        ("api-patch", super::api::Op::SetAttributes),
        ("api-delete", super::api::Op::Delete),
    ] {
        let a = app.clone();
        on(&target(id)?, "click", move |_| {
            let (doc, body) = {
                let app = a.borrow();
                (app.doc.clone(), app.body.clone())
            };
            let group_id = path_group_id(&doc, &body);
            let text = value_of(&doc, "def-json");
            super::api::run(doc, op, body, text, group_id);
        })?;
    }
    Ok(())
}

/// Under `make play` (served from loopback) the page talks to the emulator behind the same
/// origin; anywhere else it starts from the real hosts.
fn live_defaults(doc: &Document) {
    let location = web_sys::window().map(|w| w.location());
    let origin = location
        .as_ref()
        .and_then(|l| l.origin().ok())
        .unwrap_or_default();
    let host = location.and_then(|l| l.hostname().ok()).unwrap_or_default();
    let local = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    if local {
        set_value(doc, "api-url", &origin);
        set_value(doc, "auth-url", &origin);
        set_value(doc, "workspace", "1000");
        set_value(doc, "client-id", "local-client");
        set_value(doc, "client-secret", "local-secret");
    } else {
        set_value(doc, "api-url", "https://api.mparticle.com");
        set_value(doc, "auth-url", "https://sso.auth.mparticle.com");
    }
}

// ---------------------------------------------------------------------------------------
// Definition: form, JSON editor, validation.

fn read_form(app: &Shared) -> FormFields {
    let (doc, rows) = {
        let app = app.borrow();
        (app.doc.clone(), app.rows)
    };
    FormFields {
        id: value_of(&doc, "f-id"),
        description: value_of(&doc, "f-description"),
        source: value_of(&doc, "f-source"),
        attributes: (0..rows)
            .map(|i| {
                (
                    value_of(&doc, &format!("attr-id-{i}")),
                    value_of(&doc, &format!("attr-type-{i}")),
                )
            })
            .collect(),
    }
}

/// The form changed: the JSON follows.
fn definition_from_form(app: &Shared) {
    let fields = read_form(app);
    write_form(app, &fields, false);
}

/// Applies form fields to the body, the JSON editor and (when rows changed) the rows.
fn write_form(app: &Shared, fields: &FormFields, rebuild_rows: bool) {
    let doc = app.borrow().doc.clone();
    // While the JSON does not parse, the form is paused (disabled, see `pause_form`): it
    // holds the last JSON that did, and writing it back would lose what was typed since.
    if app.borrow().body.is_null()
        && serde_json::from_str::<Value>(&value_of(&doc, "def-json")).is_err()
    {
        return;
    }
    let mode = mode_kind(&doc);
    let text = {
        let mut app = app.borrow_mut();
        apply_fields(&mut app.body, fields, mode);
        serde_json::to_string_pretty(&app.body).unwrap_or_default()
    };
    set_value(&doc, "def-json", &text);
    if rebuild_rows {
        render_rows(app, fields).unwrap_or_else(|e| log_error(&e));
    }
    persist(&doc);
    validate(app);
    edited(app);
}

/// The JSON editor changed (or the page started): the form follows when the JSON parses.
fn definition_from_json(app: &Shared, typed: bool) {
    let doc = app.borrow().doc.clone();
    let text = value_of(&doc, "def-json");
    match serde_json::from_str::<Value>(&text) {
        Ok(value) => {
            let fields = fields_from_value(&value);
            app.borrow_mut().body = value;
            set_value(&doc, "f-id", &fields.id);
            set_value(&doc, "f-description", &fields.description);
            set_value(&doc, "f-source", &fields.source);
            render_rows(app, &fields).unwrap_or_else(|e| log_error(&e));
            validate(app);
            pause_form(&doc, None);
        }
        Err(_) => {
            app.borrow_mut().body = Value::Null;
            validate(app);
            let syntax = validate_definition_text(&text, &Mode::Create)
                .errors
                .iter()
                .any(|issue| issue.code == "invalid_json");
            pause_form(
                &doc,
                Some(if syntax {
                    "The JSON has a syntax error (see below it): the form is paused, and follows the JSON again once it is fixed."
                } else {
                    "The JSON holds a number the form cannot show (such as 1e400): the form is paused, and follows the JSON again once that number is gone."
                }),
            );
        }
    }
    if typed {
        persist(&doc);
        edited(app);
    } else {
        schedule(app);
    }
}

/// Disables the form (with `why` shown above it) while the JSON cannot be read into it, or
/// enables it again (`None`).
fn pause_form(doc: &Document, why: Option<&str>) {
    if let Some(fields) = doc.get_element_by_id("def-form-fields") {
        Reflect::set(
            &fields,
            &"disabled".into(),
            &JsValue::from_bool(why.is_some()),
        )
        .ok();
    }
    set_text(doc, "form-paused", why.unwrap_or_default());
    set_hidden(doc, "form-paused", why.is_none());
}

/// Saves the definition and the mode in this browser (every caller then calls [`edited`],
/// which keeps a share link in the address bar in step).
fn persist(doc: &Document) {
    if let Some(s) = storage() {
        s.set_item(STORE_DEFINITION, &value_of(doc, "def-json"))
            .ok();
        s.set_item(STORE_MODE, mode_kind(doc).name()).ok();
    }
}

/// What a share link holds: the page's state now (profiles only when they are text).
fn current_state(doc: &Document, has_file: bool) -> SharedState {
    SharedState {
        definition: value_of(doc, "def-json"),
        mode: mode_kind(doc).name().to_string(),
        group_id: value_of(doc, "path-group-id"),
        profiles: if has_file {
            String::new()
        } else {
            value_of(doc, "profiles-text")
        },
        format: value_of(doc, "format"),
        normalize_keys: checked(doc, "normalize"),
    }
}

/// After an edit of a page opened from a share link: the definition and the mode are saved
/// in this browser as every edit saves them, and the link in the address bar is rewritten
/// to the state now, profiles included, so a reload keeps the edits. When the profiles no
/// longer fit in a link (a file, or text over `MAX_SHARED_PROFILES`), the link leaves the
/// address bar: a reload then comes back with the saved definition and mode, as on a page
/// opened without a link. A page opened without a link keeps its address as it is.
fn follow_share_link(app: &Shared) {
    let (doc, has_file) = {
        let mut a = app.borrow_mut();
        a.share_pending = false;
        (a.doc.clone(), a.file.is_some())
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let shared = location
        .hash()
        .is_ok_and(|h| h.starts_with(&format!("#{}", super::share::FRAGMENT_KEY)));
    if !shared {
        return;
    }
    persist(&doc);
    let state = current_state(&doc, has_file);
    let fragment = state.to_fragment();
    let fits = !has_file
        && state.profiles.len() <= super::share::MAX_SHARED_PROFILES
        && fragment.len() <= super::share::MAX_FRAGMENT;
    let mut url = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if fits {
        url = format!("{url}#{fragment}");
    }
    if let Ok(history) = window.history() {
        history
            .replace_state_with_url(&JsValue::NULL, "", Some(&url))
            .ok();
    }
}

/// A link made with "Copy share link" is for the state it was made in: after an edit it
/// goes from its box, with a note, instead of standing there as if it were current.
fn share_link_stale(doc: &Document) {
    if value_of(doc, "share-url").is_empty() {
        return;
    }
    set_value(doc, "share-url", "");
    set_text(
        doc,
        "share-status",
        "The page changed since the link was made: copy a new share link for what it shows now.",
    );
}

fn render_rows(app: &Shared, fields: &FormFields) -> JsResult {
    let doc = app.borrow().doc.clone();
    let container = by_id::<Element>(&doc, "attr-rows")?;
    clear(&container);
    for (i, (id, kind)) in fields.attributes.iter().enumerate() {
        let n = i + 1;
        let row = El::new(&doc, "div")?.class("attr-row").into_el();
        let id_field = El::new(&doc, "div")?
            .class("field")
            .child(
                &El::new(&doc, "label")?
                    .attr("for", &format!("attr-id-{i}"))?
                    .text(&format!("Attribute {n} id"))
                    .into_el(),
            )?
            .into_el();
        let input = El::new(&doc, "input")?
            .attr("id", &format!("attr-id-{i}"))?
            .attr("type", "text")?
            .attr("autocomplete", "off")?
            .attr("spellcheck", "false")?
            .attr("aria-describedby", &format!("issues-attr-{i}-id"))?
            .into_el();
        id_field.append_child(&input)?;
        Reflect::set(&input, &"value".into(), &JsValue::from_str(id))?;
        id_field.append_child(&issue_list(
            &doc,
            &format!("issues-attr-{i}-id"),
            &format!("/attributes/{i}/id"),
        )?)?;
        row.append_child(&id_field)?;

        let type_field = El::new(&doc, "div")?
            .class("field")
            .child(
                &El::new(&doc, "label")?
                    .attr("for", &format!("attr-type-{i}"))?
                    .text(&format!("Attribute {n} aggregation"))
                    .into_el(),
            )?
            .into_el();
        let select = El::new(&doc, "select")?
            .attr("id", &format!("attr-type-{i}"))?
            .attr("aria-describedby", &format!("issues-attr-{i}-type"))?
            .into_el();
        let mut options: Vec<&str> = AGGREGATIONS.to_vec();
        if !AGGREGATIONS.contains(&kind.as_str()) {
            // Keep an unknown type visible so its error shows by the field.
            options.push(kind.as_str());
        }
        for option in options {
            let o = El::new(&doc, "option")?
                .attr("value", option)?
                .text(if option.is_empty() { "(none)" } else { option });
            select.append_child(&o.into_el())?;
        }
        type_field.append_child(&select)?;
        Reflect::set(&select, &"value".into(), &JsValue::from_str(kind))?;
        type_field.append_child(&issue_list(
            &doc,
            &format!("issues-attr-{i}-type"),
            &format!("/attributes/{i}/type"),
        )?)?;
        row.append_child(&type_field)?;

        let remove = El::new(&doc, "button")?
            .attr("type", "button")?
            .attr("data-remove", &i.to_string())?
            .attr("aria-label", &format!("Remove attribute {n}"))?
            .text("Remove")
            .into_el();
        row.append_child(&remove)?;
        row.append_child(&issue_list(
            &doc,
            &format!("issues-attr-{i}"),
            &format!("/attributes/{i}"),
        )?)?;
        container.append_child(&row)?;
    }
    app.borrow_mut().rows = fields.attributes.len();
    if let Ok(add) = by_id::<HtmlElement>(&doc, "attr-add") {
        Reflect::set(
            &add,
            &"disabled".into(),
            &JsValue::from_bool(fields.attributes.len() >= MAX_ATTRIBUTES),
        )
        .ok();
    }
    Ok(())
}

fn issue_list(doc: &Document, id: &str, path: &str) -> JsResult<web_sys::Node> {
    Ok(El::new(doc, "ul")?
        .class("issues")
        .attr("id", id)?
        .attr("data-path", path)?
        .into_el()
        .into())
}

fn validate(app: &Shared) {
    let (doc, body) = {
        let app = app.borrow();
        (app.doc.clone(), app.body.clone())
    };
    refresh_sql(&doc, &body);
    // The text, not the parsed body: a repeated key is seen (`duplicate_field`), issues
    // follow the order written, and a syntax error names its line and column.
    let validation = validate_definition_text(&value_of(&doc, "def-json"), &mode_of(&doc, &body));
    show_issues(&doc, &validation).unwrap_or_else(|e| log_error(&e));
}

/// The SQL section follows every change of the definition, the mode and the group id.
fn refresh_sql(doc: &Document, body: &Value) {
    let result = match runnable(doc, body) {
        Some(definition) => super::sql::render(doc, Ok(&definition)),
        None => super::sql::render(doc, Err(&blocked(doc, body, Purpose::Sql))),
    };
    result.unwrap_or_else(|e| log_error(&e));
}

/// Shows each issue in the list nearest its JSON Pointer, and a summary.
fn show_issues(doc: &Document, validation: &Validation) -> JsResult {
    let lists = doc.query_selector_all("ul.issues")?;
    let mut by_path: HashMap<String, Element> = HashMap::new();
    for i in 0..lists.length() {
        if let Some(el) = lists.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            clear(&el);
            if let Some(path) = el.get_attribute("data-path") {
                by_path.insert(path, el);
            }
        }
    }
    let fields = doc.query_selector_all(".field")?;
    for i in 0..fields.length() {
        if let Some(el) = fields.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            el.class_list().remove_2("has-error", "has-warning").ok();
        }
    }
    let all = validation
        .errors
        .iter()
        .map(|i| (i, "error"))
        .chain(validation.warnings.iter().map(|i| (i, "warning")));
    for (issue, level) in all {
        let path = container_for(&issue.path, |p| by_path.contains_key(p));
        if let Some(list) = by_path.get(&path) {
            list.append_child(&issue_item(doc, issue, level)?)?;
            if let Some(field) = list
                .parent_element()
                .filter(|p| p.class_list().contains("field"))
            {
                field.class_list().add_1(&format!("has-{level}")).ok();
            }
        }
    }
    let e = validation.errors.len();
    let w = validation.warnings.len();
    let status = match (e, w) {
        (0, 0) => "Valid: no errors, no warnings.".to_string(),
        (0, w) => format!("Valid, with {w} warning(s)."),
        (e, w) => format!("{e} error(s), {w} warning(s)."),
    };
    set_text(doc, "def-status", &status);
    Ok(())
}

fn issue_item(doc: &Document, issue: &Issue, level: &str) -> JsResult<web_sys::Node> {
    let text = if issue.path.is_empty() {
        format!("{level}: {} ({})", issue.message, issue.code)
    } else {
        format!(
            "{level} at {}: {} ({})",
            issue.path, issue.message, issue.code
        )
    };
    Ok(El::new(doc, "li")?
        .class(level)
        .attr("data-code", &issue.code)?
        .text(&text)
        .into_el()
        .into())
}

// ---------------------------------------------------------------------------------------
// Profiles and the preview.

/// The user changed what a preview depends on: a share link leaves the address bar, a
/// count still running for the old state stops (its answer, shown beside the new state,
/// would be for the old one), and a new preview is scheduled. A download goes on: the file
/// asked for is the one of the state it was asked in.
fn edited(app: &Shared) {
    let doc = app.borrow().doc.clone();
    // Written into a share link in the address bar with the preview, at a pause in typing
    // (a browser limits how often a page may rewrite its address).
    app.borrow_mut().share_pending = true;
    share_link_stale(&doc);
    let stopped = cancel(app, Job::Audience);
    clear_audience(&doc);
    if stopped {
        set_text(
            &doc,
            Job::Audience.status(),
            "Stopped: the definition or the options changed. Count again for the new ones.",
        );
    }
    schedule(app);
}

fn schedule(app: &Shared) {
    let window = match web_sys::window() {
        Some(w) => w,
        None => return,
    };
    let mut a = app.borrow_mut();
    if let Some(timer) = a.timer.take() {
        window.clear_timeout_with_handle(timer);
    }
    if let Some(tick) = a.tick.as_ref() {
        a.timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                150,
            )
            .ok();
    }
}

fn show_file(doc: &Document, file: Option<&File>) {
    set_hidden(doc, "file-info", file.is_none());
    set_hidden(doc, "profiles-text", file.is_some());
    if let Some(file) = file {
        let text = format!("File: {} ({})", file.name(), megabytes(file.size()));
        set_text(doc, "file-name", &text);
    }
}

fn megabytes(bytes: f64) -> String {
    if bytes < 1_000_000.0 {
        format!("{:.1} KB", bytes / 1000.0)
    } else {
        format!("{:.1} MB", bytes / 1_000_000.0)
    }
}

/// A picked or dropped file: small ones become editable text, the rest stay in the file.
fn use_file(app: &Shared, file: File) {
    let doc = app.borrow().doc.clone();
    // Jobs over the old input would answer for it.
    for job in Job::ALL {
        cancel(app, job);
    }
    let input = new_input(app);
    share_link_stale(&doc);
    let small = file.size() <= EDITABLE_FILE_LIMIT;
    let a = app.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // A small file whole; of a large one its first bytes, for a byte order mark.
        let head = if small {
            Blob::from(file.clone())
        } else {
            match file.slice_with_i32_and_i32(0, 4) {
                Ok(head) => head,
                Err(e) => return log_error(&e),
            }
        };
        let bytes = wasm_bindgen_futures::JsFuture::from(head.array_buffer()).await;
        if a.borrow().inputs != input {
            return; // Other profiles came in while this file was read.
        }
        let doc = a.borrow().doc.clone();
        let Ok(bytes) = bytes else {
            set_text(&doc, "results-status", "The file could not be read.");
            return;
        };
        let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
        let utf16 = if small { decode_utf16(&bytes) } else { None };
        if let (Some((name, mark)), None) = (wide_bom(&bytes), utf16.as_ref()) {
            // Read as UTF-8 it would be a preview of garbage: say what it is instead.
            // The file is not taken; the profiles before it stay in the text box.
            a.borrow_mut().file = None;
            set_value(&doc, "profiles-file", "");
            show_file(&doc, None);
            set_preview(&a, None);
            set_text(&doc, "format-detected", NOT_READ);
            set_text(&doc, "results-status", &wide_encoding_message(name, mark));
            return;
        }
        let text = match utf16 {
            Some(text) => Ok(text),
            None if small => String::from_utf8(bytes).map_err(|_| ()),
            None => Err(()),
        };
        match text {
            Ok(text) => {
                a.borrow_mut().file = None;
                show_file(&doc, None);
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                set_value(&doc, "profiles-text", text);
            }
            // Large, or not UTF-8: as text bad bytes would silently become U+FFFD. Read
            // from the file in the background, each is reported where a preview uses it
            // (`invalid_utf8`).
            Err(()) => {
                show_file(&doc, Some(&file));
                a.borrow_mut().file = Some(file);
            }
        }
        follow_share_link(&a);
        run_preview(&a);
    });
}

/// What needs a runnable definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Preview,
    Audience,
    Download,
    Sql,
}

impl Purpose {
    /// The thing asked for, as a subject.
    fn noun(self) -> &'static str {
        match self {
            Purpose::Preview => "a preview",
            Purpose::Audience => "an audience count",
            Purpose::Download => "a download",
            Purpose::Sql => "the SQL",
        }
    }

    /// The thing asked for, as a goal.
    fn goal(self) -> &'static str {
        match self {
            Purpose::Preview => "to see a preview",
            Purpose::Audience => "to count an audience",
            Purpose::Download => "to download enriched profiles",
            Purpose::Sql => "to see the SQL",
        }
    }
}

/// Why this definition cannot be previewed, counted, downloaded or compiled to SQL: what
/// is actually missing, not "errors" for a definition the status line calls valid.
fn blocked(doc: &Document, body: &Value, purpose: Purpose) -> String {
    let mode = mode_of(doc, body);
    let goal = purpose.goal();
    if !validate_definition_text(&value_of(doc, "def-json"), &mode).valid {
        return format!("Fix the definition's errors {goal}.");
    }
    if mode == Mode::Patch {
        return format!(
            "Set attributes sends only the attributes, and {} needs a whole definition (its id and source attribute as well): choose create or update mode {goal}.",
            purpose.noun()
        );
    }
    if body.is_null() {
        // Valid, yet not read into the form: a number past a double's range (`1e400`).
        return format!("The definition holds a number no double can hold (such as 1e400): the API takes it, but the playground cannot use it. Remove that number {goal}.");
    }
    if preview_body(body, &path_group_id(doc, body))
        .get("id")
        .is_none()
    {
        // Update may leave the id to the path; with the path's field empty there is none.
        return format!("The definition leaves its id to the path, and the path has no group id: type it in \"Group id in the path\" {goal}.");
    }
    format!("Fix the definition's errors {goal}.")
}

fn run_preview(app: &Shared) {
    let (doc, body, file) = {
        let app = app.borrow();
        (app.doc.clone(), app.body.clone(), app.file.clone())
    };
    cancel(app, Job::Preview);
    hide_progress(&doc);
    let Some(definition) = runnable(&doc, &body) else {
        // The groups shown were for a definition that is no longer the one written.
        set_preview(app, None);
        set_text(
            &doc,
            "results-status",
            &blocked(&doc, &body, Purpose::Preview),
        );
        // Nothing is read: a file's format is not known, a text's is seen from its start.
        if file.is_some() {
            set_text(&doc, "format-detected", NOT_READ);
        } else {
            let options = preview_options(&doc);
            let text = value_of(&doc, "profiles-text");
            set_text(
                &doc,
                "format-detected",
                format_label(detected(&options, &text)),
            );
        }
        return;
    };
    let options = preview_options(&doc);
    if let Some(file) = file {
        set_text(&doc, "format-detected", "reading...");
        start_job(app, Job::Preview, file.into(), &definition, &options, None);
        return;
    }
    let text = value_of(&doc, "profiles-text");
    set_text(
        &doc,
        "format-detected",
        format_label(detected(&options, &text)),
    );
    if text.trim().is_empty() {
        set_text(
            &doc,
            "results-status",
            "Paste profiles, pick a file or fill in sample data.",
        );
        set_preview(app, None);
        return;
    }
    if text.len() > SYNC_LIMIT {
        match text_blob(&text) {
            Ok(blob) => start_job(app, Job::Preview, blob, &definition, &options, None),
            Err(e) => log_error(&e),
        }
        return;
    }
    let preview = preview_groups(&definition, text.as_bytes(), &options);
    set_preview(app, Some(preview));
}

/// The format a text is read as: the one chosen, else the one its start shows.
fn detected(options: &PreviewOptions, text: &str) -> Format {
    if options.format == Format::Auto {
        detect_format(text.as_bytes())
    } else {
        options.format
    }
}

/// The profiles for a count or a download: a blob for the worker when they are a file or
/// a paste too large to read on the page's thread, else the pasted text.
fn job_input(doc: &Document, file: Option<File>) -> (String, Option<Blob>) {
    match file {
        Some(file) => (String::new(), Some(Blob::from(file))),
        None => {
            let text = value_of(doc, "profiles-text");
            let blob = (text.len() > SYNC_LIMIT)
                .then(|| text_blob(&text).ok())
                .flatten();
            (text, blob)
        }
    }
}

fn text_blob(text: &str) -> JsResult<Blob> {
    let parts = Array::of1(&JsValue::from_str(text));
    Blob::new_with_str_sequence(&parts)
}

/// The kinds of background job; each has its own worker, id and status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Preview,
    Audience,
    Enrich,
}

impl Job {
    const ALL: [Job; 3] = [Job::Preview, Job::Audience, Job::Enrich];

    fn index(self) -> usize {
        self as usize
    }

    /// The message type `worker.js` knows the job by.
    fn name(self) -> &'static str {
        match self {
            Job::Preview => "preview",
            Job::Audience => "audience",
            Job::Enrich => "enrich",
        }
    }

    /// The button that stops a running job of this kind, and where the focus goes when it
    /// hides (a preview's Cancel is in the progress box).
    fn cancel_button(self) -> Option<(&'static str, &'static str)> {
        match self {
            Job::Preview => None,
            Job::Audience => Some(("audience-cancel", "audience-run")),
            Job::Enrich => Some(("dl-cancel", "dl-ndjson")),
        }
    }

    /// Where the page says how the job went.
    fn status(self) -> &'static str {
        match self {
            Job::Preview => "results-status",
            Job::Audience => "audience-result",
            Job::Enrich => "dl-status",
        }
    }
}

/// A worker with its handlers, which live exactly as long as it does.
struct Background {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Background {
    fn drop(&mut self) {
        // Unhooked first: a message already queued must find no handler, not a freed one.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// Profiles changed: the new input's number.
/// A count or download over the old profiles stops (its answer would be for them); a
/// preview follows the new ones by itself.
fn new_input(app: &Shared) -> u32 {
    let doc = app.borrow().doc.clone();
    clear_audience(&doc);
    for job in [Job::Audience, Job::Enrich] {
        if cancel(app, job) {
            set_text(&doc, job.status(), "Stopped: the profiles changed.");
        }
    }
    let mut a = app.borrow_mut();
    a.inputs = a.inputs.wrapping_add(1);
    a.inputs
}

/// Stops a kind's job, if one runs. Never called from that kind's own handlers, which run
/// inside the worker's closures.
/// True when one was running.
fn cancel(app: &Shared, job: Job) -> bool {
    let (doc, stopped) = {
        let mut a = app.borrow_mut();
        if let Some(id) = a.jobs.get_mut(job.index()) {
            *id = id.wrapping_add(1);
        }
        let stopped = a.background.get_mut(job.index()).and_then(Option::take);
        (a.doc.clone(), stopped)
    };
    show_cancel(&doc, job, false);
    stopped.is_some()
}

/// Shows or hides a job's Cancel button; a hidden one that held the focus hands it to the
/// button that starts such a job, not to the top of the page.
fn show_cancel(doc: &Document, job: Job, shown: bool) {
    let Some((button, home)) = job.cancel_button() else {
        return;
    };
    let held = doc.active_element().is_some_and(|el| el.id() == button);
    set_hidden(doc, button, !shown);
    if held && !shown {
        focus(doc, home);
    }
}

/// The user's Cancel of a count or a download.
fn cancelled(app: &Shared, job: Job) {
    if cancel(app, job) {
        let doc = app.borrow().doc.clone();
        let text = match job {
            Job::Enrich => "Cancelled: the download was not prepared, nothing was saved.",
            _ => "Cancelled: the count was stopped.",
        };
        set_text(&doc, job.status(), text);
    }
}

/// A job's last message came: its worker goes, and with it the memory it grew. Not from
/// inside the worker's own handler, which is running: just after it.
fn finished(app: &Shared, job: Job) {
    let doc = app.borrow().doc.clone();
    show_cancel(&doc, job, false);
    let a = app.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let done = a
            .borrow_mut()
            .background
            .get_mut(job.index())
            .and_then(Option::take);
        drop(done);
    });
}

// `worker.js` sits beside the build's JavaScript, which is not always beside the page: a
// build for a sub-path opened without its final slash (`/tools/gik`) would look for
// `/tools/worker.js`. So it is found from this snippet's own address, which wasm-bindgen
// puts two folders below the build (`snippets/<crate>/inline<N>.js`).
// The same holds for the footer's link to the examples page.
#[wasm_bindgen(inline_js = r#"
export function build_file_url(name) {
  return new URL(`../../${name}`, import.meta.url).href;
}
"#)]
extern "C" {
    fn build_file_url(name: &str) -> String;
}

/// A fresh worker for a job of this kind (the caller has cancelled the last one).
fn worker(app: &Shared, job: Job) -> JsResult<Worker> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(&build_file_url("worker.js"), &options)?;
    let a = app.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        on_worker_message(&a, job, &e.data()).unwrap_or_else(|e| log_error(&e));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The script failed to load, or the browser stopped the worker (out of memory).
    let a = app.clone();
    let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        e.prevent_default();
        let message = field(&e, "message").as_string().unwrap_or_default();
        finished(&a, job);
        job_failed(&a, job, &message);
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let running = Background {
        worker: worker.clone(),
        _on_message: on_message,
        _on_error: on_error,
    };
    if let Some(slot) = app.borrow_mut().background.get_mut(job.index()) {
        *slot = Some(running);
    }
    Ok(worker)
}

/// Says on the job's own status line that it failed.
fn job_failed(app: &Shared, job: Job, message: &str) {
    let doc = app.borrow().doc.clone();
    // Results of the input before must not stand beside the failure as if they were its.
    match job {
        Job::Preview => {
            hide_progress(&doc);
            set_preview(app, None);
            set_text(&doc, "format-detected", NOT_READ);
        }
        Job::Audience => clear_audience(&doc),
        Job::Enrich => {}
    }
    let message = if message.is_empty() {
        "it stopped without saying why"
    } else {
        message
    };
    set_text(
        &doc,
        job.status(),
        &format!("The background reader failed: {message}"),
    );
}

/// Sends a job over a blob (a file, or pasted text) to its worker.
fn start_job(
    app: &Shared,
    job: Job,
    blob: Blob,
    definition: &GroupDefinition,
    options: &PreviewOptions,
    extra: Option<(&str, String)>,
) {
    let result = (|| -> JsResult {
        let worker = worker(app, job)?;
        let id = {
            let mut a = app.borrow_mut();
            let id = a.jobs.get(job.index()).map_or(0, |id| id.wrapping_add(1));
            if let Some(slot) = a.jobs.get_mut(job.index()) {
                *slot = id;
            }
            id
        };
        let message = js_sys::Object::new();
        Reflect::set(&message, &"type".into(), &job.name().into())?;
        Reflect::set(&message, &"id".into(), &JsValue::from(id))?;
        Reflect::set(&message, &"blob".into(), &blob)?;
        let definition = serde_json::to_string(definition).unwrap_or_default();
        Reflect::set(&message, &"definition".into(), &definition.into())?;
        let options = serde_json::to_string(options).unwrap_or_default();
        Reflect::set(&message, &"options".into(), &options.into())?;
        if let Some((name, value)) = extra {
            Reflect::set(&message, &name.into(), &value.into())?;
        }
        worker.post_message(&message)?;
        let doc = app.borrow().doc.clone();
        show_cancel(&doc, job, true);
        if job == Job::Preview {
            set_hidden(&doc, "progress-box", false);
            if let Ok(p) = by_id::<HtmlProgressElement>(&doc, "progress") {
                p.set_value(0.0);
            }
            set_text(&doc, "progress-text", "Starting...");
            set_text(
                &doc,
                "results-status",
                "Reading the profiles in the background...",
            );
        }
        Ok(())
    })();
    result.unwrap_or_else(|e| {
        let message = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_default();
        job_failed(app, job, &message);
    });
}

fn field(data: &JsValue, name: &str) -> JsValue {
    Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn on_worker_message(app: &Shared, job: Job, data: &JsValue) -> JsResult {
    let doc = app.borrow().doc.clone();
    let id = field(data, "id").as_f64().unwrap_or(-1.0);
    let current = app.borrow().jobs.get(job.index()).copied().unwrap_or(0);
    if id != f64::from(current) {
        return Ok(()); // A message from a job that was replaced or cancelled.
    }
    let kind = field(data, "type").as_string().unwrap_or_default();
    match kind.as_str() {
        "progress" if job != Job::Preview => {
            let done = field(data, "done").as_f64().unwrap_or(0.0);
            let total = field(data, "total").as_f64().unwrap_or(0.0).max(1.0);
            let doing = if job == Job::Enrich {
                "Preparing the download"
            } else {
                "Counting"
            };
            let text = format!("{doing} in the background: {:.0}%...", done / total * 100.0);
            set_text(&doc, job.status(), &text);
        }
        "progress" => {
            let done = field(data, "done").as_f64().unwrap_or(0.0);
            let total = field(data, "total").as_f64().unwrap_or(0.0).max(1.0);
            if let Ok(p) = by_id::<HtmlProgressElement>(&doc, "progress") {
                p.set_value(done / total);
            }
            let text = format!(
                "{} of {} ({:.0}%)",
                megabytes(done),
                megabytes(total),
                done / total * 100.0
            );
            set_text(&doc, "progress-text", &text);
        }
        "preview" => {
            finished(app, job);
            hide_progress(&doc);
            let json = field(data, "json").as_string().unwrap_or_default();
            match serde_json::from_str::<Preview>(&json) {
                Ok(preview) => {
                    set_text(&doc, "format-detected", format_label(preview.format));
                    set_preview(app, Some(preview));
                }
                Err(e) => set_text(&doc, "results-status", &format!("Unreadable result: {e}")),
            }
        }
        "audience" => {
            finished(app, job);
            let json = field(data, "json").as_string().unwrap_or_default();
            match serde_json::from_str::<AudienceResult>(&json) {
                Ok(result) => show_audience(&doc, &result)?,
                Err(e) => set_text(&doc, "audience-result", &format!("Unreadable result: {e}")),
            }
        }
        "enriched" => {
            finished(app, job);
            // The worker's Blob, saved as it came: never copied into wasm memory.
            let csv = field(data, "format").as_string().as_deref() == Some("csv");
            save(&doc, &field(data, "blob"), csv)?;
        }
        "error" => {
            finished(app, job);
            let message = field(data, "message").as_string().unwrap_or_default();
            job_failed(app, job, &message);
        }
        _ => {}
    }
    Ok(())
}

fn set_preview(app: &Shared, preview: Option<Preview>) {
    let doc = app.borrow().doc.clone();
    {
        let mut a = app.borrow_mut();
        a.preview = preview;
        a.page = 0;
    }
    refilter(app);
    let result = (|| -> JsResult {
        let a = app.borrow();
        let stats = by_id::<Element>(&doc, "stats")?;
        let chart = by_id::<Element>(&doc, "chart")?;
        let lists = [
            "oversized-list",
            "short-list",
            "singleton-list",
            "diag-body",
            "groups-body",
        ];
        let Some(preview) = a.preview.as_ref() else {
            clear(&stats);
            clear(&chart);
            for id in lists {
                clear(&by_id::<Element>(&doc, id)?);
            }
            set_text(&doc, "page-info", "");
            set_text(&doc, "diag-more", "");
            return Ok(());
        };
        render::stats(&doc, &stats, preview)?;
        render::chart(&doc, &chart, preview)?;
        render::lists(
            &doc,
            &by_id(&doc, "oversized-list")?,
            &by_id(&doc, "short-list")?,
            &by_id(&doc, "singleton-list")?,
            preview,
        )?;
        render::diagnostics(
            &doc,
            &by_id(&doc, "diag-body")?,
            &by_id(&doc, "diag-more")?,
            preview,
        )?;
        let s = &preview.stats;
        let status = format!(
            "Preview of {} profiles: {} groups, {} oversized keys, {} skipped records.",
            thousands(s.profiles),
            thousands(s.groups),
            thousands(s.oversized_groups),
            thousands(s.skipped)
        );
        set_text(&doc, "results-status", &status);
        Ok(())
    })();
    result.unwrap_or_else(|e| log_error(&e));
    render_page(app).unwrap_or_else(|e| log_error(&e));
    attribute_names(app).unwrap_or_else(|e| log_error(&e));
}

fn refilter(app: &Shared) {
    let doc = app.borrow().doc.clone();
    let needle = value_of(&doc, "group-search").trim().to_lowercase();
    let mut a = app.borrow_mut();
    let filtered: Vec<usize> = match a.preview.as_ref() {
        Some(p) => p
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| render::matches(g, &needle))
            .map(|(i, _)| i)
            .collect(),
        None => Vec::new(),
    };
    a.filtered = filtered;
    a.page = 0;
}

/// A keystroke in the group search: it runs after a pause in typing.
fn schedule_search(app: &Shared) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let mut a = app.borrow_mut();
    if let Some(timer) = a.search_timer.take() {
        window.clear_timeout_with_handle(timer);
    }
    if let Some(tick) = a.search_tick.as_ref() {
        a.search_timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                SEARCH_DELAY_MS,
            )
            .ok();
    }
}

/// Runs the group search now (Enter, a paging button, or the pause after typing).
fn search_now(app: &Shared) {
    let pending = app.borrow_mut().search_timer.take();
    if let (Some(timer), Some(window)) = (pending, web_sys::window()) {
        window.clear_timeout_with_handle(timer);
    }
    refilter(app);
    render_page(app).unwrap_or_else(|e| log_error(&e));
}

fn render_page(app: &Shared) -> JsResult {
    let a = app.borrow();
    let doc = &a.doc;
    let tbody = by_id::<Element>(doc, "groups-body")?;
    let Some(preview) = a.preview.as_ref() else {
        clear(&tbody);
        set_paging(doc, true, true);
        return Ok(());
    };
    let pages = a.filtered.len().div_ceil(PAGE_SIZE).max(1);
    let start = a.page * PAGE_SIZE;
    let rows = a
        .filtered
        .iter()
        .skip(start)
        .take(PAGE_SIZE)
        .filter_map(|&i| preview.groups.get(i));
    render::group_rows(doc, &tbody, rows, "")?;
    let info = format!(
        "Page {} of {} ({} groups)",
        thousands(a.page as u64 + 1),
        thousands(pages as u64),
        thousands(a.filtered.len() as u64)
    );
    set_text(doc, "page-info", &info);
    set_paging(doc, a.page == 0, a.page + 1 >= pages);
    Ok(())
}

/// Enables or disables the paging buttons. A focused button about to be disabled hands
/// its focus to the other one, or to the page count: a disabled button drops focus to
/// the top of the page, and the keyboard user with it.
fn set_paging(doc: &Document, prev_disabled: bool, next_disabled: bool) {
    let active = doc.active_element();
    let buttons = [("page-prev", prev_disabled), ("page-next", next_disabled)];
    for (i, &(id, disabled)) in buttons.iter().enumerate() {
        let Ok(el) = by_id::<HtmlElement>(doc, id) else {
            continue;
        };
        let focused = active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<Element>());
        if disabled && focused {
            let other = buttons
                .get(1 - i)
                .filter(|(_, off)| !off)
                .map(|(id, _)| *id);
            let heir = other.unwrap_or("page-info");
            if let Ok(heir) = by_id::<HtmlElement>(doc, heir) {
                if heir.id() == "page-info" {
                    heir.set_tab_index(-1);
                }
                heir.focus().ok();
            }
        }
        Reflect::set(&el, &"disabled".into(), &JsValue::from_bool(disabled)).ok();
    }
}

/// Offers `content` (a Blob, or a JavaScript string) as a file to save.
fn save(doc: &Document, content: &JsValue, csv: bool) -> JsResult {
    let (mime, name) = if csv {
        ("text/csv", "profiles-enriched.csv")
    } else {
        ("application/x-ndjson", "profiles-enriched.ndjson")
    };
    // A Blob given is referred to by the typed one, not copied.
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_blob_sequence_and_options(&Array::of1(content), &bag)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let link: HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(name);
    // In the page while clicked, and the URL kept a while: some browsers start the
    // download only after the click has returned.
    if let Some(body) = doc.body() {
        body.append_child(&link)?;
    }
    link.click();
    link.remove();
    if let Some(window) = web_sys::window() {
        let revoke = Closure::once_into_js(move || {
            Url::revoke_object_url(&url).ok();
        });
        window.set_timeout_with_callback_and_timeout_and_arguments_0(
            revoke.unchecked_ref(),
            60_000,
        )?;
    }
    set_text(
        doc,
        "dl-status",
        &format!("Saved {name} ({}).", megabytes(blob.size())),
    );
    Ok(())
}

fn download(app: &Shared, out: OutFormat) {
    let (doc, body, file) = {
        let a = app.borrow();
        (a.doc.clone(), a.body.clone(), a.file.clone())
    };
    let Some(definition) = runnable(&doc, &body) else {
        set_text(&doc, "dl-status", &blocked(&doc, &body, Purpose::Download));
        return;
    };
    let options = preview_options(&doc);
    let csv = out == OutFormat::Csv;
    let format = if csv { "csv" } else { "ndjson" };
    // A download still running is replaced, whichever way this one goes.
    cancel(app, Job::Enrich);
    let (text, blob) = job_input(&doc, file);
    if blob.is_none() && text.trim().is_empty() {
        set_text(&doc, "dl-status", "No profiles: paste or drop some first.");
        return;
    }
    if let Some(blob) = blob {
        set_text(
            &doc,
            "dl-status",
            "Preparing the download in the background...",
        );
        start_job(
            app,
            Job::Enrich,
            blob,
            &definition,
            &options,
            Some(("format", format.into())),
        );
        return;
    }
    let enriched = enrich(&definition, &options, text.as_bytes(), out);
    save(&doc, &JsValue::from_str(&enriched), csv).unwrap_or_else(|e| log_error(&e));
}

// ---------------------------------------------------------------------------------------
// Audience.

fn attribute_names(app: &Shared) -> JsResult {
    let a = app.borrow();
    let list = by_id::<Element>(&a.doc, "attr-names")?;
    clear(&list);
    let mut names: Vec<String> = Vec::new();
    if let Some(def) = runnable(&a.doc, &a.body) {
        names.push(def.source_user_attribute.clone());
        for attr in &def.attributes {
            names.push(format!("{}:{}", def.id, attr.id));
            names.push(attr.id.clone());
        }
    }
    for name in names {
        list.append_child(&El::new(&a.doc, "option")?.attr("value", &name)?.into_el())?;
    }
    Ok(())
}

fn render_conditions(app: &Shared) -> JsResult {
    let a = app.borrow();
    let doc = &a.doc;
    let container = by_id::<Element>(doc, "cond-rows")?;
    clear(&container);
    for (i, c) in a.conditions.iter().enumerate() {
        let n = i + 1;
        let row = El::new(doc, "div")?.class("cond-row").into_el();
        let attr = El::new(doc, "input")?
            .attr("id", &format!("cond-attr-{i}"))?
            .attr("type", "text")?
            .attr("list", "attr-names")?
            .attr("data-cond", &i.to_string())?
            .attr("data-part", "attribute")?
            .attr("autocomplete", "off")?
            .into_el();
        Reflect::set(&attr, &"value".into(), &c.attribute.as_str().into())?;
        let op = El::new(doc, "select")?
            .attr("id", &format!("cond-op-{i}"))?
            .attr("data-cond", &i.to_string())?
            .attr("data-part", "operator")?
            .into_el();
        for o in OPERATORS {
            op.append_child(&El::new(doc, "option")?.attr("value", o)?.text(o).into_el())?;
        }
        Reflect::set(&op, &"value".into(), &c.operator.as_str().into())?;
        let value = El::new(doc, "input")?
            .attr("id", &format!("cond-value-{i}"))?
            .attr("type", "text")?
            .attr("data-cond", &i.to_string())?
            .attr("data-part", "value")?
            .attr("autocomplete", "off")?
            .into_el();
        Reflect::set(&value, &"value".into(), &c.value.as_str().into())?;
        for (label, control, id) in [
            (
                format!("Condition {n} attribute"),
                attr,
                format!("cond-attr-{i}"),
            ),
            (
                format!("Condition {n} operator"),
                op,
                format!("cond-op-{i}"),
            ),
            (
                format!("Condition {n} value (JSON or text)"),
                value,
                format!("cond-value-{i}"),
            ),
        ] {
            let field = El::new(doc, "div")?
                .class("field")
                .child(
                    &El::new(doc, "label")?
                        .attr("for", &id)?
                        .text(&label)
                        .into_el(),
                )?
                .child(&control)?;
            row.append_child(&field.into_el())?;
        }
        let remove = El::new(doc, "button")?
            .attr("type", "button")?
            .attr("data-cond-remove", &i.to_string())?
            .attr("aria-label", &format!("Remove condition {n}"))?
            .text("Remove");
        row.append_child(&remove.into_el())?;
        container.append_child(&row)?;
    }
    Ok(())
}

fn condition_edited(app: &Shared, event: &Event) {
    let Some(el) = event_element(event) else {
        return;
    };
    let index = el
        .get_attribute("data-cond")
        .and_then(|i| i.parse::<usize>().ok());
    let part = el.get_attribute("data-part").unwrap_or_default();
    let value = Reflect::get(&el, &"value".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let changed = {
        let mut a = app.borrow_mut();
        let Some(row) = index.and_then(|i| a.conditions.get_mut(i)) else {
            return;
        };
        let slot = match part.as_str() {
            "attribute" => &mut row.attribute,
            "operator" => &mut row.operator,
            "value" => &mut row.value,
            _ => return,
        };
        let changed = *slot != value;
        *slot = value;
        changed
    };
    if changed {
        conditions_changed(app);
    }
}

/// The conditions changed: an answer shown, or a count still running, was for the old
/// ones (as with an edit of the definition).
fn conditions_changed(app: &Shared) {
    let doc = app.borrow().doc.clone();
    let stopped = cancel(app, Job::Audience);
    clear_audience(&doc);
    if stopped {
        set_text(
            &doc,
            Job::Audience.status(),
            "Stopped: the conditions changed. Count again for the new ones.",
        );
    }
}

fn conditions(app: &Shared) -> Vec<Condition> {
    app.borrow()
        .conditions
        .iter()
        .map(|c| Condition {
            attribute: c.attribute.trim().to_string(),
            operator: c.operator.clone(),
            value: match c.operator.as_str() {
                "exists" | "not_exists" => None,
                _ => Some(condition_value(&c.value)),
            },
        })
        .collect()
}

fn run_audience(app: &Shared) {
    let (doc, body, file) = {
        let a = app.borrow();
        (a.doc.clone(), a.body.clone(), a.file.clone())
    };
    clear_audience(&doc);
    let Some(definition) = runnable(&doc, &body) else {
        set_text(
            &doc,
            "audience-result",
            &blocked(&doc, &body, Purpose::Audience),
        );
        return;
    };
    let conditions = conditions(app);
    let options = AudienceOptions {
        preview: preview_options(&doc),
        limit: 1000,
    };
    // A count still running is replaced, whichever way this one goes.
    cancel(app, Job::Audience);
    let (text, blob) = job_input(&doc, file);
    if let Some(blob) = blob {
        set_text(&doc, "audience-result", "Counting in the background...");
        let json = serde_json::to_string(&conditions).unwrap_or_default();
        start_job(
            app,
            Job::Audience,
            blob,
            &definition,
            &options.preview,
            Some(("conditions", json)),
        );
        return;
    }
    match preview_audience(&definition, text.as_bytes(), &conditions, &options) {
        Ok(result) => show_audience(&doc, &result).unwrap_or_else(|e| log_error(&e)),
        Err(e) => set_text(
            &doc,
            "audience-result",
            &format!("Condition {}: {}", e.index + 1, e.message),
        ),
    }
}

/// Takes away an audience answer and its members: they belong to the state counted.
fn clear_audience(doc: &Document) {
    set_text(doc, "audience-result", "");
    if let Ok(list) = by_id::<Element>(doc, "audience-members") {
        clear(&list);
    }
}

fn show_audience(doc: &Document, result: &AudienceResult) -> JsResult {
    let text = format!(
        "{} of {} profiles match.",
        thousands(result.matched),
        thousands(result.total)
    );
    set_text(doc, "audience-result", &text);
    let items: Vec<String> = result.mpids.iter().map(|m| format!("mpid {m}")).collect();
    render::text_list(
        doc,
        &by_id(doc, "audience-members")?,
        &items,
        result.matched,
    )
}

// ---------------------------------------------------------------------------------------
// Share link.

fn share(app: &Shared) {
    let (doc, file) = {
        let a = app.borrow();
        (a.doc.clone(), a.file.clone())
    };
    let has_file = file.is_some();
    let state = current_state(&doc, has_file);
    let fragment = state.to_fragment();
    if fragment.len() > super::share::MAX_FRAGMENT {
        set_value(&doc, "share-url", "");
        set_text(
            &doc,
            "share-status",
            "The definition is too long for a share link.",
        );
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let base = format!(
        "{}{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    let url = format!("{base}#{fragment}");
    // Shown and copied, not put in the address bar: there a reload would bring back this
    // snapshot over later edits.
    set_value(&doc, "share-url", &url);
    let note = match file {
        // Only a file that is not UTF-8 text is kept as a file at this size.
        Some(file) if file.size() <= EDITABLE_FILE_LIMIT => "Link ready (the profiles are a file that is not UTF-8 text, which a link cannot carry; only the definition and the settings are in it).",
        Some(_) => "Link ready (the profiles are a file, too large for a link; only the definition and the settings are in it).",
        None if state.profiles.len() > super::share::MAX_SHARED_PROFILES => "Link ready (the profiles are over 4 KB, too large for a link; only the definition and the settings are in it).",
        None => "Link ready: it holds the definition and the profiles.",
    };
    set_text(&doc, "share-status", note);
    // Without a clipboard (plain http on a LAN host) the link is selected in its box, to
    // copy by hand.
    let made = url.clone();
    copy_to_clipboard(&url, move |copied| {
        if value_of(&doc, "share-url") != made {
            return; // An edit came first: the link is stale and gone from its box.
        }
        if copied {
            set_text(&doc, "share-status", &format!("{note} Copied."));
            return;
        }
        set_text(
            &doc,
            "share-status",
            &format!("{note} Copy it from the box above: this page may not use the clipboard."),
        );
        if let Ok(input) = by_id::<HtmlInputElement>(&doc, "share-url") {
            input.focus().ok();
            input.select();
        }
    });
}
