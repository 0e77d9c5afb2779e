//! Small DOM helpers. Text always goes in through `textContent`, never parsed as HTML.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, EventTarget, HtmlElement, HtmlInputElement};

pub type JsResult<T = ()> = Result<T, JsValue>;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// A freshly created element, configured by chaining.
pub struct El(pub Element);

impl El {
    pub fn new(doc: &Document, tag: &str) -> JsResult<El> {
        Ok(El(doc.create_element(tag)?))
    }

    pub fn svg(doc: &Document, tag: &str) -> JsResult<El> {
        Ok(El(doc.create_element_ns(Some(SVG_NS), tag)?))
    }

    pub fn text(self, text: &str) -> El {
        self.0.set_text_content(Some(text));
        self
    }

    pub fn class(self, class: &str) -> El {
        self.0.set_attribute("class", class).ok();
        self
    }

    pub fn attr(self, name: &str, value: &str) -> JsResult<El> {
        self.0.set_attribute(name, value)?;
        Ok(self)
    }

    pub fn child(self, child: &Element) -> JsResult<El> {
        self.0.append_child(child)?;
        Ok(self)
    }

    pub fn into_el(self) -> Element {
        self.0
    }
}

/// The element with this id, typed.
pub fn by_id<T: JsCast>(doc: &Document, id: &str) -> JsResult<T> {
    doc.get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("the page has no element #{id}")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("#{id} is not the expected kind of element")))
}

/// Removes every child of `el`.
pub fn clear(el: &Element) {
    el.set_text_content(None);
}

/// Listens for `event` for the life of the page (the closure is intentionally leaked: these
/// listeners sit on elements that never go away; rows use delegation instead).
pub fn on<T: AsRef<EventTarget>>(
    target: &T,
    event: &str,
    handler: impl FnMut(Event) + 'static,
) -> JsResult {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    target
        .as_ref()
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())?;
    closure.forget();
    Ok(())
}

/// The element an event started on, if it is an element.
pub fn event_element(event: &Event) -> Option<Element> {
    event.target().and_then(|t| t.dyn_into::<Element>().ok())
}

/// Logs an error to the console without ever showing a secret (callers pass messages only).
pub fn log_error(error: &JsValue) {
    web_sys::console::error_1(error);
}

/// A number with thousands separators, e.g. `1,000,015`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A JSON value as a person reads it: strings without quotes, everything else as JSON.
pub fn show_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `text` to the clipboard, then calls `done(true)`. Where there is none
/// (`navigator.clipboard` is undefined outside secure contexts, and calling it would
/// throw) or the write is refused, `done(false)`: the caller offers the text to copy by
/// hand.
pub fn copy_to_clipboard(text: &str, done: impl FnOnce(bool) + 'static) {
    let navigator = web_sys::window().map(|w| w.navigator()).filter(|n| {
        js_sys::Reflect::get(n, &"clipboard".into())
            .is_ok_and(|c| !c.is_undefined() && !c.is_null())
    });
    let Some(navigator) = navigator else {
        done(false);
        return;
    };
    let promise = navigator.clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move {
        done(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
    });
}

pub fn value_of(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

pub fn set_value(doc: &Document, id: &str, value: &str) {
    if let Some(el) = doc.get_element_by_id(id) {
        Reflect::set(&el, &JsValue::from_str("value"), &JsValue::from_str(value)).ok();
    }
}

pub fn checked(doc: &Document, id: &str) -> bool {
    by_id::<HtmlInputElement>(doc, id).is_ok_and(|el| el.checked())
}

pub fn set_text(doc: &Document, id: &str, text: &str) {
    if let Some(el) = doc.get_element_by_id(id) {
        el.set_text_content(Some(text));
    }
}

pub fn set_hidden(doc: &Document, id: &str, hidden: bool) {
    if let Ok(el) = by_id::<HtmlElement>(doc, id) {
        el.set_hidden(hidden);
    }
}

/// Sets an element's `disabled` property (a form control's, or a fieldset's).
pub fn set_disabled(doc: &Document, id: &str, disabled: bool) {
    if let Some(el) = doc.get_element_by_id(id) {
        Reflect::set(&el, &"disabled".into(), &JsValue::from_bool(disabled)).ok();
    }
}

pub fn focus(doc: &Document, id: &str) {
    if let Ok(el) = by_id::<HtmlElement>(doc, id) {
        el.focus().ok();
    }
}

pub fn megabytes(bytes: f64) -> String {
    if bytes < 1_000_000.0 {
        format!("{:.1} KB", bytes / 1000.0)
    } else {
        format!("{:.1} MB", bytes / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_015), "1,000,015");
    }
}

/// A one-shot timer for work that waits for a pause (in typing, between rewrites): each
/// `restart` moves it to run its closure later, instead of when it was due. It forgets its
/// run itself when the run comes, before calling the closure.
#[derive(Default)]
pub struct Timer {
    /// The pending run's handle, shared with the closure, which clears it as it runs.
    handle: Rc<Cell<Option<i32>>>,
    tick: Option<Closure<dyn FnMut()>>,
}

impl Timer {
    /// What it runs; set once, after the state the closure needs exists.
    pub fn set_tick(&mut self, mut tick: impl FnMut() + 'static) {
        let handle = self.handle.clone();
        self.tick = Some(Closure::new(move || {
            handle.set(None);
            tick();
        }));
    }

    /// Runs the closure `ms` from now (a pending run is dropped).
    pub fn restart(&mut self, ms: i32) {
        self.stop();
        if let (Some(window), Some(tick)) = (web_sys::window(), self.tick.as_ref()) {
            let handle = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    ms,
                )
                .ok();
            self.handle.set(handle);
        }
    }

    /// Drops a pending run, if there is one.
    pub fn stop(&mut self) {
        if let (Some(handle), Some(window)) = (self.handle.take(), web_sys::window()) {
            window.clear_timeout_with_handle(handle);
        }
    }

    /// Whether a run is pending.
    pub fn is_due(&self) -> bool {
        self.handle.get().is_some()
    }
}
