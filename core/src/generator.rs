//! Seeded generator of realistic profile exports (SPEC section 8), for tests, benchmarks,
//! the playground's sample data and the emulator.

use crate::profiles::Format;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorOptions {
    pub seed: u64,
    pub profiles: usize,
    pub format: Format,
}

/// Writes `options.profiles` profiles in `options.format` (`Auto` means NDJSON).
pub fn generate(_options: &GeneratorOptions, _out: &mut Vec<u8>) {
    todo!("generator helper")
}
