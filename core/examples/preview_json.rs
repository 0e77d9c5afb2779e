//! Prints the native preview of a profile file as JSON: what the npm package's
//! `previewGroups` must give for the same input. The Node tests (`tests/node`) compare
//! the two on generated profiles, so the wasm build, which differs from the native one in
//! a few `cfg` choices, is checked against it.
//!
//! ```text
//! cargo run -p group-identity --example preview_json -- definition.json profiles
//! ```

use std::process::ExitCode;

use group_identity::{preview_groups, GroupDefinition, PreviewOptions};

const USAGE: &str = "usage: preview_json definition.json profiles";

fn main() -> ExitCode {
    match run() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("preview_json: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (Some(definition), Some(profiles)) = (args.next(), args.next()) else {
        return Err("a definition and a profile file are needed".into());
    };
    let definition =
        std::fs::read_to_string(&definition).map_err(|e| format!("{definition}: {e}"))?;
    let definition: GroupDefinition =
        serde_json::from_str(&definition).map_err(|e| format!("the definition: {e}"))?;
    let bytes = std::fs::read(&profiles).map_err(|e| format!("{profiles}: {e}"))?;
    let preview = preview_groups(&definition, &bytes, &PreviewOptions::default());
    serde_json::to_string(&preview).map_err(|e| format!("the preview: {e}"))
}
