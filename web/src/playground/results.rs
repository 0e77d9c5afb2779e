//! The preview's results: stats, the searchable and paged group table, and downloads.
//! Every search and page comes from a `worker::Held` preview: kept here for one computed
//! on the page's thread, in the preview worker for one it read, which answers each search
//! and page with the rows shown.

use group_identity::Preview;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, Document, Element, HtmlAnchorElement, HtmlElement, Url};

use super::app::{preview_options, runnable, App, Shared};
use super::audience_panel::attribute_names;
use super::dom::{
    by_id, clear, log_error, megabytes, set_disabled, set_text, thousands, value_of, JsResult,
};
use super::enrich::{enrich, OutFormat};
use super::jobs::{ask_group_page, cancel, start_job, Job};
use super::preview::{job_input, Purpose};
use super::render::{self, PAGE_SIZE};
use super::worker::{GroupPage, Held, HeldPreview};

/// The pause in typing after which the group search runs.
const SEARCH_DELAY_MS: i32 = 200;

/// What the page holds of the preview shown, and where its groups are.
#[derive(Debug)]
pub(super) struct HeldView {
    /// The preview without its groups, their sizes, and (as `first`) the page of the
    /// search shown: each answer to a search or a page replaces it.
    shown: HeldPreview,
    holder: Holder,
}

/// Where the groups of the preview shown are held.
#[derive(Debug)]
enum Holder {
    /// Here: the preview was computed on the page's thread.
    Page(Held),
    /// In the worker of this preview job: once another has started, that worker is gone
    /// and nothing can be asked until the new preview comes.
    Worker(u32),
}

/// Shows a preview computed on the page's thread (or none), its groups held here.
pub(super) fn set_preview(app: &Shared, preview: Option<Preview>) {
    let Some(preview) = preview else {
        {
            let mut a = app.borrow_mut();
            a.held = None;
            a.page = 0;
        }
        show_preview(app);
        return;
    };
    let doc = app.borrow().doc.clone();
    let (held, shown) = Held::new(preview, &search_key(&doc));
    show_held(app, shown, Holder::Page(held));
}

/// Shows a preview whose groups stay in the preview worker: the page has their sizes and
/// the first page of the search, and asks the worker for any other.
pub(super) fn set_held_preview(app: &Shared, held: HeldPreview) {
    let job = Job::Preview.current(&app.borrow());
    show_held(app, held, Holder::Worker(job));
}

fn show_held(app: &Shared, shown: HeldPreview, holder: Holder) {
    {
        let mut a = app.borrow_mut();
        a.page = shown.first.page;
        a.held = Some(HeldView { shown, holder });
    }
    show_preview(app);
}

/// A page of groups, as the holder of the groups answered (the page it says is shown).
pub(super) fn show_group_page(app: &Shared, page: GroupPage) {
    {
        let mut a = app.borrow_mut();
        a.page = page.page;
        if let Some(held) = a.held.as_mut() {
            held.shown.first = page;
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
        let Some(held) = a.held.as_ref() else {
            clear(&stats);
            clear(&chart);
            for id in lists {
                clear(&by_id::<Element>(&doc, id)?);
            }
            set_text(&doc, "page-info", "");
            set_text(&doc, "diag-more", "");
            return Ok(());
        };
        let preview = &held.shown.preview;
        render::stats(&doc, &stats, preview)?;
        render::chart(&doc, &chart, preview, &held.shown.sizes)?;
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

/// The search as typed, as the holder of the groups takes it.
pub(super) fn search_key(doc: &Document) -> String {
    render::search_key(&value_of(doc, "group-search"))
}

/// Whether the groups shown can be searched and paged: they are held here, or by the
/// worker of the current preview job (a newer preview replaces that worker).
fn askable(a: &App) -> bool {
    match a.held.as_ref().map(|h| &h.holder) {
        Some(Holder::Page(_)) => true,
        Some(Holder::Worker(job)) => *job == Job::Preview.current(a),
        None => false,
    }
}

/// Shows page `page` of the search as typed, or the last there is when it is past them:
/// at once for groups held here, else when the preview worker answers (an older
/// question's answer is dropped).
fn ask(app: &Shared, page: usize) {
    let doc = app.borrow().doc.clone();
    let needle = search_key(&doc);
    let answer = match app.borrow_mut().held.as_mut().map(|h| &mut h.holder) {
        Some(Holder::Page(held)) => Some(held.page(&needle, page)),
        _ => None,
    };
    match answer {
        Some(rows) => show_group_page(app, rows),
        None => ask_group_page(app, &needle, page).unwrap_or_else(|e| log_error(&e)),
    }
}

/// The search typed while a background preview was read, when the first page it brought
/// was for another (`needle_sent`, a search key): asked again.
pub(super) fn search_if_changed(app: &Shared, needle_sent: &str) {
    let doc = app.borrow().doc.clone();
    if search_key(&doc) != needle_sent {
        search_now(app);
    }
}

/// A keystroke in the group search: it runs after a pause in typing.
pub(super) fn schedule_search(app: &Shared) {
    app.borrow_mut().search_timer.restart(SEARCH_DELAY_MS);
}

/// Runs the group search now (Enter, a paging button, or the pause after typing), from
/// its first page; the count is the holder's to know. Asked again when the new preview
/// comes, if one is being read.
pub(super) fn search_now(app: &Shared) {
    {
        let mut a = app.borrow_mut();
        a.search_timer.stop();
        if !askable(&a) {
            return;
        }
        a.page = 0;
    }
    ask(app, 0);
}

/// A paging button: the page before or after, of the search as typed (one still waiting
/// for its pause in typing runs first, so the step is from its first page: the holder of
/// the groups keeps the page within that search's pages).
pub(super) fn step_page(app: &Shared, step: i64) {
    let page = {
        let mut a = app.borrow_mut();
        if !askable(&a) {
            return; // A new preview is being read; its worker has no page to give yet.
        }
        if a.search_timer.is_due() {
            a.search_timer.stop();
            a.page = 0;
        }
        a.page = (a.page as i64).saturating_add(step).max(0) as usize;
        a.page
    };
    ask(app, page);
}

pub(super) fn render_page(app: &Shared) -> JsResult {
    let a = app.borrow();
    let doc = &a.doc;
    let tbody = by_id::<Element>(doc, "groups-body")?;
    let Some(held) = a.held.as_ref() else {
        clear(&tbody);
        set_paging(doc, true, true);
        return Ok(());
    };
    let shown = &held.shown.first;
    render::group_rows(doc, &tbody, shown.rows.iter(), "")?;
    if !askable(&a) {
        set_text(
            doc,
            "page-info",
            "Reading the new input: paging resumes with its preview.",
        );
        set_paging(doc, true, true);
        return Ok(());
    }
    let pages = shown.count.div_ceil(PAGE_SIZE).max(1);
    let info = format!(
        "Page {} of {} ({} groups)",
        thousands(a.page as u64 + 1),
        thousands(pages as u64),
        thousands(shown.count as u64)
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
        set_disabled(doc, id, disabled);
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
    let definition = match runnable(&doc, &body) {
        Ok(definition) => definition,
        Err(why) => {
            set_text(&doc, "dl-status", &why.message(Purpose::Download));
            return;
        }
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
