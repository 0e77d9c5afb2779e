//! Streaming preview: push bytes in chunks of any size, get the one-shot result.

use crate::definition::GroupDefinition;
use crate::engine::{Engine, GroupIndex};
use crate::preview::{Preview, PreviewOptions};
use crate::profiles::reader::Reader;
use crate::profiles::record::Wanted;

/// A preview fed in chunks. `finish` gives exactly what [`preview_groups`] gives on the
/// concatenated input; memory grows with distinct keys, not with input size.
pub struct PreviewSession {
    reader: Reader,
    wanted: Wanted,
    engine: Engine,
    bytes_read: u64,
}

impl PreviewSession {
    pub fn new(definition: &GroupDefinition, options: &PreviewOptions) -> Self {
        let (engine, wanted) = Engine::new(definition, options);
        PreviewSession {
            reader: Reader::new(options.format).with_element_positions(options.element_positions),
            wanted,
            engine,
            bytes_read: 0,
        }
    }

    /// Feeds the next chunk; a chunk may end anywhere, even inside a UTF-8 character.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes_read += chunk.len() as u64;
        self.reader.push(chunk, &self.wanted, &mut self.engine);
    }

    /// Bytes pushed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// A whole input on this thread.
    pub(crate) fn one_shot(mut self, input: &[u8]) -> Preview {
        self.push(input);
        self.finish()
    }

    pub fn finish(self) -> Preview {
        self.finish_indexed().0
    }

    /// Also where each formed group stands, by key, for a second pass over the same input.
    pub(crate) fn finish_indexed(mut self) -> (Preview, GroupIndex) {
        self.reader.finish(&self.wanted, &mut self.engine);
        let format = self.reader.format();
        self.engine.finish(format)
    }
}

/// One-shot preview of a whole input. Natively, a large NDJSON input is read on several
/// threads (see `pipeline`); the result is the same as on one.
pub fn preview_groups(
    definition: &GroupDefinition,
    input: &[u8],
    options: &PreviewOptions,
) -> Preview {
    let session = PreviewSession::new(definition, options);
    // WebAssembly here has one thread.
    #[cfg(not(target_family = "wasm"))]
    if let Some(threads) = crate::pipeline::threads_for(input, options.format) {
        return crate::pipeline::preview(session.engine, &session.wanted, input, threads);
    }
    session.one_shot(input)
}
