//! CSV with a header row (RFC 4180 quoting), read with csv-core as bytes arrive. Every
//! cell is a string; an empty cell is an absent attribute; `mpid` is required and
//! `updated_at` / `last_stored_timestamp_ms` are times, not attributes.

use std::borrow::Cow;

use csv_core::ReadRecordResult;

use super::reader::{Batch, Outcome, RecordSink, BATCH};
use super::record::{Scratch, Wanted};
use super::{diagnostic, too_large, MAX_RECORD_BYTES};
use crate::coerce::Slot;
use crate::preview::{Diagnostic, Level};

#[derive(Clone, Debug)]
enum Role {
    Mpid,
    UpdatedAt,
    LastStored,
    Wanted(usize),
    Variant,
    Any,
    Other,
}

pub(super) struct CsvReader {
    core: csv_core::Reader,
    /// The unescaped cells of the rows read but not handed on yet, back to back, then
    /// those of the unfinished row (csv-core keeps its state across chunks; these keep
    /// the bytes).
    out: Vec<u8>,
    out_len: usize,
    /// Where each of those cells ends, from the start of its row.
    ends: Vec<usize>,
    ends_len: usize,
    /// The rows in `out` and `ends`: where each ends in both, and its line.
    rows: Vec<Row>,
    header: Option<Vec<(Role, String)>>,
    all: bool,
    /// Line breaks read so far, counted here: csv-core counts `\n` only, so a file with
    /// lone `\r` line ends (old Mac exports) would put every row on line 1.
    breaks: LineBreaks,
    /// Whether the input read so far ends inside a quoted cell: csv-core then takes all
    /// the rest into that cell without a word, so the reader says it at the end.
    quoting: Quoting,
    /// The line the last row (or the header) started on.
    last_line: u64,
    /// Nothing read yet: csv-core drops a byte order mark at the very start, and so must
    /// the quote tracking, or a quote opening the header would look like text.
    at_start: bool,
    /// Input bytes of the row being read, and the line it began on: past
    /// `MAX_RECORD_BYTES` its cells are dropped as they come (a quote that never closes
    /// would otherwise hold the rest of the input in memory), and the row is skipped.
    row_bytes: usize,
    row_line: u64,
    /// Of the row past `MAX_RECORD_BYTES`, the cells ended so far and whether all it held
    /// was blank: a blank line, however long, is skipped like any other.
    long_cells: usize,
    long_blank: bool,
    /// The row being read holds a quote: then it is no blank line, whatever its cells.
    row_quoted: bool,
}

/// Where the input stands with respect to quotes, as csv-core reads them: a quote opens
/// a quoted cell only at the start of a cell, and a doubled quote inside one is a quote.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Quoting {
    #[default]
    CellStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted cell: it closes the cell unless another quote follows.
    QuoteInQuoted,
}

impl Quoting {
    /// Moves over `bytes`; between quotes it jumps, so it costs little.
    fn read(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (next, used) = match *self {
                // At a cell's start a quote opens a quoted cell; after a quote in one, a
                // second quote is a quote and the cell goes on. Anything else but a cell
                // or row end starts (or goes on with) unquoted text.
                Quoting::CellStart | Quoting::QuoteInQuoted => {
                    let next = match rest.first() {
                        Some(b'"') => Quoting::Quoted,
                        Some(b',' | b'\r' | b'\n') => Quoting::CellStart,
                        _ => Quoting::Unquoted,
                    };
                    (next, 1)
                }
                Quoting::Unquoted => match memchr::memchr3(b',', b'\r', b'\n', rest) {
                    Some(at) => (Quoting::CellStart, at + 1),
                    None => return,
                },
                Quoting::Quoted => match memchr::memchr(b'"', rest) {
                    Some(at) => (Quoting::QuoteInQuoted, at + 1),
                    None => return,
                },
            };
            *self = next;
            rest = rest.get(used..).unwrap_or_default();
        }
    }
}

/// Cell text that makes a row of one cell blank.
fn blank_text(text: &[u8]) -> bool {
    text.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\x0c'))
}

/// Counts `\n`, `\r\n` and a lone `\r` once each, over input in chunks split anywhere.
#[derive(Default)]
pub(super) struct LineBreaks {
    count: u64,
    /// The last byte read was `\r`: a break, counted once the next byte shows it is not
    /// the first half of `\r\n`.
    pending_cr: bool,
}

impl LineBreaks {
    /// The breaks read so far, but for a `\r` at the end.
    pub(super) fn count(&self) -> u64 {
        self.count
    }

    pub(super) fn read(&mut self, bytes: &[u8]) {
        let Some(&first) = bytes.first() else {
            return;
        };
        if std::mem::take(&mut self.pending_cr) && first != b'\n' {
            self.count += 1;
        }
        for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes.get(at) == Some(&b'\n') {
                self.count += 1;
                continue;
            }
            match bytes.get(at + 1) {
                // `\r\n`: its `\n` counts.
                Some(b'\n') => {}
                Some(_) => self.count += 1,
                None => self.pending_cr = true,
            }
        }
    }
}

/// Rows held before they are handed on: enough that a batch's scratches serve many
/// rows, few enough to keep the buffer small.
const ROWS_HELD: usize = 64 * BATCH;

#[derive(Clone, Copy)]
struct Row {
    out_end: usize,
    ends_end: usize,
    line: u64,
}

impl CsvReader {
    pub fn new(wanted: &Wanted) -> Self {
        CsvReader {
            core: csv_core::Reader::new(),
            out: vec![0; 4096],
            out_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            rows: Vec::with_capacity(ROWS_HELD),
            header: None,
            all: wanted.is_all(),
            breaks: LineBreaks::default(),
            quoting: Quoting::default(),
            last_line: 1,
            at_start: true,
            row_bytes: 0,
            row_line: 1,
            long_cells: 0,
            long_blank: true,
            row_quoted: false,
        }
    }

    /// A reader whose input starts after `breaks` blank lines (dropped before the format
    /// was known).
    pub fn after_lines(mut self, breaks: u64) -> Self {
        self.breaks.count = breaks;
        self.last_line = breaks + 1;
        self.row_line = breaks + 1;
        self
    }

    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        // An empty read means "end of data" to csv-core: an empty chunk must not say that.
        if !chunk.is_empty() {
            self.run(chunk, false, wanted, sink);
        }
    }

    pub fn finish<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        // Empty input tells csv-core the data ended: it yields the last record, then End.
        self.run(&[], true, wanted, sink);
        if self.quoting == Quoting::Quoted {
            let line = self.last_line;
            sink.report(diagnostic(
                Level::Warning,
                "unclosed_quote",
                format!(
                    "a quoted cell in the row on line {line} never closes: the rest of the input was read into it"
                ),
                line,
            ));
        }
    }

    fn run<S: RecordSink>(
        &mut self,
        mut input: &[u8],
        at_end: bool,
        wanted: &Wanted,
        sink: &mut S,
    ) {
        loop {
            let out = self.out.get_mut(self.out_len..).unwrap_or_default();
            let ends = self.ends.get_mut(self.ends_len..).unwrap_or_default();
            let (result, nin, nout, nend) = self.core.read_record(input, out, ends);
            let read = input.get(..nin).unwrap_or_default();
            // csv-core drops a byte order mark at the very start: so does the line and
            // quote tracking, or blank lines after it would not be seen as blank.
            let read = if self.at_start && nin > 0 {
                self.at_start = false;
                read.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(read)
            } else {
                read
            };
            // A row begins at its first byte that is no line break (csv-core takes the
            // blank lines before it as part of it): its line and size count from there.
            let lead = if self.row_bytes == 0 {
                read.iter()
                    .take_while(|&&b| b == b'\n' || b == b'\r')
                    .count()
            } else {
                0
            };
            let (blank, row) = read.split_at(lead.min(read.len()));
            self.breaks.read(blank);
            if self.row_bytes == 0 && !row.is_empty() {
                self.row_line = self.breaks.count + u64::from(self.breaks.pending_cr) + 1;
            }
            self.breaks.read(row);
            self.quoting.read(read);
            // A quote makes a row of blanks a row of cells: `""` is an empty mpid.
            self.row_quoted |= memchr::memchr(b'"', row).is_some();
            input = input.get(nin..).unwrap_or_default();
            self.out_len += nout;
            self.ends_len += nend;
            // Saturating: on wasm32 a `usize` wraps at 4 GiB, and the cap must hold past it.
            self.row_bytes = self.row_bytes.saturating_add(row.len());
            if self.row_bytes > MAX_RECORD_BYTES {
                // Too long to be a profile: what the row holds so far goes, and so will
                // the rest of it.
                let out_start = self.rows.last().map_or(0, |r| r.out_end);
                let ends_start = self.rows.last().map_or(0, |r| r.ends_end);
                self.long_cells += self.ends_len.saturating_sub(ends_start);
                self.long_blank &= self
                    .out
                    .get(out_start..self.out_len)
                    .is_some_and(blank_text);
                self.out_len = out_start;
                self.ends_len = ends_start;
            }
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        // The rows read so far go on now; an unfinished one stays.
                        return self.hand_on(wanted, sink);
                    }
                }
                // A row past the limit was just emptied: the room is there again.
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull
                    if self.row_bytes > MAX_RECORD_BYTES => {}
                ReadRecordResult::OutputFull => {
                    let len = self.out.len().max(1024) * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len().max(16) * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record
                    if std::mem::take(&mut self.row_bytes) > MAX_RECORD_BYTES =>
                {
                    self.last_line = self.row_line;
                    // One cell of blanks is a blank line, however long: skipped as any.
                    let quoted = std::mem::take(&mut self.row_quoted);
                    let blank_row = self.long_blank && self.long_cells <= 1 && !quoted;
                    (self.long_blank, self.long_cells) = (true, 0);
                    if !blank_row {
                        if self.header.is_none() {
                            // The header itself: with no column known no row can be read,
                            // and the header of no column says so (the next row is no
                            // header).
                            sink.report(too_large(self.row_line));
                            self.header(self.row_line, wanted, sink);
                        } else {
                            self.hand_on(wanted, sink);
                            sink.reject(too_large(self.row_line));
                        }
                    }
                }
                ReadRecordResult::Record => {
                    let start = self.rows.last().map_or(0, |r| r.out_end);
                    let line = self.row_line;
                    self.last_line = line;
                    // A line of nothing but spaces, tabs or form feeds is blank, as
                    // csv-core already takes an empty one and as format detection reads
                    // it: no header, no profile with an mpid of spaces.
                    let cells_start = self.rows.last().map_or(0, |r| r.ends_end);
                    let quoted = std::mem::take(&mut self.row_quoted);
                    let blank_row = self.ends_len == cells_start + 1
                        && !quoted
                        && self.out.get(start..self.out_len).is_some_and(blank_text);
                    if blank_row {
                        self.out_len = start;
                        self.ends_len = cells_start;
                    } else if self.header.is_none() {
                        self.header(line, wanted, sink);
                    } else {
                        self.rows.push(Row {
                            out_end: self.out_len,
                            ends_end: self.ends_len,
                            line,
                        });
                        if self.rows.len() == ROWS_HELD {
                            self.hand_on(wanted, sink);
                        }
                    }
                }
                ReadRecordResult::End => return self.hand_on(wanted, sink),
            }
        }
    }

    /// The first row: the column names, and what each column means.
    fn header<S: RecordSink>(&mut self, line: u64, wanted: &Wanted, sink: &mut S) {
        let header: Vec<(Role, String)> = cells(&self.out, &self.ends, 0, 0, self.ends_len)
            .map(|cell| {
                let name = String::from_utf8_lossy(cell).into_owned();
                (role(&name, wanted, self.all), name)
            })
            .collect();
        if !header.iter().any(|(r, _)| matches!(r, Role::Mpid)) {
            sink.report(diagnostic(
                Level::Error,
                "missing_mpid_column",
                "the CSV header has no mpid column; every row lacks an mpid".into(),
                line,
            ));
        }
        // A name twice is easy to miss in a wide export, and only one cell can count.
        let mut counts = crate::seed::HashMap::<&str, usize>::default();
        for (_, name) in &header {
            *counts.entry(name.as_str()).or_default() += 1;
        }
        for (_, name) in &header {
            // Said once, at the name's first place (its count then goes to zero).
            let times = counts.insert(name.as_str(), 0).unwrap_or(0);
            if times > 1 {
                sink.report(Diagnostic {
                    attribute: Some(name.clone()),
                    ..diagnostic(
                        Level::Warning,
                        "duplicate_column",
                        format!(
                            "the CSV header names the column \"{name}\" {times} times; in each row the last of its cells that is not empty is used"
                        ),
                        line,
                    )
                });
            }
        }
        self.header = Some(header);
        self.out_len = 0;
        self.ends_len = 0;
    }

    /// Hands the rows read on to the sink, [`BATCH`] at a time (see [`Batch`]), and
    /// empties the buffers (but for the unfinished row, moved to the front).
    fn hand_on<S: RecordSink>(&mut self, wanted: &Wanted, sink: &mut S) {
        let Some(&last) = self.rows.last() else {
            return;
        };
        if let Some(header) = &self.header {
            let mut batch = Batch::new();
            let (mut out_start, mut ends_start) = (0, 0);
            for row in &self.rows {
                let cells = cells(&self.out, &self.ends, out_start, ends_start, row.ends_end);
                batch.read_row(row.line, wanted, sink, |scratch| {
                    fill(scratch, cells, header, row.line)
                });
                (out_start, ends_start) = (row.out_end, row.ends_end);
            }
            batch.flush(sink);
        }
        self.rows.clear();
        // Rows end within what was written (`out_end <= out_len`, `ends_end <= ends_len`).
        self.out.copy_within(last.out_end..self.out_len, 0);
        self.ends.copy_within(last.ends_end..self.ends_len, 0);
        self.out_len -= last.out_end;
        self.ends_len -= last.ends_end;
    }
}

/// The cells of the row whose bytes start at `out_start` and whose cell ends are
/// `ends[ends_start..ends_end]` (each counted from the row's start).
fn cells<'a>(
    out: &'a [u8],
    ends: &'a [usize],
    out_start: usize,
    ends_start: usize,
    ends_end: usize,
) -> impl Iterator<Item = &'a [u8]> {
    let row = out.get(out_start..).unwrap_or_default();
    let ends = ends.get(ends_start..ends_end).unwrap_or_default();
    ends.iter().scan(0usize, move |start, &end| {
        let cell = row.get(*start..end).unwrap_or_default();
        *start = end;
        Some(cell)
    })
}

/// Reads one row's cells into `scratch`, by the header's column roles.
fn fill<'a>(
    scratch: &mut Scratch<'a>,
    mut cells: impl Iterator<Item = &'a [u8]>,
    header: &'a [(Role, String)],
    line: u64,
) -> Outcome {
    scratch.reset();
    let mut note = None;
    // The header first: a zip takes from its first side before it finds the second
    // exhausted, and a cell taken so would never be seen as extra.
    for ((role, name), cell) in header.iter().zip(cells.by_ref()) {
        if cell.is_empty() || matches!(role, Role::Other) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(cell) else {
            if matches!(role, Role::Any) {
                // A whole-profile read, where every column is an attribute: only the cell
                // is lost, as a preview that does not use the column keeps the row.
                note.get_or_insert_with(|| {
                    diagnostic(
                        Level::Warning,
                        "invalid_utf8",
                        format!("column \"{name}\" is not valid UTF-8; that cell was left out"),
                        line,
                    )
                });
                continue;
            }
            return Outcome::Rejected(diagnostic(
                Level::Error,
                "invalid_utf8",
                format!("column \"{name}\" is not valid UTF-8; the row was skipped"),
                line,
            ));
        };
        let slot = Slot::from_text(text);
        match role {
            Role::Mpid => scratch.mpid = Some(slot),
            Role::UpdatedAt => scratch.updated_at = Some(slot),
            Role::LastStored => scratch.last_stored = Some(slot),
            Role::Wanted(i) => scratch.set_flat(*i, slot),
            Role::Variant => scratch.set_flat_variant(name),
            Role::Any => scratch.push_flat_all(Cow::Borrowed(name.as_str()), slot),
            Role::Other => {}
        }
    }
    let extra = cells.next().is_some().then(|| {
        diagnostic(
            Level::Warning,
            "extra_cells",
            format!(
                "row has more cells than the header has columns ({}); the extra cells were ignored",
                header.len()
            ),
            line,
        )
    });
    match (note, extra) {
        (None, None) => Outcome::Read,
        (note, extra) => Outcome::Noted(note.into_iter().chain(extra).collect()),
    }
}

fn role(name: &str, wanted: &Wanted, all: bool) -> Role {
    match name {
        "mpid" => Role::Mpid,
        // Times, never attributes; read only when a `latest` needs them, so that a pass
        // that uses no time keeps a row whose time cell is not UTF-8, as the JSON readers
        // keep such a record.
        "updated_at" | "last_stored_timestamp_ms" if !wanted.wants_times() => Role::Other,
        "updated_at" => Role::UpdatedAt,
        "last_stored_timestamp_ms" => Role::LastStored,
        _ if all => Role::Any,
        _ => match wanted.index_of(name) {
            Some(i) => Role::Wanted(i),
            None if wanted.is_case_variant(name) => Role::Variant,
            None => Role::Other,
        },
    }
}
