//! A preview's groups as JavaScript objects, sent in columns.
//!
//! A large preview has hundreds of thousands of groups. As JSON text they cost a
//! serialization here, a UTF-8 decode and a `JSON.parse` there: a quarter of a 100k-profile
//! preview in Node. Sent as columns instead (all keys as one string, all member ids as one
//! string, lengths and attribute values in typed arrays that view wasm memory), a short
//! JavaScript loop builds the same objects several times faster. Only attribute values that
//! are neither booleans nor numbers (`latest` strings, objects, arrays) still go through
//! `JSON.parse`, as one array a batch.

use std::sync::Arc;

use group_identity::Group;
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function appendGroups(target, names, keys, keyLengths, ids, idLengths, memberCounts,
    attributeCounts, attributeNames, codes, numbers, json) {
  const values = JSON.parse(json);
  let keyAt = 0, idAt = 0, member = 0, attribute = 0, value = 0;
  for (let g = 0; g < keyLengths.length; g++) {
    const key = keys.substring(keyAt, (keyAt += keyLengths[g]));
    const members = new Array(memberCounts[g]);
    for (let i = 0; i < members.length; i++) {
      members[i] = ids.substring(idAt, (idAt += idLengths[member++]));
    }
    const attributes = {};
    for (const end = attribute + attributeCounts[g]; attribute < end; attribute++) {
      const name = names[attributeNames[attribute]];
      switch (codes[attribute]) {
        case 0: attributes[name] = false; break;
        case 1: attributes[name] = true; break;
        case 2: attributes[name] = numbers[attribute]; break;
        default: attributes[name] = values[value++];
      }
    }
    target.push({ key, members, attributes });
  }
}
"#)]
extern "C" {
    /// Builds one `{ key, members, attributes }` per group from the columns and pushes it
    /// onto `target`. Lengths are in UTF-16 code units, as `substring` counts.
    #[wasm_bindgen(js_name = appendGroups)]
    #[allow(clippy::too_many_arguments)]
    fn append_groups(
        target: &js_sys::Array,
        names: &js_sys::Array,
        keys: &str,
        key_lengths: &[u32],
        ids: &str,
        id_lengths: &[u32],
        member_counts: &[u32],
        attribute_counts: &[u32],
        attribute_names: &[u32],
        codes: &[u8],
        numbers: &[f64],
        json: &str,
    );
}

/// How an attribute value travels: `codes` says where to find it.
const FALSE: u8 = 0;
const TRUE: u8 = 1;
/// In `numbers`, at the attribute's own position.
const NUMBER: u8 = 2;
/// The next element of the batch's JSON array.
const JSON: u8 = 3;

/// The columns of one batch of groups.
#[derive(Default)]
struct Columns {
    keys: String,
    key_lengths: Vec<u32>,
    ids: String,
    id_lengths: Vec<u32>,
    member_counts: Vec<u32>,
    attribute_counts: Vec<u32>,
    attribute_names: Vec<u32>,
    codes: Vec<u8>,
    numbers: Vec<f64>,
    /// A JSON array of the values coded `JSON`.
    json: Vec<u8>,
}

/// Attribute names, each sent once per preview.
#[derive(Default)]
pub(crate) struct Names {
    list: Vec<Arc<str>>,
    array: js_sys::Array,
}

impl Names {
    fn index(&mut self, name: &Arc<str>) -> u32 {
        let found = self
            .list
            .iter()
            .position(|n| Arc::ptr_eq(n, name) || n == name);
        let index = found.unwrap_or_else(|| {
            self.list.push(name.clone());
            self.array.push(&JsValue::from_str(name));
            self.list.len() - 1
        });
        index as u32
    }
}

/// UTF-16 code units of a text, as JavaScript's `substring` counts them.
fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        text.len() as u32
    } else {
        text.encode_utf16().count() as u32
    }
}

impl Columns {
    fn add(&mut self, group: &Group, names: &mut Names) {
        self.keys.push_str(&group.key);
        self.key_lengths.push(utf16_len(&group.key));
        self.member_counts.push(group.members.len() as u32);
        for member in &group.members {
            let start = self.ids.len();
            member.push_text(&mut self.ids);
            let id = self.ids.get(start..).unwrap_or_default();
            self.id_lengths.push(utf16_len(id));
        }
        self.attribute_counts.push(group.attributes.0.len() as u32);
        for (name, value) in &group.attributes.0 {
            self.attribute_names.push(names.index(name));
            let (code, number) = match value {
                Value::Bool(false) => (FALSE, 0.0),
                Value::Bool(true) => (TRUE, 0.0),
                // What `JSON.parse` would make of the number's text: the nearest double.
                Value::Number(n) => match n.as_f64() {
                    Some(x) => (NUMBER, x),
                    None => (JSON, 0.0),
                },
                _ => (JSON, 0.0),
            };
            if code == JSON {
                self.json
                    .push(if self.json.is_empty() { b'[' } else { b',' });
                // Writing to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut self.json, value);
            }
            self.codes.push(code);
            self.numbers.push(number);
        }
    }

    fn append_to(&mut self, target: &js_sys::Array, names: &Names) {
        if self.json.is_empty() {
            self.json.push(b'[');
        }
        self.json.push(b']');
        append_groups(
            target,
            &names.array,
            &self.keys,
            &self.key_lengths,
            &self.ids,
            &self.id_lengths,
            &self.member_counts,
            &self.attribute_counts,
            &self.attribute_names,
            &self.codes,
            &self.numbers,
            std::str::from_utf8(&self.json).unwrap_or("[]"),
        );
    }
}

/// Groups converted per call: the strings of a batch stay far below JavaScript's string
/// length limit.
const GROUP_BATCH: usize = 20_000;

/// Every group, in order, as a JavaScript array of plain objects (the shape
/// `JSON.parse` of the groups' JSON would give).
pub(crate) fn groups_to_js(groups: &[Group]) -> js_sys::Array {
    let array = js_sys::Array::new();
    let mut names = Names::default();
    for batch in groups.chunks(GROUP_BATCH) {
        let mut columns = Columns::default();
        for group in batch {
            columns.add(group, &mut names);
        }
        columns.append_to(&array, &names);
    }
    array
}
