//! The time budget of a unit of work: a generator runs on a worker thread
//! and is waited for until a deadline. Every surface that lives in someone
//! else's process uses it (the osquery extension per `generate` call, the
//! loadable extension per statement), so the rule is the same everywhere.
//!
//! A generator cannot be stopped midway (collectors are bounded, but a
//! big root takes what it takes), so a caller past its deadline gets an
//! error and the worker is *abandoned*: it runs on until its generator
//! returns, keeps its scan alive until then, and its rows land in that
//! scan's cache (where a later call of the same scan finds them). To keep
//! abandoned workers from piling up, at most [`MAX_ABANDONED`] may be
//! running at once; beyond that a call is refused at once, as it is when
//! [`MAX_RUNNING`] workers run in all. The counts are per [`Workers`], and
//! [`Workers::shared`] is the process's: the loadable extension's
//! connections and the osquery extension's calls all count there.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use crate::query::Query;
use crate::table::{Scan, SharedRows, Table};

/// The budget of a unit of work unless its surface is told otherwise: long
/// enough for a full scan of a big image, well under osquery's 300 s
/// `--thrift_timeout`.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);
/// Over-budget workers still running after which calls are refused.
pub const MAX_ABANDONED: usize = 8;
/// Workers running at once, abandoned ones included.
pub const MAX_RUNNING: usize = 64;

/// When a unit of work must be done by, and the budget that says so (for
/// the message).
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// `budget` from now (an osquery `generate` call).
    pub fn after(budget: Duration) -> Deadline {
        Deadline::since(Instant::now(), budget)
    }

    /// `budget` from `start` (a statement: from its scan's start, so that
    /// every table the statement reads shares one budget).
    pub fn since(start: Instant, budget: Duration) -> Deadline {
        let at = start.checked_add(budget).unwrap_or_else(|| start + Duration::from_secs(86_400 * 365));
        Deadline { at, budget }
    }

    pub fn budget(&self) -> Duration {
        self.budget
    }

    fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// Why no rows came back. Each surface shows it as its error (a status with
/// code 1, an SQL error), adding where its budget is set.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("{table}: generating took longer than the budget of {} s", budget.as_secs_f64())]
    OverBudget { table: &'static str, budget: Duration },
    #[error("{table}: {running} generators are still running ({abandoned} of them over their budget); try again later")]
    Busy { table: &'static str, running: usize, abandoned: usize },
    #[error("{table}: the table's generator failed (an internal error: {message})")]
    Failed { table: &'static str, message: String },
    #[error("{table}: cannot start a worker: {source}")]
    Spawn { table: &'static str, source: std::io::Error },
}

#[derive(Default)]
struct Counts {
    running: AtomicUsize,
    abandoned: AtomicUsize,
}

/// The workers generators run on, counted (a cheap handle: clones share
/// the counts).
#[derive(Clone)]
pub struct Workers {
    counts: Arc<Counts>,
    max_running: usize,
    max_abandoned: usize,
}

/// A worker's state, decided once by whichever side gets there first.
const RUNNING: u8 = 0;
const DONE: u8 = 1;
const ABANDONED: u8 = 2;

impl Workers {
    /// Workers with their own counts and limits (tests; a surface uses
    /// [`Workers::shared`]).
    pub fn new(max_running: usize, max_abandoned: usize) -> Workers {
        Workers { counts: Arc::default(), max_running, max_abandoned }
    }

    /// The process's workers, with [`MAX_RUNNING`] and [`MAX_ABANDONED`].
    pub fn shared() -> &'static Workers {
        static SHARED: OnceLock<Workers> = OnceLock::new();
        SHARED.get_or_init(|| Workers::new(MAX_RUNNING, MAX_ABANDONED))
    }

    /// Workers running now, abandoned ones included.
    pub fn running(&self) -> usize {
        self.counts.running.load(Ordering::SeqCst)
    }

    /// Workers whose caller stopped waiting, still running.
    pub fn abandoned(&self) -> usize {
        self.counts.abandoned.load(Ordering::SeqCst)
    }

    /// `table`'s rows for `query` from `scan` by `deadline`: from the scan's
    /// cache at once when it has them, else from a worker.
    pub fn rows(
        &self,
        scan: &Arc<Scan>,
        table: &'static dyn Table,
        query: &Query,
        deadline: Deadline,
    ) -> Result<SharedRows, BudgetError> {
        let name = table.spec().name;
        if let Some(rows) = scan.cached(table, query) {
            return Ok(rows);
        }
        let over = || BudgetError::OverBudget { table: name, budget: deadline.budget };
        if deadline.left().is_zero() {
            return Err(over());
        }
        let counts = &self.counts;
        let running = counts.running.fetch_add(1, Ordering::SeqCst);
        let abandoned = counts.abandoned.load(Ordering::SeqCst);
        if running >= self.max_running || abandoned >= self.max_abandoned {
            counts.running.fetch_sub(1, Ordering::SeqCst);
            return Err(BudgetError::Busy { table: name, running, abandoned });
        }
        let state = Arc::new(AtomicU8::new(RUNNING));
        let (tx, rx) = mpsc::sync_channel(1);
        let work = {
            let (scan, query, counts, state) = (scan.clone(), query.clone(), counts.clone(), state.clone());
            move || {
                let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan.rows(table, &query)))
                    .map_err(|p| panic_message(&*p));
                // The scan (and the rows it caches) goes when its last user does.
                drop(scan);
                if state.compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                    counts.abandoned.fetch_sub(1, Ordering::SeqCst);
                }
                counts.running.fetch_sub(1, Ordering::SeqCst);
                let _ = tx.send(rows);
            }
        };
        if let Err(source) = std::thread::Builder::new().name(format!("generate {name}")).spawn(work) {
            counts.running.fetch_sub(1, Ordering::SeqCst);
            return Err(BudgetError::Spawn { table: name, source });
        }
        let answer = match rx.recv_timeout(deadline.left()) {
            Ok(answer) => answer,
            Err(mpsc::RecvTimeoutError::Disconnected) => Err("the worker ended without an answer".into()),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Counted before it is marked, so the worker's decrement
                // never comes first.
                counts.abandoned.fetch_add(1, Ordering::SeqCst);
                if state.compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    return Err(over());
                }
                // It finished just now: its answer is on its way.
                counts.abandoned.fetch_sub(1, Ordering::SeqCst);
                rx.recv().unwrap_or_else(|_| Err("the worker ended without an answer".into()))
            }
        };
        answer.map_err(|message| BudgetError::Failed { table: name, message })
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    mod slow {
        use crate::{Ctx, Query};
        crate::declare_table! {
            /// One row, after as many ms as asked.
            pub struct Slow {
                /// How long to take, ms.
                ms: Integer [index],
            }

            table slow {
                description: "A table that takes its time.",
                class: Evidence,
                reads: [Linux],
                examples: ["SELECT * FROM slow WHERE ms = 10"],
                generate: generate,
            }
        }
        fn generate(_ctx: &Ctx<'_>, q: &Query) -> Vec<Slow> {
            let ms: i64 = q.texts("ms").and_then(|v| v.first()?.parse().ok()).unwrap_or(0);
            if ms < 0 {
                panic!("negative ms");
            }
            std::thread::sleep(std::time::Duration::from_millis(ms as u64));
            vec![Slow { ms: Some(ms) }]
        }
    }

    fn ms(n: i64) -> Query {
        Query::all().with("ms", vec![crate::Value::Integer(n)])
    }

    fn scan() -> (tempfile::TempDir, Arc<Scan>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(crate::Root::new(dir.path()).unwrap());
        (dir, Arc::new(engine.scan()))
    }

    fn wait_idle(w: &Workers) {
        let t = Instant::now();
        while w.running() > 0 {
            assert!(t.elapsed() < Duration::from_secs(5), "workers never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn within_budget_rows_over_budget_an_error_at_the_deadline() {
        let w = Workers::new(4, 2);
        let (_d, s) = scan();
        assert_eq!(w.rows(&s, &slow::TABLE, &ms(10), Deadline::after(Duration::from_secs(5))).unwrap().len(), 1);
        let t = Instant::now();
        let err = w.rows(&s, &slow::TABLE, &ms(300), Deadline::after(Duration::from_millis(50))).err().unwrap();
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(50) && took < Duration::from_millis(250), "{took:?}");
        assert!(matches!(err, BudgetError::OverBudget { .. }), "{err}");
        assert_eq!(err.to_string(), "slow: generating took longer than the budget of 0.05 s");
        assert_eq!((w.running(), w.abandoned()), (1, 1));
        wait_idle(&w);
        assert_eq!(w.abandoned(), 0);
        // The abandoned worker's rows went to its scan: served at once now.
        let t = Instant::now();
        assert_eq!(w.rows(&s, &slow::TABLE, &ms(300), Deadline::after(Duration::from_millis(1))).unwrap().len(), 1);
        assert!(t.elapsed() < Duration::from_millis(50));
        // A deadline already past: no worker at all.
        let past = Deadline::since(Instant::now() - Duration::from_secs(1), Duration::from_millis(10));
        assert!(matches!(w.rows(&s, &slow::TABLE, &ms(5), past), Err(BudgetError::OverBudget { .. })));
        assert_eq!(w.running(), 0);
    }

    #[test]
    fn abandoned_workers_are_bounded_and_free_their_place() {
        let w = Workers::new(16, 2);
        let (_d, s) = scan();
        let short = || Deadline::after(Duration::from_millis(10));
        for n in 0..2 {
            assert!(matches!(w.rows(&s, &slow::TABLE, &ms(200 + n), short()), Err(BudgetError::OverBudget { .. })));
        }
        let t = Instant::now();
        let err = w.rows(&s, &slow::TABLE, &ms(1), short()).err().unwrap();
        assert!(t.elapsed() < Duration::from_millis(10), "refused at once");
        assert!(matches!(err, BudgetError::Busy { running: 2, abandoned: 2, .. }), "{err}");
        assert!(err.to_string().contains("over their budget"), "{err}");
        wait_idle(&w);
        assert_eq!(w.rows(&s, &slow::TABLE, &ms(1), Deadline::after(Duration::from_secs(5))).unwrap().len(), 1);
        // The running bound too.
        let w = Workers::new(1, 8);
        let w2 = w.clone();
        let s2 = s.clone();
        let long =
            std::thread::spawn(move || w2.rows(&s2, &slow::TABLE, &ms(150), Deadline::after(Duration::from_secs(5))));
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(w.rows(&s, &slow::TABLE, &ms(2), short()), Err(BudgetError::Busy { running: 1, .. })));
        assert!(long.join().unwrap().is_ok());
    }

    #[test]
    fn a_panic_is_an_error_with_its_message() {
        let w = Workers::new(4, 2);
        let (_d, s) = scan();
        let err = w.rows(&s, &slow::TABLE, &ms(-1), Deadline::after(Duration::from_secs(5))).err().unwrap();
        assert!(matches!(err, BudgetError::Failed { .. }), "{err}");
        assert!(err.to_string().contains("negative ms"), "{err}");
        assert_eq!((w.running(), w.abandoned()), (0, 0));
    }
}
