//! A set of 64-bit integers in one flat table (8 bytes a slot, linear probing), so the
//! slot a lookup starts at follows from the value alone and can be warmed ahead of it
//! ([`IntSet::locate`], [`IntSet::warm`]).

use std::hash::BuildHasher;

#[derive(Debug, Default)]
pub(crate) struct IntSet {
    /// Values as bits; 0 marks an empty slot, so 0 itself is kept in `has_zero`. At most
    /// 3/4 full.
    slots: Vec<u64>,
    len: usize,
    has_zero: bool,
    /// Seeded per set: see `crate::seed`.
    hasher: crate::seed::Seeded,
}

impl IntSet {
    /// Adds the value; true when it was not there yet.
    pub fn insert(&mut self, value: i64) -> bool {
        let bits = value as u64;
        if bits == 0 {
            return !std::mem::replace(&mut self.has_zero, true);
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(bits, mask);
        for _ in 0..self.slots.len() {
            let Some(slot) = self.slots.get_mut(at) else {
                break;
            };
            if *slot == bits {
                return false;
            }
            if *slot == 0 {
                *slot = bits;
                self.len += 1;
                return true;
            }
            at = (at + 1) & mask;
        }
        // Unreachable while the table has room; treat as new rather than lose a profile.
        true
    }

    /// The slot a lookup of `value` starts at.
    pub fn locate(&self, value: i64) -> usize {
        self.start(value as u64, self.slots.len().wrapping_sub(1))
    }

    /// Reads a slot, so that a lookup soon after finds it in cache. The result means
    /// nothing; pass it to `std::hint::black_box`.
    pub fn warm(&self, at: usize) -> u64 {
        self.slots.get(at).copied().unwrap_or(0)
    }

    fn start(&self, bits: u64, mask: usize) -> usize {
        self.hasher.hash_one(bits) as usize & mask
    }

    fn grow(&mut self) {
        let len = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![0; len]);
        let mask = len - 1;
        for bits in old.into_iter().filter(|&b| b != 0) {
            let mut at = self.start(bits, mask);
            while let Some(slot) = self.slots.get_mut(at) {
                if *slot == 0 {
                    *slot = bits;
                    break;
                }
                at = (at + 1) & mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IntSet;

    #[test]
    fn holds_every_value_once() {
        let mut set = IntSet::default();
        let values: Vec<i64> = (1..5_000)
            .map(|i: i64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as i64))
            .chain([0, -1, 1, i64::MIN, i64::MAX])
            .collect();
        for &v in &values {
            assert!(set.insert(v), "{v}");
        }
        for &v in &values {
            assert!(!set.insert(v), "{v}");
            let _ = set.warm(set.locate(v));
        }
        assert_eq!(set.len + usize::from(set.has_zero), values.len());
    }
}
