//! Streaming preview: push bytes in chunks of any size, get the one-shot result.

use crate::definition::GroupDefinition;
use crate::preview::{Preview, PreviewOptions};

/// A preview fed in chunks. `finish` gives exactly what [`preview_groups`] gives on the
/// concatenated input; memory grows with distinct keys, not with input size.
pub struct PreviewSession {
    _private: (),
}

impl PreviewSession {
    pub fn new(_definition: &GroupDefinition, _options: &PreviewOptions) -> Self {
        todo!("engine")
    }

    /// Feeds the next chunk; a chunk may end anywhere, even inside a UTF-8 character.
    pub fn push(&mut self, _chunk: &[u8]) {
        todo!("engine")
    }

    /// Bytes pushed so far.
    pub fn bytes_read(&self) -> u64 {
        todo!("engine")
    }

    pub fn finish(self) -> Preview {
        todo!("engine")
    }
}

/// One-shot preview of a whole input.
pub fn preview_groups(
    definition: &GroupDefinition,
    input: &[u8],
    options: &PreviewOptions,
) -> Preview {
    let mut session = PreviewSession::new(definition, options);
    session.push(input);
    session.finish()
}
