//! Interned grouping keys: one arena of text and a table of indices, so a new key costs
//! no allocation of its own, and a key's state sits beside its span so a lookup touches
//! as little memory as possible.

use std::hash::BuildHasher;

use hashbrown::HashTable;

struct Entry<V> {
    hash: u64,
    start: usize,
    end: usize,
    value: V,
}

/// Keys numbered in the order they were first seen, each with a value.
pub(crate) struct KeyTable<V> {
    text: String,
    entries: Vec<Entry<V>>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable {
            text: String::new(),
            entries: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::fast::FixedState::default(),
        }
    }
}

impl<V> KeyTable<V> {
    /// The key's number and its value: the existing one, or `new()` for a new key (then
    /// the flag is true).
    pub fn intern(&mut self, key: &str, new: impl FnOnce() -> V) -> Option<(usize, &mut V, bool)> {
        let hash = self.hasher.hash_one(key);
        let (text, entries) = (&self.text, &self.entries);
        let found = self.table.find(hash, |&i| {
            entries
                .get(i as usize)
                .is_some_and(|e| e.hash == hash && text.get(e.start..e.end) == Some(key))
        });
        let (index, fresh) = match found {
            Some(&i) => (i as usize, false),
            None => {
                let index = self.entries.len();
                let start = self.text.len();
                self.text.push_str(key);
                self.entries.push(Entry {
                    hash,
                    start,
                    end: self.text.len(),
                    value: new(),
                });
                let entries = &self.entries;
                self.table.insert_unique(hash, index as u32, |&i| {
                    entries.get(i as usize).map_or(0, |e| e.hash)
                });
                (index, true)
            }
        };
        let entry = self.entries.get_mut(index)?;
        Some((index, &mut entry.value, fresh))
    }

    /// The key's number, if it was interned.
    pub fn get(&self, key: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        self.table
            .find(hash, |&i| {
                self.entries
                    .get(i as usize)
                    .is_some_and(|e| e.hash == hash && self.text.get(e.start..e.end) == Some(key))
            })
            .map(|&i| i as usize)
    }

    /// Every key with its value, in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries
            .iter()
            .map(|e| (self.text.get(e.start..e.end).unwrap_or_default(), &e.value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyTable;

    #[test]
    fn interns_in_first_seen_order() {
        let mut keys = KeyTable::default();
        assert_eq!(keys.intern("123 Main St", || 1).map(|r| r.0), Some(0));
        assert_eq!(keys.intern("9 Elm Road", || 2).map(|r| r.0), Some(1));
        let (index, value, fresh) = keys.intern("123 Main St", || 3).unwrap();
        assert_eq!((index, *value, fresh), (0, 1, false));
        *value += 10;
        let all: Vec<_> = keys.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(
            all,
            [
                ("123 Main St".to_string(), 11),
                ("9 Elm Road".to_string(), 2)
            ]
        );
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.get("9 Elm Road"), Some(1));
        assert_eq!(keys.get("nowhere"), None);
    }
}
