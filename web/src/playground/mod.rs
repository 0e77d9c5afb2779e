//! The playground page driver and the documentation embed (compiled with the `playground`
//! feature only). `index.html` holds the static markup; [`app`] wires it to the engine,
//! [`worker`] is what the background worker script calls, [`embed`] renders the small live
//! examples of documentation pages. Profile data only ever reaches the page as text nodes.

mod api;
mod app;
mod audience_panel;
mod definition_editor;
mod dom;
mod embed;
mod enrich;
mod jobs;
mod model;
mod preview;
mod render;
mod results;
mod share;
mod sharing;
mod sql;
mod worker;

use wasm_bindgen::prelude::*;

/// Starts the playground on a page that has its markup (`#playground`); elsewhere it does
/// nothing, so the same module can serve the worker and the embed.
#[wasm_bindgen(js_name = startPlayground)]
pub fn start_playground() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return Ok(());
    };
    if document.get_element_by_id("playground").is_none() {
        return Ok(());
    }
    app::start(document)
}

/// Turns every `<div data-group-identity-example>` of the page into a live example.
#[wasm_bindgen(js_name = mountExamples)]
pub fn mount_examples() -> Result<u32, JsValue> {
    console_error_panic_hook::set_once();
    embed::mount_all()
}
