//! Running one job per item, the results in the items' order: on this thread
//! ([`OneThread`]), or natively on several at once ([`Threads`]).

/// Maps items to results, in order.
pub(crate) trait Spread {
    /// How many parts a job over `items` things is worth cutting into.
    fn parts(&self, items: usize) -> usize;

    fn map<I: Sync, T: Send>(&self, items: &[I], job: impl Fn(&I) -> T + Sync) -> Vec<T>;
}

/// Every job on this thread, one after another.
pub(crate) struct OneThread;

impl Spread for OneThread {
    fn parts(&self, _: usize) -> usize {
        1
    }

    fn map<I: Sync, T: Send>(&self, items: &[I], job: impl Fn(&I) -> T + Sync) -> Vec<T> {
        items.iter().map(job).collect()
    }
}

/// Each job after the first on a thread of its own, the first on this one. A job whose
/// thread cannot start runs here; a job that panics makes `map` panic.
#[cfg(not(target_family = "wasm"))]
pub(crate) struct Threads {
    /// Parts at most.
    pub threads: usize,
    /// Things a part has at least: a smaller part would not pay for its thread.
    pub min_part: usize,
}

#[cfg(not(target_family = "wasm"))]
impl Threads {
    /// Parts of at least 16,384 things (a few milliseconds of work, against tens of
    /// microseconds to start a thread).
    pub fn new(threads: usize) -> Threads {
        Threads {
            threads,
            min_part: 1 << 14,
        }
    }
}

#[cfg(not(target_family = "wasm"))]
impl Spread for Threads {
    fn parts(&self, items: usize) -> usize {
        self.threads.clamp(1, items / self.min_part.max(1) + 1)
    }

    fn map<I: Sync, T: Send>(&self, items: &[I], job: impl Fn(&I) -> T + Sync) -> Vec<T> {
        let job = &job;
        std::thread::scope(|scope| {
            let (first, rest) = match items.split_first() {
                Some((first, rest)) => (Some(first), rest),
                None => (None, items),
            };
            let started: Vec<_> = rest
                .iter()
                .map(|item| {
                    std::thread::Builder::new()
                        .name("group-identity finish".into())
                        .spawn_scoped(scope, move || job(item))
                })
                .collect();
            let mut results = Vec::with_capacity(items.len());
            results.extend(first.map(job));
            for (thread, item) in started.into_iter().zip(rest) {
                results.push(match thread {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(_) => job(item),
                });
            }
            results
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{OneThread, Spread};

    #[test]
    fn results_come_in_the_items_order() {
        let items: Vec<u64> = (0..7).collect();
        let square = |x: &u64| x * x;
        let expected: Vec<u64> = items.iter().map(square).collect();
        assert_eq!(OneThread.map(&items, square), expected);
        #[cfg(not(target_family = "wasm"))]
        for threads in 1..=4 {
            let spread = super::Threads::new(threads);
            assert_eq!(spread.map(&items, square), expected);
            assert_eq!(spread.parts(100), 1);
            assert_eq!(spread.parts(1 << 20), threads);
        }
        assert_eq!(OneThread.map(&[] as &[u64], square), Vec::<u64>::new());
    }
}
