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

/// TypeScript declarations of every input and result shape; wasm-bindgen copies them into the
/// generated `.d.ts`, beside the functions whose signatures name them.
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../package/types.d.ts");
