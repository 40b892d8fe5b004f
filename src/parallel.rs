//! Spreading independent work (parsing files, statements) over the machine's cores.

use std::sync::OnceLock;

/// `f` over `items` on the machine's cores, results in the order of `items`; on one
/// thread when there are fewer than `min_items` (spawning costs more than it saves).
pub fn map<T: Sync, R: Send>(items: &[T], min_items: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < min_items || threads() < 2 {
        return items.iter().map(f).collect();
    }
    let threads = threads();
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|chunk| scope.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// The number of cores, asked once: the standard library reads cgroup files each time.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
