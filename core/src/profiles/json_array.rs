//! A JSON array of profile objects, read element by element as bytes arrive.
//!
//! Most elements are records the record scanner reads straight from the array, which also
//! finds where they end. Any other element is split out first (tracking strings and
//! nesting) and then read by serde (by the scanner first only when it has not seen the
//! whole element yet, as for one split across chunks). A break in the array's own structure
//! stops the read with one error naming line and column; the elements before it are used,
//! as a streamed read would.

use super::reader::{Batch, RecordSink};
use super::record::Wanted;
use super::scan::plain_run;
use super::{too_large, MAX_RECORD_BYTES};
use crate::json_error;
use crate::preview::{Diagnostic, Level};

/// A control character inside a string ends the array where it stands, as a streamed
/// read stops there: read on, the string's end (and with it what is string and what is
/// structure) would be guessed wrong, and the break reported far from its place.
const RAW_CONTROL: &str =
    "a string holds a raw control character (such as a line break), which JSON allows only escaped";

/// JSON's white space inside the array: a form feed, which Rust's ASCII white space
/// includes, is not.
fn json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum State {
    /// Before the opening `[`.
    #[default]
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After `,`: an element.
    Next,
    /// Inside an object or array element.
    Container,
    /// Inside a string element.
    Text,
    /// Inside a number or literal element.
    Scalar,
    /// After an element: `,` or `]`.
    After,
    Done,
    Broken,
}

pub(super) struct JsonArrayReader {
    state: State,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The unfinished element's bytes from earlier chunks.
    partial: Vec<u8>,
    /// How many bytes the unfinished element had in earlier chunks: `partial`'s length,
    /// or more once past `MAX_RECORD_BYTES`, when they are dropped as they come.
    held: usize,
    line: u64,
    column: u64,
    element_line: u64,
    element_column: u64,
    /// The scanner tried the element being split out, and gave up on it: if it ends in
    /// the chunk it started in, the scanner saw all of it, and serde reads it directly.
    element_tried: bool,
    /// Elements begun so far; with `element_positions`, a record's line is its number.
    elements: u64,
    element_positions: bool,
}

impl Default for JsonArrayReader {
    fn default() -> Self {
        JsonArrayReader::new(false)
    }
}

impl JsonArrayReader {
    pub fn new(element_positions: bool) -> Self {
        JsonArrayReader {
            state: State::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            partial: Vec::new(),
            held: 0,
            line: 1,
            column: 1,
            element_line: 1,
            element_column: 1,
            element_tried: false,
            elements: 0,
            element_positions,
        }
    }

    /// A reader whose input starts after `newlines` blank lines (dropped before the
    /// format was known).
    pub fn after_lines(mut self, newlines: u64) -> Self {
        self.line += newlines;
        self.element_line = self.line;
        self
    }

    /// The line the latest element's record is reported on: `line`, where it starts, or
    /// its position in the array.
    fn record_line(&self, line: u64) -> u64 {
        if self.element_positions {
            self.elements
        } else {
            line
        }
    }

    pub fn push<S: RecordSink>(&mut self, chunk: &[u8], wanted: &Wanted, sink: &mut S) {
        let mut batch = Batch::new();
        self.read(chunk, wanted, &mut batch, sink);
        batch.flush(sink);
    }

    fn read<'a, S: RecordSink>(
        &mut self,
        chunk: &'a [u8],
        wanted: &Wanted,
        batch: &mut Batch<'a>,
        sink: &mut S,
    ) {
        let in_element = matches!(self.state, State::Container | State::Text | State::Scalar);
        let mut element_start = if in_element { Some(0) } else { None };
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            match self.state {
                State::Broken => return,
                State::Start => match b {
                    b'[' => self.state = State::First,
                    // The blank start every format allows (form feeds too, as in a
                    // blank line): the format is detected past it.
                    b if b.is_ascii_whitespace() => {}
                    _ => return self.broken(batch, sink, "expected '[' to start a JSON array"),
                },
                State::First | State::Next => match b {
                    b if json_space(b) => {}
                    b']' if self.state == State::First => self.state = State::Done,
                    b']' | b',' => return self.broken(batch, sink, "expected an array element"),
                    _ => {
                        self.elements += 1;
                        let tried = b == b'{' && !wanted.is_all();
                        if tried {
                            // No further than a record may go: a longer one is split
                            // out, as it would be were it cut across chunks.
                            let rest = chunk.get(i..).unwrap_or_default();
                            let rest = rest.get(..MAX_RECORD_BYTES).unwrap_or(rest);
                            let line = self.record_line(self.line);
                            if let Some(len) = batch.read_json_prefix(rest, line, wanted, sink) {
                                self.pass_over(rest.get(..len).unwrap_or_default());
                                i += len;
                                self.state = State::After;
                                continue;
                            }
                        }
                        self.start_element(b);
                        self.element_tried = tried;
                        element_start = Some(i);
                    }
                },
                State::Container => {
                    if self.in_string {
                        // Most of an element is string bytes: skip the plain ones eight at
                        // a time (no line ends among them, so only the column moves).
                        let plain = if self.escaped { 0 } else { plain_run(chunk, i) };
                        if plain > 0 {
                            i += plain;
                            self.column += plain as u64;
                            continue;
                        }
                        if b < 0x20 {
                            return self.broken(batch, sink, RAW_CONTROL);
                        }
                        self.scan_string_byte(b);
                    } else {
                        match b {
                            b'"' => {
                                self.in_string = true;
                                self.escaped = false;
                            }
                            b'{' | b'[' => self.depth += 1,
                            b'}' | b']' => {
                                self.depth -= 1;
                                if self.depth == 0 {
                                    let start = element_start.take().unwrap_or(0);
                                    self.state = State::After;
                                    if !self.element(&chunk[start..=i], wanted, batch, sink) {
                                        return;
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                State::Text => {
                    if b < 0x20 {
                        return self.broken(batch, sink, RAW_CONTROL);
                    }
                    if self.escaped {
                        self.escaped = false;
                    } else if b == b'\\' {
                        self.escaped = true;
                    } else if b == b'"' {
                        let start = element_start.take().unwrap_or(0);
                        self.state = State::After;
                        if !self.element(&chunk[start..=i], wanted, batch, sink) {
                            return;
                        }
                    }
                }
                State::Scalar => {
                    if b == b',' || b == b']' || json_space(b) {
                        let start = element_start.take().unwrap_or(0);
                        self.state = State::After;
                        if !self.element(&chunk[start..i], wanted, batch, sink) {
                            return;
                        }
                        // The delimiter belongs to the array: read it again as `After`.
                        continue;
                    }
                }
                State::After => match b {
                    b',' => self.state = State::Next,
                    b']' => self.state = State::Done,
                    b if json_space(b) => {}
                    _ => {
                        return self.broken(
                            batch,
                            sink,
                            "expected ',' or ']' after an array element",
                        )
                    }
                },
                State::Done => {
                    if !json_space(b) {
                        return self.broken(
                            batch,
                            sink,
                            "unexpected data after the end of the JSON array",
                        );
                    }
                }
            }
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
            i += 1;
        }
        if let Some(start) = element_start {
            let more = chunk.get(start..).unwrap_or_default();
            // Saturating: on wasm32 a `usize` wraps at 4 GiB, and the cap must hold past it.
            self.held = self.held.saturating_add(more.len());
            if self.held > MAX_RECORD_BYTES {
                self.partial.clear();
                self.partial.shrink_to(4096);
            } else {
                self.partial.extend_from_slice(more);
            }
        }
    }

    pub fn finish<S: RecordSink>(&mut self, sink: &mut S) {
        match self.state {
            State::Start | State::Done | State::Broken => {}
            _ => self.broken(
                &mut Batch::new(),
                sink,
                "unexpected end of input: the JSON array is not closed (expected ']')",
            ),
        }
    }

    /// Starts splitting out an element whose first byte is `b`.
    fn start_element(&mut self, b: u8) {
        self.element_line = self.line;
        self.element_column = self.column;
        self.state = match b {
            b'{' | b'[' => {
                self.depth = 1;
                self.in_string = false;
                State::Container
            }
            b'"' => {
                self.escaped = false;
                State::Text
            }
            _ => State::Scalar,
        };
    }

    /// Moves the line and column over bytes read at once.
    fn pass_over(&mut self, bytes: &[u8]) {
        let mut last = None;
        for at in memchr::memchr_iter(b'\n', bytes) {
            self.line += 1;
            last = Some(at);
        }
        match last {
            Some(at) => self.column = (bytes.len() - at) as u64,
            None => self.column += bytes.len() as u64,
        }
    }

    /// String scanning: tracks escapes; a closing quote ends the string.
    fn scan_string_byte(&mut self, b: u8) {
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_string = false;
        }
    }

    /// Reads a finished element; false when it broke the array.
    fn element<'a, S: RecordSink>(
        &mut self,
        tail: &'a [u8],
        wanted: &Wanted,
        batch: &mut Batch<'a>,
        sink: &mut S,
    ) -> bool {
        let line = self.element_line;
        let record = self.record_line(line);
        if std::mem::take(&mut self.held).saturating_add(tail.len()) > MAX_RECORD_BYTES {
            batch.flush(sink);
            self.partial.clear();
            sink.reject(too_large(record));
            return true;
        }
        // An error, with its place in the element's text.
        let failed = if self.partial.is_empty() {
            let read = batch.read_json(tail, record, wanted, sink, !self.element_tried);
            read.err().map(|e| (json_error::position(tail, &e), e))
        } else {
            // Bytes of earlier chunks: read now, after the records before it.
            batch.flush(sink);
            let mut whole = std::mem::take(&mut self.partial);
            whole.extend_from_slice(tail);
            let mut own = Batch::new();
            let read = own.read_json(&whole, record, wanted, sink, true);
            own.flush(sink);
            let failed = read.err().map(|e| (json_error::position(&whole, &e), e));
            whole.clear();
            self.partial = whole;
            failed
        };
        let Some(((l, c), e)) = failed else {
            return true;
        };
        let (l, c) = (l as u64, c as u64);
        let at_line = line + l.saturating_sub(1);
        let at_column = if l <= 1 {
            self.element_column + c.saturating_sub(1)
        } else {
            c
        };
        self.break_at(batch, sink, at_line, at_column, &json_error::what(&e));
        false
    }

    fn broken<S: RecordSink>(&mut self, batch: &mut Batch<'_>, sink: &mut S, what: &str) {
        let (line, column) = (self.line, self.column);
        self.break_at(batch, sink, line, column, what);
    }

    /// Stops the read; the records before the break are handed on first.
    fn break_at<S: RecordSink>(
        &mut self,
        batch: &mut Batch<'_>,
        sink: &mut S,
        line: u64,
        column: u64,
        what: &str,
    ) {
        batch.flush(sink);
        self.state = State::Broken;
        self.partial = Vec::new();
        sink.report(Diagnostic {
            level: Level::Error,
            code: "invalid_json".into(),
            message: format!(
                "the JSON array is broken at line {line}, column {column}: {what}; \
                 the records before it were used, the rest was not read"
            ),
            line: Some(line),
            column: Some(column),
            mpid: None,
            attribute: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::reader::RecordSink;
    use super::super::record::{Scratch, Wanted};
    use super::JsonArrayReader;
    use crate::coerce::{Slot, Val};
    use crate::preview::Diagnostic;

    /// Each record's mpid and `k`, as read.
    #[derive(Default)]
    struct Seen(Vec<(String, String)>);

    impl RecordSink for Seen {
        fn record(&mut self, rec: &Scratch<'_>, _: u64) {
            let text = |slot: Option<&Slot<'_>>| slot.map(|s| format!("{:?}", s.val));
            let (mpid, k) = (text(rec.mpid.as_ref()), text(rec.value(0)));
            self.0
                .push((mpid.unwrap_or_default(), k.unwrap_or_default()));
        }
        fn reject(&mut self, d: Diagnostic) {
            panic!("rejected: {d:?}");
        }
    }

    /// Elements the scanner gives up on (an escape) are read by serde, whether they end
    /// in the chunk they start in (the scanner saw them whole) or not (then the scanner
    /// gets them again, joined); whole-profile reads never use the scanner.
    #[test]
    fn elements_the_scanner_leaves_are_read_in_any_chunking() {
        let text = r#"[{"mpid":1,"k":"a"},{"mpid":2,"k":"\u0062"} ,{"mpid":3,"k":"c"}]"#;
        let expected: Vec<(String, String)> = [(1, "a"), (2, "b"), (3, "c")]
            .iter()
            .map(|(m, k)| {
                let k = Val::Str(Cow::Borrowed(k));
                (format!("{:?}", Val::UInt(*m)), format!("{k:?}"))
            })
            .collect();
        for wanted in [Wanted::new(["k".to_string()]), Wanted::all()] {
            for split in 0..=text.len() {
                let (a, b) = text.as_bytes().split_at(split);
                let mut reader = JsonArrayReader::default();
                let mut seen = Seen::default();
                reader.push(a, &wanted, &mut seen);
                reader.push(b, &wanted, &mut seen);
                reader.finish(&mut seen);
                if wanted.is_all() {
                    assert_eq!(seen.0.len(), 3, "all, split {split}");
                } else {
                    assert_eq!(seen.0, expected, "split {split}");
                }
            }
        }
    }
}
