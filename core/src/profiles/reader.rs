//! Splits an input that arrives in chunks into records, whatever the format, and hands
//! each to a [`RecordSink`]. Every reader keeps at most one unfinished record buffered.

use serde::de::IgnoredAny;

use super::csv::{CsvReader, LineBreaks};
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

/// Where a [`Batch`] hands its records: any [`RecordSink`], which looks at them where they
/// are, or a sink that takes the batch's records away whole (to group them on another
/// thread), which needs them to borrow from input that lives as long as `'a`.
pub(crate) trait BatchSink<'a> {
    /// The first `len` of `scratches` were read, with their lines. A sink that keeps them
    /// leaves other scratches in their place, to read the next records into.
    fn hand_over(&mut self, scratches: &mut Vec<Scratch<'a>>, len: usize, lines: &[u64]);
    fn reject(&mut self, diagnostic: Diagnostic);
    fn report(&mut self, diagnostic: Diagnostic);
}

impl<'a, S: RecordSink> BatchSink<'a> for S {
    fn hand_over(&mut self, scratches: &mut Vec<Scratch<'a>>, len: usize, lines: &[u64]) {
        self.records(scratches.get(..len).unwrap_or_default(), lines);
    }
    fn reject(&mut self, diagnostic: Diagnostic) {
        RecordSink::reject(self, diagnostic);
    }
    fn report(&mut self, diagnostic: Diagnostic) {
        RecordSink::report(self, diagnostic);
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

enum Kind {
    /// Nothing but white space (or part of a BOM) seen yet.
    Detecting(Leading),
    /// A blank start whose current line grew too long to hold: every reader reads it.
    Speculating(Box<Candidates>),
    Ndjson(NdjsonReader),
    Json(JsonArrayReader),
    Csv(Box<CsvReader>),
}

impl Kind {
    fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        match self {
            Kind::Ndjson(r) => r.push(chunk, wanted, sink),
            Kind::Json(r) => r.push(chunk, wanted, sink),
            Kind::Csv(r) => r.push(chunk, wanted, sink),
            Kind::Detecting(_) | Kind::Speculating(_) => {}
        }
    }
}

/// Blanks held before the format is known, past which the current line is read by every
/// reader instead (each bounds what it holds): spaces or lone CRs with no line feed.
#[cfg(not(fuzzing))]
const HELD_BLANKS: usize = 64 << 10;
/// Small, so that fuzzed inputs (a few KiB) reach the readers' way too.
#[cfg(fuzzing)]
const HELD_BLANKS: usize = 8;

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
            kind: Kind::Detecting(Leading::default()),
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
            Kind::Detecting(_) | Kind::Speculating(_) => self.requested,
            Kind::Ndjson(_) => Format::Ndjson,
            Kind::Json(_) => Format::Json,
            Kind::Csv(_) => Format::Csv,
        }
    }

    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        match &mut self.kind {
            Kind::Detecting(leading) => match leading.take(chunk, self.requested) {
                Taken::Held => {}
                Taken::Decided(format, rest) => {
                    let leading = std::mem::take(leading);
                    self.kind = self.reader(format, &leading, wanted, sink);
                    self.push(rest, wanted, sink);
                }
                Taken::TooLong(rest) => {
                    let leading = std::mem::take(leading);
                    let formats = [Format::Ndjson, Format::Json, Format::Csv];
                    let candidates = formats.map(|format| {
                        let mut said = Said::default();
                        (self.reader(format, &leading, wanted, &mut said), said)
                    });
                    self.kind = Kind::Speculating(Box::new(Candidates(candidates)));
                    self.push(rest, wanted, sink);
                }
            },
            Kind::Speculating(candidates) => {
                let first = chunk.iter().position(|b| !b.is_ascii_whitespace());
                let (blanks, rest) = chunk.split_at(first.unwrap_or(chunk.len()));
                for (reader, said) in &mut candidates.0 {
                    reader.push(blanks, wanted, said);
                }
                if let Some(&byte) = rest.first() {
                    self.kind = self.choose(by_first_byte(byte), sink);
                    self.push(rest, wanted, sink);
                }
            }
            reader => reader.push(chunk, wanted, sink),
        }
    }

    pub fn finish<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        match &mut self.kind {
            Kind::Detecting(leading) => {
                let leading = std::mem::take(leading);
                // All blank, or the start of a BOM that never completed (content then).
                let format = decide(&leading.held, self.requested, true).unwrap_or(Format::Ndjson);
                self.kind = self.reader(format, &leading, wanted, sink);
            }
            // All blank: an empty NDJSON input.
            Kind::Speculating(_) => self.kind = self.choose(Format::Ndjson, sink),
            _ => {}
        }
        match &mut self.kind {
            Kind::Ndjson(r) => r.finish(wanted, sink),
            Kind::Json(r) => r.finish(sink),
            Kind::Csv(r) => r.finish(wanted, sink),
            Kind::Detecting(_) | Kind::Speculating(_) => {}
        }
    }

    /// The format's reader, started after the blank lines `leading` counted, having read
    /// what it held.
    fn reader<S: RecordSink>(
        &self,
        format: Format,
        leading: &Leading,
        wanted: &Wanted,
        sink: &mut S,
    ) -> Kind {
        let Leading { held, lines, .. } = leading;
        // csv-core strips a BOM itself (its first read holds at least the BOM's 3 bytes:
        // `Leading` waits for them); the JSON readers get the data without it.
        let data = match format {
            Format::Csv => &held[..],
            _ => held.strip_prefix(BOM).unwrap_or(held),
        };
        let mut kind = match format {
            Format::Json => {
                Kind::Json(JsonArrayReader::new(self.element_positions).after_lines(lines.newlines))
            }
            Format::Csv => Kind::Csv(Box::new(
                CsvReader::new(wanted).after_lines(lines.csv_breaks),
            )),
            Format::Ndjson | Format::Auto => {
                Kind::Ndjson(NdjsonReader::default().after_lines(lines.newlines))
            }
        };
        kind.push(data, wanted, sink);
        kind
    }

    /// The candidate reader of `format`, once what it said is said for real.
    fn choose<S: RecordSink>(&mut self, format: Format, sink: &mut S) -> Kind {
        let Kind::Speculating(candidates) =
            std::mem::replace(&mut self.kind, Kind::Detecting(Leading::default()))
        else {
            return Kind::Detecting(Leading::default());
        };
        let [ndjson, json, csv] = candidates.0;
        let (reader, said) = match format {
            Format::Json => json,
            Format::Csv => csv,
            Format::Ndjson | Format::Auto => ndjson,
        };
        for (rejected, diagnostic) in said.0 {
            if rejected {
                sink.reject(diagnostic);
            } else {
                sink.report(diagnostic);
            }
        }
        reader
    }
}

/// Every format's reader over a long blank start (NDJSON, JSON, CSV), with what each
/// said.
struct Candidates([(Kind, Said); 3]);

/// What a candidate reader said: findings only, as blanks make no record. `true` for a
/// rejection.
#[derive(Default)]
struct Said(Vec<(bool, Diagnostic)>);

impl RecordSink for Said {
    fn record(&mut self, _: &Scratch<'_>, _: u64) {}
    fn reject(&mut self, diagnostic: Diagnostic) {
        self.0.push((true, diagnostic));
    }
    fn report(&mut self, diagnostic: Diagnostic) {
        self.0.push((false, diagnostic));
    }
}

/// The format whose input starts with `byte`, its first non-blank one.
fn by_first_byte(byte: u8) -> Format {
    match byte {
        b'[' => Format::Json,
        b'{' => Format::Ndjson,
        _ => Format::Csv,
    }
}

/// The blank start of an input whose format is not known yet. Whole blank lines are
/// counted, not kept, so a long blank start holds no memory: the format's reader starts
/// at the line after them, with the BOM and the current line's blanks.
#[derive(Default)]
struct Leading {
    /// A byte order mark (or as much of one as came), then the current line's blanks.
    held: Vec<u8>,
    /// The first three bytes came: whether they are a BOM is known.
    bom_known: bool,
    lines: LinesBefore,
}

/// What [`Leading::take`] made of a chunk.
enum Taken<'c> {
    /// All held: still blank.
    Held,
    /// The format, and the part of the chunk its reader reads after what was held.
    Decided(Format, &'c [u8]),
    /// Still blank, with a current line too long to hold: every reader reads what was
    /// held, then this part of the chunk.
    TooLong(&'c [u8]),
}

/// Line breaks in the blank lines dropped, as each format counts them.
#[derive(Default, Clone, Copy)]
struct LinesBefore {
    /// `\n`, for JSON and NDJSON.
    newlines: u64,
    /// `\n`, `\r\n` and a lone `\r`, for CSV.
    csv_breaks: u64,
}

impl Leading {
    /// Takes the next chunk: holds it, or gives the part its reader (or the candidate
    /// readers) must read after `held`. The current line's blanks are never copied past
    /// [`HELD_BLANKS`].
    fn take<'c>(&mut self, chunk: &'c [u8], requested: Format) -> Taken<'c> {
        let mut rest = chunk;
        if !self.bom_known {
            // Most inputs show their format in their first chunk: nothing is copied
            // (but a BOM, which the JSON readers must not see).
            if self.held.is_empty() && chunk.first() != BOM.first() {
                if let Some(format) = decide(chunk, requested, false) {
                    return Taken::Decided(format, chunk);
                }
            }
            // Until the first three bytes came, a BOM may be forming: hold them whole.
            let (head, tail) =
                rest.split_at(rest.len().min(BOM.len().saturating_sub(self.held.len())));
            self.held.extend_from_slice(head);
            rest = tail;
            if let Some(format) = decide(&self.held, requested, false) {
                return Taken::Decided(format, rest);
            }
            if self.held.len() < BOM.len() && BOM.starts_with(&self.held) {
                return Taken::Held;
            }
            self.bom_known = true;
            // Blank bytes past the BOM, if any: counted as the rest are.
            let skip = self.bom_len();
            let blanks = self.held.split_off(skip);
            self.keep_blanks(&blanks);
        }
        // A named format is known at once (`decide` above); from here on it is `Auto`,
        // and `held` past the BOM is blank. Whole blank lines are counted; the current
        // line's blanks go on to the reader.
        let first = rest.iter().position(|b| !b.is_ascii_whitespace());
        let blanks = rest.get(..first.unwrap_or(rest.len())).unwrap_or_default();
        let open = memchr::memrchr(b'\n', blanks).map_or(0, |last| last + 1);
        let (ended, rest) = rest.split_at(open);
        self.keep_blanks(ended);
        if let Some(&byte) = rest.get(blanks.len() - open) {
            return Taken::Decided(by_first_byte(byte), rest);
        }
        if self.held.len() + rest.len() > HELD_BLANKS {
            return Taken::TooLong(rest);
        }
        self.held.extend_from_slice(rest);
        Taken::Held
    }

    fn bom_len(&self) -> usize {
        if self.held.starts_with(BOM) {
            BOM.len()
        } else {
            0
        }
    }

    /// Adds blank bytes: the lines they end are counted and dropped, the blanks after the
    /// last line break are held.
    fn keep_blanks(&mut self, blanks: &[u8]) {
        let Some(last) = memchr::memrchr(b'\n', blanks) else {
            self.held.extend_from_slice(blanks);
            return;
        };
        let (ended, open) = blanks.split_at(last + 1);
        let skip = self.bom_len();
        let mut breaks = LineBreaks::default();
        for part in [self.held.get(skip..).unwrap_or_default(), ended] {
            breaks.read(part);
            self.lines.newlines += memchr::memchr_iter(b'\n', part).count() as u64;
        }
        // The part read ends in `\n`: no `\r` waits to be counted.
        self.lines.csv_breaks += breaks.count();
        self.held.truncate(skip);
        self.held.extend_from_slice(open);
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
    /// Read, with findings to report before it.
    Noted(Vec<Diagnostic>),
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
    pub fn keep<S: BatchSink<'a>>(&mut self, line: u64, sink: &mut S) {
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
    pub fn read_json<S: BatchSink<'a>>(
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
    pub fn read_json_prefix<S: BatchSink<'a>>(
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
    pub fn read_row<S: BatchSink<'a>>(
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
    fn settle<S: BatchSink<'a>>(&mut self, outcome: Outcome, line: u64, sink: &mut S) {
        match outcome {
            Outcome::Read => self.keep(line, sink),
            Outcome::Noted(diagnostics) => {
                // The records before go first; the record, read into the next place, is
                // taken out while they go (the sink may take their scratches away), then
                // put at the front of the emptied batch.
                // `next` made the place, so it is within the scratches.
                debug_assert!(self.len < self.scratches.len());
                if self.len >= self.scratches.len() {
                    return;
                }
                let record = self.scratches.remove(self.len);
                self.flush(sink);
                self.scratches.insert(0, record);
                for diagnostic in diagnostics {
                    sink.report(diagnostic);
                }
                self.keep(line, sink);
            }
            Outcome::Rejected(diagnostic) => {
                self.flush(sink);
                sink.reject(diagnostic);
            }
        }
    }

    pub fn flush<S: BatchSink<'a>>(&mut self, sink: &mut S) {
        if self.len > 0 {
            let lines = self.lines.get(..self.len).unwrap_or_default();
            sink.hand_over(&mut self.scratches, self.len, lines);
            self.len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, Reader, RecordSink};
    use crate::preview::Diagnostic;
    use crate::profiles::record::{Scratch, Wanted};
    use crate::profiles::Format;

    #[derive(Default)]
    struct Lines(Vec<u64>);

    impl RecordSink for Lines {
        fn record(&mut self, _: &Scratch<'_>, line: u64) {
            self.0.push(line);
        }
        fn reject(&mut self, _: Diagnostic) {}
    }

    #[test]
    fn a_blank_start_is_counted_not_held() {
        let wanted = Wanted::new(["$address".to_string()]);
        let mut reader = Reader::new(Format::Auto);
        let mut sink = Lines::default();
        let chunk = "\r\n \t\n".repeat(16 << 10);
        for _ in 0..64 {
            reader.push(chunk.as_bytes(), &wanted, &mut sink);
            let Kind::Detecting(leading) = &reader.kind else {
                panic!("decided on blanks");
            };
            // The blanks of the current line only, never the lines before.
            assert!(leading.held.capacity() <= 16, "{}", leading.held.capacity());
        }
        reader.push(b"{\"mpid\":1}\n", &wanted, &mut sink);
        reader.finish(&wanted, &mut sink);
        assert_eq!(reader.format(), Format::Ndjson);
        assert_eq!(sink.0, [64 * 2 * (16 << 10) + 1]);
    }

    #[test]
    fn the_current_line_of_blanks_is_handed_on_not_copied() {
        use super::{Leading, Taken, BOM, HELD_BLANKS};
        let blanks = " ".repeat(4 * HELD_BLANKS);
        // Content after it: the reader gets the line from the chunk itself.
        let input = [BOM, b"\n\n", blanks.as_bytes(), b"{}"].concat();
        let mut leading = Leading::default();
        match leading.take(&input, Format::Auto) {
            Taken::Decided(Format::Ndjson, rest) => assert_eq!(rest.len(), blanks.len() + 2),
            _ => panic!("not decided"),
        }
        assert_eq!((leading.held.as_slice(), leading.lines.newlines), (BOM, 2));
        // None: too long to hold, handed on to every reader.
        let mut leading = Leading::default();
        match leading.take(&input[..input.len() - 2], Format::Auto) {
            Taken::TooLong(rest) => assert_eq!(rest.len(), blanks.len()),
            _ => panic!("held"),
        }
        assert_eq!(leading.held.as_slice(), BOM);
    }

    #[test]
    fn a_long_blank_line_is_read_by_every_reader_not_held() {
        let wanted = Wanted::new(["$address".to_string()]);
        let mut reader = Reader::new(Format::Auto);
        let mut sink = Lines::default();
        // Lone CRs: blank lines to CSV, one long line to NDJSON.
        let chunk = " \t\r".repeat(1 << 16);
        for _ in 0..64 {
            reader.push(chunk.as_bytes(), &wanted, &mut sink);
            match &reader.kind {
                Kind::Detecting(leading) => assert!(leading.held.len() <= 2 * chunk.len()),
                Kind::Speculating(_) => {}
                _ => panic!("decided on blanks"),
            }
        }
        assert!(matches!(reader.kind, Kind::Speculating(_)));
        reader.push(b"mpid,$address\n1,a\n", &wanted, &mut sink);
        reader.finish(&wanted, &mut sink);
        assert_eq!(reader.format(), Format::Csv);
        assert_eq!(sink.0, [64 * (1 << 16) + 2]);
    }
}
