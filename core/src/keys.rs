//! Interned grouping keys: one arena of text, a list of entries numbered in first-seen
//! order, and an open-addressing table of small slots over them. A new key costs no
//! allocation of its own, and each slot is found from the hash alone, so a caller that
//! knows the next few keys can warm their slots, entries and text before it needs them
//! ([`KeyTable::warm_slot`], [`KeyTable::likely_entry`], [`KeyTable::warm_entry`],
//! [`KeyTable::warm_text`]).

use std::hash::BuildHasher;

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
    /// Linear probing. A slot holds the top 32 bits of its key's hash and the entry's
    /// number plus one (0 is an empty slot); the table is at most 3/4 full.
    slots: Vec<u64>,
    /// Seeded per table: see `crate::seed`.
    hasher: crate::seed::Seeded,
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable {
            text: String::new(),
            entries: Vec::new(),
            slots: Vec::new(),
            hasher: crate::seed::Seeded::default(),
        }
    }
}

/// Where a lookup ended: at the key's entry, or at the empty slot it would take.
enum Probe {
    Found(usize),
    Vacant(usize),
}

impl<V> KeyTable<V> {
    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The key's number and its value: the existing one, or `new()` for a new key (then
    /// the flag is true). `hash` is [`KeyTable::hash`] of the key. `None` only when the
    /// table is full (2^32 - 1 keys).
    pub fn intern(
        &mut self,
        key: &str,
        hash: u64,
        new: impl FnOnce() -> V,
    ) -> Option<(usize, &mut V, bool)> {
        let (index, fresh) = match self.probe(hash, key) {
            Some(Probe::Found(index)) => (index, false),
            found => {
                let index = self.entries.len();
                let slot = u64::try_from(index + 1)
                    .ok()
                    .filter(|&s| s <= u64::from(u32::MAX))?;
                let start = self.text.len();
                self.text.push_str(key);
                self.entries.push(Entry {
                    hash,
                    start,
                    end: self.text.len(),
                    value: new(),
                });
                match found {
                    // Room without growing: take the empty slot the lookup ended at.
                    Some(Probe::Vacant(at)) if (self.entries.len()) * 4 <= self.slots.len() * 3 => {
                        if let Some(s) = self.slots.get_mut(at) {
                            *s = tag(hash) | slot;
                        }
                    }
                    _ => self.grow(),
                }
                (index, true)
            }
        };
        let entry = self.entries.get_mut(index)?;
        Some((index, &mut entry.value, fresh))
    }

    /// The key's number, if it was interned.
    pub fn get(&self, key: &str) -> Option<usize> {
        match self.probe(self.hash(key), key)? {
            Probe::Found(index) => Some(index),
            Probe::Vacant(_) => None,
        }
    }

    /// `None` for a table with no slots yet.
    fn probe(&self, hash: u64, key: &str) -> Option<Probe> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = hash as usize & mask;
        // The table is never full, so an empty slot ends every probe; the bound is only
        // there so that no input can loop forever.
        for _ in 0..self.slots.len() {
            let slot = *self.slots.get(at)?;
            if slot == 0 {
                return Some(Probe::Vacant(at));
            }
            if slot & TAG == tag(hash) {
                let index = entry_of(slot);
                let same = self.entries.get(index).is_some_and(|e| {
                    e.hash == hash
                        && self
                            .text
                            .get(e.start..e.end)
                            .is_some_and(|text| crate::bytes::same(text.as_bytes(), key.as_bytes()))
                });
                if same {
                    return Some(Probe::Found(index));
                }
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// Doubles the slots and places every entry again.
    fn grow(&mut self) {
        let len = (self.slots.len() * 2).max(16);
        let mut slots = vec![0u64; len];
        let mask = len - 1;
        for (index, entry) in self.entries.iter().enumerate() {
            let mut at = entry.hash as usize & mask;
            while let Some(s) = slots.get_mut(at) {
                if *s == 0 {
                    *s = tag(entry.hash) | (index as u64 + 1);
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        self.slots = slots;
    }

    /// Reads the slot a lookup of `hash` starts at, so that the lookup finds it in cache.
    /// The result means nothing; pass it to `std::hint::black_box`.
    pub fn warm_slot(&self, hash: u64) -> u64 {
        let at = hash as usize & self.slots.len().wrapping_sub(1);
        self.slots.get(at).copied().unwrap_or(0)
    }

    /// The entry a key with this hash most likely has, judged by the slots alone (no text
    /// is compared): for warming, never for answers.
    pub fn likely_entry(&self, hash: u64) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = hash as usize & mask;
        for _ in 0..16 {
            let slot = *self.slots.get(at)?;
            if slot == 0 {
                return None;
            }
            if slot & TAG == tag(hash) {
                return Some(entry_of(slot));
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// Reads an entry and its value, so that a lookup finds them in cache. The result
    /// means nothing; pass it to `std::hint::black_box`.
    pub fn warm_entry(&self, index: usize, value: impl Fn(&V) -> u64) -> u64 {
        self.entries
            .get(index)
            .map_or(0, |e| value(&e.value) ^ e.start as u64)
    }

    /// Reads the first and last byte of an entry's key (after [`KeyTable::warm_entry`]:
    /// where the text is comes from the entry). The result means nothing.
    pub fn warm_text(&self, index: usize) -> u64 {
        self.entries.get(index).map_or(0, |e| {
            let text = self.text.as_bytes();
            let byte = |at: usize| u64::from(text.get(at).copied().unwrap_or(0));
            byte(e.start) ^ byte(e.end)
        })
    }

    /// The keys numbered `keys` (first-seen order), with their values.
    pub fn range(&self, keys: std::ops::Range<usize>) -> impl Iterator<Item = (&str, &V)> {
        self.entries
            .get(keys)
            .unwrap_or_default()
            .iter()
            .map(|e| (self.text.get(e.start..e.end).unwrap_or_default(), &e.value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

const TAG: u64 = 0xFFFF_FFFF_0000_0000;

fn tag(hash: u64) -> u64 {
    hash & TAG
}

/// The entry number a filled slot points to.
fn entry_of(slot: u64) -> usize {
    ((slot & !TAG) as usize).wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use super::KeyTable;

    #[test]
    fn interns_in_first_seen_order() {
        let mut keys = KeyTable::default();
        assert_eq!(keys.get("nowhere"), None);
        assert_eq!(
            keys.intern("123 Main St", keys.hash("123 Main St"), || 1)
                .map(|r| r.0),
            Some(0)
        );
        assert_eq!(
            keys.intern("9 Elm Road", keys.hash("9 Elm Road"), || 2)
                .map(|r| r.0),
            Some(1)
        );
        let (index, value, fresh) = keys
            .intern("123 Main St", keys.hash("123 Main St"), || 3)
            .unwrap();
        assert_eq!((index, *value, fresh), (0, 1, false));
        *value += 10;
        let all: Vec<_> = keys.range(0..2).map(|(k, v)| (k.to_string(), *v)).collect();
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

    #[test]
    fn keeps_every_key_through_growth() {
        let mut keys = KeyTable::default();
        for i in 0..10_000 {
            let key = format!("key {i}");
            let (index, _, fresh) = keys.intern(&key, keys.hash(&key), || i).unwrap();
            assert_eq!((index, fresh), (i, true));
        }
        for i in 0..10_000 {
            let key = format!("key {i}");
            assert_eq!(keys.get(&key), Some(i));
            let (index, value, fresh) = keys.intern(&key, keys.hash(&key), || 0).unwrap();
            assert_eq!((index, *value, fresh), (i, i, false));
        }
        assert_eq!(keys.len(), 10_000);
        // The guess is right for nearly every key (wrong only on a 32-bit tag clash, or
        // past sixteen slots of probing).
        let right = (0..10_000)
            .filter(|&i| keys.likely_entry(keys.hash(&format!("key {i}"))) == Some(i))
            .count();
        assert!(right > 9_900, "{right}");
    }
}
