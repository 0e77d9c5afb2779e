//! Shared by the profile fuzz targets: arbitrary bytes in a named format must not panic; a
//! session fed in two chunks (split where the fuzzer says), and one fed a byte at a time,
//! agree with the one-shot preview, and so does a preview on two or three threads
//! (NDJSON, in blocks as long as the split); the stats add up; a whole-profile read in two chunks
//! agrees with the one-shot read.
use group_identity::definition::{Aggregation, GroupAttribute, GroupDefinition};
use group_identity::profiles::{read_all, ProfileStream};
use group_identity::{
    check_threaded, preview_groups, Format, Preview, PreviewOptions, PreviewSession,
};

/// The checks every profile format gets.
pub fn check(data: &[u8], format: Format) {
    // The first two bytes choose the split point; the rest is the input.
    let (split, input) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => (0, data),
    };
    let split = split % (input.len() + 1);
    let definition = definition();
    let options = PreviewOptions {
        format,
        max_diagnostics: 50,
        ..PreviewOptions::default()
    };
    let whole = preview_groups(&definition, input, &options);
    let (head, tail) = input.split_at(split);
    let mut session = PreviewSession::new(&definition, &options);
    session.push(head);
    session.push(tail);
    assert_eq!(session.bytes_read(), input.len() as u64);
    let chunked = session.finish();
    assert_eq!(whole, chunked, "split at {split}");
    // A byte at a time, every record is split out before it is read: the readers' one-pass
    // paths (whole NDJSON lines and JSON-array elements) never run.
    let mut session = PreviewSession::new(&definition, &options);
    for byte in input {
        session.push(std::slice::from_ref(byte));
    }
    assert_eq!(whole, session.finish(), "one byte at a time");
    // Read on threads in blocks about `split` bytes long: the same preview.
    if let Err(e) = check_threaded(&definition, input, &options, split, 2 + split % 2) {
        panic!("{e}");
    }
    check_stats(&whole, format);
    // Whole-profile reads, split where the preview was: the same profiles and findings.
    let all = read_all(input, format);
    let mut stream = ProfileStream::new(format, usize::MAX);
    let mut profiles = stream.push(head);
    profiles.extend(stream.push(tail));
    let end = stream.finish();
    profiles.extend(end.profiles);
    assert_eq!(end.diagnostics_suppressed, 0);
    assert_eq!(
        (profiles, end.diagnostics),
        all,
        "whole read split at {split}"
    );
}

/// Short names, so that the fuzzer finds keys and attributes quickly.
fn definition() -> GroupDefinition {
    let attribute = |id: &str, aggregation| GroupAttribute {
        id: id.to_owned(),
        aggregation,
    };
    GroupDefinition {
        id: "grp".to_owned(),
        description: None,
        source_user_attribute: "k".to_owned(),
        attributes: vec![
            attribute("b", Aggregation::BooleanOr),
            attribute("s", Aggregation::Sum),
            attribute("a", Aggregation::Average),
            attribute("l", Aggregation::Latest),
        ],
    }
}

fn check_stats(p: &Preview, format: Format) {
    let s = &p.stats;
    assert_eq!(
        s.profiles,
        s.no_key + s.short_key + s.singletons + s.grouped_profiles + s.oversized_profiles
    );
    assert_eq!(s.groups, p.groups.len() as u64);
    assert_eq!(s.oversized_groups, p.oversized.len() as u64);
    let members: usize = p.groups.iter().map(|g| g.members.len()).sum();
    assert_eq!(s.grouped_profiles, members as u64);
    assert!(p.groups.iter().all(|g| (2..=10).contains(&g.members.len())));
    assert!(p.oversized.iter().all(|o| o.size > 10));
    let oversized: u64 = p.oversized.iter().map(|o| o.size).sum();
    assert_eq!(s.oversized_profiles, oversized);
    assert_eq!(p.format, format);
}
