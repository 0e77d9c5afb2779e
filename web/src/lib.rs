//! JavaScript bindings of the Group Identity Kit engine: the npm package `group-identity`.
//!
//! This crate only translates between JavaScript and `group_identity`; all logic lives there.
//! Inputs are read in [`convert`], every thrown error is made by [`errors`], and the exported
//! functions are in [`api`]. Results cross the boundary as JSON text parsed by `JSON.parse`,
//! except a preview's groups, which go in columns that a short JavaScript loop turns into
//! objects ([`groups`]); no per-profile JavaScript object is built.

mod api;
mod client;
mod convert;
mod errors;
mod groups;
#[cfg(feature = "playground")]
mod playground;

pub use api::{preview_audience, preview_groups, to_sql, validate_definition, PreviewSession};

/// Not part of the package's API (nothing here is exported to JavaScript): lets the wasm
/// tests feed inputs through tiny windows to reach every window boundary.
#[doc(hidden)]
pub mod windows {
    pub use crate::convert::Feeder;
}

/// Randomness for the seeds of the engine's hash tables, which WebAssembly cannot draw
/// itself (see `group_identity::add_entropy`): without it, a crafted file could make every
/// lookup slow. Runs once, when the module is instantiated; not part of the package's API
/// (undeclared, and named as the package's entry files leave out).
#[wasm_bindgen::prelude::wasm_bindgen(start, skip_typescript, js_name = "__seedHashTables")]
fn seed_hash_tables() {
    // 53 random bits a call; a profile file cannot see them.
    let random = || (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    group_identity::add_entropy(random() ^ random().rotate_left(29));
}

/// TypeScript declarations of every input and result shape; wasm-bindgen copies them into the
/// generated `.d.ts`, beside the functions whose signatures name them.
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../package/types.d.ts");
