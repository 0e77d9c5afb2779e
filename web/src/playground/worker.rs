//! What the playground's background worker (`www/worker.js`) calls, each fed one file
//! slice at a time: a preview, kept whole in the worker while the page asks it for the
//! page of groups it shows; an audience count (two passes) that hands back one JSON text
//! (cheap to post to the page); and the enriched download (two passes), written slice by
//! slice.

use group_identity::preview::Group;
use group_identity::{
    AudienceOptions, AudienceSession, Condition, GroupDefinition, Preview, PreviewOptions,
    PreviewSession,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::enrich::{Enricher, OutFormat};
use super::render::{self, PAGE_SIZE};

/// One page of the groups that match a search, as the worker sends it to the page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct GroupPage {
    /// How many groups match the search.
    pub(super) count: usize,
    /// The page shown (from 0), within the pages there are.
    pub(super) page: usize,
    pub(super) rows: Vec<Group>,
}

/// What the page shows of a [`Held`] preview: everything but the groups (whose lists are
/// already capped), how many keys each group size has (for the chart) and the first page
/// of the search typed. The worker sends it to the page; a preview computed on the page's
/// thread is shown from one too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct HeldPreview {
    pub(super) preview: Preview,
    pub(super) sizes: [u64; 11],
    pub(super) first: GroupPage,
}

/// A finished preview's groups with those of the last search, so that paging through one
/// search does not filter every group again. Held by the preview worker for a preview it
/// read, by the page for one computed on its thread: either way every search and page of
/// groups comes from here.
#[derive(Debug, Default)]
pub(super) struct Held {
    groups: Vec<Group>,
    needle: String,
    matching: Vec<usize>,
}

impl Held {
    /// The preview's groups held, and what the page shows of it: its first page of the
    /// groups matching `needle` (a [`render::search_key`]).
    pub(super) fn new(mut preview: Preview, needle: &str) -> (Held, HeldPreview) {
        let groups = std::mem::take(&mut preview.groups);
        let sizes = render::size_counts(&groups);
        let mut held = Held {
            matching: (0..groups.len()).collect(),
            groups,
            needle: String::new(),
        };
        let first = held.page(needle, 0);
        let summary = HeldPreview {
            preview,
            sizes,
            first,
        };
        (held, summary)
    }

    /// Page `page` of the groups matching `needle` (a [`render::search_key`]), or the last
    /// there is when it is past them.
    pub(super) fn page(&mut self, needle: &str, page: usize) -> GroupPage {
        if needle != self.needle {
            self.matching = self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| render::matches(g, needle))
                .map(|(i, _)| i)
                .collect();
            self.needle = needle.to_string();
        }
        let count = self.matching.len();
        let page = page.min(count.div_ceil(PAGE_SIZE).max(1) - 1);
        let rows = self
            .matching
            .iter()
            .skip(page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .filter_map(|&i| self.groups.get(i))
            .cloned()
            .collect();
        GroupPage { count, page, rows }
    }
}

fn definition(json: &str) -> Result<GroupDefinition, JsValue> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| JsValue::from_str(&format!("definition: {e}")))?;
    GroupDefinition::from_value(&value).map_err(|issues| {
        let messages: Vec<String> = issues
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect();
        JsValue::from_str(&format!("invalid definition: {}", messages.join("; ")))
    })
}

fn options<T: serde::de::DeserializeOwned + Default>(json: &str) -> Result<T, JsValue> {
    if json.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(json).map_err(|e| JsValue::from_str(&format!("options: {e}")))
}

/// A session's result as JSON text (cheap to post to the page); a session finishes once.
fn finish_once<S, T: serde::Serialize>(
    session: &mut Option<S>,
    finish: impl FnOnce(S) -> T,
) -> Result<String, JsValue> {
    let session = session
        .take()
        .ok_or_else(|| JsValue::from_str("this session has already finished"))?;
    to_json(&finish(session))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// A [`PreviewSession`] fed by the worker one file slice at a time.
#[wasm_bindgen(js_name = PlaygroundSession)]
pub struct PlaygroundSession {
    inner: Option<PreviewSession>,
    held: Option<Held>,
}

#[wasm_bindgen(js_class = PlaygroundSession)]
impl PlaygroundSession {
    #[wasm_bindgen(constructor)]
    pub fn new(definition_json: &str, options_json: &str) -> Result<PlaygroundSession, JsValue> {
        let definition = definition(definition_json)?;
        let options: PreviewOptions = options(options_json)?;
        Ok(PlaygroundSession {
            inner: Some(PreviewSession::new(&definition, &options)),
            held: None,
        })
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(session) = self.inner.as_mut() {
            session.push(chunk);
        }
    }

    #[wasm_bindgen(js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |s| s.bytes_read() as f64)
    }

    /// Finishes the preview and keeps it here: the JSON text of a [`HeldPreview`], whose
    /// first page is of the groups matching `needle` (a search key, as for `page`). Once.
    #[wasm_bindgen(js_name = finishHeld)]
    pub fn finish_held(&mut self, needle: &str) -> Result<String, JsValue> {
        finish_once(&mut self.inner, |session| {
            let (held, summary) = Held::new(session.finish(), needle);
            self.held = Some(held);
            summary
        })
    }

    /// Page `page` of the held preview's groups matching `needle` (a search key, as
    /// `render::search_key` gives), or the last there is when it is past them: the JSON
    /// text of a [`GroupPage`], which says the page it is.
    pub fn page(&mut self, needle: &str, page: f64) -> Result<String, JsValue> {
        let held = self
            .held
            .as_mut()
            .ok_or_else(|| JsValue::from_str("no preview is held"))?;
        to_json(&held.page(needle, page as usize))
    }
}

/// An [`AudienceSession`] fed by the worker one file slice at a time, over two passes.
#[wasm_bindgen(js_name = PlaygroundAudience)]
pub struct PlaygroundAudience {
    inner: Option<AudienceSession>,
}

#[wasm_bindgen(js_class = PlaygroundAudience)]
impl PlaygroundAudience {
    #[wasm_bindgen(constructor)]
    pub fn new(
        definition_json: &str,
        conditions_json: &str,
        options_json: &str,
    ) -> Result<PlaygroundAudience, JsValue> {
        let definition = definition(definition_json)?;
        let conditions: Vec<Condition> = serde_json::from_str(conditions_json)
            .map_err(|e| JsValue::from_str(&format!("conditions: {e}")))?;
        let options: AudienceOptions = options(options_json)?;
        let session = AudienceSession::new(&definition, &conditions, &options)
            .map_err(|e| JsValue::from_str(&format!("condition {}: {}", e.index + 1, e.message)))?;
        Ok(PlaygroundAudience {
            inner: Some(session),
        })
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(session) = self.inner.as_mut() {
            session.push(chunk);
        }
    }

    /// After the whole input once: push it again from the start.
    #[wasm_bindgen(js_name = secondPass)]
    pub fn second_pass(&mut self) {
        if let Some(session) = self.inner.as_mut() {
            session.second_pass();
        }
    }

    /// The result as JSON text; once.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        finish_once(&mut self.inner, AudienceSession::finish)
    }
}

/// The enriched download of a file, fed by the worker one slice at a time over two
/// passes; each slice of the second gives its part of the text.
#[wasm_bindgen(js_name = PlaygroundEnrich)]
pub struct PlaygroundEnrich {
    inner: Enricher,
}

#[wasm_bindgen(js_class = PlaygroundEnrich)]
impl PlaygroundEnrich {
    /// `out_format`: `csv` or `ndjson`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        definition_json: &str,
        options_json: &str,
        out_format: &str,
    ) -> Result<PlaygroundEnrich, JsValue> {
        let definition = definition(definition_json)?;
        let options: PreviewOptions = options(options_json)?;
        let out = if out_format == "csv" {
            OutFormat::Csv
        } else {
            OutFormat::Ndjson
        };
        Ok(PlaygroundEnrich {
            inner: Enricher::new(&definition, &options, out),
        })
    }

    /// Nothing in the first pass; the text of the profiles read in the second.
    pub fn push(&mut self, chunk: &[u8]) -> String {
        self.inner.push(chunk)
    }

    /// After the whole input once: push it again from the start.
    #[wasm_bindgen(js_name = secondPass)]
    pub fn second_pass(&mut self) {
        self.inner.second_pass();
    }

    /// The last part of the text.
    pub fn finish(&mut self) -> String {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use group_identity::preview_groups;

    fn held(profiles: usize) -> (Held, HeldPreview) {
        let definition = definition(
            r#"{"id":"household","source_user_attribute":"$address",
                "attributes":[{"id":"has_dog","type":"boolean_or"}]}"#,
        )
        .unwrap_or_else(|_| panic!("definition"));
        let mut csv = String::from("mpid,$address,has_dog\n");
        for i in 0..profiles {
            csv.push_str(&format!("{i},{} Main Street,{}\n", i / 2, i % 3 == 0));
        }
        Held::new(
            preview_groups(&definition, csv.as_bytes(), &PreviewOptions::default()),
            "",
        )
    }

    #[test]
    fn the_page_gets_no_groups_but_their_sizes() {
        let (held, summary) = held(100);
        assert!(summary.preview.groups.is_empty());
        assert_eq!(summary.preview.stats.groups, 50);
        assert_eq!(held.groups.len(), 50);
        assert_eq!(summary.sizes.get(2), Some(&50));
        let json = serde_json::to_string(&summary).unwrap_or_default();
        let back: HeldPreview = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, summary);
    }

    #[test]
    fn pages_are_of_the_search_and_kept_within_range() {
        let (mut held, summary) = held(100);
        let first = summary.first;
        assert_eq!(
            (first.count, first.page, first.rows.len()),
            (50, 0, PAGE_SIZE)
        );
        let last = held.page("", 5);
        assert_eq!((last.page, last.rows.len()), (1, 25));
        assert_eq!(held.page("", 0).page, 0);
        let found = held.page(&render::search_key("  17 MAIN "), 1);
        assert_eq!((found.count, found.page), (1, 0));
        assert_eq!(
            found.rows.first().map(|g| g.key.as_str()),
            Some("17 Main Street")
        );
        let none = held.page("no such group", 1);
        assert_eq!((none.count, none.page, none.rows.len()), (0, 0, 0));
    }
}
