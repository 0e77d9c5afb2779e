//! A JSON array of profile objects, read element by element as bytes arrive.
//!
//! Most elements are records the record scanner reads straight from the array, which also
//! finds where they end. Any other element is split out first (tracking strings and
//! nesting) and then read by the scanner or serde. A break in the array's own structure
//! stops the read with one error naming line and column; the elements before it are used,
//! as a streamed read would.

use super::reader::{error_text, Batch, RecordSink};
use super::record::Wanted;
use super::scan::plain_run;
use crate::preview::{Diagnostic, Level};

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
    line: u64,
    column: u64,
    element_line: u64,
    element_column: u64,
    /// Elements the scanner could not read whole in a row (capped), and how many
    /// elements to split before it tries again (see `read_whole`).
    whole_misses: u32,
    whole_pause: u32,
}

impl Default for JsonArrayReader {
    fn default() -> Self {
        JsonArrayReader {
            state: State::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            partial: Vec::new(),
            line: 1,
            column: 1,
            element_line: 1,
            element_column: 1,
            whole_misses: 0,
            whole_pause: 0,
        }
    }
}

impl JsonArrayReader {
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
                    b if b.is_ascii_whitespace() => {}
                    _ => return self.broken(batch, sink, "expected '[' to start a JSON array"),
                },
                State::First | State::Next => match b {
                    b if b.is_ascii_whitespace() => {}
                    b']' if self.state == State::First => self.state = State::Done,
                    b']' | b',' => return self.broken(batch, sink, "expected an array element"),
                    _ => {
                        if b == b'{' {
                            let rest = chunk.get(i..).unwrap_or_default();
                            if let Some(len) = self.read_whole(rest, wanted, batch, sink) {
                                self.pass_over(rest.get(..len).unwrap_or_default());
                                i += len;
                                self.state = State::After;
                                continue;
                            }
                        }
                        self.start_element(b);
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
                    if b == b',' || b == b']' || b.is_ascii_whitespace() {
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
                    b if b.is_ascii_whitespace() => {}
                    _ => {
                        return self.broken(
                            batch,
                            sink,
                            "expected ',' or ']' after an array element",
                        )
                    }
                },
                State::Done => {
                    if !b.is_ascii_whitespace() {
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
            self.partial.extend_from_slice(&chunk[start..]);
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

    /// Most elements are records the scanner reads whole, and then one pass finds the
    /// element's end and reads it; the length read, or `None` to split the element first.
    /// After elements it could not read (escapes in every record, say), it waits a few
    /// elements before trying again, so that such input is not read twice over.
    fn read_whole<'a, S: RecordSink>(
        &mut self,
        rest: &'a [u8],
        wanted: &Wanted,
        batch: &mut Batch<'a>,
        sink: &mut S,
    ) -> Option<usize> {
        if wanted.is_all() {
            // Whole-profile reads always go through serde.
            return None;
        }
        if self.whole_pause > 0 {
            self.whole_pause -= 1;
            return None;
        }
        let read = batch.read_json_prefix(rest, self.line, wanted, sink);
        self.count_whole(read.is_some());
        read
    }

    /// After a miss, the pause doubles (2, 4, ... up to 2^MAX_PAUSE_SHIFT elements); a
    /// record read whole ends the run of misses.
    fn count_whole(&mut self, read: bool) {
        const MAX_PAUSE_SHIFT: u32 = 6;
        if read {
            self.whole_misses = 0;
        } else {
            self.whole_misses = (self.whole_misses + 1).min(MAX_PAUSE_SHIFT);
            self.whole_pause = 1 << self.whole_misses;
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
        let read = if self.partial.is_empty() {
            batch.read_json(tail, line, wanted, sink, true)
        } else {
            // Bytes of earlier chunks: read now, after the records before it.
            batch.flush(sink);
            let mut whole = std::mem::take(&mut self.partial);
            whole.extend_from_slice(tail);
            let mut own = Batch::new();
            let read = own.read_json(&whole, line, wanted, sink, true);
            own.flush(sink);
            whole.clear();
            self.partial = whole;
            read
        };
        let Err(e) = read else {
            return true;
        };
        let (l, c) = (e.line() as u64, e.column() as u64);
        let at_line = line + l.saturating_sub(1);
        let at_column = if l <= 1 {
            self.element_column + c.saturating_sub(1)
        } else {
            c
        };
        self.break_at(batch, sink, at_line, at_column, &error_text(&e));
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
    use super::super::reader::{Batch, RecordSink};
    use super::super::record::{Scratch, Wanted};
    use super::JsonArrayReader;
    use crate::preview::Diagnostic;

    #[derive(Default)]
    struct Count(usize);

    impl RecordSink for Count {
        fn record(&mut self, _: &Scratch<'_>, _: u64) {
            self.0 += 1;
        }
        fn reject(&mut self, _: Diagnostic) {}
    }

    #[test]
    fn misses_pause_whole_reads_longer_each_time_and_a_read_ends_the_run() {
        let mut reader = JsonArrayReader::default();
        let mut pauses = Vec::new();
        for _ in 0..8 {
            reader.count_whole(false);
            pauses.push(reader.whole_pause);
        }
        assert_eq!(pauses, [2, 4, 8, 16, 32, 64, 64, 64]);
        reader.count_whole(true);
        assert_eq!(reader.whole_misses, 0);
        reader.count_whole(false);
        assert_eq!(reader.whole_pause, 2);
    }

    #[test]
    fn records_are_read_whole_and_escapes_make_the_reader_wait() {
        let wanted = Wanted::new(["k".to_string()]);
        let plain = r#"{"mpid":1,"k":"a"}"#;
        let escaped = r#"{"mpid":2,"k":"\u0061"}"#;
        let mut sink = Count::default();
        let mut reader = JsonArrayReader::default();
        let mut batch = Batch::new();
        // A record the scanner takes: read whole, no miss counted.
        assert_eq!(
            reader.read_whole(plain.as_bytes(), &wanted, &mut batch, &mut sink),
            Some(plain.len())
        );
        assert_eq!(reader.whole_misses, 0);
        // An escape: left to the splitter, and the next two elements are not tried.
        assert_eq!(
            reader.read_whole(escaped.as_bytes(), &wanted, &mut batch, &mut sink),
            None
        );
        assert_eq!((reader.whole_misses, reader.whole_pause), (1, 2));
        for _ in 0..2 {
            assert_eq!(
                reader.read_whole(plain.as_bytes(), &wanted, &mut batch, &mut sink),
                None
            );
        }
        assert!(reader
            .read_whole(plain.as_bytes(), &wanted, &mut batch, &mut sink)
            .is_some());
        batch.flush(&mut sink);
        assert_eq!(sink.0, 2);
        // Whole-profile reads never try.
        let all = Wanted::all();
        assert_eq!(
            reader.read_whole(plain.as_bytes(), &all, &mut batch, &mut sink),
            None
        );
        assert_eq!(reader.whole_misses, 0);
    }
}
