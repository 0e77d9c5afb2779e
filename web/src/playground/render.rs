//! Rendering of a preview: stats, the size chart, group rows, key lists, diagnostics.
//! Every piece of profile data goes in as text.

use group_identity::preview::{Group, Preview};
use web_sys::{Document, Element};

use super::dom::{clear, show_value, thousands, El, JsResult};

/// Rows shown per page of groups: enough to read, few enough that 100k groups stay smooth.
pub const PAGE_SIZE: usize = 25;

/// Items shown in each of the key lists.
const LIST_LIMIT: usize = 50;

pub fn stats(doc: &Document, target: &Element, preview: &Preview) -> JsResult {
    clear(target);
    let s = &preview.stats;
    let rows = [
        ("Profiles", s.profiles, "profiles"),
        ("Groups", s.groups, "groups"),
        ("Grouped profiles", s.grouped_profiles, "groupedProfiles"),
        ("Singletons", s.singletons, "singletons"),
        ("Profiles with a short key", s.short_key, "shortKey"),
        ("Profiles with no key", s.no_key, "noKey"),
        ("Oversized keys", s.oversized_groups, "oversizedGroups"),
        (
            "Oversized profiles",
            s.oversized_profiles,
            "oversizedProfiles",
        ),
        ("Skipped records", s.skipped, "skipped"),
    ];
    for (label, value, key) in rows {
        let div = El::new(doc, "div")?
            .child(&El::new(doc, "dt")?.text(label).into_el())?
            .child(
                &El::new(doc, "dd")?
                    .attr("data-stat", key)?
                    .text(&thousands(value))
                    .into_el(),
            )?;
        target.append_child(&div.into_el())?;
    }
    Ok(())
}

/// How many groups have 0, 1, ... 9 members, and 10 or more (the last).
pub fn size_counts(groups: &[Group]) -> [u64; 11] {
    let mut counts = [0u64; 11];
    for group in groups {
        if let Some(slot) = counts.get_mut(group.members.len().min(10)) {
            *slot += 1;
        }
    }
    counts
}

/// Bars of how many keys are held by 1, 2, ... 10 profiles, and by more (oversized).
/// `sizes`: the groups' [`size_counts`], which a held preview keeps apart from its groups.
pub fn size_buckets(preview: &Preview, sizes: &[u64; 11]) -> Vec<(String, u64, bool)> {
    let mut counts = *sizes;
    counts[1] = preview.stats.singletons;
    let mut bars: Vec<(String, u64, bool)> = (1..=10)
        .map(|size| (size.to_string(), counts[size], false))
        .collect();
    let mut over = [0u64; 3];
    for o in &preview.oversized {
        let slot = match o.size {
            0..=20 => 0,
            21..=50 => 1,
            _ => 2,
        };
        over[slot] += 1;
    }
    for (label, count) in ["11-20", "21-50", "51+"].into_iter().zip(over) {
        bars.push((label.to_string(), count, true));
    }
    bars
}

pub fn chart(doc: &Document, target: &Element, preview: &Preview, sizes: &[u64; 11]) -> JsResult {
    clear(target);
    let bars = size_buckets(preview, sizes);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let (width, height, bar_w, base) = (520.0, 200.0, 40.0, 170.0);
    // An image's parts are not read out: its label carries every bar's number.
    let counts: Vec<String> = bars
        .iter()
        .map(|(label, count, _)| format!("{label}: {}", thousands(*count)))
        .collect();
    let label = format!(
        "Number of keys by how many profiles share them (above 10: oversized, no group). {}.",
        counts.join("; ")
    );
    let svg = El::svg(doc, "svg")?
        .attr("viewBox", &format!("0 0 {width} {height}"))?
        .attr("role", "img")?
        .attr("aria-label", &label)?
        .class("chart")
        .into_el();
    for (i, (label, count, oversized)) in bars.iter().enumerate() {
        let x = 10.0 + i as f64 * bar_w;
        let h = if *count == 0 {
            0.0
        } else {
            ((*count as f64 / max as f64) * 140.0).max(2.0)
        };
        let class = if *oversized { "bar oversized" } else { "bar" };
        let rect = El::svg(doc, "rect")?
            .attr("x", &format!("{x}"))?
            .attr("y", &format!("{}", base - h))?
            .attr("width", &format!("{}", bar_w - 6.0))?
            .attr("height", &format!("{h}"))?
            .class(class)
            .child(
                &El::svg(doc, "title")?
                    .text(&format!(
                        "{} key(s) held by {} profiles{}",
                        thousands(*count),
                        label,
                        if *oversized {
                            " (oversized: no group)"
                        } else {
                            ""
                        }
                    ))
                    .into_el(),
            )?;
        svg.append_child(&rect.into_el())?;
        let center = x + (bar_w - 6.0) / 2.0;
        for (y, text, class) in [
            (base - h - 4.0, compact(*count), "count"),
            (base + 14.0, label.clone(), "label"),
        ] {
            let t = El::svg(doc, "text")?
                .attr("x", &format!("{center}"))?
                .attr("y", &format!("{y}"))?
                .attr("text-anchor", "middle")?
                .class(class)
                .text(&text);
            svg.append_child(&t.into_el())?;
        }
    }
    let axis = El::svg(doc, "text")?
        .attr("x", "10")?
        .attr("y", "198")?
        .class("label")
        .text("profiles sharing a key");
    svg.append_child(&axis.into_el())?;
    target.append_child(&svg)?;
    Ok(())
}

fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// The search as typed, as [`matches`] takes it: trimmed and lower-cased.
pub fn search_key(typed: &str) -> String {
    typed.trim().to_lowercase()
}

/// Whether a group matches a search key ([`search_key`]): its key, a member or a value.
pub fn matches(group: &Group, needle: &str) -> bool {
    needle.is_empty()
        || group.key.to_lowercase().contains(needle)
        || group
            .members
            .iter()
            .any(|m| m.to_text().to_lowercase().contains(needle))
        || group.attributes.0.iter().any(|(k, v)| {
            k.to_lowercase().contains(needle) || show_value(v).to_lowercase().contains(needle)
        })
}

/// One table row per group, for the given groups only.
/// `prefix` goes before the cells' class names: the docs embed gives its own (`gik-`), so
/// that a host page's `.key` or `.members` rules do not reach its cells.
pub fn group_rows<'a>(
    doc: &Document,
    tbody: &Element,
    groups: impl Iterator<Item = &'a Group>,
    prefix: &str,
) -> JsResult {
    clear(tbody);
    for group in groups {
        let attrs: Vec<String> = group
            .attributes
            .0
            .iter()
            .map(|(k, v)| format!("{k} = {}", show_value(v)))
            .collect();
        let row = El::new(doc, "tr")?
            .child(
                &El::new(doc, "td")?
                    .class(&format!("{prefix}key"))
                    .text(&group.key)
                    .into_el(),
            )?
            .child(
                &El::new(doc, "td")?
                    .class(&format!("{prefix}members"))
                    .text(
                        &group
                            .members
                            .iter()
                            .map(|m| m.to_text())
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                    .into_el(),
            )?
            .child(
                &El::new(doc, "td")?
                    .class(&format!("{prefix}inherited"))
                    .text(&attrs.join("\n"))
                    .into_el(),
            )?;
        tbody.append_child(&row.into_el())?;
    }
    Ok(())
}

/// A list of text items, the first `LIST_LIMIT` of them, with a count of the rest.
pub fn text_list(doc: &Document, target: &Element, items: &[String], total: u64) -> JsResult {
    clear(target);
    if items.is_empty() {
        target.append_child(&El::new(doc, "li")?.class("none").text("none").into_el())?;
    }
    for item in items.iter().take(LIST_LIMIT) {
        target.append_child(&El::new(doc, "li")?.text(item).into_el())?;
    }
    let shown = items.len().min(LIST_LIMIT) as u64;
    if total > shown {
        let more = format!("and {} more", thousands(total - shown));
        target.append_child(&El::new(doc, "li")?.class("more").text(&more).into_el())?;
    }
    Ok(())
}

pub fn lists(
    doc: &Document,
    oversized: &Element,
    short: &Element,
    single: &Element,
    p: &Preview,
) -> JsResult {
    let items: Vec<String> = p
        .oversized
        .iter()
        .map(|o| format!("{} ({} profiles)", o.key, thousands(o.size)))
        .collect();
    text_list(doc, oversized, &items, p.stats.oversized_groups)?;
    let items: Vec<String> = p
        .short_keys
        .iter()
        .map(|k| format!("{} ({} profiles)", k.key, thousands(k.count)))
        .collect();
    text_list(doc, short, &items, p.distinct_short_keys)?;
    let items: Vec<String> = p
        .singletons
        .iter()
        .map(|s| format!("{} (mpid {})", s.key, s.mpid))
        .collect();
    text_list(doc, single, &items, p.stats.singletons)
}

pub fn diagnostics(doc: &Document, tbody: &Element, more: &Element, p: &Preview) -> JsResult {
    clear(tbody);
    for d in p.diagnostics.iter().take(200) {
        let level = match d.level {
            group_identity::Level::Error => "error",
            group_identity::Level::Warning => "warning",
        };
        let line = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            (Some(l), None) => l.to_string(),
            _ => String::new(),
        };
        let mut message = d.message.clone();
        if let Some(mpid) = &d.mpid {
            message.push_str(&format!(" (mpid {mpid})"));
        }
        let row = El::new(doc, "tr")?
            .class(level)
            .child(&El::new(doc, "td")?.text(level).into_el())?
            .child(&El::new(doc, "td")?.text(&line).into_el())?
            .child(&El::new(doc, "td")?.text(&d.code).into_el())?
            .child(&El::new(doc, "td")?.text(&message).into_el())?;
        tbody.append_child(&row.into_el())?;
    }
    let hidden = (p.diagnostics.len().saturating_sub(200)) as u64 + p.diagnostics_suppressed;
    let text = if p.diagnostics.is_empty() {
        "No problems found in the profiles.".to_string()
    } else if hidden > 0 {
        format!("{} more not shown.", thousands(hidden))
    } else {
        String::new()
    };
    more.set_text_content(Some(&text));
    Ok(())
}
