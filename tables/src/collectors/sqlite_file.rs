//! Opening an SQLite database that lives in the scan root (`rpmdb.sqlite`,
//! NSS `cert9.db`).
//!
//! Threat model: every byte of the database, of its `-journal` and of its
//! `-wal` is chosen by whoever controls the image, or on a live host by any
//! local user (their own `~/.pki/nssdb`, their Firefox profile). SQLite trusts
//! its files far more than that:
//!
//! * A rollback journal may end in a *super-journal* record, a path name.
//!   Rolling the journal back makes SQLite open that path, read it, and
//!   unlink it: any file the analyst can delete, or a FIFO that hangs the scan.
//! * The schema may define `Packages` as a view (an endless recursive CTE
//!   sorted into temporary files), a virtual table, generated columns,
//!   triggers, or functions in indexes and defaults.
//! * SQLite would create `-shm`, `-wal` or `-journal` files beside the file it
//!   opens, replay a WAL into it, and spill sorts and temporary tables to the
//!   shared temporary directory.
//!
//! So a database is never opened where it lies. [`open`] copies the main file,
//! `-journal` and `-wal` (never `-shm`: SQLite rebuilds the WAL index from the
//! WAL, and a forged index could point reads at the wrong frames) through
//! [`Root`] into a fresh directory of mode 0700, after checking every size
//! against [`Limits`] before a byte is copied. A super-journal record at the
//! end of the copied journal is neutralised in the copy (see
//! [`neutralise_super_journal`]), so SQLite never learns the path. The copy is
//! then opened read-write — only so that SQLite rolls a hot journal back, or
//! recovers committed WAL frames, *into the copy* — and locked down: defensive
//! mode, untrusted schema, no views or triggers, no ATTACH, temporary data in
//! memory, bounded value sizes and page cache, a budget of VM steps and
//! wall-clock time. Collectors then read only tables that [`Db::table`] has
//! checked to be ordinary tables of the expected name.
//!
//! Memory is bounded per connection rather than with
//! `sqlite3_hard_heap_limit64`: that limit is process-wide, so in the loadable
//! extension it would cap the host program's own SQLite, and in the binary the
//! connection that serves the user's query. Per connection, SQLite holds at
//! most [`CACHE_KIB`] of pages, no value above [`Limits::value_bytes`], and —
//! since views are off and every statement reads one table — a sort can hold
//! at most the rows of that table, which are bounded by the copied size.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};

use crate::error::{ErrorKind, FsError};
use crate::root::{Root, lossy};

/// What one kind of database may cost. A real database fits in a small
/// fraction of each bound; something beyond them is not what it claims to be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How the database is named in messages ("rpmdb.sqlite").
    pub label: &'static str,
    /// Largest main file, `-journal` or `-wal` that is copied.
    pub file_bytes: u64,
    /// Largest sum of the three.
    pub total_bytes: u64,
    /// Largest string or blob SQLite may hold (`SQLITE_LIMIT_LENGTH`).
    pub value_bytes: i32,
    /// VM instructions allowed on the connection, schema checks included.
    pub vm_steps: u64,
    /// Wall-clock time allowed on the connection.
    pub time: Duration,
}

/// Page cache per connection, in KiB.
pub const CACHE_KIB: i64 = 8 << 10;

/// The progress handler runs every this many VM instructions.
const STEPS_PER_CHECK: i32 = 1000;

/// The last 8 bytes of a rollback journal that ends in a super-journal
/// record, and the first 8 of every journal header (`aJournalMagic`).
pub const JOURNAL_MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/// Why the progress handler stopped a statement.
const STOPPED_STEPS: u8 = 1;
const STOPPED_TIME: u8 = 2;

/// An open private copy of a database from the root. The connection is
/// declared first so that it closes before its directory is removed.
pub struct Db {
    conn: Connection,
    path: String,
    limits: Limits,
    stopped: Arc<AtomicU8>,
    _dir: tempfile::TempDir,
}

/// Copies the database at `path` (root-relative) and its `-journal` and
/// `-wal` out of `root`, and opens the copy. Problems that still leave a
/// readable database (a side file that cannot be read, a neutralised
/// super-journal) go to `note`; the `Err` is a database that cannot be read.
pub fn open(
    root: &Root,
    path: &(impl AsRef<OsStr> + ?Sized),
    limits: &Limits,
    mut note: impl FnMut(FsError),
) -> Result<Db, FsError> {
    // Charged below, once every size is known to be within its limit.
    let (main, resolved) = root.open_uncharged(path)?;
    let path = &lossy(path.as_ref());
    let io = |what: &str, e: std::io::Error| FsError::new(ErrorKind::IoError, path, format!("{what}: {e}"));
    let mut sources = vec![(path.to_string(), "", main, resolved.metadata.len())];
    for suffix in ["-journal", "-wal"] {
        // Beside the file the links lead to, where SQLite itself looks; by
        // its exact name, as a directory's name need not be UTF-8.
        let mut side = resolved.raw_path.clone();
        side.push(suffix);
        match root.open_uncharged(&side) {
            Ok((f, r)) => sources.push((lossy(&side), suffix, f, r.metadata.len())),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => note(FsError::new(
                e.kind,
                e.path,
                format!("{}; the database is read without it, so its newest changes may be missing", e.message),
            )),
        }
    }
    // Every size is checked before anything is copied, so a hostile image
    // costs at most one stat per file.
    let mut total = 0u64;
    for (side, _, _, len) in &sources {
        if *len > limits.file_bytes {
            return Err(too_large(side, *len, limits.file_bytes, limits.label));
        }
        total += len;
    }
    if total > limits.total_bytes {
        return Err(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!(
                "{} with its journal and WAL is {total} bytes, more than the {}-byte limit; nothing was copied",
                limits.label, limits.total_bytes
            ),
        ));
    }

    root.charge_read(path, total)?;
    let dir = private_dir().map_err(|e| io("cannot make a private temporary directory", e))?;
    let copy = dir.path().join("db");
    let mut budget = limits.total_bytes;
    for (side, suffix, file, _) in sources {
        let mut to = copy.clone().into_os_string();
        to.push(suffix);
        let to = PathBuf::from(to);
        // A live file may grow between the stat and the copy: the copy stops
        // at the limit rather than trusting the stat.
        let allowed = limits.file_bytes.min(budget);
        let n = copy_bounded(file, &to, allowed).map_err(|e| FsError::io(&side, &e))?;
        if n > allowed {
            return Err(FsError::new(
                ErrorKind::TooLarge,
                side,
                format!("grew past the {allowed}-byte limit left for it while being copied; the copy was discarded"),
            ));
        }
        budget -= n;
        if suffix == "-journal"
            && let Some(name) = neutralise_super_journal(&to).map_err(|e| io("cannot read the copied journal", e))?
        {
            note(FsError::new(
                ErrorKind::Unsupported,
                side,
                format!(
                    "the rollback journal names a super-journal {:?} (a multi-database transaction, which {} never uses); \
                     that path was not opened or deleted, and the journal was rolled back on its own",
                    name, limits.label
                ),
            ));
        }
    }

    let stopped = Arc::new(AtomicU8::new(0));
    let conn = connect(&copy, limits, stopped.clone()).map_err(|e| sql_error(path, limits, &stopped, e))?;
    let db = Db { conn, path: path.to_string(), limits: *limits, stopped, _dir: dir };
    // Reading the schema makes SQLite roll a hot journal back, or recover the
    // WAL, now, under the budget; and a file that is no database fails here.
    db.conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(())).map_err(|e| db.error(e))?;
    Ok(db)
}

impl Db {
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Checks that `name` is an ordinary table of the main schema, without
    /// generated columns, so that reading it executes nothing the image wrote:
    /// a view would run its query, a virtual table its module's code, a
    /// generated column its expression.
    pub fn table(&self, name: &str) -> Result<(), FsError> {
        let fail = |kind, why: String| FsError::new(kind, &self.path, format!("{}: {why}", self.limits.label));
        // Table names are matched without regard to ASCII case, as SQLite
        // resolves them.
        let mut stmt = self
            .conn
            .prepare("SELECT type, sql FROM main.sqlite_master WHERE name = ?1 COLLATE NOCASE")
            .map_err(|e| self.error(e))?;
        let found: Vec<(String, Option<String>)> = stmt
            .query_map([name], |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))?;
        match found.as_slice() {
            [] => return Err(fail(ErrorKind::ParseError, format!("no table {name}"))),
            [(ty, sql)] if ty == "table" => {
                if sql.as_deref().is_some_and(is_virtual) {
                    return Err(fail(
                        ErrorKind::Unsupported,
                        format!("{name} is a virtual table; its module's code is not run on a scanned database"),
                    ));
                }
            }
            [(ty, _)] => {
                let a = if ty.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                return Err(fail(
                    ErrorKind::Unsupported,
                    format!("{name} is {a} {ty}, not a table; a scanned database's {ty}s are never run"),
                ));
            }
            more => {
                return Err(fail(ErrorKind::ParseError, format!("{} schema entries are named {name}", more.len())));
            }
        }
        let generated: i64 = self
            .conn
            .query_row("SELECT count(*) FROM pragma_table_xinfo(?1, 'main') WHERE hidden IN (2, 3)", [name], |r| {
                r.get(0)
            })
            .map_err(|e| self.error(e))?;
        if generated > 0 {
            return Err(fail(
                ErrorKind::Unsupported,
                format!(
                    "{name} has {generated} generated columns; their expressions are not run on a scanned database"
                ),
            ));
        }
        Ok(())
    }

    /// The `scan_errors` row for a failed SQLite call on this database.
    pub fn error(&self, e: rusqlite::Error) -> FsError {
        sql_error(&self.path, &self.limits, &self.stopped, e)
    }
}

fn is_virtual(sql: &str) -> bool {
    let words: Vec<String> = sql.split_whitespace().take(3).map(|w| w.to_ascii_uppercase()).collect();
    words.len() >= 2 && words[0] == "CREATE" && words[1] == "VIRTUAL"
}

fn too_large(path: &str, len: u64, limit: u64, label: &str) -> FsError {
    FsError::new(
        ErrorKind::TooLarge,
        path,
        format!("{len} bytes is more than the {limit}-byte limit per {label} file; nothing was copied"),
    )
}

fn sql_error(path: &str, limits: &Limits, stopped: &AtomicU8, e: rusqlite::Error) -> FsError {
    use rusqlite::ErrorCode as C;
    let code = e.sqlite_error_code();
    let (kind, message) = match code {
        Some(C::OperationInterrupted) => {
            let why = match stopped.load(Ordering::Relaxed) {
                STOPPED_TIME => format!("{} s", limits.time.as_secs_f64()),
                _ => format!("{} VM steps", limits.vm_steps),
            };
            (
                ErrorKind::TooLarge,
                format!("reading stopped after {why}, far more than any real {} needs: {e}", limits.label),
            )
        }
        Some(C::TooBig) => (ErrorKind::TooLarge, format!("{e} (the limit is {} bytes)", limits.value_bytes)),
        Some(C::CannotOpen | C::SystemIoFailure | C::DiskFull | C::OutOfMemory | C::PermissionDenied) => {
            (ErrorKind::IoError, e.to_string())
        }
        _ => (ErrorKind::ParseError, e.to_string()),
    };
    FsError::new(kind, path, format!("{}: {message}", limits.label))
}

/// A directory only this user can enter, so nobody else can read the copy,
/// swap a file in it, or plant a `-journal` beside it.
fn private_dir() -> std::io::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix("embargo-sqlite-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o700));
    }
    b.tempdir()
}

/// Copies at most `limit + 1` bytes, so that the caller sees a file that grew
/// past `limit` without copying all of it.
fn copy_bounded(from: File, to: &Path, limit: u64) -> std::io::Result<u64> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut out = opts.open(to)?;
    let n = std::io::copy(&mut from.take(limit.saturating_add(1)), &mut out)?;
    out.flush()?;
    Ok(n)
}

/// SQLite reads a super-journal name only when a journal's last 8 bytes are
/// [`JOURNAL_MAGIC`] (`readSuperJournal` in pager.c: length, checksum and
/// magic are the last 16 bytes, the name just before them). Overwriting those
/// 8 bytes in the private copy therefore makes SQLite see no super-journal at
/// all: it never checks the path, never opens it (a FIFO would block there),
/// never unlinks it — and rolls the journal back as a single-database one,
/// which is what rpm and NSS write. Refusing such a journal instead would
/// leave a half-written transaction in the database.
///
/// Returns the name the record held (lossily decoded, for the report).
pub fn neutralise_super_journal(journal: &Path) -> std::io::Result<Option<String>> {
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(journal)?;
    let len = f.metadata()?.len();
    if len < 16 {
        return Ok(None);
    }
    let mut tail = [0u8; 16];
    f.seek(SeekFrom::Start(len - 16))?;
    f.read_exact(&mut tail)?;
    if tail[8..] != JOURNAL_MAGIC {
        return Ok(None);
    }
    let name_len = u64::from(u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let name = if name_len > 0 && name_len <= len - 16 {
        let shown = name_len.min(256);
        let mut buf = vec![0u8; shown as usize];
        f.seek(SeekFrom::Start(len - 16 - name_len))?;
        f.read_exact(&mut buf)?;
        let end = memchr::memchr(0, &buf).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    f.seek(SeekFrom::Start(len - 8))?;
    f.write_all(&[0u8; 8])?;
    f.flush()?;
    Ok(Some(name))
}

fn connect(copy: &Path, limits: &Limits, stopped: Arc<AtomicU8>) -> rusqlite::Result<Connection> {
    // Read-write only so that a hot journal or the WAL is applied to the
    // copy; no URI parsing, so the file name means nothing to SQLite.
    let conn = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let started = Instant::now();
    let (max_checks, time) = (limits.vm_steps / STEPS_PER_CHECK as u64, limits.time);
    let mut checks = 0u64;
    conn.progress_handler(
        STEPS_PER_CHECK,
        Some(move || {
            checks += 1;
            let why = if checks > max_checks {
                STOPPED_STEPS
            } else if started.elapsed() > time {
                STOPPED_TIME
            } else {
                return false;
            };
            stopped.store(why, Ordering::Relaxed);
            true
        }),
    )?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    // The copy is thrown away: checkpointing the WAL into it on close is
    // wasted work.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    for (limit, value) in [
        (Limit::SQLITE_LIMIT_LENGTH, limits.value_bytes),
        // Schema statements are compiled under this limit too; rpm's and
        // NSS's are a few KiB.
        (Limit::SQLITE_LIMIT_SQL_LENGTH, 1 << 20),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_COLUMN, 1000),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 10),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
        (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
    ] {
        conn.set_limit(limit, value)?;
    }
    conn.execute_batch(&format!(
        "PRAGMA trusted_schema = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB};
         PRAGMA mmap_size = 0;
         PRAGMA cell_size_check = ON;
         PRAGMA query_only = ON;"
    ))?;
    // A SQLite built with SQLITE_TEMP_STORE=0 ignores the pragma above and
    // always spills to the shared temporary directory.
    // (A build without compile-option diagnostics cannot tell; the default
    // is 1, which honours the pragma.)
    let files_only: bool =
        conn.query_row("SELECT sqlite_compileoption_used('TEMP_STORE=0')", [], |r| r.get(0)).unwrap_or(false);
    if files_only {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE),
            Some("this SQLite was built to keep temporary data in files (SQLITE_TEMP_STORE=0)".into()),
        ));
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        label: "test database",
        file_bytes: 1 << 20,
        total_bytes: 3 << 19,
        value_bytes: 1 << 16,
        vm_steps: 1_000_000,
        time: Duration::from_secs(30),
    };

    /// A root holding `db` with table `t(x)`; returns the root and the
    /// database's host path.
    fn root_with(sql: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        Connection::open(&db).unwrap().execute_batch(sql).unwrap();
        (dir, db)
    }

    fn open_ok(dir: &Path, notes: &mut Vec<FsError>) -> Db {
        open(&Root::new(dir).unwrap(), "/x.db", &LIMITS, |e| notes.push(e)).unwrap()
    }

    /// A hot journal that takes `now` back to `before`: one record per page
    /// that differs, then (when given) a super-journal record.
    fn journal(before: &[u8], now: &[u8], page_size: usize, super_journal: Option<&str>) -> Vec<u8> {
        let mut records = Vec::new();
        let mut n = 0u32;
        for (i, page) in before.chunks(page_size).enumerate() {
            if now.get(i * page_size..(i + 1) * page_size) == Some(page) {
                continue;
            }
            n += 1;
            records.extend_from_slice(&(i as u32 + 1).to_be_bytes());
            records.extend_from_slice(page);
            let sum: u32 = (1..)
                .map(|k| page_size as isize - 200 * k)
                .take_while(|&o| o > 0)
                .map(|o| page[o as usize] as u32)
                .sum();
            records.extend_from_slice(&sum.to_be_bytes());
        }
        let mut j = JOURNAL_MAGIC.to_vec();
        for v in [n, 0, (before.len() / page_size) as u32, 512, page_size as u32] {
            j.extend_from_slice(&v.to_be_bytes());
        }
        j.resize(512, 0);
        j.extend(records);
        if let Some(name) = super_journal {
            j.extend_from_slice(&((0x4000_0000 / page_size) as u32 + 1).to_be_bytes());
            j.extend_from_slice(name.as_bytes());
            j.extend_from_slice(&(name.len() as u32).to_be_bytes());
            j.extend_from_slice(&name.bytes().map(u32::from).sum::<u32>().to_be_bytes());
            j.extend_from_slice(&JOURNAL_MAGIC);
        }
        j
    }

    #[test]
    fn a_hot_journal_is_rolled_back_into_the_copy_only() {
        let (dir, db) = root_with("PRAGMA page_size = 1024; CREATE TABLE t(x); INSERT INTO t VALUES ('before');");
        let before = std::fs::read(&db).unwrap();
        Connection::open(&db).unwrap().execute_batch("UPDATE t SET x = 'after'").unwrap();
        let now = std::fs::read(&db).unwrap();
        let sentinel = tempfile::NamedTempFile::new().unwrap();
        let j = journal(&before, &now, 1024, Some(sentinel.path().to_str().unwrap()));
        std::fs::write(dir.path().join("x.db-journal"), &j).unwrap();

        let mut notes = Vec::new();
        let d = open_ok(dir.path(), &mut notes);
        d.table("t").unwrap();
        let x: String = d.conn().query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, "before", "the journal is applied to the copy");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!((notes[0].kind, notes[0].path.as_str()), (ErrorKind::Unsupported, "/x.db-journal"));
        assert!(notes[0].message.contains(sentinel.path().to_str().unwrap()), "{}", notes[0].message);
        drop(d);
        assert!(sentinel.path().exists());
        assert_eq!(std::fs::read(&db).unwrap(), now, "the root's database is untouched");
        assert_eq!(std::fs::read(dir.path().join("x.db-journal")).unwrap(), j);
    }

    #[test]
    fn a_journal_without_a_super_journal_is_left_alone() {
        let (dir, db) = root_with("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
        let j = journal(&std::fs::read(&db).unwrap(), &[], 4096, None);
        let path = dir.path().join("copy-journal");
        std::fs::write(&path, &j).unwrap();
        assert_eq!(neutralise_super_journal(&path).unwrap(), None);
        assert_eq!(std::fs::read(&path).unwrap(), j);
        let mut notes = Vec::new();
        std::fs::write(dir.path().join("x.db-journal"), &j).unwrap();
        let d = open_ok(dir.path(), &mut notes);
        assert_eq!(d.conn().query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 1);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[cfg(unix)]
    #[test]
    fn the_copy_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, _) = root_with("CREATE TABLE t(x);");
        let d = open_ok(dir.path(), &mut Vec::new());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(d._dir.path()), 0o700);
        assert_eq!(mode(&d._dir.path().join("db")), 0o600);
        let private = d._dir.path().to_path_buf();
        drop(d);
        assert!(!private.exists(), "the copy is removed with the connection");
    }

    #[test]
    fn the_connection_is_locked_down() {
        let (dir, _) = root_with("CREATE TABLE t(x);");
        let d = open_ok(dir.path(), &mut Vec::new());
        let c = d.conn();
        let pragma = |p: &str| c.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(pragma("temp_store"), 2, "temporary data stays in memory");
        assert_eq!(pragma("trusted_schema"), 0);
        assert_eq!(pragma("query_only"), 1);
        assert_eq!(pragma("cache_size"), -CACHE_KIB);
        for config in [DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER] {
            assert!(!c.db_config(config).unwrap());
        }
        assert!(c.db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE).unwrap());
        let e = c.execute_batch("ATTACH 'other.db' AS o").unwrap_err();
        assert!(e.to_string().contains("too many attached"), "{e}");
        let e = d.error(c.query_row("SELECT length(zeroblob(1 << 17))", [], |r| r.get::<_, i64>(0)).unwrap_err());
        assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    }

    #[test]
    fn endless_queries_stop_at_the_step_budget_and_the_time_budget() {
        let (dir, _) = root_with("CREATE TABLE t(x);");
        let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
        let d = open_ok(dir.path(), &mut Vec::new());
        let started = Instant::now();
        let e = d.error(d.conn().query_row(endless, [], |r| r.get::<_, i64>(0)).unwrap_err());
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert!(e.message.contains("1000000 VM steps"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

        let slow = Limits { vm_steps: u64::MAX, time: Duration::from_millis(300), ..LIMITS };
        let d = open(&Root::new(dir.path()).unwrap(), "/x.db", &slow, |_| {}).unwrap();
        let e = d.error(d.conn().query_row(endless, [], |r| r.get::<_, i64>(0)).unwrap_err());
        assert!(e.message.contains("0.3 s"), "{e}");
    }

    #[test]
    fn only_plain_tables_are_read() {
        let (dir, _) = root_with(
            "CREATE TABLE plain(x); CREATE TABLE gen(x, y AS (x * 2)); CREATE VIEW v AS SELECT 1;
             CREATE VIRTUAL TABLE vt USING fts5(x); CREATE INDEX idx ON plain(x);",
        );
        let d = open_ok(dir.path(), &mut Vec::new());
        d.table("plain").unwrap();
        d.table("PLAIN").unwrap();
        let kind = |t: &str| d.table(t).unwrap_err();
        assert!(kind("gen").message.contains("generated"), "{}", kind("gen"));
        assert!(kind("v").message.contains("is a view"));
        assert!(kind("vt").message.contains("virtual table"));
        assert!(kind("idx").message.contains("is an index"));
        assert_eq!(kind("missing").kind, ErrorKind::ParseError);
        for t in ["gen", "v", "vt", "idx"] {
            assert_eq!(kind(t).kind, ErrorKind::Unsupported, "{t}");
        }
    }
}
