//! The "Warehouse SQL" section: the form's definition compiled by `group_identity::sql`
//! for the chosen dialect and table, shown as text, with copy buttons.

use group_identity::sql::{to_sql, Columns, Dialect, SqlOptions};
use group_identity::GroupDefinition;
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

use super::dom::{by_id, copy_to_clipboard, set_disabled, JsResult};

/// The two outputs: (query, `<pre>` id, copy button id, name in messages).
pub const QUERIES: [(Query, &str, &str, &str); 2] = [
    (
        Query::Groups,
        "sql-groups",
        "sql-copy-groups",
        "groups query",
    ),
    (
        Query::Oversized,
        "sql-oversized",
        "sql-copy-oversized",
        "oversized keys query",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    Groups,
    Oversized,
}

fn value(doc: &Document, id: &str) -> String {
    doc.get_element_by_id(id)
        .and_then(|el| Reflect::get(&el, &JsValue::from_str("value")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// A column name field: trimmed; empty means "no such column" for the optional ones.
fn column(doc: &Document, id: &str) -> Option<String> {
    let text = value(doc, id).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The dialect picked in the page (an unknown value falls back to DuckDB, the first one).
pub fn dialect(name: &str) -> Dialect {
    match name {
        "snowflake" => Dialect::Snowflake,
        "bigquery" => Dialect::BigQuery,
        "spark" => Dialect::Spark,
        _ => Dialect::DuckDb,
    }
}

/// The options the form describes. Required names left empty stay empty, so the compiler
/// says which one is missing.
fn options(doc: &Document) -> SqlOptions {
    let required = |id: &str| column(doc, id).unwrap_or_default();
    SqlOptions {
        dialect: dialect(&value(doc, "sql-dialect")),
        table: required("sql-table"),
        columns: Columns {
            mpid: required("sql-mpid"),
            attributes: required("sql-attributes"),
            attribute_timestamps: column(doc, "sql-timestamps"),
            updated_at: column(doc, "sql-updated-at"),
            last_stored_timestamp_ms: column(doc, "sql-last-stored"),
            order: required("sql-order"),
        },
    }
}

/// Rewrites both queries for `definition`; when the definition cannot run, `Err` holds
/// why (what to fix), shown in place of the queries.
pub fn render(doc: &Document, definition: Result<&GroupDefinition, &str>) -> JsResult {
    let status = by_id::<Element>(doc, "sql-status")?;
    let result = match definition {
        Err(why) => Err(why.to_string()),
        Ok(definition) => to_sql(definition, &options(doc))
            .map_err(|e| format!("The SQL cannot be written: {e}.")),
    };
    let (groups, oversized) = match &result {
        Ok(queries) => (queries.groups.as_str(), queries.oversized.as_str()),
        Err(_) => ("", ""),
    };
    for ((_, pre, button, _), text) in QUERIES.iter().zip([groups, oversized]) {
        by_id::<Element>(doc, pre)?.set_text_content(Some(text));
        set_disabled(doc, button, text.is_empty());
    }
    let note = match &result {
        Ok(_) => format!(
            "{} SQL for the definition above, over {}.",
            dialect_label(dialect(&value(doc, "sql-dialect"))),
            value(doc, "sql-table").trim()
        ),
        Err(message) => message.clone(),
    };
    status.set_text_content(Some(&note));
    // A new query makes an earlier "Copied" stale.
    by_id::<Element>(doc, "sql-copy-status")?.set_text_content(Some(""));
    Ok(())
}

fn dialect_label(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::DuckDb => "DuckDB",
        Dialect::Snowflake => "Snowflake",
        Dialect::BigQuery => "BigQuery",
        Dialect::Spark => "Spark SQL",
    }
}

/// Copies one query. Without a clipboard (an insecure origin, a refused permission) the
/// text is selected instead and the status says how to copy it by hand.
pub fn copy(doc: &Document, query: Query) {
    let Some((_, pre_id, _, name)) = QUERIES.iter().find(|(q, ..)| *q == query) else {
        return;
    };
    let (Ok(pre), Ok(status)) = (
        by_id::<Element>(doc, pre_id),
        by_id::<Element>(doc, "sql-copy-status"),
    ) else {
        return;
    };
    let text = pre.text_content().unwrap_or_default();
    let copied = format!("Copied the {name} ({} lines).", text.lines().count());
    let name = name.to_string();
    let fallback = move |pre: &Element, status: &Element| {
        select_contents(pre);
        status.set_text_content(Some(&format!(
            "The clipboard is not available here: the {name} is selected, press Ctrl+C (or \u{2318}C) to copy it."
        )));
    };
    status.set_text_content(Some("Copying..."));
    copy_to_clipboard(&text, move |copied_it| {
        if copied_it {
            status.set_text_content(Some(&copied));
        } else {
            fallback(&pre, &status);
        }
    });
}

/// Selects the text of `el` so the reader can copy it with the keyboard.
fn select_contents(el: &Element) {
    let selection = web_sys::window()
        .and_then(|w| {
            Reflect::get(&w, &"getSelection".into())
                .ok()
                .map(|f| (w, f))
        })
        .and_then(|(w, f)| f.dyn_into::<Function>().ok()?.call0(&w).ok())
        .filter(|s| !s.is_null() && !s.is_undefined());
    if let Some(selection) = selection {
        if let Ok(select) = Reflect::get(&selection, &"selectAllChildren".into())
            .and_then(|f| f.dyn_into::<Function>())
        {
            select.call1(&selection, el).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_names_match_the_select() {
        assert_eq!(dialect("duckdb"), Dialect::DuckDb);
        assert_eq!(dialect("snowflake"), Dialect::Snowflake);
        assert_eq!(dialect("bigquery"), Dialect::BigQuery);
        assert_eq!(dialect("spark"), Dialect::Spark);
        assert_eq!(dialect("other"), Dialect::DuckDb);
    }
}
