//! Writes generated profiles to stdout.
//!
//! ```text
//! cargo run --release -p group-identity --example generate -- \
//!     --profiles 100000 --format ndjson --seed 42 [--flat] [--edge-cases]
//! cargo run -p group-identity --example generate -- --definition
//! ```

use std::io::Write;
use std::process::ExitCode;

use group_identity::generator::{definition_for_generated, Generator, GeneratorOptions};
use group_identity::Format;

const USAGE: &str = "usage: generate [--profiles N] [--format ndjson|json|csv] [--seed S] \
[--flat] [--edge-cases]\n       generate --definition";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("generate: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut options = GeneratorOptions::default();
    let mut definition = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--profiles" => {
                let v = value("--profiles")?;
                options.profiles = v
                    .parse()
                    .map_err(|_| format!("--profiles expects a count, found {v:?}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                options.seed = v
                    .parse()
                    .map_err(|_| format!("--seed expects an unsigned integer, found {v:?}"))?;
            }
            "--format" => {
                let v = value("--format")?;
                options.format = match v.as_str() {
                    "ndjson" => Format::Ndjson,
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    _ => return Err(format!("--format expects ndjson, json or csv, found {v:?}")),
                };
            }
            "--flat" => options.flat = true,
            "--edge-cases" => options.edge_cases = true,
            "--definition" => definition = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let write_error = |e: std::io::Error| format!("cannot write to stdout: {e}");
    if definition {
        let text = serde_json::to_string_pretty(&definition_for_generated())
            .map_err(|e| format!("cannot serialize the definition: {e}"))?;
        return writeln!(out, "{text}").map_err(write_error);
    }
    // Batches keep memory flat however many profiles are asked for.
    let mut generator = Generator::new(&options);
    let mut buffer = Vec::with_capacity(1 << 20);
    loop {
        let more = generator.fill(&mut buffer, 2000);
        out.write_all(&buffer).map_err(write_error)?;
        buffer.clear();
        if !more {
            break;
        }
    }
    out.flush().map_err(write_error)
}
