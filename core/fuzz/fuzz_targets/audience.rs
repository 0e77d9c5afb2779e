//! Arbitrary conditions over arbitrary profiles: the audience's own parser (conditions as
//! JSON, each checked before any profile is read) and its second reader, which keeps each
//! used value's JSON text. Must not panic; a session fed each pass in two chunks (split
//! where the fuzzer says) agrees with the one-shot count; the counts are consistent.
#![no_main]
use group_identity::definition::{Aggregation, GroupAttribute, GroupDefinition};
use group_identity::{
    preview_audience, AudienceOptions, AudienceSession, Condition, Format, PreviewOptions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Two bytes choose the split point and the format; the first line is the conditions
    // (a JSON array), the rest the profiles.
    let (split, format, rest) = match data {
        [a, b, rest @ ..] => (usize::from(*a), *b, rest),
        _ => return,
    };
    let (conditions, input) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(conditions) = serde_json::from_slice::<Vec<Condition>>(conditions) else {
        return;
    };
    let format = [Format::Auto, Format::Json, Format::Ndjson, Format::Csv][usize::from(format % 4)];
    let options = AudienceOptions {
        preview: PreviewOptions {
            format,
            max_diagnostics: 20,
            ..PreviewOptions::default()
        },
        limit: 3,
    };
    let definition = definition();
    let whole = preview_audience(&definition, input, &conditions, &options);
    let Ok(mut session) = AudienceSession::new(&definition, &conditions, &options) else {
        assert!(
            whole.is_err(),
            "the session refused conditions the one-shot took"
        );
        return;
    };
    let split = split % (input.len() + 1);
    let (head, tail) = input.split_at(split);
    session.push(head);
    session.push(tail);
    session.second_pass();
    session.push(head);
    session.push(tail);
    let chunked = session.finish();
    let whole = whole.expect("the one-shot refused conditions the session took");
    assert_eq!(whole, chunked, "split at {split}");
    assert!(whole.matched <= whole.total);
    assert_eq!(whole.mpids.len() as u64, whole.matched.min(3));
});

/// Short names, so that the fuzzer finds keys and attributes quickly.
fn definition() -> GroupDefinition {
    let attribute = |id: &str, aggregation| GroupAttribute {
        id: id.to_owned(),
        aggregation,
    };
    GroupDefinition {
        id: "g".to_owned(),
        description: None,
        source_user_attribute: "k".to_owned(),
        attributes: vec![
            attribute("b", Aggregation::BooleanOr),
            attribute("s", Aggregation::Sum),
            attribute("l", Aggregation::Latest),
        ],
    }
}
