//! Profiles and the preview: an edit schedules one, a picked file is taken in, and what a
//! preview, count or download needs before it can run.

use group_identity::{preview_groups, Format, GroupDefinition, PreviewOptions};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, Document, File};

use super::app::{preview_options, runnable, Shared, EDITABLE_FILE_LIMIT, NOT_READ};
use super::audience_panel::{answer_outdated, clear_audience};
use super::dom::{log_error, megabytes, set_hidden, set_text, set_value, value_of, JsResult};
use super::jobs::{cancel, hide_progress, start_job, Job};
use super::model::{decode_utf16, detect_format, format_label, wide_bom, wide_encoding_message};
use super::results::{render_page, search_key, set_preview};
use super::sharing::{request_share_link, share_link_stale, state_changed};

/// Pasted text up to this size is previewed on the page's thread; larger goes to the worker.
const SYNC_LIMIT: usize = 2 << 20;

/// The user changed what a preview depends on: a share link leaves the address bar, a
/// count still running for the old state stops (its answer, shown beside the new state,
/// would be for the old one), and a new preview is scheduled. A download goes on: the file
/// asked for is the one of the state it was asked in.
pub(super) fn edited(app: &Shared) {
    state_changed(app);
    answer_outdated(app, "the definition or the options changed");
    schedule(app);
}

pub(super) fn schedule(app: &Shared) {
    app.borrow_mut().preview_timer.restart(150);
}

pub(super) fn show_file(doc: &Document, file: Option<&File>) {
    set_hidden(doc, "file-info", file.is_none());
    set_hidden(doc, "profiles-text", file.is_some());
    if let Some(file) = file {
        let text = format!("File: {} ({})", file.name(), megabytes(file.size()));
        set_text(doc, "file-name", &text);
    }
}

/// A picked or dropped file: small ones become editable text, the rest stay in the file.
pub(super) fn use_file(app: &Shared, file: File) {
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
        request_share_link(&a);
        run_preview(&a);
    });
}

/// What needs a runnable definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
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

/// Why a definition cannot be previewed, counted, downloaded or compiled to SQL (see
/// [`runnable`](super::app::runnable)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Blocked {
    /// The text has errors in the selected mode, or is no definition for another reason.
    Invalid,
    /// Set attributes mode: the body is the attributes only.
    Patch,
    /// Valid, yet not read into the form: a number past a double's range (`1e400`).
    Unreadable,
    /// Update leaves the id to the path, and the path's field is empty.
    NoId,
}

impl Blocked {
    /// What is actually missing, not "errors" for a definition the status line calls
    /// valid.
    pub(super) fn message(self, purpose: Purpose) -> String {
        let goal = purpose.goal();
        match self {
            Blocked::Invalid => format!("Fix the definition's errors {goal}."),
            Blocked::Patch => format!(
                "Set attributes sends only the attributes, and {} needs a whole definition (its id and source attribute as well): choose create or update mode {goal}.",
                purpose.noun()
            ),
            Blocked::Unreadable => format!("The definition holds a number no double can hold (such as 1e400): the API takes it, but the playground cannot use it. Remove that number {goal}."),
            Blocked::NoId => format!("The definition leaves its id to the path, and the path has no group id: type it in \"Group id in the path\" {goal}."),
        }
    }
}

pub(super) fn run_preview(app: &Shared) {
    let (doc, body, file) = {
        let app = app.borrow();
        (app.doc.clone(), app.body.clone(), app.file.clone())
    };
    cancel(app, Job::Preview);
    hide_progress(&doc);
    let definition = match runnable(&doc, &body) {
        Ok(definition) => definition,
        Err(why) => {
            // The groups shown were for a definition that is no longer the one written.
            set_preview(app, None);
            set_text(&doc, "results-status", &why.message(Purpose::Preview));
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
        }
    };
    let options = preview_options(&doc);
    if let Some(file) = file {
        set_text(&doc, "format-detected", "reading...");
        start_preview(app, file.into(), &definition, &options);
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
            Ok(blob) => start_preview(app, blob, &definition, &options),
            Err(e) => log_error(&e),
        }
        return;
    }
    let preview = preview_groups(&definition, text.as_bytes(), &options);
    set_preview(app, Some(preview));
}

/// Reads `blob` in the preview worker, its first page of groups of the search typed.
fn start_preview(app: &Shared, blob: Blob, definition: &GroupDefinition, options: &PreviewOptions) {
    let doc = app.borrow().doc.clone();
    let needle = Some(("needle", search_key(&doc)));
    start_job(app, Job::Preview, blob, definition, options, needle);
    // Groups still shown from the previous worker can no longer be paged: say so.
    render_page(app).unwrap_or_else(|e| log_error(&e));
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
pub(super) fn job_input(doc: &Document, file: Option<File>) -> (String, Option<Blob>) {
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

/// Profiles changed: the new input's number.
/// A count or download over the old profiles stops (its answer would be for them); a
/// preview follows the new ones by itself.
pub(super) fn new_input(app: &Shared) -> u32 {
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
