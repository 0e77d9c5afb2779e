//! CSV with a header row (RFC 4180 quoting), read with csv-core as bytes arrive. Every
//! cell is a string; an empty cell is an absent attribute; `mpid` is required and
//! `updated_at` / `last_stored_timestamp_ms` are times, not attributes.

use std::borrow::Cow;

use csv_core::ReadRecordResult;

use super::diagnostic;
use super::reader::RecordSink;
use super::record::{Scratch, Wanted};
use crate::coerce::Slot;
use crate::preview::Level;

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
    /// The current record's unescaped bytes and field ends (csv-core keeps its state
    /// across chunks; these keep the bytes).
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    header: Option<Vec<(Role, String)>>,
    all: bool,
}

impl CsvReader {
    pub fn new(wanted: &Wanted) -> Self {
        CsvReader {
            core: csv_core::Reader::new(),
            out: vec![0; 4096],
            out_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            header: None,
            all: wanted.is_all(),
        }
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
            let ended_with_newline = nin > 0 && input.get(nin - 1) == Some(&b'\n');
            input = input.get(nin..).unwrap_or_default();
            self.out_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        return;
                    }
                }
                ReadRecordResult::OutputFull => {
                    let len = self.out.len().max(1024) * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len().max(16) * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    // csv-core's line is the current one (1-based): the record started
                    // before its own line breaks (quoted ones) and its terminator.
                    let inside = self
                        .out
                        .get(..self.out_len)
                        .map_or(0, |o| memchr::memchr_iter(b'\n', o).count() as u64);
                    let line = self
                        .core
                        .line()
                        .saturating_sub(inside + u64::from(ended_with_newline))
                        .max(1);
                    self.record(line, wanted, sink);
                    self.out_len = 0;
                    self.ends_len = 0;
                }
                ReadRecordResult::End => return,
            }
        }
    }

    fn record<S: RecordSink>(&mut self, line: u64, wanted: &Wanted, sink: &mut S) {
        let out = self.out.get(..self.out_len).unwrap_or_default();
        let ends = self.ends.get(..self.ends_len).unwrap_or_default();
        let mut cells = ends.iter().scan(0usize, |start, &end| {
            let cell = out.get(*start..end).unwrap_or_default();
            *start = end;
            Some(cell)
        });
        let Some(header) = &self.header else {
            let header: Vec<(Role, String)> = cells
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
            self.header = Some(header);
            return;
        };
        let mut scratch = Scratch::new(wanted);
        for (cell, (role, name)) in cells.by_ref().zip(header.iter()) {
            if cell.is_empty() || matches!(role, Role::Other) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(cell) else {
                sink.reject(diagnostic(
                    Level::Error,
                    "invalid_utf8",
                    format!("column \"{name}\" is not valid UTF-8; the row was skipped"),
                    line,
                ));
                return;
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
        if cells.next().is_some() {
            sink.report(diagnostic(
                Level::Warning,
                "extra_cells",
                format!(
                    "row has more cells than the header's {} columns; the extra cells were ignored",
                    header.len()
                ),
                line,
            ));
        }
        sink.record(&scratch, line);
    }
}

fn role(name: &str, wanted: &Wanted, all: bool) -> Role {
    match name {
        "mpid" => Role::Mpid,
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
