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
//! Each call runs on a worker thread and is waited for at most the budget
//! (default 60 s, well under osquery's 300 s `--thrift_timeout`). A call
//! over budget returns an error status; its worker keeps running until the
//! generator returns (collectors are bounded, and cannot be stopped
//! midway), then drops its rows with its scan. At most [`MAX_WORKERS`] run at once; a call beyond
//! that is refused with an error status instead of piling up threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use embargo_tables::table::SharedRows;
use embargo_tables::{Engine, Query, Scan, Table};

/// Calls one scan serves before a fresh one is started.
pub const MAX_CALLS: usize = 256;
/// Generators running at once, over-budget ones included.
pub const MAX_WORKERS: usize = 8;

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
    workers: Arc<AtomicUsize>,
}

impl Scans {
    pub fn new(engine: Arc<Engine>, ttl: Duration, budget: Duration) -> Self {
        Scans { engine, ttl, budget, current: Mutex::new(None), workers: Arc::default() }
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
        let name = table.spec().name;
        if self.workers.fetch_add(1, Ordering::SeqCst) >= MAX_WORKERS {
            self.workers.fetch_sub(1, Ordering::SeqCst);
            return Err(format!(
                "{name}: {MAX_WORKERS} generate calls are still running (some over their budget); try again later"
            ));
        }
        let scan = self.scan();
        let (tx, rx) = mpsc::sync_channel(1);
        let workers = self.workers.clone();
        let spawned = std::thread::Builder::new().name(format!("generate {name}")).spawn(move || {
            let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan.rows(table, &query)));
            drop(scan);
            workers.fetch_sub(1, Ordering::SeqCst);
            // The caller may have stopped waiting; the rows stay in the scan's cache.
            let _ = tx.send(rows.ok());
        });
        if let Err(e) = spawned {
            self.workers.fetch_sub(1, Ordering::SeqCst);
            return Err(format!("{name}: cannot start a worker: {e}"));
        }
        match rx.recv_timeout(self.budget) {
            Ok(Some(rows)) => Ok(rows),
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(format!("{name}: the table's generator failed (an internal error)"))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "{name}: generate took longer than its budget of {} s (see --generate-budget)",
                self.budget.as_secs_f64()
            )),
        }
    }
}
