//! The playground page: wires the static markup of `index.html` to the engine.
//!
//! State lives in one `App` behind `Rc<RefCell<_>>`; every handler borrows it briefly and
//! never across a call that may re-enter. Small inputs are previewed on the page's thread;
//! files and large pastes go to a background worker that reads them in slices and keeps
//! the groups, sending the page only what it shows (each search and page is asked of it).
//!
//! This module holds the state, the start and the event binding; each part of the page has
//! its own module beside it: `definition_editor`, `preview`, `jobs`, `results`,
//! `audience_panel` and `sharing`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use group_identity::definition::validate_definition_text;
use group_identity::generator::{generate, GeneratorOptions};
use group_identity::{Format, GroupDefinition, Mode, PreviewOptions};
use js_sys::Reflect;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, DragEvent, Element, File, HtmlElement, HtmlInputElement};

use super::audience_panel::{
    condition_edited, conditions_changed, render_conditions, run_audience, ConditionRow,
};
use super::definition_editor::{
    definition_from_form, definition_from_json, persist, read_form, refresh_sql, validate,
    write_form,
};
use super::dom::{
    by_id, checked, event_element, focus, log_error, on, set_hidden, set_text, set_value, value_of,
    JsResult, Timer,
};
use super::enrich::OutFormat;
use super::jobs::{build_file_url, cancel, cancelled, hide_progress, Background, Job};
use super::model::{format_name, parse_format, preview_body, ModeKind, MAX_ATTRIBUTES};
use super::preview::{edited, new_input, run_preview, show_file, use_file, Blocked};
use super::results::{download, schedule_search, search_now, set_preview, step_page, HeldView};
use super::share::SharedState;
use super::sharing::{follow_share_link, link_damaged, share, share_link_stale, state_changed};

/// Files up to this size are read into the editable text box.
pub(super) const EDITABLE_FILE_LIMIT: f64 = 256.0 * 1024.0;
pub(super) const STORE_DEFINITION: &str = "group-identity-playground.definition";
pub(super) const STORE_MODE: &str = "group-identity-playground.mode";
/// What "Detected" says when no profiles were read.
pub(super) const NOT_READ: &str = "not read";

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

pub(super) struct App {
    pub(super) doc: Document,
    pub(super) body: Value,
    pub(super) rows: usize,
    pub(super) file: Option<File>,
    /// The page of groups shown, or asked for and not answered yet.
    pub(super) page: usize,
    /// What the page has of the preview shown; its groups are held here or in the preview
    /// worker.
    pub(super) held: Option<HeldView>,
    /// Bumped for each page of groups asked of the worker; an older answer is dropped.
    pub(super) query: u32,
    pub(super) conditions: Vec<ConditionRow>,
    /// One background worker per kind of job, so that a preview started by an edit does
    /// not cut short a download or an audience count, nor they a preview.
    pub(super) background: [Option<Background>; 3],
    /// The id of each kind's current job; a message from an older one is dropped.
    pub(super) jobs: [u32; 3],
    /// Bumped whenever the profiles change, so a file read that finishes late does not
    /// replace newer input.
    pub(super) inputs: u32,
    /// A preview runs at a pause in the edits.
    pub(super) preview_timer: Timer,
    /// The timer that writes an edit into a share link that the address bar holds, and
    /// when the address was last written (ms since the epoch).
    pub(super) share_timer: Timer,
    pub(super) share_written: f64,
    /// The group search waits for a pause in typing: filtering a million groups at every
    /// key would block the page.
    pub(super) search_timer: Timer,
}

pub(super) type Shared = Rc<RefCell<App>>;

pub(super) fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

pub(super) fn mode_kind(doc: &Document) -> ModeKind {
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
pub(super) fn path_group_id(doc: &Document, body: &Value) -> String {
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

pub(super) fn mode_of(doc: &Document, body: &Value) -> Mode {
    match mode_kind(doc) {
        ModeKind::Create => Mode::Create,
        ModeKind::Update => Mode::Update {
            group_id: path_group_id(doc, body),
        },
        ModeKind::Patch => Mode::Patch,
    }
}

pub(super) fn preview_options(doc: &Document) -> PreviewOptions {
    PreviewOptions {
        format: parse_format(&value_of(doc, "format")),
        normalize_keys: checked(doc, "normalize"),
        ..PreviewOptions::default()
    }
}

/// The definition that drives previews, if the text is valid in the selected mode (the
/// status line's errors block a preview) and holds a whole definition; else why not.
pub(super) fn runnable(doc: &Document, body: &Value) -> Result<GroupDefinition, Blocked> {
    let mode = mode_of(doc, body);
    let valid = validate_definition_text(&value_of(doc, "def-json"), &mode).valid;
    runnable_validated(doc, body, &mode, valid)
}

/// [`runnable`] for a text already validated in `mode` (`valid` is its outcome).
pub(super) fn runnable_validated(
    doc: &Document,
    body: &Value,
    mode: &Mode,
    valid: bool,
) -> Result<GroupDefinition, Blocked> {
    if !valid {
        return Err(Blocked::Invalid);
    }
    let whole = preview_body(body, &path_group_id(doc, body));
    GroupDefinition::from_value(&whole).map_err(|_| {
        if *mode == Mode::Patch {
            Blocked::Patch
        } else if body.is_null() {
            Blocked::Unreadable
        } else if whole.get("id").is_none() {
            Blocked::NoId
        } else {
            Blocked::Invalid
        }
    })
}

pub fn start(doc: Document) -> JsResult {
    let app: Shared = Rc::new(RefCell::new(App {
        doc: doc.clone(),
        body: Value::Null,
        rows: 0,
        file: None,
        page: 0,
        held: None,
        query: 0,
        conditions: vec![ConditionRow {
            operator: "=".into(),
            ..ConditionRow::default()
        }],
        background: [None, None, None],
        jobs: [0; 3],
        inputs: 0,
        preview_timer: Timer::default(),
        share_timer: Timer::default(),
        share_written: 0.0,
        search_timer: Timer::default(),
    }));
    let tick_app = app.clone();
    app.borrow_mut()
        .preview_timer
        .set_tick(move || run_preview(&tick_app));
    let share_app = app.clone();
    app.borrow_mut()
        .share_timer
        .set_tick(move || follow_share_link(&share_app));
    let search_app = app.clone();
    app.borrow_mut()
        .search_timer
        .set_tick(move || search_now(&search_app));

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
                share_link_stale(&a.borrow().doc.clone());
                definition_from_json(&a, false);
            } else if hash.starts_with(&format!("#{}", super::share::FRAGMENT_KEY)) {
                // As a fresh load says; the page keeps what it shows.
                let doc = a.borrow().doc.clone();
                set_value(&doc, "share-url", "");
                link_damaged(&doc, "the page keeps what it had");
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
        link_damaged(&doc, "this is your last definition");
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
        state_changed(&a);
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
            step_page(&a, step);
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
