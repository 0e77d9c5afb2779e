//! serde_json's syntax errors, placed and worded for people: the definition reader and
//! the profile readers report them the same way.

use serde_json::error::Category;

/// The 1-based line and byte column where an error in `text` stands. serde_json places an
/// error found at a line break at column 0 of the next line; it stands at the end of the
/// line before (where an editor shows the break). An end of input right after a line
/// break is column 1 of the new line. Line 0 means serde_json gave no place.
pub(crate) fn position(text: &[u8], error: &serde_json::Error) -> (usize, usize) {
    let (line, column) = (error.line(), error.column());
    if column > 0 || line < 2 {
        return (line, column);
    }
    if error.classify() == Category::Eof {
        return (line, 1);
    }
    let before = text
        .split(|&b| b == b'\n')
        .nth(line - 2)
        .map_or(0, <[u8]>::len);
    (line - 1, before + 1)
}

/// True for serde_json's refusal of a number past a double's range (`1e400`): the text is
/// still JSON, and readers that keep such a number's text read it again.
pub(crate) fn out_of_range(error: &serde_json::Error) -> bool {
    error.to_string().starts_with("number out of range")
}

/// What went wrong, without serde_json's " at line L column C" (callers give the place
/// themselves) and in plainer words where serde_json's are its own.
pub(crate) fn what(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let what = match text.rfind(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or(&text),
        None => &text,
    };
    match what {
        "expected ident" => "expected true, false or null".into(),
        "recursion limit exceeded" => what_nested(),
        // serde_json's words for a lone UTF-16 surrogate, which no string may hold; the
        // first reads as if the escape were cut short.
        "unexpected end of hex escape" | "lone leading surrogate in hex escape" => {
            "a \\u escape is half of a UTF-16 surrogate pair (\\uD800 to \\uDFFF) without the other half, which is no character".into()
        }
        _ => what.into(),
    }
}

/// [`what`] for serde_json's recursion limit.
pub(crate) fn what_nested() -> String {
    format!("nested deeper than {MAX_NESTING} levels")
}

/// The deepest nesting serde_json reads (its recursion limit is 128, and the outermost
/// object or array counts as one level).
pub(crate) const MAX_NESTING: usize = 127;

/// True when JSON `text` nests arrays and objects deeper than [`MAX_NESTING`]: what a
/// typed read refuses, for text read as a `RawValue`, which checks no depth.
pub(crate) fn nested_too_deep(text: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{position, what};

    fn error(text: &str) -> serde_json::Error {
        match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => e,
            Ok(v) => panic!("{text:?} parsed as {v}"),
        }
    }

    #[test]
    fn an_error_at_a_line_break_stands_at_the_end_of_its_line() {
        for (text, place) in [
            // A raw line break inside a string: the break itself is the fault.
            ("{\"id\": \"ab\ncd\"}", (1, 11)),
            ("{\n  \"id\": \"abc\",\n  \"x\": tru\n}", (3, 11)),
            ("{\"id\": \"abc\",\n\"x\": 1.\n}", (2, 8)),
            // Not at a break: serde_json's own place.
            ("{\"id\": tru }", (1, 11)),
            ("{\"a\":1}\nx", (2, 1)),
            // The input ends after a break: the start of the empty last line.
            ("{\"id\": \n", (2, 1)),
            ("{\n", (2, 1)),
        ] {
            assert_eq!(position(text.as_bytes(), &error(text)), place, "{text:?}");
        }
    }

    #[test]
    fn messages_lose_the_place_and_serde_json_words() {
        assert_eq!(what(&error("[tru]")), "expected true, false or null");
        assert_eq!(
            what(&error(&"[".repeat(200))),
            "nested deeper than 127 levels"
        );
        assert_eq!(what(&error("[1,]")), "trailing comma");
        for lone in [
            r#"["\ud800"]"#,
            r#"["\ud800x"]"#,
            r#"["\udc00"]"#,
            r#"["\ud800\u0041"]"#,
        ] {
            let message = what(&error(lone));
            assert!(message.contains("surrogate pair"), "{lone}: {message}");
        }
        // The limit as stated: 127 levels are read, 128 are not.
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(serde_json::from_str::<serde_json::Value>(&nested(127)).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&nested(128)).is_err());
    }
}
