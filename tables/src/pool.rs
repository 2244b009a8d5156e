//! The one worker pool: a few scoped threads, the caller among them, each
//! taking the next item from a shared counter. Used for whole tables
//! ([`crate::table::Scan::prefetch`]) and for the units of one table
//! (`installed_services`).

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of each item, in the items' order, computed by up to `workers`
/// threads. Items are handed out in order, so the first ones start first
/// (give the slowest first). A panic in `f` is raised again here once every
/// worker has stopped.
pub fn map<T: Sync, U: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let next = AtomicUsize::new(0);
    let workers = workers.clamp(1, items.len().max(1));
    let work = || {
        let mut done = Vec::with_capacity(items.len() / workers + 1);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { return done };
            done.push((i, f(item)));
        }
    };
    let mut out = if workers == 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let others: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
            let mut all = work();
            for other in others {
                all.extend(other.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            all
        })
    };
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, u)| u).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn results_keep_the_items_order_on_any_number_of_workers() {
        let items: Vec<usize> = (0..500).collect();
        for workers in [0, 1, 2, 3, 64] {
            let threads = Mutex::new(HashSet::new());
            let out = map(&items, workers, |&i| {
                threads.lock().unwrap().insert(std::thread::current().id());
                i * 2
            });
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>(), "{workers} workers");
            assert!(threads.lock().unwrap().len() <= workers.max(1));
        }
        assert!(map(&[] as &[u8], 4, |_| 0).is_empty());
    }

    #[test]
    fn a_panic_reaches_the_caller() {
        let items: Vec<u32> = (0..100).collect();
        let r = std::panic::catch_unwind(|| map(&items, 2, |&i| if i == 77 { panic!("item 77") } else { i }));
        assert!(r.is_err());
    }
}
