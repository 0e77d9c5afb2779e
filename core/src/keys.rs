//! Interned grouping keys: one arena of text and a table of indices, so a new key costs
//! no allocation of its own and a lookup touches as little memory as possible.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// Keys numbered in the order they were first seen.
#[derive(Default)]
pub(crate) struct KeyTable {
    text: String,
    /// Per key: hash, start and end in `text`.
    spans: Vec<(u64, usize, usize)>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl KeyTable {
    /// The key's number, and whether it is new.
    pub fn intern(&mut self, key: &str) -> (usize, bool) {
        let hash = self.hasher.hash_one(key);
        let (text, spans) = (&self.text, &self.spans);
        let found = self.table.find(hash, |&i| {
            spans
                .get(i as usize)
                .is_some_and(|&(h, start, end)| h == hash && text.get(start..end) == Some(key))
        });
        if let Some(&i) = found {
            return (i as usize, false);
        }
        let index = self.spans.len();
        let start = self.text.len();
        self.text.push_str(key);
        self.spans.push((hash, start, self.text.len()));
        let spans = &self.spans;
        self.table.insert_unique(hash, index as u32, |&i| {
            spans.get(i as usize).map_or(0, |&(h, _, _)| h)
        });
        (index, true)
    }

    pub fn key(&self, index: usize) -> &str {
        self.spans
            .get(index)
            .and_then(|&(_, start, end)| self.text.get(start..end))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyTable;

    #[test]
    fn interns_in_first_seen_order() {
        let mut keys = KeyTable::default();
        assert_eq!(keys.intern("123 Main St"), (0, true));
        assert_eq!(keys.intern("9 Elm Road"), (1, true));
        assert_eq!(keys.intern("123 Main St"), (0, false));
        assert_eq!(keys.key(1), "9 Elm Road");
        assert_eq!(keys.key(2), "");
    }
}
