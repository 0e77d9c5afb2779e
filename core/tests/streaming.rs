//! Format readers under streaming: every split of the input gives the one-shot preview,
//! and broken inputs are reported where they break.

use group_identity::{
    preview_groups, Aggregation, Format, GroupAttribute, GroupDefinition, Preview, PreviewOptions,
    PreviewSession,
};

fn household() -> GroupDefinition {
    GroupDefinition {
        id: "household".into(),
        description: None,
        source_user_attribute: "$address".into(),
        attributes: vec![
            GroupAttribute {
                id: "has_dog".into(),
                aggregation: Aggregation::BooleanOr,
            },
            GroupAttribute {
                id: "country".into(),
                aggregation: Aggregation::Latest,
            },
        ],
    }
}

fn every_split(input: impl AsRef<[u8]>, format: Format) -> Preview {
    let options = PreviewOptions {
        format,
        ..PreviewOptions::default()
    };
    let bytes = input.as_ref();
    let whole = preview_groups(&household(), bytes, &options);
    for cut in 0..=bytes.len() {
        let mut session = PreviewSession::new(&household(), &options);
        session.push(&bytes[..cut]);
        session.push(&bytes[cut..]);
        assert_eq!(session.bytes_read(), bytes.len() as u64);
        assert_eq!(session.finish(), whole, "split at byte {cut}");
    }
    let mut session = PreviewSession::new(&household(), &options);
    for b in bytes {
        session.push(std::slice::from_ref(b));
    }
    assert_eq!(session.finish(), whole, "one byte at a time");
    whole
}

#[test]
fn john_and_jane_in_every_format() {
    let ndjson = "{\"mpid\": 1, \"$address\": \"123 Main St\", \"has_dog\": true, \"name\": \"John Doe\"}\n\
                  {\"mpid\": \"2\", \"user_attributes\": {\"$address\": \"123 Main St\", \"name\": \"Jane Doe\"}}\n";
    let json = "[\n {\"mpid\": 1, \"$address\": \"123 Main St\", \"has_dog\": true},\n {\"mpid\": 2, \"$address\": \"123 Main St\"}\n]";
    let csv = "mpid,$address,has_dog\n1,123 Main St,true\n2,\"123 Main St\",\n";
    for (input, format) in [
        (ndjson, Format::Ndjson),
        (json, Format::Json),
        (csv, Format::Csv),
    ] {
        let preview = every_split(input, Format::Auto);
        assert_eq!(preview.format, format);
        assert_eq!(preview.stats.groups, 1, "{format:?}: {preview:#?}");
        let group = &preview.groups[0];
        assert_eq!(group.key, "123 Main St");
        assert_eq!(group.members, ["1", "2"]);
        assert_eq!(
            group.attributes.get("household:has_dog"),
            Some(&serde_json::json!(true))
        );
        assert_eq!(group.attributes.get("household:country"), None);
    }
}

#[test]
fn utf8_split_inside_characters_and_escapes() {
    let input = "{\"mpid\":1,\"$address\":\"Straße 12 🏠\",\"country\":\"Deutschland\"}\n\
                 {\"mpid\":2,\"$address\":\"Stra\\u00dfe 12 🏠\",\"country\":\"Österreich\",\"updated_at\":\"2024-01-01T00:00:00Z\"}\n";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.stats.groups, 1, "{preview:#?}");
    assert_eq!(
        preview.groups[0].attributes.get("household:country"),
        Some(&serde_json::json!("Österreich"))
    );
}

#[test]
fn broken_array_keeps_records_before_the_break() {
    let input = "[{\"mpid\":1,\"$address\":\"123 Main St\"},\n{\"mpid\":2,\"$address\":\"123 Main St\"}\n{\"mpid\":3}]";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.stats.profiles, 2);
    assert_eq!(preview.stats.groups, 1);
    let errors: Vec<_> = preview
        .diagnostics
        .iter()
        .filter(|d| d.code == "invalid_json")
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", preview.diagnostics);
    assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(1)));
}

/// Long strings (skipped eight bytes at a time) still move the column byte by byte.
#[test]
fn array_break_after_long_strings_is_placed_by_bytes() {
    let input = "[{\"mpid\":1,\"$address\":\"Straße 12, Köln, a long address\"},\n \
                 {\"mpid\":2,\"k\":\"éééééééééééé and more\"} x]";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.stats.profiles, 2);
    let error = preview
        .diagnostics
        .iter()
        .find(|d| d.code == "invalid_json")
        .expect("the break is reported");
    let second = input.split('\n').nth(1).unwrap_or_default();
    let column = second.find(" x").map(|at| at as u64 + 2);
    assert_eq!((error.line, error.column), (Some(2), column));
}

/// Records the scanner reads whole (one pass finds the element's end and reads it), records
/// it leaves to the splitter (escapes), pretty-printed records over several lines, and a
/// break after all of them: the same groups as NDJSON of the records, and the break placed
/// by line and byte column.
#[test]
fn array_records_read_whole_or_split_agree_and_breaks_stay_placed() {
    let records: Vec<serde_json::Value> = (1..=14)
        .map(|i| {
            let address = if i % 5 == 0 {
                "12 \"Quoted\" Rd".to_string()
            } else {
                format!("{} Elm Street", i % 3)
            };
            serde_json::json!({
                "mpid": i,
                "user_attributes": {"$address": address, "has_dog": i % 2 == 0, "country": "DE"},
                "updated_at": "2024-01-01T00:00:00Z"
            })
        })
        .collect();
    let ndjson: String = records.iter().map(|r| format!("{r}\n")).collect();
    let mut array = String::from("[\n");
    for (i, record) in records.iter().enumerate() {
        let text = if i % 4 == 1 {
            serde_json::to_string_pretty(record).unwrap_or_default()
        } else {
            record.to_string()
        };
        array.push_str(&text);
        // The last one shares its line with the break.
        array.push_str(if i + 1 < records.len() { ",\n" } else { ", " });
    }
    let closed = format!("{}]", array.trim_end_matches(", "));
    let whole = preview_groups(&household(), closed.as_bytes(), &PreviewOptions::default());
    let lines = preview_groups(&household(), ndjson.as_bytes(), &PreviewOptions::default());
    assert_eq!(whole.groups, lines.groups);
    assert_eq!(whole.stats.profiles, 14);

    array.push_str("{\"mpid\": 15, \"$address\": oops}\n]");
    let preview = every_split(&array, Format::Auto);
    assert_eq!(preview.groups, lines.groups);
    let error = preview
        .diagnostics
        .iter()
        .find(|d| d.code == "invalid_json")
        .expect("the break is reported");
    let at = array.find("oops").unwrap_or_default();
    let before = &array[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let column = (at - before.rfind('\n').map_or(0, |n| n + 1)) as u64 + 1;
    assert_eq!((error.line, error.column), (Some(line), Some(column)));
}

/// A raw control character inside a string breaks the array where it stands (as a
/// streamed read stops there), not where a guessed string end would leave it; a form feed
/// between elements is no JSON white space.
#[test]
fn array_breaks_at_a_raw_control_character_and_a_form_feed() {
    let input = "[{\"mpid\":1,\"$address\":\"9 Elm Rd\"},\n{\"mpid\":2,\"$address\":\"12 Main St},\n {\"mpid\":3}]";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.stats.profiles, 1);
    assert_eq!(codes_and_lines(&preview), [("invalid_json", Some(2))]);
    let error = &preview.diagnostics[0];
    // At the line break the string runs into: just past its text on line 2.
    assert_eq!(error.column, Some(35), "{}", error.message);
    assert!(
        error.message.contains("control character"),
        "{}",
        error.message
    );
    // The same inside a string element, and a tab inside a string is a control too.
    let preview = every_split("[{\"mpid\":1}, \"a\tb\", {\"mpid\":2}]", Format::Auto);
    assert_eq!((preview.stats.profiles, preview.diagnostics.len()), (1, 1));
    assert_eq!(preview.diagnostics[0].column, Some(16));

    let preview = every_split("[{\"mpid\":1},\u{c}{\"mpid\":2}]", Format::Json);
    assert_eq!(preview.stats.profiles, 1);
    assert_eq!(codes_and_lines(&preview), [("invalid_json", Some(1))]);
    assert_eq!(preview.diagnostics[0].column, Some(13));
}

/// `"user_attributes": 1e400` is a record whose attributes are not an object: that record
/// is skipped (`invalid_record`), and the rest of the input is read.
#[test]
fn user_attributes_past_a_double_cost_only_their_record() {
    let records = [
        r#"{"mpid":1,"user_attributes":1e400}"#,
        r#"{"mpid":2,"user_attributes":{"$address":"123 Main St"},"user_attribute_timestamps":-1e400}"#,
        r#"{"mpid":3,"$address":"123 Main St"}"#,
    ];
    for (input, format) in [
        (format!("[{}]", records.join(",")), Format::Json),
        (records.join("\n"), Format::Ndjson),
    ] {
        let preview = every_split(&input, format);
        assert_eq!(
            (preview.stats.profiles, preview.stats.skipped),
            (2, 1),
            "{format:?}"
        );
        assert_eq!(preview.stats.groups, 1);
        assert_eq!(
            codes_and_lines(&preview).first().map(|c| c.0),
            Some("invalid_record")
        );
        assert!(
            preview.diagnostics[0]
                .message
                .contains("expected user_attributes to be an object"),
            "{}",
            preview.diagnostics[0].message
        );
    }
    // Read again for the times' 1e400, attributes of another wrong type are named as such.
    let input = r#"{"mpid":1,"user_attribute_timestamps":1e400,"user_attributes":[1]}"#;
    let preview = every_split(input, Format::Ndjson);
    assert_eq!(codes_and_lines(&preview), [("invalid_record", Some(1))]);
    assert_eq!(
        preview.diagnostics[0].message,
        "invalid type: sequence, expected user_attributes to be an object; the record was skipped"
    );
}

/// A grouping value nested deeper than a typed read goes skips its record, as any other
/// value the record uses does; 127 levels are read.
#[test]
fn a_key_nested_too_deep_skips_its_record() {
    let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    let input = format!(
        "{{\"mpid\":1,\"$address\":{}}}\n{{\"mpid\":2,\"$address\":{}}}\n{{\"mpid\":3,\"$address\":\"9 Elm Rd\"}}",
        nested(128),
        nested(127)
    );
    let preview = whole_and_in_chunks(&input, Format::Ndjson, &[1, 7, 300]);
    assert_eq!((preview.stats.profiles, preview.stats.skipped), (2, 1));
    assert_eq!(
        codes_and_lines(&preview),
        [("invalid_record", Some(1)), ("unusable_key", Some(2))]
    );
    assert!(preview.diagnostics[0]
        .message
        .contains("nested deeper than 127 levels"));
}

#[test]
fn unclosed_array_and_bad_element() {
    let preview = every_split(
        "[{\"mpid\":1}, 5, {\"mpid\": 2, \"a\": tru}, {\"mpid\":3}]",
        Format::Auto,
    );
    assert_eq!(preview.stats.profiles, 1);
    assert_eq!(preview.stats.skipped, 1);
    let codes: Vec<_> = preview
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["not_an_object", "invalid_json"]);
    assert_eq!(preview.diagnostics[1].column, Some(37));
    let preview = every_split("[{\"mpid\":1},", Format::Auto);
    assert_eq!(preview.stats.profiles, 1);
    assert_eq!(preview.diagnostics.len(), 1);
}

#[test]
fn ndjson_bad_lines_are_skipped_with_their_line() {
    let input = "{\"mpid\":1,\"$address\":\"123 Main St\"}\r\n\r\nnot json\n[1]\n{\"mpid\":2,\"$address\":\"123 Main St\"}";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.stats.profiles, 2);
    assert_eq!(preview.stats.skipped, 2);
    let lines: Vec<_> = preview
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        lines,
        [("invalid_json", Some(3)), ("not_an_object", Some(4))]
    );
}

/// Whole input read in one pass (the scanner finds each line's end) against the same
/// input in one-byte chunks (each line split out first): the same records and the same
/// findings at the same lines and columns, whatever follows a record on its line.
#[test]
fn ndjson_lines_read_in_one_pass_or_split_first_agree() {
    let head = concat!(
        "{\"mpid\":1,\"$address\":\"123 Main St\",\"ltv\":2} \t\r\n",
        // A record across two lines is two bad lines.
        "{\"mpid\":2,\n\"$address\":\"123 Main St\"}\n",
        // Anything after the record on its line makes the line bad.
        "{\"mpid\":3,\"$address\":\"123 Main St\"} x\n",
        "{\"mpid\":4}{\"mpid\":5}\n",
        // Escapes (left to serde), white space before the record, a pretty record's
        // spaces.
        "{\"mpid\":6,\"$address\":\"123 \\u004Dain St\"}\n",
        "  {\"mpid\":7,\"$address\":\"123 Main St\"}\n",
        "{ \"mpid\" : 8 , \"$address\" : \"123 Main St\" }\n",
        "{\n",
        "{\"mpid\":9,\"$address\":\"123 Main St\"}\n",
    );
    // Lines 11 to 31: more good lines than a batch holds, with a bad one among them.
    let mut input = head.to_string();
    for mpid in 11..=31 {
        if mpid == 20 {
            input.push_str("{\"mpid\":20,\"$address\":\"9 Elm Street\"},\n");
        } else {
            input.push_str(&format!(
                "{{\"mpid\":{mpid},\"$address\":\"9 Elm Street\"}}\n"
            ));
        }
    }
    let preview = every_split(&input, Format::Ndjson);
    assert_eq!(preview.stats.profiles, 25);
    assert_eq!(preview.stats.skipped, 6);
    let found: Vec<_> = preview
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_json", Some(2), Some(10)),
            ("invalid_json", Some(3), Some(11)),
            ("invalid_json", Some(4), Some(37)),
            ("invalid_json", Some(5), Some(11)),
            ("invalid_json", Some(9), Some(1)),
            ("invalid_json", Some(20), Some(38)),
        ]
    );
    let group = preview.groups.first().expect("one group");
    assert_eq!(group.key, "123 Main St");
    let members: Vec<_> = group.members.iter().map(ToString::to_string).collect();
    assert_eq!(members, ["1", "6", "7", "8", "9"]);
    let oversized: Vec<_> = preview
        .oversized
        .iter()
        .map(|o| (o.key.as_str(), o.size))
        .collect();
    assert_eq!(oversized, [("9 Elm Street", 20)]);
}

#[test]
fn csv_quotes_newlines_and_bom() {
    let input = "\u{feff}mpid,$address,country,updated_at\n1,\"12 \"\"Main\"\"\nSt\",FR,2024-01-01T00:00:00Z\n2,\"12 \"\"Main\"\"\nSt\",DE,1704067200001\n\n3,,x\n";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.format, Format::Csv);
    assert_eq!(preview.stats.profiles, 3);
    assert_eq!(preview.stats.no_key, 1);
    assert_eq!(preview.groups[0].key, "12 \"Main\"\nSt");
    assert_eq!(
        preview.groups[0].attributes.get("household:country"),
        Some(&serde_json::json!("DE"))
    );
}

#[test]
fn an_audience_read_in_chunks_twice_is_the_one_shot_audience() {
    use group_identity::{preview_audience, AudienceOptions, AudienceSession, Condition};
    let input = "mpid,$address,ltv,has_dog\n1,12345 Elm,10,true\n2,12345 Elm,20,\n3,9 Oak Road,5,false\n4,9 Oak Road,,\n5,,7,true\n";
    let conditions = [
        Condition {
            attribute: "household:has_dog".into(),
            operator: "=".into(),
            value: Some(serde_json::json!(true)),
        },
        Condition {
            attribute: "ltv".into(),
            operator: ">".into(),
            value: Some(serde_json::json!(5)),
        },
    ];
    let options = AudienceOptions::default();
    let whole = preview_audience(&household(), input.as_bytes(), &conditions, &options)
        .expect("valid conditions");
    assert_eq!(whole.mpids, ["1", "2"]);
    let bytes = input.as_bytes();
    for cut in 0..=bytes.len() {
        let mut session =
            AudienceSession::new(&household(), &conditions, &options).expect("valid conditions");
        for _pass in 0..2 {
            session.push(&bytes[..cut]);
            session.push(&bytes[cut..]);
            // After the second pass too: a second call changes nothing.
            session.second_pass();
        }
        assert_eq!(session.finish(), whole, "split at byte {cut}");
    }
}

/// Each diagnostic's code and line.
fn codes_and_lines(preview: &Preview) -> Vec<(&str, Option<u64>)> {
    preview
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect()
}

/// The one-shot preview of `input`, checked to equal the same input pushed in chunks of
/// each of `sizes` bytes.
fn whole_and_in_chunks(input: &str, format: Format, sizes: &[usize]) -> Preview {
    let options = PreviewOptions {
        format,
        ..PreviewOptions::default()
    };
    let whole = preview_groups(&household(), input.as_bytes(), &options);
    for &size in sizes {
        assert_eq!(in_chunks(input.as_bytes(), size, format), whole, "{size}");
    }
    whole
}

/// Pushes `input` in chunks of `size` bytes.
fn in_chunks(input: &[u8], size: usize, format: Format) -> Preview {
    let options = PreviewOptions {
        format,
        ..PreviewOptions::default()
    };
    let mut session = PreviewSession::new(&household(), &options);
    for chunk in input.chunks(size) {
        session.push(chunk);
    }
    session.finish()
}

#[test]
fn a_record_past_the_limit_is_skipped_however_the_input_is_cut() {
    use group_identity::profiles::MAX_RECORD_BYTES;
    let long = "x".repeat(MAX_RECORD_BYTES);
    // NDJSON: a line past the limit, one just within it, and a record exactly at it.
    let at_limit = "{\"mpid\":4,\"$address\":\"12345 Elm\",\"pad\":\"\"}";
    let at_limit = at_limit.replace(
        "\"\"}",
        &format!("\"{}\"}}", &long[..MAX_RECORD_BYTES - at_limit.len()]),
    );
    assert_eq!(at_limit.len(), MAX_RECORD_BYTES);
    let ndjson = format!(
        "{{\"mpid\":1,\"$address\":\"12345 Elm\"}}\n{{\"mpid\":2,\"$address\":\"12345 Elm\",\"pad\":\"{long}\"}}\n{{\"mpid\":3,\"$address\":\"12345 Elm\"}}\n{}\n{at_limit}\n",
        &long[..MAX_RECORD_BYTES - 40]
    );
    let whole = whole_and_in_chunks(&ndjson, Format::Auto, &[1 << 20, 7 << 20, 100 << 20]);
    let found = codes_and_lines(&whole);
    assert_eq!(
        found,
        [("record_too_large", Some(2)), ("invalid_json", Some(4))]
    );
    assert_eq!(whole.groups[0].members, ["1", "3", "4"]);
    // A JSON array: the long element goes, the array reads on.
    let json = format!(
        "[{{\"mpid\":1,\"$address\":\"12345 Elm\"}},\n{{\"mpid\":2,\"pad\":\"{long}\"}},\n\"{long}\",\n{{\"mpid\":3,\"$address\":\"12345 Elm\"}}]"
    );
    let whole = whole_and_in_chunks(&json, Format::Auto, &[1 << 20, 7 << 20, 100 << 20]);
    let found = codes_and_lines(&whole);
    assert_eq!(
        found,
        [("record_too_large", Some(2)), ("record_too_large", Some(3))]
    );
    assert_eq!(whole.groups[0].members, ["1", "3"]);
    // CSV: a quote that never closes takes the rest into one cell; past the limit the row
    // is dropped as it is read, not held.
    let csv = format!("mpid,$address\n1,12345 Elm\n2,12345 Elm\n3,\"{long}\n4,x\n");
    let whole = whole_and_in_chunks(&csv, Format::Csv, &[1 << 20, 5 << 20]);
    let found = codes_and_lines(&whole);
    assert_eq!(
        found,
        [("record_too_large", Some(4)), ("unclosed_quote", Some(4))]
    );
    assert_eq!(whole.stats.grouped_profiles, 2);
    assert_eq!(whole.stats.skipped, 1);
    // The row's line and size count from its first byte, after the blank lines before it,
    // with any line ends, wherever the input is cut (here also right after a blank line).
    let crlf = format!("mpid,$address\r\n1,12345 Elm\r\n2,12345 Elm\r\n\r\n\r\n3,\"{long}\r\n");
    let whole = preview_groups(&household(), crlf.as_bytes(), &PreviewOptions::default());
    let found = codes_and_lines(&whole);
    assert_eq!(
        found,
        [("record_too_large", Some(6)), ("unclosed_quote", Some(6))]
    );
    let blank_end = crlf.find("\r\n\r\n3").map_or(0, |at| at + 4);
    for cut in [blank_end - 1, blank_end, blank_end + 1] {
        let options = PreviewOptions::default();
        let mut session = PreviewSession::new(&household(), &options);
        session.push(&crlf.as_bytes()[..cut]);
        session.push(&crlf.as_bytes()[cut..]);
        assert_eq!(session.finish(), whole, "cut at {cut}");
    }
    // A header past the limit: no column is known, and the next row is no header.
    let header = format!("{long}x\n1,12345 Elm\n");
    let p = preview_groups(&household(), header.as_bytes(), &PreviewOptions::default());
    let found = codes_and_lines(&p);
    assert_eq!(
        found,
        [
            ("record_too_large", Some(1)),
            ("missing_mpid_column", Some(1)),
            ("extra_cells", Some(2)),
            ("missing_mpid", Some(2))
        ]
    );
}

#[test]
fn a_blank_line_past_the_limit_is_blank_however_the_input_is_cut() {
    use group_identity::profiles::MAX_RECORD_BYTES;
    let blank = " \t".repeat(MAX_RECORD_BYTES / 2 + 10);
    let record = "{\"mpid\":1,\"$address\":\"12345 Elm\"}";
    // First, in the middle and last, in NDJSON and CSV (where a line past the limit is
    // refused, unless blank); and blanks alone. Each also read with its format named.
    let cases = [
        (
            format!("{blank}\n{record}\n{blank}\n{record}x\n{blank}"),
            Format::Ndjson,
        ),
        (
            format!("{blank}\nmpid,$address\n{blank}\r1,12345 Elm\n{blank}"),
            Format::Csv,
        ),
        (blank.clone(), Format::Ndjson),
    ];
    for (input, format) in &cases {
        let whole = whole_and_in_chunks(input, Format::Auto, &[70_000]);
        let found = codes_and_lines(&whole);
        let expected = if input.contains("x\n") {
            vec![("invalid_json", Some(4))]
        } else {
            vec![]
        };
        assert_eq!(found, expected, "{format:?}");
        assert_eq!(whole.stats.profiles, u64::from(input.contains("Elm")));
        let named = PreviewOptions {
            format: *format,
            ..PreviewOptions::default()
        };
        assert_eq!(
            preview_groups(&household(), input.as_bytes(), &named),
            whole
        );
        // Cut right before the first blank line's end, and right at the content.
        let content = input.find(['{', 'm']).unwrap_or(input.len());
        for at in [input.find('\n').unwrap_or(0), content] {
            let options = PreviewOptions::default();
            let mut session = PreviewSession::new(&household(), &options);
            session.push(&input.as_bytes()[..at]);
            session.push(&input.as_bytes()[at..]);
            assert_eq!(session.finish(), whole, "{format:?} cut at {at}");
        }
    }
}

#[test]
fn csv_lines_of_spaces_are_blank_wherever_the_input_is_cut() {
    // Before the header, between rows and at the end: no header of spaces, no profile
    // with an mpid of spaces, and the lines of the rows still count.
    let input = " \n\t\nmpid,$address\n1,12345 Elm\n  \n2,12345 Elm\n \t \n";
    let preview = every_split(input, Format::Auto);
    assert_eq!(preview.format, Format::Csv);
    assert_eq!(preview.stats.profiles, 2);
    assert_eq!(preview.stats.groups, 1);
    assert!(preview.diagnostics.is_empty(), "{:?}", preview.diagnostics);
    let extra = every_split(" \nmpid,$address\n1,12345 Elm,x\n", Format::Csv);
    let lines: Vec<_> = extra
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(lines, [("extra_cells", Some(3))]);
    // Only spaces: an empty preview, as for empty input.
    let empty = every_split("  \n ", Format::Csv);
    assert_eq!(empty.stats.profiles, 0);
    assert!(empty.diagnostics.is_empty(), "{:?}", empty.diagnostics);
}

/// CSV rows go to the engine in batches; what is found on the way (extra cells, a row
/// that is not UTF-8, a value that cannot be used) still comes in line order, next to
/// the rows around it, and the rows are read as NDJSON of the same profiles would be.
#[test]
fn csv_rows_in_batches_keep_every_finding_in_line_order() {
    let mut csv = b"mpid,$address,has_dog\n".to_vec();
    let mut ndjson = String::new();
    let mut expected = Vec::new();
    let mut line = 2u64;
    for i in 1..=40u64 {
        let address = format!("{} Elm Street", i % 4);
        let (row, finding): (Vec<u8>, Option<&str>) = match i {
            7 | 23 => (
                format!("{i},{address},true,extra").into_bytes(),
                Some("extra_cells"),
            ),
            12 => (
                format!("{i},\"{address}\nupstairs\",false").into_bytes(),
                None,
            ),
            18 => (
                [format!("{i},{address},").as_bytes(), b"\xff\xfe"].concat(),
                Some("invalid_utf8"),
            ),
            30 => (
                format!("{i},{address},maybe").into_bytes(),
                Some("uncoercible_value"),
            ),
            _ => (format!("{i},{address},{}", i % 3 == 0).into_bytes(), None),
        };
        if let Some(code) = finding {
            expected.push((code.to_string(), line));
        }
        if finding != Some("invalid_utf8") {
            let text = String::from_utf8_lossy(&row).into_owned();
            let cells: Vec<&str> = text.splitn(3, ',').collect();
            let address = cells[1].trim_matches('"');
            let dog = cells[2].split(',').next().unwrap_or_default();
            let dog = match dog {
                "true" | "false" => serde_json::Value::Bool(dog == "true"),
                other => serde_json::Value::String(other.to_string()),
            };
            ndjson.push_str(
                &serde_json::json!({"mpid": i, "$address": address, "has_dog": dog}).to_string(),
            );
            ndjson.push('\n');
        }
        line += 1 + row.iter().filter(|&&b| b == b'\n').count() as u64;
        csv.extend_from_slice(&row);
        csv.push(b'\n');
    }
    let preview = every_split(&csv, Format::Auto);
    let found: Vec<(String, u64)> = preview
        .diagnostics
        .iter()
        .map(|d| (d.code.clone(), d.line.unwrap_or(0)))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(preview.stats.profiles, 39);
    assert_eq!(preview.stats.skipped, 1);
    let lines = preview_groups(&household(), ndjson.as_bytes(), &PreviewOptions::default());
    assert_eq!(preview.groups, lines.groups);
}

/// More rows than the CSV reader holds before handing them on (1024), with a quoted line
/// break and findings around that point, read in one piece, in chunks of a few bytes and
/// split at a few places: the same preview each way, findings at their lines.
#[test]
fn csv_rows_past_the_held_rows_read_the_same_in_any_chunks() {
    let mut csv = String::from("mpid,$address,has_dog\n");
    let mut expected = Vec::new();
    let mut line = 2u64;
    for i in 1..=2500u64 {
        let row = match i {
            1023 => format!("{i},\"{} Elm\nStreet\",true", i % 9),
            1024 | 1025 | 2049 => format!("{i},{} Elm Street,true,extra", i % 9),
            _ => format!("{i},{} Elm Street,{}", i % 9, i % 2 == 0),
        };
        if row.ends_with("extra") {
            expected.push(line);
        }
        line += 1 + row.matches('\n').count() as u64;
        csv.push_str(&row);
        csv.push('\n');
    }
    let options = PreviewOptions::default();
    let whole = preview_groups(&household(), csv.as_bytes(), &options);
    let lines: Vec<u64> = whole.diagnostics.iter().filter_map(|d| d.line).collect();
    assert_eq!(lines, expected);
    assert_eq!(whole.stats.profiles, 2500);
    let bytes = csv.as_bytes();
    let row_1024 = csv.find("\n1024,").unwrap_or_default();
    for cut in [1, bytes.len() / 3, row_1024, row_1024 + 3, bytes.len() - 2] {
        let mut session = PreviewSession::new(&household(), &options);
        session.push(&bytes[..cut]);
        session.push(&bytes[cut..]);
        assert_eq!(session.finish(), whole, "split at byte {cut}");
    }
    let mut session = PreviewSession::new(&household(), &options);
    for chunk in bytes.chunks(7) {
        session.push(chunk);
    }
    assert_eq!(session.finish(), whole, "seven bytes at a time");
}

#[test]
fn byte_order_marks_split_anywhere() {
    // Found by fuzzing: an empty push must not end a CSV read, and one BOM is stripped once.
    for format in [Format::Csv, Format::Auto, Format::Ndjson, Format::Json] {
        every_split("\u{feff}\u{feff}", format);
        every_split(
            "\u{feff}mpid,$address\n1,123 Main St\n2,123 Main St\n",
            format,
        );
    }
    let preview = every_split(
        "\u{feff}mpid,$address\n1,123 Main St\n2,123 Main St\n",
        Format::Csv,
    );
    assert_eq!(preview.stats.groups, 1);
}

#[test]
fn whole_profiles_read_in_chunks_are_the_one_shot_read() {
    use group_identity::profiles::{read_all, ProfileStream};
    let ndjson = "\n{\"mpid\":1,\"user_attributes\":{\"a\":\"x\",\"b\":null},\"user_attribute_timestamps\":{\"a\":5}}\n\
                  {\"mpid\":1,\"a\":2}\nnot json\n{\"mpid\":\"2\",\"a\":\"é\",\"updated_at\":\"2024-01-01T00:00:00Z\"}";
    let json = "[{\"mpid\":1,\"a\":[1,{\"b\":2}]},\n{\"a\":1},\n{\"mpid\":3,\"c\":\"\\u00e9\"},\n{\"mpid\":1}]";
    let csv = "\u{feff}mpid,a,b\n1,\"x\ny\",\n2,,z,extra\n,1,2\n3,4,5";
    for (input, format) in [
        (ndjson, Format::Ndjson),
        (json, Format::Json),
        (csv, Format::Csv),
    ] {
        let bytes = input.as_bytes();
        let whole = read_all(bytes, Format::Auto);
        assert!(whole.0.len() >= 2, "{format:?}: {whole:?}");
        for size in 1..=bytes.len() {
            let mut stream = ProfileStream::new(Format::Auto, usize::MAX);
            let mut profiles = Vec::new();
            for chunk in bytes.chunks(size) {
                profiles.extend(stream.push(chunk));
            }
            let end = stream.finish();
            profiles.extend(end.profiles);
            assert_eq!(
                (profiles, end.diagnostics),
                whole,
                "{format:?} in chunks of {size}"
            );
            // Kept or not, every finding is counted.
            let mut capped = ProfileStream::new(Format::Auto, 1);
            for chunk in bytes.chunks(size) {
                capped.push(chunk);
            }
            let end = capped.finish();
            assert_eq!(end.diagnostics.first(), whole.1.first(), "{format:?}");
            assert_eq!(
                end.diagnostics.len() as u64 + end.diagnostics_suppressed,
                whole.1.len() as u64,
                "{format:?} in chunks of {size}"
            );
        }
        assert!(whole.1.len() >= 2, "{format:?}: {:?}", whole.1);
    }
}

#[test]
fn the_benchmark_reader_reads_every_record_and_keeps_nothing() {
    use group_identity::profiles::read_only;
    // Repeated mpids and records without one are read all the same; lines that are not
    // records are not.
    let ndjson =
        "{\"mpid\":1,\"$address\":\"12 Elm St\"}\n{\"mpid\":1}\nnot json\n\n{\"a\":1}\n[1]";
    assert_eq!(read_only(ndjson.as_bytes(), &household()), 3);
    let preview = preview_groups(&household(), ndjson.as_bytes(), &PreviewOptions::default());
    assert_eq!(preview.stats.profiles, 1);
}
