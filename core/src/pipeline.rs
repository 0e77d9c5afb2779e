//! A whole NDJSON input previewed on several threads, one a core up to [`MAX_THREADS`].
//! The input is cut into blocks of whole lines; each thread takes the next block, reads
//! it, then waits for its turn to hand the block's records to the grouping, which takes
//! blocks in input order. Reading is about half of a preview's time, and the threads read
//! at once; each block is grouped by the thread that read it, so its records are still in
//! that core's cache.
//!
//! The grouping gets the records a preview on one thread gets, in the same order, with
//! the same findings between them, so the result is the same to the bit: sums are added
//! in the same order. (Batches are cut afresh at each block's end; a batch only decides
//! which records' memory is fetched together.)
//!
//! The finished preview's groups are then built in parts, one a thread
//! ([`Engine::finish_on`]), and joined in key order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::engine::Engine;
use crate::preview::{Diagnostic, Preview};
use crate::profiles::ndjson::NdjsonReader;
use crate::profiles::reader::{BatchSink, RecordSink, BATCH};
use crate::profiles::record::{Scratch, Wanted};
use crate::profiles::Format;
use crate::spread::Threads;

/// Inputs smaller than this are previewed on one thread: they take a few milliseconds at
/// most, of which starting threads and taking turns would eat much of what they save.
pub(crate) const MIN_INPUT: usize = 1 << 20;

/// A block's size, before it is stretched to the end of its last line: big enough that
/// taking turns costs little, small enough that a block's records (about a kilobyte each
/// while they wait) stay in cache.
const BLOCK_BYTES: usize = 512 << 10;

/// Records a thread keeps of one block while it waits for the block's turn. A block of
/// smaller records (under 64 bytes on average) is read again in its turn instead, so that
/// tiny records cannot make the waiting records take hundreds of megabytes.
const MAX_KEPT: usize = 8192;

/// Threads at most. Grouping takes turns: past a few readers, the one whose turn it is
/// is what they all wait for.
const MAX_THREADS: usize = 4;

/// How long a thread waits for its turn before it sleeps.
const SPIN_AT_MOST: std::time::Duration = std::time::Duration::from_millis(2);

/// The threads `input` is previewed on, when more than one: a large NDJSON input (named
/// or detected) whose first byte starts a record (so that detection has nothing to skip),
/// where two cores or more exist.
pub(crate) fn threads_for(input: &[u8], format: Format) -> Option<usize> {
    if input.len() < MIN_INPUT || !starts_ndjson(input, format) {
        return None;
    }
    Some(threads()).filter(|&n| n >= 2)
}

fn starts_ndjson(input: &[u8], format: Format) -> bool {
    matches!(format, Format::Auto | Format::Ndjson) && input.first() == Some(&b'{')
}

/// One a core, up to [`MAX_THREADS`].
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
}

/// Previews a whole NDJSON input that starts with a record (see [`threads_for`]) on
/// `threads` threads, this one among them; on fewer, down to this one alone, if no more
/// can start.
pub(crate) fn preview(engine: Engine, wanted: &Wanted, input: &[u8], threads: usize) -> Preview {
    preview_in_blocks(engine, wanted, input, BLOCK_BYTES, &Threads::new(threads))
}

/// [`preview`] with blocks of about `block_bytes`, on at most `spread.threads` threads,
/// the groups then built in parts over `spread`.
fn preview_in_blocks(
    mut engine: Engine,
    wanted: &Wanted,
    input: &[u8],
    block_bytes: usize,
    spread: &Threads,
) -> Preview {
    let blocks = blocks(input, block_bytes);
    let work = Work {
        blocks: &blocks,
        wanted,
        next: AtomicUsize::new(0),
        turn: Mutex::new(Turn {
            lines: 0,
            engine: &mut engine,
            abandoned: false,
        }),
        turn_changed: Condvar::new(),
        next_turn: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        // A thread that cannot start takes no block: the others take them all.
        for _ in 1..spread.threads {
            let _ = std::thread::Builder::new()
                .name("group-identity reader".into())
                .spawn_scoped(scope, || work.run());
        }
        work.run();
    });
    engine.finish_on(Format::Ndjson, spread).0
}

/// `input` cut after the first line break past every `block_bytes` (at least 1).
fn blocks(input: &[u8], block_bytes: usize) -> Vec<&[u8]> {
    let block_bytes = block_bytes.max(1);
    let mut blocks = Vec::with_capacity(input.len() / block_bytes + 1);
    let mut rest = input;
    while !rest.is_empty() {
        let end = rest
            .get(block_bytes..)
            .and_then(|tail| memchr::memchr(b'\n', tail))
            .map_or(rest.len(), |at| block_bytes + at + 1);
        let (block, tail) = rest.split_at(end);
        blocks.push(block);
        rest = tail;
    }
    blocks
}

/// What the threads share.
struct Work<'i, 'e> {
    blocks: &'i [&'i [u8]],
    wanted: &'i Wanted,
    /// The next block to read.
    next: AtomicUsize,
    turn: Mutex<Turn<'e>>,
    turn_changed: Condvar,
    /// The block to group next: changed only by the thread holding `turn`, and read
    /// without the lock while a thread spins.
    next_turn: AtomicUsize,
}

/// The grouping, held by the thread whose turn it is.
struct Turn<'e> {
    /// Lines in the blocks before the next to group.
    lines: u64,
    engine: &'e mut Engine,
    /// A thread panicked: the others stop waiting for turns that will not come.
    abandoned: bool,
}

impl<'e> Work<'_, 'e> {
    /// Takes blocks until none is left: reads each, then groups it in its turn.
    fn run(&self) {
        let _abandon_on_panic = AbandonOnPanic(self);
        let mut gathered = Gathered::default();
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&block) = self.blocks.get(index) else {
                return;
            };
            // Read with lines counted from the block's start: the lines before it are
            // known only in its turn.
            let mut reader = NdjsonReader::default();
            reader.read_whole(block, self.wanted, &mut gathered);
            let Some(mut turn) = self.wait_for(index) else {
                return;
            };
            if std::mem::take(&mut gathered.read_again) {
                // A finding's message may name its line: read the block again, lines
                // counted right (such blocks are rare, and only they are read twice).
                let mut reader = NdjsonReader::default().after_lines(turn.lines);
                reader.read_whole(block, self.wanted, &mut *turn.engine);
            } else {
                let before = turn.lines;
                gathered.hand_to(turn.engine, before);
            }
            turn.lines += reader.lines_read();
            // Changed under the lock, so a thread about to sleep cannot miss it.
            self.next_turn.fetch_add(1, Ordering::Release);
            drop(turn);
            self.turn_changed.notify_all();
        }
    }

    /// Waits until block `block` is next to be grouped; `None` if another thread failed.
    fn wait_for(&self, block: usize) -> Option<MutexGuard<'_, Turn<'e>>> {
        // Another thread is most often grouping the block before, for less than a
        // millisecond: waiting for it on the spot costs less than sleeping and being
        // woken, a block at a time.
        // Yielding between spins leaves the core to a thread whose turn it is, should the
        // machine have more threads to run than cores.
        let start = std::time::Instant::now();
        while self.next_turn.load(Ordering::Acquire) != block && start.elapsed() < SPIN_AT_MOST {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            std::thread::yield_now();
        }
        let mut turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        while self.next_turn.load(Ordering::Acquire) != block && !turn.abandoned {
            turn = self
                .turn_changed
                .wait(turn)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (!turn.abandoned).then_some(turn)
    }
}

/// If a thread panics, tells the others not to wait for it (the scope then re-raises it).
struct AbandonOnPanic<'w, 'i, 'e>(&'w Work<'i, 'e>);

impl Drop for AbandonOnPanic<'_, '_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut turn = self.0.turn.lock().unwrap_or_else(PoisonError::into_inner);
            turn.abandoned = true;
            drop(turn);
            self.0.turn_changed.notify_all();
        }
    }
}

/// One block's records in batches, as its reader handed them over, kept until its turn.
#[derive(Default)]
struct Gathered<'a> {
    batches: Vec<(Vec<Scratch<'a>>, usize, [u64; BATCH])>,
    /// Records in `batches`.
    kept: usize,
    /// The block is read again in its turn, and nothing more is kept: reading found a
    /// problem (a rejected line), or the block has more than [`MAX_KEPT`] records.
    read_again: bool,
    /// Scratches grouped already, to read the next batches into.
    spare: Vec<Vec<Scratch<'a>>>,
}

impl<'a> Gathered<'a> {
    /// Hands the batches to the grouping, each line moved past the `lines` before.
    fn hand_to(&mut self, engine: &mut Engine, lines: u64) {
        for (scratches, len, mut batch_lines) in self.batches.drain(..) {
            let recs = scratches.get(..len).unwrap_or_default();
            let batch_lines = batch_lines.get_mut(..len).unwrap_or_default();
            batch_lines.iter_mut().for_each(|line| *line += lines);
            engine.records(recs, batch_lines);
            self.spare.push(scratches);
        }
        self.kept = 0;
    }

    /// Keeps nothing more of this block: it is read again in its turn.
    fn give_up(&mut self) {
        self.read_again = true;
        self.spare
            .extend(self.batches.drain(..).map(|(scratches, ..)| scratches));
        self.kept = 0;
    }
}

impl<'a> BatchSink<'a> for Gathered<'a> {
    fn hand_over(&mut self, scratches: &mut Vec<Scratch<'a>>, len: usize, lines: &[u64]) {
        if self.read_again {
            // The batch reads its next records into the same scratches.
            return;
        }
        self.kept += len;
        if self.kept > MAX_KEPT {
            self.give_up();
            return;
        }
        let fresh = self.spare.pop().unwrap_or_default();
        let scratches = std::mem::replace(scratches, fresh);
        let mut batch_lines = [0; BATCH];
        for (to, from) in batch_lines.iter_mut().zip(lines) {
            *to = *from;
        }
        self.batches.push((scratches, len.min(BATCH), batch_lines));
    }

    fn reject(&mut self, _: Diagnostic) {
        self.give_up();
    }

    fn report(&mut self, _: Diagnostic) {
        self.give_up();
    }
}

/// For tests and fuzzing: previews `input` on `threads` threads in blocks of about
/// `block_bytes`, its groups built in as many parts however few keys there are, and on
/// one thread as a session, and describes the first difference.
/// Inputs the threads would not take (not starting with a record, or not NDJSON) are not
/// compared.
#[doc(hidden)]
pub fn check_threaded(
    definition: &crate::GroupDefinition,
    input: &[u8],
    options: &crate::PreviewOptions,
    block_bytes: usize,
    threads: usize,
) -> Result<(), String> {
    if !starts_ndjson(input, options.format) {
        return Ok(());
    }
    let one = crate::PreviewSession::new(definition, options).one_shot(input);
    let (engine, wanted) = Engine::new(definition, options);
    let spread = Threads {
        threads,
        min_part: 1,
    };
    let two = preview_in_blocks(engine, &wanted, input, block_bytes, &spread);
    if one == two {
        return Ok(());
    }
    let json = |p: &Preview| serde_json::to_string_pretty(p).unwrap_or_default();
    let (one, two) = (json(&one), json(&two));
    let line = one
        .lines()
        .zip(two.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    Err(format!(
        "{threads} threads differ from one at line {line} of the preview's JSON: {:?} vs {:?}",
        one.lines().nth(line),
        two.lines().nth(line)
    ))
}

#[cfg(test)]
mod tests {
    use super::{blocks, check_threaded};
    use crate::generator::{definition_for_generated, generate, GeneratorOptions};
    use crate::{Format, PreviewOptions};

    #[test]
    fn blocks_end_at_line_breaks_and_cover_the_input() {
        let input = b"{}\n{\"a\":1}\n\n{}";
        for size in [0, 1, 2, 3, 5, 100] {
            let cut = blocks(input, size);
            assert_eq!(cut.concat(), input, "{size}");
            let Some((last, whole)) = cut.split_last() else {
                panic!("no blocks for {size}");
            };
            assert!(whole.iter().all(|b| b.ends_with(b"\n")), "{size}: {cut:?}");
            assert!(!last.is_empty());
        }
        assert!(blocks(b"", 4).is_empty());
    }

    #[test]
    fn threads_give_what_one_gives() {
        let definition = definition_for_generated();
        let mut input = Vec::new();
        generate(
            &GeneratorOptions {
                edge_cases: true,
                ..GeneratorOptions::new(7, 3000, Format::Ndjson)
            },
            &mut input,
        );
        // Findings in some blocks (read twice), none in others, a last line without a
        // line break, blank and CRLF lines.
        input.extend_from_slice(b"\n\r\n{\"mpid\":1,\"user_attributes\":{\"$address\":\"1 Elm St\"}}\r\nnot json\n[1]\n{\"mpid\":2}");
        let options = [
            PreviewOptions::default(),
            PreviewOptions {
                normalize_keys: true,
                max_diagnostics: 3,
                max_listed: 2,
                format: Format::Ndjson,
                ..PreviewOptions::default()
            },
        ];
        // Tiny records: a block holds more than a thread keeps, and is read again.
        let tiny: Vec<u8> = (0..3 * super::MAX_KEPT)
            .flat_map(|i| {
                format!("{{\"mpid\":{i},\"$address\":\"{} Elm St\"}}\n", i % 5000).into_bytes()
            })
            .collect();
        for (block_bytes, threads) in [(1 << 20, 2), (100_000, 3)] {
            check_threaded(&definition, &tiny, &options[0], block_bytes, threads)
                .unwrap_or_else(|e| panic!("tiny records, blocks of {block_bytes}: {e}"));
        }
        for options in &options {
            for (block_bytes, threads) in [(1, 2), (500, 3), (4096, 2), (1 << 20, 2), (700, 1)] {
                check_threaded(&definition, &input, options, block_bytes, threads)
                    .unwrap_or_else(|e| panic!("blocks of {block_bytes}: {e}"));
            }
        }
    }
}
