//! The definition: its form, its JSON editor (each follows the other) and its validation.

use std::collections::HashMap;

use group_identity::definition::validate_definition_text;
use group_identity::{GroupDefinition, Issue, Validation};
use js_sys::Reflect;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use super::app::{
    mode_kind, mode_of, runnable, runnable_validated, storage, Shared, STORE_DEFINITION, STORE_MODE,
};
use super::dom::{
    by_id, clear, log_error, set_disabled, set_hidden, set_text, set_value, value_of, El, JsResult,
};
use super::model::{
    apply_fields, container_for, fields_from_value, FormFields, AGGREGATIONS, MAX_ATTRIBUTES,
};
use super::preview::{edited, schedule, Blocked, Purpose};

pub(super) fn read_form(app: &Shared) -> FormFields {
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
pub(super) fn definition_from_form(app: &Shared) {
    let fields = read_form(app);
    write_form(app, &fields, false);
}

/// Applies form fields to the body, the JSON editor and (when rows changed) the rows.
pub(super) fn write_form(app: &Shared, fields: &FormFields, rebuild_rows: bool) {
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
pub(super) fn definition_from_json(app: &Shared, typed: bool) {
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
            // A syntax error is `invalid_json` in every mode.
            let syntax = validate(app)
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
    set_disabled(doc, "def-form-fields", why.is_some());
    set_text(doc, "form-paused", why.unwrap_or_default());
    set_hidden(doc, "form-paused", why.is_none());
}

/// Saves the definition and the mode in this browser (every caller then calls [`edited`],
/// which keeps a share link in the address bar in step).
pub(super) fn persist(doc: &Document) {
    if let Some(s) = storage() {
        s.set_item(STORE_DEFINITION, &value_of(doc, "def-json"))
            .ok();
        s.set_item(STORE_MODE, mode_kind(doc).name()).ok();
    }
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
    set_disabled(&doc, "attr-add", fields.attributes.len() >= MAX_ATTRIBUTES);
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

/// Shows the definition's issues and its SQL; the issues are returned too.
pub(super) fn validate(app: &Shared) -> Validation {
    let (doc, body) = {
        let app = app.borrow();
        (app.doc.clone(), app.body.clone())
    };
    // The text, not the parsed body: a repeated key is seen (`duplicate_field`), issues
    // follow the order written, and a syntax error names its line and column.
    let mode = mode_of(&doc, &body);
    let validation = validate_definition_text(&value_of(&doc, "def-json"), &mode);
    show_sql(
        &doc,
        runnable_validated(&doc, &body, &mode, validation.valid),
    );
    show_issues(&doc, &validation).unwrap_or_else(|e| log_error(&e));
    validation
}

/// The SQL section follows every change of the definition, the mode and the group id.
pub(super) fn refresh_sql(doc: &Document, body: &Value) {
    show_sql(doc, runnable(doc, body));
}

fn show_sql(doc: &Document, definition: Result<GroupDefinition, Blocked>) {
    let result = match definition {
        Ok(definition) => super::sql::render(doc, Ok(&definition)),
        Err(why) => super::sql::render(doc, Err(&why.message(Purpose::Sql))),
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
