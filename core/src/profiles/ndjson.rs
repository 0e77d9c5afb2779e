//! NDJSON: one profile object a line; blank lines are skipped.

use memchr::{memchr, memchr_iter};

use super::reader::{error_text, Batch, RecordSink};
use super::record::Wanted;
use crate::preview::{Diagnostic, Level};

#[derive(Default)]
pub(super) struct NdjsonReader {
    /// The unfinished last line of earlier chunks.
    partial: Vec<u8>,
    line: u64,
}

impl NdjsonReader {
    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        let mut rest = chunk;
        if !self.partial.is_empty() {
            let Some(end) = memchr(b'\n', rest) else {
                self.partial.extend_from_slice(rest);
                return;
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..end]);
            self.line += 1;
            let mut batch = Batch::new();
            read_line(&line, self.line, wanted, &mut batch, sink);
            batch.flush(sink);
            line.clear();
            self.partial = line;
            rest = &rest[end + 1..];
        }
        let mut batch = Batch::new();
        let mut start = 0;
        for end in memchr_iter(b'\n', rest) {
            self.line += 1;
            read_line(&rest[start..end], self.line, wanted, &mut batch, sink);
            start = end + 1;
        }
        batch.flush(sink);
        self.partial.extend_from_slice(&rest[start..]);
    }

    pub fn finish<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line += 1;
            let mut batch = Batch::new();
            read_line(&line, self.line, wanted, &mut batch, sink);
            batch.flush(sink);
        }
    }
}

fn read_line<'a, S: RecordSink>(
    line: &'a [u8],
    number: u64,
    wanted: &Wanted,
    batch: &mut Batch<'a>,
    sink: &mut S,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if let Err(e) = batch.read_json(line, number, wanted, sink) {
        sink.reject(Diagnostic {
            column: Some(e.column() as u64),
            ..super::diagnostic(
                Level::Error,
                "invalid_json",
                format!(
                    "line {number} is not valid JSON ({} at column {}); it was skipped",
                    error_text(&e),
                    e.column()
                ),
                number,
            )
        });
    }
}
