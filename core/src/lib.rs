//! Group Identity Kit engine.
//!
//! Everything the project knows about mParticle Group Identity lives here, with no I/O:
//! validating group definitions ([`definition`]), reading profile exports
//! ([`profiles`]), grouping and aggregating them ([`engine`], [`session`]) and
//! evaluating audience conditions ([`audience`]). The npm package, the playground and the
//! emulator are thin layers over this crate.

pub mod audience;
mod bytes;
pub mod coerce;
pub mod definition;
pub mod engine;
pub mod generator;
mod int_set;
mod json_error;
mod keys;
#[cfg(not(target_family = "wasm"))]
mod pipeline;
pub mod preview;
pub mod profiles;
mod seed;
pub mod session;
mod spread;
pub mod sql;
pub mod timestamp;

pub use audience::{
    preview_audience, AudienceOptions, AudienceResult, AudienceSession, Condition, ConditionError,
};
pub use definition::{
    validate_definition, validate_definition_text, Aggregation, GroupAttribute, GroupDefinition,
    Issue, Mode, Validation,
};
#[doc(hidden)]
#[cfg(not(target_family = "wasm"))]
pub use pipeline::check_threaded;
pub use preview::{Diagnostic, Group, Level, Oversized, Preview, PreviewOptions, Stats};
pub use profiles::Format;
pub use seed::add_entropy;
pub use session::{preview_groups, PreviewSession};
