//! The audience panel: conditions on the profiles, and a count of those that match.

use group_identity::audience::AudienceResult;
use group_identity::{preview_audience, AudienceOptions, Condition};
use js_sys::Reflect;
use web_sys::{Document, Element, Event};

use super::app::{preview_options, runnable, Shared};
use super::dom::{by_id, clear, event_element, log_error, set_text, thousands, El, JsResult};
use super::jobs::{cancel, start_job, Job};
use super::model::condition_value;
use super::preview::{job_input, Purpose};
use super::render;

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

#[derive(Clone, Debug, Default)]
pub(super) struct ConditionRow {
    pub(super) attribute: String,
    pub(super) operator: String,
    pub(super) value: String,
}

pub(super) fn attribute_names(app: &Shared) -> JsResult {
    let a = app.borrow();
    let list = by_id::<Element>(&a.doc, "attr-names")?;
    clear(&list);
    let mut names: Vec<String> = Vec::new();
    if let Ok(def) = runnable(&a.doc, &a.body) {
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

pub(super) fn render_conditions(app: &Shared) -> JsResult {
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

pub(super) fn condition_edited(app: &Shared, event: &Event) {
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
pub(super) fn conditions_changed(app: &Shared) {
    answer_outdated(app, "the conditions changed");
}

/// An audience answer shown, or a count still running, is for a state that is gone: it
/// goes, and a count stopped says `why`.
pub(super) fn answer_outdated(app: &Shared, why: &str) {
    let doc = app.borrow().doc.clone();
    let stopped = cancel(app, Job::Audience);
    clear_audience(&doc);
    if stopped {
        set_text(
            &doc,
            Job::Audience.status(),
            &format!("Stopped: {why}. Count again for the new ones."),
        );
    }
}

pub(super) fn conditions(app: &Shared) -> Vec<Condition> {
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

pub(super) fn run_audience(app: &Shared) {
    let (doc, body, file) = {
        let a = app.borrow();
        (a.doc.clone(), a.body.clone(), a.file.clone())
    };
    clear_audience(&doc);
    let definition = match runnable(&doc, &body) {
        Ok(definition) => definition,
        Err(why) => {
            set_text(&doc, "audience-result", &why.message(Purpose::Audience));
            return;
        }
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
pub(super) fn clear_audience(doc: &Document) {
    set_text(doc, "audience-result", "");
    if let Ok(list) = by_id::<Element>(doc, "audience-members") {
        clear(&list);
    }
}

pub(super) fn show_audience(doc: &Document, result: &AudienceResult) -> JsResult {
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
