//! Times native previews of one profile file and prints each run's milliseconds, one a
//! line. `bench/wasm/bench.mjs` runs it between its wasm runs, so that native and wasm are
//! timed in the same minutes of a machine whose speed changes from one minute to the next.
//! The preview runs on one thread, as in WebAssembly (`preview_groups` would read a large
//! NDJSON file on several), so that the two compare the same work.
//!
//! ```text
//! cargo run --release -p group-identity --example time_preview -- definition.json profiles.ndjson [runs]
//! ```

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use group_identity::{GroupDefinition, PreviewOptions, PreviewSession};

const USAGE: &str = "usage: time_preview definition.json profiles [runs]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("time_preview: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(definition), Some(profiles)) = (args.next(), args.next()) else {
        return Err("a definition and a profile file are needed".into());
    };
    let runs: usize = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("runs must be a number, not {n}"))?,
        None => 1,
    };
    let definition =
        std::fs::read_to_string(&definition).map_err(|e| format!("{definition}: {e}"))?;
    let definition: GroupDefinition =
        serde_json::from_str(&definition).map_err(|e| format!("the definition: {e}"))?;
    let bytes = std::fs::read(&profiles).map_err(|e| format!("{profiles}: {e}"))?;
    // As `previewGroups` is called by the benchmark: no listed singletons or keys.
    let options = PreviewOptions {
        max_listed: 0,
        ..PreviewOptions::default()
    };
    for _ in 0..runs {
        let start = Instant::now();
        let mut session = PreviewSession::new(&definition, &options);
        session.push(black_box(&bytes));
        let preview = session.finish();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        // Freeing the result is the caller's business, as in the core benchmark.
        drop(black_box(preview));
        println!("{ms:.3}");
    }
    Ok(())
}
