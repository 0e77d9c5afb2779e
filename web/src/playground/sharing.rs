//! The page's side of the share link (its format is in `share`): the link a button makes,
//! and the one in the address bar, kept in step with edits.

use wasm_bindgen::prelude::*;
use web_sys::{Document, HtmlInputElement, Location};

use super::app::{mode_kind, Shared, EDITABLE_FILE_LIMIT};
use super::definition_editor::persist;
use super::dom::{by_id, checked, copy_to_clipboard, set_text, set_value, value_of};
use super::share::{SharedState, MAX_SHARED_PROFILES};

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
pub(super) fn follow_share_link(app: &Shared) {
    let (doc, has_file) = {
        let mut a = app.borrow_mut();
        a.share_written = js_sys::Date::now();
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
        && state.profiles.len() <= MAX_SHARED_PROFILES
        && fragment.len() <= super::share::MAX_FRAGMENT;
    let url = page_url(&location, fits.then_some(fragment.as_str()));
    let written = window
        .history()
        .and_then(|history| history.replace_state_with_url(&JsValue::NULL, "", Some(&url)));
    if written.is_err() {
        // Refused (Safari allows 100 rewrites in 30 s): the address still holds an older
        // state, which a reload would bring back over the edits. Try again later.
        request_share_link(app);
    }
}

/// The shortest time between two rewrites of the address bar: browsers limit how often a
/// page may rewrite it (Safari throws past 100 in 30 s, Chromium drops calls past about
/// 200 in 10 s), and a dropped rewrite would leave an older state for a reload to bring
/// back. Under both limits, and short enough that a reload rarely comes first.
const SHARE_REWRITE_GAP_MS: f64 = 350.0;

/// Asks for the state to be written into a share link in the address bar (if it holds
/// one): after a pause of 150 ms in the edits, and at most once a `SHARE_REWRITE_GAP_MS`.
pub(super) fn request_share_link(app: &Shared) {
    let mut a = app.borrow_mut();
    // Never below 0: a clock set back must not stretch the wait.
    let since = (js_sys::Date::now() - a.share_written).max(0.0);
    let wait = (SHARE_REWRITE_GAP_MS - since).max(150.0);
    a.share_timer.restart(wait as i32);
}

/// Anything a share link holds changed: a link copied before goes stale, and the one in
/// the address bar (if it holds one) follows.
pub(super) fn state_changed(app: &Shared) {
    let doc = app.borrow().doc.clone();
    share_link_stale(&doc);
    request_share_link(app);
}

/// Says that the share link in the address bar could not be read, and `kept`: what the
/// page shows instead.
pub(super) fn link_damaged(doc: &Document, kept: &str) {
    set_text(
        doc,
        "share-status",
        &format!(
            "The share link could not be read (damaged, or longer than a link may be); {kept}."
        ),
    );
}

/// The page's address from its path on (path and query), with `fragment` after a `#`.
fn page_url(location: &Location, fragment: Option<&str>) -> String {
    let mut url = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if let Some(fragment) = fragment {
        url = format!("{url}#{fragment}");
    }
    url
}

/// A link made with "Copy share link" is for the state it was made in: after an edit it
/// goes from its box, with a note, instead of standing there as if it were current.
pub(super) fn share_link_stale(doc: &Document) {
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

pub(super) fn share(app: &Shared) {
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
    let url = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        page_url(&location, Some(&fragment))
    );
    // Shown and copied, not put in the address bar: there a reload would bring back this
    // snapshot over later edits.
    set_value(&doc, "share-url", &url);
    let note = match file {
        // Only a file that is not UTF-8 text is kept as a file at this size.
        Some(file) if file.size() <= EDITABLE_FILE_LIMIT => "Link ready (the profiles are a file that is not UTF-8 text, which a link cannot carry; only the definition and the settings are in it).".to_string(),
        Some(_) => "Link ready (the profiles are a file, too large for a link; only the definition and the settings are in it).".to_string(),
        None if state.profiles.len() > MAX_SHARED_PROFILES => format!(
            "Link ready (the profiles are over {} KB, too large for a link; only the definition and the settings are in it).",
            MAX_SHARED_PROFILES / 1024
        ),
        None => "Link ready: it holds the definition and the profiles.".to_string(),
    };
    set_text(&doc, "share-status", &note);
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
