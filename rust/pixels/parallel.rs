//! Work shared among threads by taking turns at a queue, so a thread the machine stalls
//! (a descheduled virtual CPU) holds up only the item it is on, not a fixed share.

use std::sync::Mutex;

/// `items.map(work)` on up to `threads` threads, the calling one included; each thread
/// takes the next item when done with its last. Results are in item order.
pub fn map_queued<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    map_queued_with(items, threads, || (), |_, item| work(item))
}

/// `map_queued`, with state each thread makes once (`start`) and lends to every item it
/// takes: reusable buffers, say.
pub fn map_queued_with<T: Send, R: Send, S>(
    items: Vec<T>,
    threads: usize,
    start: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        let mut state = start();
        return items
            .into_iter()
            .map(|item| work(&mut state, item))
            .collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let run = || {
        let mut state = start();
        let mut done = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((i, item)) = next else {
                return done;
            };
            done.push((i, work(&mut state, item)));
        }
    };
    let mut results = std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        let mut results = run();
        for other in others {
            // A worker's panic is a bug; carry it on here rather than lose its results.
            let theirs = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            results.extend(theirs);
        }
        results
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_item_order_whatever_the_threads() {
        for threads in [0, 1, 2, 5, 200] {
            let got = map_queued((0..100).collect(), threads, |i: u64| i * i);
            assert_eq!(got, (0..100).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(map_queued(Vec::<u8>::new(), 4, |b| b).is_empty());
    }
}
