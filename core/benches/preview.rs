//! Preview throughput against the floor set by parsing alone.
//!
//! For each size the generated NDJSON export is made once, outside the timing. Two
//! benchmarks run over the same bytes: `parse_floor` parses every line into
//! `serde::de::IgnoredAny` (the least any JSON reader must do) and `preview` runs the
//! whole preview, up to the finished [`Preview`] in the caller's hands (freeing it later is
//! the caller's business, so it is dropped outside the timing). The target: preview MB/s
//! at least 70% of the floor's. Natively a large NDJSON input is previewed on several
//! threads, one a core (`preview_groups`); `preview_one_thread` times the same preview on
//! one, as a `PreviewSession` and WebAssembly run it. To show where a thread's time beyond
//! the floor goes, the summary also times, on one thread, the reading alone (every record
//! read as the preview reads it, the same fields, nothing kept) and two cut-down previews:
//! reading mpids only (kept), and grouping with no attribute.
//!
//! `GROUP_IDENTITY_BENCH_PROFILES=100000,1000000` (the default) picks the sizes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use group_identity::generator::{definition_for_generated, generate, GeneratorOptions};
use group_identity::profiles::read_only;
use group_identity::{
    preview_groups, Format, GroupDefinition, Preview, PreviewOptions, PreviewSession,
};

fn sizes() -> Vec<usize> {
    std::env::var("GROUP_IDENTITY_BENCH_PROFILES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![100_000, 1_000_000])
}

fn export(profiles: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    generate(
        &GeneratorOptions::new(42, profiles, Format::Ndjson),
        &mut bytes,
    );
    bytes
}

/// Parses every line and throws the value away: the parse-only floor.
fn parse_floor(bytes: &[u8]) -> usize {
    let mut records = 0;
    for line in memchr::memchr_iter(b'\n', bytes)
        .scan(0, |start, end| {
            let line = bytes.get(*start..end);
            *start = end + 1;
            line
        })
        .filter(|l| !l.is_empty())
    {
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            records += 1;
        }
    }
    records
}

fn preview(definition: &GroupDefinition, bytes: &[u8]) -> Preview {
    preview_groups(definition, bytes, &PreviewOptions::default())
}

/// The same preview on this thread alone.
fn preview_one_thread(definition: &GroupDefinition, bytes: &[u8]) -> Preview {
    let mut session = PreviewSession::new(definition, &PreviewOptions::default());
    session.push(bytes);
    session.finish()
}

/// A timed run; what it returns is dropped untimed.
type Run<'a> = Box<dyn FnMut() -> Box<dyn std::any::Any> + 'a>;

/// Best of a few runs of each, in MB/s (10^6 bytes a second), all taken in turn so that
/// each sees the same machine (shared machines change speed from one minute to the next).
fn best_in_turn(bytes: usize, rounds: usize, runs: &mut [Run<'_>]) -> Vec<f64> {
    let mut best = vec![Duration::MAX; runs.len()];
    for _ in 0..rounds {
        for (run, best) in runs.iter_mut().zip(&mut best) {
            let start = Instant::now();
            let result = run();
            *best = (*best).min(start.elapsed());
            drop(black_box(result));
        }
    }
    best.into_iter()
        .map(|best| bytes as f64 / best.as_secs_f64().max(1e-9) / 1e6)
        .collect()
}

/// The generated definition cut down, to see where a preview's time goes: no attribute
/// (grouping alone), or also a source attribute no profile has (mpids only: every record
/// still read and checked, its mpid kept, no key).
fn cut_down(definition: &GroupDefinition, keep_source: bool) -> GroupDefinition {
    let mut cut = definition.clone();
    cut.attributes.clear();
    if !keep_source {
        cut.source_user_attribute = "$absent_from_every_profile".into();
    }
    cut
}

fn bench(c: &mut Criterion) {
    let definition = definition_for_generated();
    let mut summary = Vec::new();
    for profiles in sizes() {
        let bytes = export(profiles);
        let mut group = c.benchmark_group("preview_ndjson");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(if profiles > 200_000 { 8 } else { 3 }))
            .warm_up_time(Duration::from_secs(1))
            // MB/s (10^6 bytes), as the summary below prints them, not MiB/s.
            .throughput(Throughput::BytesDecimal(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("parse_floor", profiles),
            &bytes,
            |b, bytes| b.iter(|| parse_floor(black_box(bytes))),
        );
        group.bench_with_input(BenchmarkId::new("preview", profiles), &bytes, |b, bytes| {
            b.iter_with_large_drop(|| preview(&definition, black_box(bytes)))
        });
        group.bench_with_input(
            BenchmarkId::new("preview_one_thread", profiles),
            &bytes,
            |b, bytes| b.iter_with_large_drop(|| preview_one_thread(&definition, black_box(bytes))),
        );
        group.finish();

        // Criterion keeps its estimates to itself; time a few runs here for the ratio, and
        // the cut-down previews that tell where the time beyond the floor goes.
        let (mpids_only, grouping) = (cut_down(&definition, false), cut_down(&definition, true));
        let bytes = &bytes;
        let mut runs: [Run<'_>; 6] = [
            Box::new(|| Box::new(parse_floor(black_box(bytes)))),
            Box::new(|| Box::new(preview(&definition, black_box(bytes)))),
            Box::new(|| Box::new(preview_one_thread(&definition, black_box(bytes)))),
            Box::new(|| Box::new(preview_one_thread(&grouping, black_box(bytes)))),
            Box::new(|| Box::new(preview_one_thread(&mpids_only, black_box(bytes)))),
            Box::new(|| Box::new(read_only(black_box(bytes), &definition))),
        ];
        let speeds = best_in_turn(bytes.len(), 5, &mut runs);
        let [floor, whole, one_thread, grouped, mpids, reading] = speeds[..] else {
            continue;
        };
        let seconds = bytes.len() as f64 / (whole * 1e6);
        let share = |mb_per_s: f64| 100.0 * mb_per_s / floor;
        summary.push(format!(
            "{profiles:>9} profiles {:>7.1} MB: parse floor {floor:>7.1} MB/s, preview \
             {whole:>7.1} MB/s ({:.0} profiles/s), preview/floor {:>5.1}% (target >= 70%)\n\
             {:>28}on one thread: preview {one_thread:>7.1} MB/s ({:.1}%); where its time goes: reading the preview's fields, nothing kept {reading:>7.1} \
             MB/s ({:.0}%); reading mpids only, kept {mpids:>7.1} MB/s ({:.0}%); grouping with \
             no attribute {grouped:>7.1} MB/s ({:.0}%)",
            bytes.len() as f64 / 1e6,
            profiles as f64 / seconds,
            share(whole),
            "",
            share(one_thread),
            share(reading),
            share(mpids),
            share(grouped),
        ));
    }
    println!("\nsummary (best of 5 runs each, taken in turn)");
    for line in summary {
        println!("{line}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
