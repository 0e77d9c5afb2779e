//! NDJSON: one profile object a line; blank lines are skipped.
//!
//! Most lines are a record the scanner reads whole: one pass reads the record and finds
//! where its line ends, with no search for the line break first. Any other line is split
//! out at its line break and read by `read_line` (the scanner, then serde).

use memchr::memchr;

use super::reader::{Batch, BatchSink, RecordSink};
use super::record::Wanted;
use super::scan::Breaks;
use super::{too_large, MAX_RECORD_BYTES};
use crate::json_error;
use crate::preview::{Diagnostic, Level};

#[derive(Default)]
pub(crate) struct NdjsonReader {
    /// The unfinished last line of earlier chunks.
    partial: Vec<u8>,
    /// The unfinished line is past `MAX_RECORD_BYTES`: its bytes are dropped as they come.
    overlong: bool,
    /// While `overlong`: all its bytes so far are blank (a blank line, however long, is
    /// skipped like any other).
    overlong_blank: bool,
    line: u64,
}

impl NdjsonReader {
    /// A reader whose input starts after `newlines` blank lines (dropped before the
    /// format was known).
    pub fn after_lines(mut self, newlines: u64) -> Self {
        self.line = newlines;
        self
    }

    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        let mut rest = chunk;
        if !self.partial.is_empty() || self.overlong {
            let Some(end) = memchr(b'\n', rest) else {
                self.hold(rest);
                return;
            };
            self.line += 1;
            if self.overlong || self.partial.len() + end > MAX_RECORD_BYTES {
                let blank = if self.overlong {
                    self.overlong_blank
                } else {
                    is_blank(&self.partial)
                };
                self.overlong = false;
                self.partial.clear();
                if !(blank && is_blank(&rest[..end])) {
                    sink.reject(too_large(self.line));
                }
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..end]);
                let mut batch = Batch::new();
                read_line(&line, self.line, wanted, &mut batch, sink, true);
                batch.flush(sink);
                line.clear();
                self.partial = line;
            }
            rest = &rest[end + 1..];
        }
        let used = self.lines(rest, wanted, sink);
        self.hold(rest.get(used..).unwrap_or_default());
    }

    /// Lines read so far, blank ones and the ones before `after_lines` included.
    #[cfg(not(target_family = "wasm"))]
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// Reads a whole input at once: its records borrow from it, so that a sink may keep
    /// them as long as the input lives. The same as `push` then `finish` on a new reader.
    /// (Only the native preview on several threads needs it.)
    #[cfg(not(target_family = "wasm"))]
    pub fn read_whole<'a, S: BatchSink<'a>>(
        &mut self,
        input: &'a [u8],
        wanted: &Wanted,
        sink: &mut S,
    ) {
        let used = self.lines(input, wanted, sink);
        let last = input.get(used..).unwrap_or_default();
        if last.len() > MAX_RECORD_BYTES {
            self.overlong_last_line(is_blank(last), sink);
        } else if !last.is_empty() {
            self.last_line(last, wanted, sink);
        }
    }

    /// Reads the lines `rest` ends, and gives how many bytes they took: what is left is
    /// an unfinished line.
    fn lines<'a, S: BatchSink<'a>>(
        &mut self,
        rest: &'a [u8],
        wanted: &Wanted,
        sink: &mut S,
    ) -> usize {
        let mut batch = Batch::new();
        let mut start = 0;
        while let Some(text) = rest.get(start..) {
            // The scanner stops at a line break (`Breaks::End`), so what it reads is
            // within the line; only spaces, tabs or CRs may follow it before the `\n`.
            let tried = text.first() == Some(&b'{');
            if tried {
                // A line the limit allows has its `\n` within this much: the scanner is
                // spared the rest of a longer one, which is refused whole below anyway.
                let text = text.get(..=MAX_RECORD_BYTES).unwrap_or(text);
                let line_len = batch
                    .scan_prefix(text, Breaks::End, wanted)
                    .and_then(|len| line_end(text, len));
                if let Some(line_len) = line_len.filter(|&len| len <= MAX_RECORD_BYTES) {
                    self.line += 1;
                    batch.keep(self.line, sink);
                    start += line_len + 1;
                    continue;
                }
            }
            let Some(end) = memchr(b'\n', text) else {
                break;
            };
            self.line += 1;
            if end > MAX_RECORD_BYTES {
                batch.flush(sink);
                if !is_blank(&text[..end]) {
                    sink.reject(too_large(self.line));
                }
            } else {
                // A line the scanner gave up on goes straight to serde.
                read_line(&text[..end], self.line, wanted, &mut batch, sink, !tried);
            }
            start += end + 1;
        }
        batch.flush(sink);
        start
    }

    /// Keeps the start of an unfinished line, or only notes it is too long.
    fn hold(&mut self, bytes: &[u8]) {
        if self.overlong || self.partial.len() + bytes.len() > MAX_RECORD_BYTES {
            if !self.overlong {
                self.overlong_blank = is_blank(&self.partial);
            }
            self.overlong_blank &= is_blank(bytes);
            self.overlong = true;
            self.partial.clear();
            self.partial.shrink_to(4096);
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    pub fn finish<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        if std::mem::take(&mut self.overlong) {
            self.overlong_last_line(self.overlong_blank, sink);
        } else if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.last_line(&line, wanted, sink);
        }
    }

    /// The input's last line, past `MAX_RECORD_BYTES`: refused unless it is blank.
    fn overlong_last_line<'a, S: BatchSink<'a>>(&mut self, blank: bool, sink: &mut S) {
        self.line += 1;
        if !blank {
            sink.reject(too_large(self.line));
        }
    }

    /// The input's last line, which has no line break.
    fn last_line<'a, S: BatchSink<'a>>(&mut self, line: &'a [u8], wanted: &Wanted, sink: &mut S) {
        self.line += 1;
        let mut batch = Batch::new();
        read_line(line, self.line, wanted, &mut batch, sink, true);
        batch.flush(sink);
    }
}

/// Where the line of a record `len` bytes long ends (the index of its `\n`), when only
/// white space follows the record on it.
fn line_end(text: &[u8], len: usize) -> Option<usize> {
    let tail = text.get(len..)?;
    let at = tail
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r'))?;
    (tail.get(at) == Some(&b'\n')).then_some(len + at)
}

/// A line of white space only, which is skipped.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Reads one line; `scan` false when the scanner gave up on it already.
fn read_line<'a, S: BatchSink<'a>>(
    line: &'a [u8],
    number: u64,
    wanted: &Wanted,
    batch: &mut Batch<'a>,
    sink: &mut S,
    scan: bool,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if is_blank(line) {
        return;
    }
    if let Err(e) = batch.read_json(line, number, wanted, sink, scan) {
        sink.reject(Diagnostic {
            column: Some(e.column() as u64),
            ..super::diagnostic(
                Level::Error,
                "invalid_json",
                format!(
                    "line {number} is not valid JSON ({} at column {}); it was skipped",
                    json_error::what(&e),
                    e.column()
                ),
                number,
            )
        });
    }
}
