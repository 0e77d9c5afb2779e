//! Background jobs (the worker's side is in `worker`): one worker per kind of job, its
//! messages, its Cancel button and its failures.

use group_identity::audience::AudienceResult;
use group_identity::{GroupDefinition, PreviewOptions};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::{
    Blob, Document, Event, HtmlElement, HtmlProgressElement, MessageEvent, Worker, WorkerOptions,
    WorkerType,
};

use super::app::{App, Shared, NOT_READ};
use super::audience_panel::{clear_audience, show_audience};
use super::dom::{by_id, focus, log_error, megabytes, set_hidden, set_text, JsResult};
use super::model::format_label;
use super::results::{save, search_if_changed, set_held_preview, set_preview, show_group_page};
use super::worker::{GroupPage, HeldPreview};

/// The kinds of background job; each has its own worker, id and status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Job {
    Preview,
    Audience,
    Enrich,
}

impl Job {
    pub(super) const ALL: [Job; 3] = [Job::Preview, Job::Audience, Job::Enrich];

    fn index(self) -> usize {
        self as usize
    }

    /// The id of this kind's current job (a message of another is dropped).
    pub(super) fn current(self, app: &App) -> u32 {
        app.jobs.get(self.index()).copied().unwrap_or(0)
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
    pub(super) fn status(self) -> &'static str {
        match self {
            Job::Preview => "results-status",
            Job::Audience => "audience-result",
            Job::Enrich => "dl-status",
        }
    }
}

/// A worker with its handlers, which live exactly as long as it does.
pub(super) struct Background {
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

/// Hides the progress box; the focus, when one of its controls held it, goes back to where
/// files are chosen rather than to the page itself.
pub(super) fn hide_progress(doc: &Document) {
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

/// Stops a kind's job, if one runs. Never called from that kind's own handlers, which run
/// inside the worker's closures.
/// True when one was running.
pub(super) fn cancel(app: &Shared, job: Job) -> bool {
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
pub(super) fn cancelled(app: &Shared, job: Job) {
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
/// inside the worker's own handler, which is running: just after it. (A finished preview
/// is not such a message: its worker keeps the groups and answers the page's searches
/// until the next preview, Cancel or failure replaces it.)
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
    pub(super) fn build_file_url(name: &str) -> String;
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
pub(super) fn start_job(
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

/// Asks the preview worker, which holds the groups of the preview shown, for page `page`
/// of those matching `needle` (a search key): it keeps the page within the pages there
/// are. Its answer comes as a `page` message; one to an older question is dropped.
pub(super) fn ask_group_page(app: &Shared, needle: &str, page: usize) -> JsResult {
    let (worker, id, query) = {
        let mut a = app.borrow_mut();
        a.query = a.query.wrapping_add(1);
        let worker = a
            .background
            .get(Job::Preview.index())
            .and_then(Option::as_ref)
            .map(|b| b.worker.clone());
        let id = Job::Preview.current(&a);
        (worker, id, a.query)
    };
    // No worker: the preview shown went with it (a Cancel or a failure).
    let Some(worker) = worker else {
        return Ok(());
    };
    let message = js_sys::Object::new();
    Reflect::set(&message, &"type".into(), &"page".into())?;
    Reflect::set(&message, &"id".into(), &JsValue::from(id))?;
    Reflect::set(&message, &"query".into(), &JsValue::from(query))?;
    Reflect::set(&message, &"needle".into(), &needle.into())?;
    Reflect::set(&message, &"page".into(), &JsValue::from(page as f64))?;
    worker.post_message(&message)
}

fn field(data: &JsValue, name: &str) -> JsValue {
    Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn on_worker_message(app: &Shared, job: Job, data: &JsValue) -> JsResult {
    let doc = app.borrow().doc.clone();
    let id = field(data, "id").as_f64().unwrap_or(-1.0);
    let current = job.current(&app.borrow());
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
            hide_progress(&doc);
            let json = field(data, "json").as_string().unwrap_or_default();
            match serde_json::from_str::<HeldPreview>(&json) {
                Ok(held) => {
                    set_text(&doc, "format-detected", format_label(held.preview.format));
                    set_held_preview(app, held);
                    let needle = field(data, "needle").as_string().unwrap_or_default();
                    search_if_changed(app, &needle);
                }
                Err(e) => set_text(&doc, "results-status", &format!("Unreadable result: {e}")),
            }
        }
        "page" => {
            let query = field(data, "query").as_f64().unwrap_or(-1.0);
            if query != f64::from(app.borrow().query) {
                return Ok(()); // An answer to a search or a page asked before the last.
            }
            let json = field(data, "json").as_string().unwrap_or_default();
            match serde_json::from_str::<GroupPage>(&json) {
                Ok(page) => show_group_page(app, page),
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
