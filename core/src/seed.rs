//! Seeds for the hash tables of a session. With one fixed seed anyone can compute keys or
//! mpids that all land at one place of a table, so that every lookup walks past all of
//! them: a crafted 8 MB file took a minute, and each doubling four times as long. Each
//! table takes a fresh seed instead: natively from the operating system (through std's
//! `RandomState`), and in WebAssembly, which has no source of its own, from randomness
//! the host gives once ([`add_entropy`]; the npm package does so when it loads).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::{FixedState, FoldHasher};

static ENTROPY: AtomicU64 = AtomicU64::new(0);
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Mixes randomness from the host into every seed made from now on.
pub fn add_entropy(bits: u64) {
    let mixed = mix(ENTROPY.load(Ordering::Relaxed) ^ bits);
    ENTROPY.store(mixed, Ordering::Relaxed);
}

/// A seed no input can predict (where the host gave randomness, in WebAssembly).
fn fresh() -> u64 {
    // Keys from the operating system, a new pair for each `RandomState`; fixed where
    // there is no operating system to ask (wasm32-unknown-unknown).
    let system = RandomState::new().hash_one(0u8);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    mix(system ^ ENTROPY.load(Ordering::Relaxed) ^ mix(count))
}

/// SplitMix64's finaliser: every input bit moves every output bit.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// std's map and set, hashed by [`Seeded`]: for tables whose keys come from the input.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, Seeded>;
pub(crate) type HashSet<T> = std::collections::HashSet<T, Seeded>;

/// foldhash, seeded afresh for each table that is made (see the module's text).
#[derive(Clone, Debug)]
pub(crate) struct Seeded(FixedState);

impl Default for Seeded {
    fn default() -> Self {
        Seeded(FixedState::with_seed(fresh()))
    }
}

impl BuildHasher for Seeded {
    type Hasher = FoldHasher<'static>;

    #[inline(always)]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

#[cfg(test)]
mod tests {
    use super::{add_entropy, Seeded};
    use std::hash::BuildHasher;

    #[test]
    fn every_table_hashes_differently() {
        let (a, b) = (Seeded::default(), Seeded::default());
        assert_ne!(a.hash_one("12 Main St"), b.hash_one("12 Main St"));
        // A table hashes the same value the same way throughout.
        assert_eq!(a.hash_one(42_u64), a.hash_one(42_u64));
        add_entropy(7);
        assert_ne!(
            Seeded::default().hash_one(1_u64),
            Seeded::default().hash_one(1_u64)
        );
    }
}
