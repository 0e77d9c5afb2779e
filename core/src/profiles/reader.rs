//! Splits an input that arrives in chunks into records, whatever the format, and hands
//! each to a [`RecordSink`]. Every reader keeps at most one unfinished record buffered.

use serde::de::IgnoredAny;

use super::csv::CsvReader;
use super::json_array::JsonArrayReader;
use super::ndjson::NdjsonReader;
use super::record::{parse_json_record, Scratch, Wanted};
use super::scan::{scan_record, scan_record_prefix, Breaks};
use super::{diagnostic, Format};
use crate::preview::{Diagnostic, Level};

/// Receives the records a reader finds.
pub(crate) trait RecordSink {
    /// A record that was read; the sink decides whether it is usable.
    fn record(&mut self, rec: &Scratch<'_>, line: u64);
    /// Several records in input order, each with its line: a sink may look over all of
    /// them first, to fetch what they need from memory together.
    fn records(&mut self, recs: &[Scratch<'_>], lines: &[u64]) {
        for (rec, &line) in recs.iter().zip(lines) {
            self.record(rec, line);
        }
    }
    /// A record that could not be read at all.
    fn reject(&mut self, diagnostic: Diagnostic);
    /// A problem with the input that skips no record by itself.
    fn report(&mut self, diagnostic: Diagnostic) {
        self.reject(diagnostic)
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

enum Kind {
    /// Nothing but white space (or part of a BOM) seen yet.
    Detecting(Vec<u8>),
    Ndjson(NdjsonReader),
    Json(JsonArrayReader),
    Csv(Box<CsvReader>),
}

pub(crate) struct Reader {
    requested: Format,
    kind: Kind,
    /// See `PreviewOptions::element_positions`.
    element_positions: bool,
}

impl Reader {
    pub fn new(format: Format) -> Self {
        Reader {
            requested: format,
            kind: Kind::Detecting(Vec::new()),
            element_positions: false,
        }
    }

    /// In a JSON array, a record's line is its position in the array.
    pub fn with_element_positions(mut self, on: bool) -> Self {
        self.element_positions = on;
        self
    }

    /// The format in use: the one named, or the detected one once known.
    pub fn format(&self) -> Format {
        match &self.kind {
            Kind::Detecting(_) => self.requested,
            Kind::Ndjson(_) => Format::Ndjson,
            Kind::Json(_) => Format::Json,
            Kind::Csv(_) => Format::Csv,
        }
    }

    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        match &mut self.kind {
            Kind::Ndjson(r) => r.push(chunk, wanted, sink),
            Kind::Json(r) => r.push(chunk, wanted, sink),
            Kind::Csv(r) => r.push(chunk, wanted, sink),
            Kind::Detecting(pending) => {
                if pending.is_empty() {
                    if let Some(format) = decide(chunk, self.requested, false) {
                        self.start(format, chunk, wanted, sink);
                    } else {
                        pending.extend_from_slice(chunk);
                    }
                } else {
                    let mut data = std::mem::take(pending);
                    data.extend_from_slice(chunk);
                    if let Some(format) = decide(&data, self.requested, false) {
                        self.start(format, &data, wanted, sink);
                    } else {
                        self.kind = Kind::Detecting(data);
                    }
                }
            }
        }
    }

    pub fn finish<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        if let Kind::Detecting(pending) = &mut self.kind {
            let data = std::mem::take(pending);
            let format = decide(&data, self.requested, true).unwrap_or(Format::Ndjson);
            self.start(format, &data, wanted, sink);
        }
        match &mut self.kind {
            Kind::Ndjson(r) => r.finish(wanted, sink),
            Kind::Json(r) => r.finish(sink),
            Kind::Csv(r) => r.finish(wanted, sink),
            Kind::Detecting(_) => {}
        }
    }

    fn start<S: RecordSink>(&mut self, format: Format, data: &[u8], wanted: &Wanted, sink: &mut S) {
        // csv-core strips a BOM itself (its first read holds at least the BOM's 3 bytes:
        // `decide` waits for them); the JSON readers get the data without it.
        let data = match format {
            Format::Csv => data,
            _ => data.strip_prefix(BOM).unwrap_or(data),
        };
        self.kind = match format {
            Format::Json => Kind::Json(JsonArrayReader::new(self.element_positions)),
            Format::Csv => Kind::Csv(Box::new(CsvReader::new(wanted))),
            Format::Ndjson | Format::Auto => Kind::Ndjson(NdjsonReader::default()),
        };
        self.push(data, wanted, sink);
    }
}

/// Decides the format once enough of the start is known: the named one after any BOM,
/// or by the first non-blank character.
fn decide(start: &[u8], requested: Format, at_end: bool) -> Option<Format> {
    if !at_end && start.len() < BOM.len() && BOM.starts_with(start) {
        return None;
    }
    if requested != Format::Auto {
        return Some(requested);
    }
    let body = start.strip_prefix(BOM).unwrap_or(start);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Some(Format::Json),
        Some(b'{') => Some(Format::Ndjson),
        Some(_) => Some(Format::Csv),
        None if at_end => Some(Format::Ndjson),
        None => None,
    }
}

/// Reads one JSON record into `scratch`; a value that is not an object, or an object
/// whose parts have the wrong shape, is rejected with a diagnostic. `Err` for text that
/// is not JSON at all, for the error's position. `scan` false skips the fast scanner (it
/// gave up on this text already).
fn json_record<'a>(
    text: &'a [u8],
    line: u64,
    wanted: &Wanted,
    scratch: &mut Scratch<'a>,
    scan: bool,
) -> Result<Outcome, serde_json::Error> {
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<IgnoredAny>(text) {
            Ok(_) => {
                let found = match first {
                    Some(b'[') => "an array",
                    Some(b'"') => "a string",
                    Some(b't' | b'f') => "a boolean",
                    Some(b'n') => "null",
                    _ => "a number",
                };
                Ok(Outcome::Rejected(diagnostic(
                    Level::Error,
                    "not_an_object",
                    format!("expected a profile object, found {found}; the record was skipped"),
                    line,
                )))
            }
            Err(e) => Err(e),
        };
    }
    if scan && scan_record(text, wanted, scratch).is_some() {
        return Ok(Outcome::Read);
    }
    match parse_json_record(text, wanted, scratch) {
        Ok(()) => Ok(Outcome::Read),
        Err(e) if e.is_data() => Ok(Outcome::Rejected(diagnostic(
            Level::Error,
            "invalid_record",
            format!("{}; the record was skipped", crate::json_error::what(&e)),
            line,
        ))),
        Err(e) => Err(e),
    }
}

/// How reading one record into the batch went.
pub(super) enum Outcome {
    Read,
    /// Read, with a finding to report before it.
    Noted(Diagnostic),
    /// Not usable, with the reason.
    Rejected(Diagnostic),
}

/// Records of one chunk read but not handed on yet, so that the sink gets them several
/// at a time ([`RecordSink::records`]). Whatever else the reader tells the sink must
/// come after a [`Batch::flush`], to keep input order.
pub(super) struct Batch<'a> {
    scratches: Vec<Scratch<'a>>,
    lines: [u64; BATCH],
    len: usize,
}

/// Enough records to overlap their memory accesses. 8 and 32 measured no better.
pub(crate) const BATCH: usize = 16;

impl<'a> Batch<'a> {
    pub fn new() -> Self {
        Batch {
            scratches: Vec::new(),
            lines: [0; BATCH],
            len: 0,
        }
    }

    /// The scratch to read the next record into.
    fn next(&mut self, wanted: &Wanted) -> &mut Scratch<'a> {
        if self.len == self.scratches.len() {
            self.scratches.push(Scratch::new(wanted));
        }
        &mut self.scratches[self.len]
    }

    /// Keeps the record just read into [`Batch::next`]; hands the batch on when full.
    pub fn keep<S: RecordSink>(&mut self, line: u64, sink: &mut S) {
        if let Some(slot) = self.lines.get_mut(self.len) {
            *slot = line;
        }
        self.len += 1;
        if self.len == BATCH {
            self.flush(sink);
        }
    }

    /// Reads one JSON record into the batch, or hands its rejection on after the records
    /// before it. `Err` for text that is not JSON at all: the caller words and places it
    /// (the batch is flushed already). `scan` as for `json_record`.
    pub fn read_json<S: RecordSink>(
        &mut self,
        text: &'a [u8],
        line: u64,
        wanted: &Wanted,
        sink: &mut S,
        scan: bool,
    ) -> Result<(), serde_json::Error> {
        match json_record(text, line, wanted, self.next(wanted), scan) {
            Ok(outcome) => {
                self.settle(outcome, line, sink);
                Ok(())
            }
            Err(e) => {
                self.flush(sink);
                Err(e)
            }
        }
    }

    /// Reads the record object `rest` starts with into the batch, when the scanner takes
    /// it whole, and gives its length: one pass both finds where a JSON array's element
    /// ends and reads it. `None` leaves the element to the caller (nothing was kept).
    pub fn read_json_prefix<S: RecordSink>(
        &mut self,
        rest: &'a [u8],
        line: u64,
        wanted: &Wanted,
        sink: &mut S,
    ) -> Option<usize> {
        let len = self.scan_prefix(rest, Breaks::Space, wanted)?;
        self.keep(line, sink);
        Some(len)
    }

    /// Reads the record object `rest` starts with into [`Batch::next`] with the scanner,
    /// and gives its length; nothing is kept until the caller calls [`Batch::keep`].
    pub fn scan_prefix(
        &mut self,
        rest: &'a [u8],
        breaks: Breaks,
        wanted: &Wanted,
    ) -> Option<usize> {
        scan_record_prefix(rest, breaks, wanted, self.next(wanted))
    }

    /// Reads one CSV row into the batch with `fill`.
    pub fn read_row<S: RecordSink>(
        &mut self,
        line: u64,
        wanted: &Wanted,
        sink: &mut S,
        fill: impl FnOnce(&mut Scratch<'a>) -> Outcome,
    ) {
        let outcome = fill(self.next(wanted));
        self.settle(outcome, line, sink);
    }

    /// Keeps the record just read into [`Batch::next`], or hands its rejection on; findings
    /// and rejections reach the sink after the records before them.
    fn settle<S: RecordSink>(&mut self, outcome: Outcome, line: u64, sink: &mut S) {
        match outcome {
            Outcome::Read => self.keep(line, sink),
            Outcome::Noted(diagnostic) => {
                // The records before go first; the record, read into the next place,
                // moves to the front of the emptied batch.
                let place = self.len;
                self.flush(sink);
                // `next` made the place, so it is within the scratches.
                debug_assert!(place < self.scratches.len());
                if place < self.scratches.len() {
                    self.scratches.swap(0, place);
                }
                sink.report(diagnostic);
                self.keep(line, sink);
            }
            Outcome::Rejected(diagnostic) => {
                self.flush(sink);
                sink.reject(diagnostic);
            }
        }
    }

    pub fn flush<S: RecordSink>(&mut self, sink: &mut S) {
        if self.len > 0 {
            let recs = self.scratches.get(..self.len).unwrap_or_default();
            sink.records(recs, self.lines.get(..self.len).unwrap_or_default());
            self.len = 0;
        }
    }
}
