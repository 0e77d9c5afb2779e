//! Live examples for documentation pages. Each `<div data-group-identity-example>` holds a
//! definition and profiles (two `<script type="application/json">` or `<pre>` children;
//! `data-definition` / `data-profiles` mark which is which, else the first is the
//! definition). They become two editable boxes and a preview that follows every keystroke.

use std::cell::Cell;

use group_identity::definition::validate_definition_text;
use group_identity::{preview_groups, GroupDefinition, Mode, PreviewOptions};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlTextAreaElement};

use super::dom::{clear, on, thousands, El, JsResult};
use super::render;

/// Groups and diagnostics an example shows; a line says how many more there are.
const SHOWN_GROUPS: usize = 20;
const SHOWN_NOTES: usize = 5;

thread_local! {
    /// Numbers examples across calls so element ids stay unique on the page.
    static NEXT: Cell<u32> = const { Cell::new(0) };
}

/// Mounts every example not mounted yet; returns how many were mounted.
pub fn mount_all() -> Result<u32, JsValue> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let found = doc.query_selector_all("[data-group-identity-example]:not([data-mounted])")?;
    let mut mounted = 0;
    for i in 0..found.length() {
        if let Some(el) = found.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            mount(&doc, &el)?;
            mounted += 1;
        }
    }
    Ok(mounted)
}

fn source_text(el: &Element) -> String {
    dedent(&el.text_content().unwrap_or_default())
}

/// Removes the indentation every line shares (HTML sources are usually indented).
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.trim_matches('\n').lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

fn mount(doc: &Document, host: &Element) -> JsResult {
    let n = NEXT.with(|c| {
        let n = c.get() + 1;
        c.set(n);
        n
    });
    // The example's own children only: a code sample elsewhere inside it stays put.
    let sources =
        host.query_selector_all(":scope > script[type='application/json'], :scope > pre")?;
    let mut items: Vec<Element> = Vec::new();
    for i in 0..sources.length() {
        if let Some(el) = sources.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            items.push(el);
        }
    }
    let (definition_el, profiles_el) = pick_sources(&items, |e, name| e.has_attribute(name));
    let definition = definition_el.map(source_text).unwrap_or_default();
    let profiles = profiles_el.map(source_text).unwrap_or_default();
    // Only the two used become the boxes; anything else stays as written.
    for item in [definition_el, profiles_el].into_iter().flatten() {
        item.remove();
    }
    let normalize = host.has_attribute("data-normalize-keys");

    let box_ = El::new(doc, "div")?.class("gik-example").into_el();
    let inputs = El::new(doc, "div")?.class("gik-inputs").into_el();
    let def_id = format!("gik-{n}-definition");
    let prof_id = format!("gik-{n}-profiles");
    let def_area = textarea(doc, &def_id, &definition)?;
    let prof_area = textarea(doc, &prof_id, &profiles)?;
    // A page holds several examples: each box's name says which one it belongs to (read
    // out, not shown: the heading is there to see).
    let which = example_suffix(n, example_heading(doc, host).as_deref());
    for (id, label, area) in [
        (&def_id, "Group definition (JSON)", &def_area),
        (&prof_id, "Profiles (JSON, NDJSON or CSV)", &prof_area),
    ] {
        let l = El::new(doc, "label")?
            .attr("for", id)?
            .text(label)
            .into_el();
        l.append_child(
            &El::new(doc, "span")?
                .class("gik-sr-only")
                .text(&which)
                .into_el(),
        )?;
        inputs.append_child(&l)?;
        inputs.append_child(area)?;
    }
    // Only the one-line summary is announced as the reader types; the issues and the table
    // around it are there to read, not read out at every key.
    let summary = El::new(doc, "p")?
        .class("gik-summary")
        .attr("role", "status")?
        .into_el();
    let output = El::new(doc, "div")?.into_el();
    let frame = El::new(doc, "div")?
        .class("gik-output")
        .child(&summary)?
        .child(&output)?
        .into_el();
    box_.append_child(&inputs)?;
    box_.append_child(&frame)?;
    host.append_child(&box_)?;
    host.set_attribute("data-mounted", "")?;

    let update = {
        let (doc, def_area, prof_area, summary, output) = (
            doc.clone(),
            def_area.clone(),
            prof_area.clone(),
            summary.clone(),
            output.clone(),
        );
        move || {
            refresh(
                &doc,
                &summary,
                &output,
                &def_area.value(),
                &prof_area.value(),
                normalize,
            )
            .unwrap_or_else(|e| web_sys::console::error_1(&e));
        }
    };
    update();
    for area in [&def_area, &prof_area] {
        let update = update.clone();
        on(area, "input", move |_| update())?;
    }
    Ok(())
}

/// Which source is the definition and which the profiles: the ones marked
/// `data-definition` and `data-profiles`; else the first unmarked one is the definition
/// and the next unmarked one the profiles. Never one source for both.
fn pick_sources<T>(items: &[T], marked: impl Fn(&T, &str) -> bool) -> (Option<&T>, Option<&T>) {
    let unmarked = |item: &&T| !marked(item, "data-definition") && !marked(item, "data-profiles");
    let definition = items
        .iter()
        .find(|item| marked(item, "data-definition"))
        .or_else(|| items.iter().find(unmarked));
    let other = |item: &&T| !definition.is_some_and(|d| std::ptr::eq(*item, d));
    let profiles = items
        .iter()
        .filter(other)
        .find(|item| marked(item, "data-profiles"))
        .or_else(|| items.iter().filter(unmarked).find(other));
    (definition, profiles)
}

/// The title of an example: its `data-title` or `aria-label`, else the text of the last
/// heading before it on the page.
fn example_heading(doc: &Document, host: &Element) -> Option<String> {
    let own = host
        .get_attribute("data-title")
        .or_else(|| host.get_attribute("aria-label"));
    let text = match own {
        Some(text) => text,
        None => {
            let headings = doc.query_selector_all("h1, h2, h3, h4, h5, h6").ok()?;
            let mut last = None;
            for i in 0..headings.length() {
                let Some(heading) = headings.item(i) else {
                    continue;
                };
                // Bit 4, DOCUMENT_POSITION_FOLLOWING: the example comes after the heading.
                let before = heading.compare_document_position(host)
                    & web_sys::Node::DOCUMENT_POSITION_FOLLOWING
                    != 0;
                if !before || host.contains(Some(&heading)) {
                    break;
                }
                last = Some(heading);
            }
            last?.text_content()?
        }
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// What each box's name adds to tell examples apart: the example's number on the page and
/// its title.
fn example_suffix(n: u32, title: Option<&str>) -> String {
    match title {
        Some(title) => format!(" in example {n}: {title}"),
        None => format!(" in example {n}"),
    }
}

fn textarea(doc: &Document, id: &str, text: &str) -> JsResult<HtmlTextAreaElement> {
    let area: HtmlTextAreaElement = El::new(doc, "textarea")?
        .attr("id", id)?
        .attr("spellcheck", "false")?
        .attr("rows", &text.lines().count().clamp(3, 14).to_string())?
        .into_el()
        .dyn_into()?;
    area.set_value(text);
    Ok(area)
}

fn refresh(
    doc: &Document,
    summary: &Element,
    output: &Element,
    definition: &str,
    profiles: &str,
    normalize: bool,
) -> JsResult {
    clear(output);
    summary.set_text_content(Some("No preview: the definition has errors."));
    // The text, not a parsed value: a repeated key is seen, a syntax error is placed, and
    // a number past a double's range is a number (as the API reads it).
    let validation = validate_definition_text(definition, &Mode::Create);
    if !validation.errors.is_empty() || !validation.warnings.is_empty() {
        let list = El::new(doc, "ul")?.class("gik-issues").into_el();
        for (issue, level) in validation
            .errors
            .iter()
            .map(|i| (i, "error"))
            .chain(validation.warnings.iter().map(|i| (i, "warning")))
        {
            let path = if issue.path.is_empty() {
                "/"
            } else {
                issue.path.as_str()
            };
            let li = El::new(doc, "li")?
                .class(&format!("gik-{level}"))
                .text(&format!("{level} at {path}: {}", issue.message));
            list.append_child(&li.into_el())?;
        }
        output.append_child(&list)?;
    }
    let parsed = serde_json::from_str::<Value>(definition).ok();
    let Some(definition) = parsed.and_then(|value| GroupDefinition::from_value(&value).ok()) else {
        if validation.valid {
            summary.set_text_content(Some(
                "No preview: the definition holds a number no double can hold (such as 1e400).",
            ));
        }
        return Ok(());
    };
    let options = PreviewOptions {
        normalize_keys: normalize,
        ..PreviewOptions::default()
    };
    let preview = preview_groups(&definition, profiles.as_bytes(), &options);
    let s = &preview.stats;
    let line = format!(
        "{} profiles: {} group(s) with {} members in all; {} singleton(s), {} with a short key, {} without a key, {} oversized key(s).",
        thousands(s.profiles),
        thousands(s.groups),
        thousands(s.grouped_profiles),
        thousands(s.singletons),
        thousands(s.short_key),
        thousands(s.no_key),
        thousands(s.oversized_groups)
    );
    summary.set_text_content(Some(&line));
    if !preview.groups.is_empty() {
        let table = El::new(doc, "table")?.into_el();
        let head = El::new(doc, "tr")?.into_el();
        for h in ["Key", "Members", "Inherited"] {
            head.append_child(&El::new(doc, "th")?.attr("scope", "col")?.text(h).into_el())?;
        }
        table.append_child(&El::new(doc, "thead")?.child(&head)?.into_el())?;
        let body = El::new(doc, "tbody")?.into_el();
        render::group_rows(doc, &body, preview.groups.iter().take(SHOWN_GROUPS), "gik-")?;
        table.append_child(&body)?;
        output.append_child(&table)?;
        if let Some(more) = preview
            .groups
            .len()
            .checked_sub(SHOWN_GROUPS)
            .filter(|&n| n > 0)
        {
            let text = format!("and {} more group(s)", thousands(more as u64));
            output.append_child(&El::new(doc, "p")?.class("gik-more").text(&text).into_el())?;
        }
    }
    let mut notes: Vec<String> = preview
        .oversized
        .iter()
        .map(|o| {
            format!(
                "\"{}\" is held by {} profiles (over 10): no group, nothing inherited.",
                o.key, o.size
            )
        })
        .collect();
    notes.extend(
        preview
            .diagnostics
            .iter()
            .take(SHOWN_NOTES)
            .map(|d| match d.line {
                Some(line) => format!("line {line}: {}", d.message),
                None => d.message.clone(),
            }),
    );
    let unshown = (preview.diagnostics.len().saturating_sub(SHOWN_NOTES) as u64)
        .saturating_add(preview.diagnostics_suppressed);
    if unshown > 0 {
        notes.push(format!("and {} more diagnostic(s)", thousands(unshown)));
    }
    if !notes.is_empty() {
        let list = El::new(doc, "ul")?.class("gik-notes").into_el();
        for note in notes {
            list.append_child(&El::new(doc, "li")?.text(&note).into_el())?;
        }
        output.append_child(&list)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{dedent, example_suffix};

    #[test]
    fn each_example_names_its_boxes_apart() {
        assert_eq!(
            example_suffix(2, Some("An oversized key forms no group")),
            " in example 2: An oversized key forms no group"
        );
        assert_eq!(example_suffix(3, None), " in example 3");
        assert_ne!(example_suffix(1, Some("A")), example_suffix(2, Some("A")));
    }

    #[test]
    fn sources_are_marked_or_taken_in_order_never_one_for_both() {
        let pick = |items: &[&'static str]| {
            let (d, p) = super::pick_sources(items, |item, name| match name {
                "data-definition" => item.starts_with("D:"),
                _ => item.starts_with("P:"),
            });
            (d.copied(), p.copied())
        };
        assert_eq!(pick(&["a", "b"]), (Some("a"), Some("b")));
        assert_eq!(pick(&["P:p", "D:d"]), (Some("D:d"), Some("P:p")));
        // Only the definition marked, and second: the unmarked one is the profiles.
        assert_eq!(pick(&["p", "D:d"]), (Some("D:d"), Some("p")));
        assert_eq!(pick(&["D:d"]), (Some("D:d"), None));
        assert_eq!(pick(&["P:p", "d"]), (Some("d"), Some("P:p")));
        // One marked as both is the definition only.
        let both = |item: &&str, _: &str| item.starts_with('B');
        assert_eq!(
            super::pick_sources(&["B", "x"], both),
            (Some(&"B"), Some(&"x"))
        );
        assert_eq!(pick(&[]), (None, None));
    }

    #[test]
    fn dedent_strips_shared_indentation() {
        assert_eq!(
            dedent("\n    a,b\n      1,2\n    3,4\n  "),
            "a,b\n  1,2\n3,4"
        );
    }
}
