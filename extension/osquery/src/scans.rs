//! The scans `generate` calls read, and the time budget of each call.
//!
//! A canned query makes osqueryd call `generate` on several tables, some
//! several times (a subquery per evidence kind, `scan_errors` after them).
//! Calls that arrive within [`Scans::ttl`] of a scan's start share that
//! scan, whose row cache keeps rows per (table, constraint set): one canned
//! query costs about one scan, and its tables see one clock and one list
//! of problems. After the TTL (default 10 s: longer than a canned query
//! takes, far shorter than any schedule interval, so a scheduled run never
//! sees the rows of the previous one) the next call starts a fresh
//! `engine.scan()`, and the old scan is dropped once its last reader is
//! done, with its rows and problems. A scan also retires after
//! [`MAX_CALLS`] calls, so a burst of distinct constraints (file_presence
//! paths) cannot grow one scan's cache without bound.
//!
//! Each call is waited for at most the budget (default 60 s, well under
//! osquery's 300 s `--thrift_timeout`), by the engine's rule for every
//! hosted surface ([`embargo_tables::engine::Workers`]): the generator runs
//! on a worker; a call over budget returns an error status, and its worker
//! runs on until the generator returns (collectors cannot be stopped
//! midway), leaving its rows in the scan's cache. Abandoned workers are
//! bounded there: beyond the bound a call is refused with an error status
//! instead of piling up threads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use embargo_tables::engine::{BudgetError, Deadline, Workers};
use embargo_tables::table::SharedRows;
use embargo_tables::{Engine, Query, Scan, Table};

/// Calls one scan serves before a fresh one is started.
pub const MAX_CALLS: usize = 256;

struct Epoch {
    scan: Arc<Scan>,
    started: Instant,
    calls: usize,
}

pub struct Scans {
    engine: Arc<Engine>,
    ttl: Duration,
    budget: Duration,
    current: Mutex<Option<Epoch>>,
    workers: Workers,
}

impl Scans {
    pub fn new(engine: Arc<Engine>, ttl: Duration, budget: Duration) -> Self {
        Scans { engine, ttl, budget, current: Mutex::new(None), workers: Workers::shared().clone() }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The scan a call made now reads.
    fn scan(&self) -> Arc<Scan> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = |e: &Epoch| e.started.elapsed() < self.ttl && e.calls < MAX_CALLS;
        match current.as_mut() {
            Some(e) if fresh(e) => {
                e.calls += 1;
                e.scan.clone()
            }
            _ => {
                let scan = Arc::new(self.engine.scan());
                *current = Some(Epoch { scan: scan.clone(), started: Instant::now(), calls: 1 });
                scan
            }
        }
    }

    /// Drops the current scan once its TTL is over, so that an idle
    /// extension holds no rows.
    pub fn expire(&self) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|e| e.started.elapsed() >= self.ttl) {
            *current = None;
        }
    }

    /// `table`'s rows for `query`, or why there are none.
    pub fn rows(&self, table: &'static dyn Table, query: Query) -> Result<SharedRows, String> {
        let deadline = Deadline::after(self.budget);
        self.workers.rows(&self.scan(), table, &query, deadline).map_err(|e| match e {
            BudgetError::OverBudget { .. } => format!("{e} (see --generate-budget)"),
            e => e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embargo_tables::budget::MAX_ABANDONED;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// How many times the slow table was generated.
    static MADE: AtomicUsize = AtomicUsize::new(0);

    mod slow {
        use embargo_tables::{Ctx, Query};
        embargo_tables::declare_table! {
            /// One row, after a while.
            pub struct Slow {
                /// How long it took, ms.
                ms: Integer [index],
            }

            table slow {
                description: "A table that takes 300 ms.",
                class: Evidence,
                reads: [Linux],
                examples: ["SELECT * FROM slow"],
                generate: generate,
            }
        }
        fn generate(_ctx: &Ctx<'_>, _q: &Query) -> Vec<Slow> {
            super::MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(300));
            vec![Slow { ms: Some(300) }]
        }
    }

    fn scans(ttl_ms: u64, budget_ms: u64) -> (tempfile::TempDir, Scans) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(embargo_tables::Root::new(dir.path()).unwrap());
        (dir, Scans::new(Arc::new(engine), Duration::from_millis(ttl_ms), Duration::from_millis(budget_ms)))
    }

    /// One test, as MADE is shared.
    #[test]
    fn over_budget_is_an_error_rows_are_kept_for_the_ttl_and_workers_are_bounded() {
        let (_dir, s) = scans(60_000, 100);
        let started = Instant::now();
        let err = s.rows(&slow::TABLE, Query::all()).err().unwrap();
        assert!(started.elapsed() < Duration::from_millis(280), "stopped waiting at the budget");
        assert!(err.contains("budget of 0.1 s"), "{err}");
        // The abandoned worker finishes; its rows stay in the scan.
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!((s.workers.running(), s.workers.abandoned()), (0, 0));
        let (_dir2, s2) = scans(60_000, 5_000);
        let before = MADE.load(Ordering::SeqCst);
        assert_eq!(s2.rows(&slow::TABLE, Query::all()).unwrap().len(), 1);
        assert_eq!(s2.rows(&slow::TABLE, Query::all()).unwrap().len(), 1);
        assert_eq!(MADE.load(Ordering::SeqCst), before + 1, "the second call is served from the scan");
        // Expired: a fresh scan generates again, and an idle one is dropped.
        let (_dir3, s3) = scans(0, 5_000);
        s3.rows(&slow::TABLE, Query::all()).unwrap();
        s3.rows(&slow::TABLE, Query::all()).unwrap();
        assert_eq!(MADE.load(Ordering::SeqCst), before + 3);
        s3.expire();
        assert!(s3.current.lock().unwrap().is_none());
        workers_are_bounded();
    }

    fn workers_are_bounded() {
        let (_dir, s) = scans(0, 10);
        let s = Arc::new(s);
        let errors: Vec<String> =
            (0..MAX_ABANDONED + 4).filter_map(|_| s.rows(&slow::TABLE, Query::all()).err()).collect();
        assert_eq!(errors.len(), MAX_ABANDONED + 4);
        assert!(errors.iter().filter(|e| e.contains("still running")).count() >= 4, "{errors:?}");
        assert!(s.workers.abandoned() <= MAX_ABANDONED);
    }
}
