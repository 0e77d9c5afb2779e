//! Telling a record's keys from the few names a pass knows, in a handful of register
//! operations: each name is reduced to a [`Print`] (its length and up to 16 of its bytes
//! as numbers), and the known names sit in a small open-addressing [`NameTable`].

/// A name's length and up to 16 of its bytes as numbers: the first and last eight bytes
/// (overlapping below 16), the first and last four below 8, the first, middle and last
/// byte below 4. Names of at most 16 bytes are equal exactly when their prints are;
/// longer ones are compared in full once their prints agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Print {
    len: usize,
    head: u64,
    tail: u64,
}

impl Print {
    #[inline(always)]
    pub fn of(name: &[u8]) -> Print {
        let len = name.len();
        let u64_at = |at: usize| {
            name.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        let u32_at = |at: usize| {
            name.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        let byte_at = |at: usize| u64::from(name.get(at).copied().unwrap_or(0));
        let (head, tail) = match len {
            8.. => (u64_at(0), u64_at(len - 8)),
            4..8 => (u32_at(0), u32_at(len - 4)),
            // The first, middle and last byte: all of them.
            _ => (
                byte_at(0) | byte_at(len / 2) << 8 | byte_at(len.wrapping_sub(1)) << 16,
                0,
            ),
        };
        Print { len, head, tail }
    }

    pub fn len(self) -> usize {
        self.len
    }

    /// True when the name this is the print of is all ASCII (`name` is only read past 16
    /// bytes, where the print does not hold every byte).
    #[inline(always)]
    pub fn is_ascii(self, name: &[u8]) -> bool {
        (self.head | self.tail) & 0x8080_8080_8080_8080 == 0 && (self.len <= 16 || name.is_ascii())
    }

    fn hash(self) -> usize {
        let mixed = (self.head ^ self.tail.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 32) as usize
    }
}

/// A known name: its print, its bytes (compared past 16 bytes) and its value.
type Named<V> = (Print, Box<[u8]>, V);

/// Known names with a value each (first insert wins), looked up by a key's print.
#[derive(Clone, Debug)]
pub(super) struct NameTable<V> {
    /// Linear probing, at most half full, so a key no name has usually ends at once.
    slots: Vec<Option<Named<V>>>,
}

impl<V: Copy> NameTable<V> {
    pub fn new<'n>(names: impl IntoIterator<Item = (&'n [u8], V)>) -> Self {
        let names: Vec<_> = names.into_iter().collect();
        let len = (names.len() * 2).next_power_of_two().max(8);
        let mut table = NameTable {
            slots: vec![None; len],
        };
        for (name, value) in names {
            let print = Print::of(name);
            if table.get(print, name).is_none() {
                if let Some(slot) = table.vacancy(print) {
                    *slot = Some((print, name.into(), value));
                }
            }
        }
        table
    }

    fn vacancy(&mut self, print: Print) -> Option<&mut Option<Named<V>>> {
        let mask = self.slots.len() - 1;
        let start = print.hash() & mask;
        let at = (0..self.slots.len())
            .map(|i| (start + i) & mask)
            .find(|&at| self.slots.get(at).is_some_and(Option::is_none))?;
        self.slots.get_mut(at)
    }

    /// The value of the name `key` is (`print` is its print).
    #[inline(always)]
    pub fn get(&self, print: Print, key: &[u8]) -> Option<V> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = print.hash() & mask;
        // Never full, so an empty slot ends every probe; the bound only keeps it finite.
        for _ in 0..self.slots.len() {
            let (found, name, value) = self.slots.get(at)?.as_ref()?;
            if *found == print && (print.len <= 16 || crate::bytes::same(name, key)) {
                return Some(*value);
            }
            at = (at + 1) & mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{NameTable, Print};
    use std::collections::HashMap;

    #[test]
    fn prints_of_short_names_differ_when_the_names_do() {
        // Every name of up to 5 bytes over a small alphabet that includes the edges.
        let alphabet = [b'a', b'b', 0, 0x7f, 0x80, 0xff];
        let mut seen: HashMap<Print, Vec<u8>> = HashMap::new();
        let mut names = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = names
                .iter()
                .filter(|n| n.len() == names.last().map_or(0, Vec::len))
                .flat_map(|n| {
                    alphabet.iter().map(move |&b| {
                        let mut m = n.clone();
                        m.push(b);
                        m
                    })
                })
                .collect();
            names.extend(longer);
        }
        for name in names {
            if let Some(other) = seen.insert(Print::of(&name), name.clone()) {
                panic!("{name:?} and {other:?} share a print");
            }
        }
        // Up to 16 bytes, changing any one byte changes the print.
        for len in 1..=16usize {
            let name: Vec<u8> = (0..len as u8).map(|i| b'a' + i).collect();
            for at in 0..len {
                let mut other = name.clone();
                if let Some(b) = other.get_mut(at) {
                    *b ^= 0x20;
                }
                assert_ne!(Print::of(&name), Print::of(&other), "{len} {at}");
            }
        }
    }

    #[test]
    fn ascii_is_told_from_the_print() {
        for name in [
            "",
            "a",
            "ab",
            "abcd",
            "abcdefgh",
            "sixteen bytes!!!",
            "seventeen bytes!!",
        ] {
            assert!(
                Print::of(name.as_bytes()).is_ascii(name.as_bytes()),
                "{name}"
            );
        }
        for name in [
            "é",
            "aé",
            "abcé",
            "abcdefgé",
            "fifteen bytes é",
            "seventeen bytes é!",
        ] {
            assert!(
                !Print::of(name.as_bytes()).is_ascii(name.as_bytes()),
                "{name}"
            );
        }
    }

    #[test]
    fn table_finds_its_names_and_no_other() {
        let names: [&[u8]; 7] = [
            b"mpid",
            b"user_attribute_timestamps",
            b"user_attribute_timestampz",
            b"$address",
            b"a",
            b"",
            b"mpid",
        ];
        let table = NameTable::new(names.iter().enumerate().map(|(i, n)| (*n, i)));
        for (i, name) in names.iter().enumerate().take(6) {
            assert_eq!(table.get(Print::of(name), name), Some(i), "{name:?}");
        }
        for other in [
            &b"mpi"[..],
            b"MPID",
            b"user_attribute_timestampy",
            b"$addresses",
            b"b",
        ] {
            assert_eq!(table.get(Print::of(other), other), None, "{other:?}");
        }
    }
}
