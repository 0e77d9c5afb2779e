//! JavaScript bindings of the Group Identity Kit engine: the npm package `group-identity`.
//!
//! This crate only translates between JavaScript and `group_identity`; all logic lives there.

mod client;
#[cfg(feature = "playground")]
mod playground;
