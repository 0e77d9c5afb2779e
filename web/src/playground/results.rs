//! The preview's results: stats, the searchable and paged group table, and downloads.
//! A preview computed on the page's thread is searched and paged here; one read by the
//! preview worker stays there, which answers each search and page with the rows shown.

use group_identity::preview::Group;
use group_identity::Preview;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, Document, Element, HtmlAnchorElement, HtmlElement, Url};

use super::app::{preview_options, runnable, App, Shared};
use super::audience_panel::attribute_names;
use super::dom::{by_id, clear, log_error, megabytes, set_text, thousands, value_of, JsResult};
use super::enrich::{enrich, OutFormat};
use super::jobs::{ask_group_page, cancel, start_job, Job};
use super::preview::{blocked, job_input, Purpose};
use super::render::{self, PAGE_SIZE};
use super::worker::{GroupPage, HeldPreview};

/// The pause in typing after which the group search runs.
const SEARCH_DELAY_MS: i32 = 200;

/// What the page holds of a preview kept whole in the preview worker: how many keys each
/// group size has, how many groups match the search and the page of them shown.
#[derive(Debug, Default)]
pub(super) struct HeldView {
    sizes: Vec<u64>,
    count: usize,
    rows: Vec<Group>,
    /// The preview job whose worker holds the groups: once another has started, that
    /// worker is gone and nothing can be asked until the new preview comes.
    job: u32,
    /// A search was asked and not answered yet: `count` is still the last search's.
    searching: bool,
}

/// Shows a preview computed on the page's thread (or none), every group with it.
pub(super) fn set_preview(app: &Shared, preview: Option<Preview>) {
    {
        let mut a = app.borrow_mut();
        a.preview = preview;
        a.held = None;
        a.page = 0;
    }
    refilter(app);
    show_preview(app);
}

/// Shows a preview whose groups stay in the preview worker: the page has their sizes and
/// the first page of the search, and asks the worker for any other.
pub(super) fn set_held_preview(app: &Shared, held: HeldPreview) {
    {
        let mut a = app.borrow_mut();
        a.preview = Some(held.preview);
        a.filtered = Vec::new();
        a.page = held.first.page;
        let job = Job::Preview.current(&a);
        a.held = Some(HeldView {
            sizes: held.sizes,
            count: held.first.count,
            rows: held.first.rows,
            job,
            searching: false,
        });
    }
    show_preview(app);
}

/// A page of groups the preview worker answered with.
pub(super) fn show_group_page(app: &Shared, page: GroupPage) {
    {
        let mut a = app.borrow_mut();
        a.page = page.page;
        if let Some(held) = a.held.as_mut() {
            held.count = page.count;
            held.rows = page.rows;
            held.searching = false;
        }
    }
    render_page(app).unwrap_or_else(|e| log_error(&e));
}

fn show_preview(app: &Shared) {
    let doc = app.borrow().doc.clone();
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
        let sizes = match a.held.as_ref() {
            Some(held) => held.sizes.to_vec(),
            None => render::size_counts(&preview.groups).to_vec(),
        };
        render::chart(&doc, &chart, preview, &sizes)?;
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

/// The search as typed, as the worker and `render::matches` take it.
fn needle(doc: &Document) -> String {
    value_of(doc, "group-search").trim().to_lowercase()
}

/// Whether the preview's groups are held in the preview worker.
fn held(app: &Shared) -> bool {
    app.borrow().held.is_some()
}

/// Whether the worker holding the groups shown still answers (no newer preview started).
fn held_live(app: &Shared) -> bool {
    held_stale(&app.borrow()) == Some(false)
}

/// Of a held preview: whether a newer preview job has replaced the worker holding it.
fn held_stale(a: &App) -> Option<bool> {
    let current = Job::Preview.current(a);
    a.held.as_ref().map(|h| h.job != current)
}

/// A search of a held preview is asked: from its first page, with a count unknown until
/// the worker answers.
fn start_held_search(app: &Shared) {
    let mut a = app.borrow_mut();
    a.page = 0;
    if let Some(h) = a.held.as_mut() {
        h.searching = true;
    }
}

fn refilter(app: &Shared) {
    let doc = app.borrow().doc.clone();
    let needle = needle(&doc);
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

/// Asks the preview worker for page `page + step` of the search as typed; the answer
/// is shown when it comes (an older question's answer is dropped).
fn ask(app: &Shared, page: usize, step: i64) {
    let doc = app.borrow().doc.clone();
    ask_group_page(app, &needle(&doc), page, step).unwrap_or_else(|e| log_error(&e));
}

/// The search typed while a background preview was read, when the first page it brought
/// was for another: asked again.
pub(super) fn search_if_changed(app: &Shared, needle_sent: &str) {
    let doc = app.borrow().doc.clone();
    if held(app) && needle(&doc) != needle_sent.trim().to_lowercase() {
        search_now(app);
    }
}

/// A keystroke in the group search: it runs after a pause in typing.
pub(super) fn schedule_search(app: &Shared) {
    app.borrow_mut().search_timer.restart(SEARCH_DELAY_MS);
}

/// Runs the group search now (Enter, a paging button, or the pause after typing).
pub(super) fn search_now(app: &Shared) {
    app.borrow_mut().search_timer.stop();
    if held(app) {
        // Asked again when the new preview comes, if one is being read.
        if held_live(app) {
            start_held_search(app);
            ask(app, 0, 0);
        }
        return;
    }
    refilter(app);
    render_page(app).unwrap_or_else(|e| log_error(&e));
}

/// A paging button: the page before or after, of the search as typed (one still waiting
/// for its pause in typing runs first).
pub(super) fn step_page(app: &Shared, step: i64) {
    let pending = app.borrow().search_timer.is_due();
    if held(app) {
        if !held_live(app) {
            return; // A new preview is being read; its worker has no page to give yet.
        }
        if pending {
            app.borrow_mut().search_timer.stop();
            start_held_search(app);
        }
        let page = {
            let mut a = app.borrow_mut();
            let (count, searching) = a
                .held
                .as_ref()
                .map_or((0, false), |h| (h.count, h.searching));
            a.page = if searching {
                // The new search's count is the worker's to know: it keeps the page within
                // its range, and its answer sets the page shown.
                (a.page as i64 + step).max(0) as usize
            } else {
                let pages = count.div_ceil(PAGE_SIZE).max(1) as i64;
                (a.page as i64 + step).clamp(0, pages - 1) as usize
            };
            a.page
        };
        ask(app, page, 0);
        return;
    }
    if pending {
        search_now(app);
    }
    {
        let mut a = app.borrow_mut();
        let pages = a.filtered.len().div_ceil(PAGE_SIZE).max(1) as i64;
        a.page = (a.page as i64 + step).clamp(0, pages - 1) as usize;
    }
    render_page(app).unwrap_or_else(|e| log_error(&e));
}

pub(super) fn render_page(app: &Shared) -> JsResult {
    let a = app.borrow();
    let doc = &a.doc;
    let tbody = by_id::<Element>(doc, "groups-body")?;
    let Some(preview) = a.preview.as_ref() else {
        clear(&tbody);
        set_paging(doc, true, true);
        return Ok(());
    };
    let count = match a.held.as_ref() {
        Some(held) => {
            render::group_rows(doc, &tbody, held.rows.iter(), "")?;
            held.count
        }
        None => {
            let rows = a
                .filtered
                .iter()
                .skip(a.page * PAGE_SIZE)
                .take(PAGE_SIZE)
                .filter_map(|&i| preview.groups.get(i));
            render::group_rows(doc, &tbody, rows, "")?;
            a.filtered.len()
        }
    };
    let pages = count.div_ceil(PAGE_SIZE).max(1);
    if held_stale(&a) == Some(true) {
        set_text(
            doc,
            "page-info",
            "Reading the new input: paging resumes with its preview.",
        );
        set_paging(doc, true, true);
        return Ok(());
    }
    let info = format!(
        "Page {} of {} ({} groups)",
        thousands(a.page as u64 + 1),
        thousands(pages as u64),
        thousands(count as u64)
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
pub(super) fn save(doc: &Document, content: &JsValue, csv: bool) -> JsResult {
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

pub(super) fn download(app: &Shared, out: OutFormat) {
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
