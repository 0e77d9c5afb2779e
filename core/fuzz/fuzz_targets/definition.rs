//! Any bytes, read as text, in every mode: validation never panics, `valid` means no
//! errors, every path is a JSON Pointer, a body comes back exactly when valid, and the
//! text and parsed-value entry points find the same issues.
#![no_main]
use group_identity::definition::{read_definition_text, Issue, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let modes = [
        Mode::Create,
        Mode::Update {
            group_id: "household".into(),
        },
        Mode::Patch,
    ];
    let value = serde_json::from_str::<serde_json::Value>(&text).ok();
    for mode in &modes {
        let (validation, body) = read_definition_text(&text, mode);
        assert_eq!(validation.valid, validation.errors.is_empty());
        assert_eq!(validation.valid, body.is_some());
        for issue in validation.errors.iter().chain(&validation.warnings) {
            assert!(
                issue.path.is_empty() || issue.path.starts_with('/'),
                "bad path {:?}",
                issue.path
            );
            assert!(!issue.code.is_empty() && !issue.message.is_empty());
        }
        // Text keeps document order and sees repeated keys; otherwise the same issues.
        if let Some(value) = &value {
            let from_value = group_identity::validate_definition(value, mode);
            assert_eq!(sorted(&from_value.errors), sorted(&validation.errors));
            assert_eq!(sorted(&from_value.warnings), sorted(&validation.warnings));
        }
    }
});

fn sorted(issues: &[Issue]) -> Vec<(&str, &str, &str)> {
    let mut out: Vec<_> = issues
        .iter()
        .filter(|i| i.code != "duplicate_field")
        .map(|i| (i.code.as_str(), i.path.as_str(), i.message.as_str()))
        .collect();
    out.sort();
    out
}
