//! Problems met while scanning. None of them stops a scan: each becomes a row of
//! `scan_errors` and the collector goes on with what it can still read.

use std::fmt;
use std::sync::Mutex;

/// The contract's `scan_errors.kind` vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    NotFound,
    PermissionDenied,
    SymlinkLoop,
    NotRegularFile,
    TooLarge,
    ParseError,
    Unsupported,
    IoError,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::SymlinkLoop => "symlink_loop",
            ErrorKind::NotRegularFile => "not_regular_file",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::ParseError => "parse_error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::IoError => "io_error",
        }
    }

    pub fn from_io(e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::FileTooLarge => ErrorKind::TooLarge,
            _ => ErrorKind::IoError,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed file operation inside the scan root. `path` is root-relative.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FsError {
    pub kind: ErrorKind,
    pub path: String,
    pub message: String,
}

impl FsError {
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        FsError { kind, path: path.into(), message: message.into() }
    }

    pub fn io(path: impl Into<String>, e: &std::io::Error) -> Self {
        FsError::new(ErrorKind::from_io(e), path, e.to_string())
    }

    pub fn parse(path: impl Into<String>, message: impl Into<String>) -> Self {
        FsError::new(ErrorKind::ParseError, path, message)
    }
}

/// One row of `scan_errors`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanError {
    pub table_name: String,
    pub path: String,
    pub kind: ErrorKind,
    pub message: String,
}

/// Where collectors report problems; shared by all tables of one scan. A
/// problem met twice (a collector run again) is kept once. At most `limit`
/// are kept ([`ERRORS_PER_SCAN`](crate::limits::ERRORS_PER_SCAN) by
/// default); later ones are counted, in one last row per table, so that a
/// surface still sees which tables' evidence went unlisted.
#[derive(Debug)]
pub struct ErrorLog {
    errors: Mutex<Kept>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Kept {
    list: Vec<ScanError>,
    seen: std::collections::HashSet<ScanError>,
    /// New problems reported after the list was full, per table (a bounded
    /// set: the tables are declared in the code).
    dropped: std::collections::BTreeMap<String, usize>,
}

impl Default for ErrorLog {
    fn default() -> Self {
        ErrorLog::with_limit(crate::limits::ERRORS_PER_SCAN)
    }
}

impl ErrorLog {
    pub fn with_limit(limit: usize) -> Self {
        ErrorLog { errors: Mutex::default(), limit }
    }

    pub fn push(&self, e: ScanError) {
        let mut guard = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let kept = &mut *guard;
        if kept.seen.contains(&e) {
            return;
        }
        if kept.list.len() >= self.limit {
            // Not remembered: the set stays as bounded as the list.
            *kept.dropped.entry(e.table_name).or_default() += 1;
            return;
        }
        kept.seen.insert(e.clone());
        kept.list.push(e);
    }

    pub fn snapshot(&self) -> Vec<ScanError> {
        let kept = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = kept.list.clone();
        out.extend(kept.dropped.iter().map(|(table, &n)| self.summary(table, n)));
        out
    }

    fn summary(&self, table: &str, dropped: usize) -> ScanError {
        ScanError {
            table_name: table.to_string(),
            path: "/".into(),
            kind: ErrorKind::TooLarge,
            message: format!(
                "{dropped} more problems of {table} were reported after the first {} problems of this scan \
                 and are not listed (the limit of problems per scan)",
                self.limit
            ),
        }
    }

    pub fn len(&self) -> usize {
        let kept = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        kept.list.len() + kept.dropped.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(i: usize) -> ScanError {
        let table = if i < 4 { "t" } else { "u" };
        ScanError {
            table_name: table.into(),
            path: format!("/f{i}"),
            kind: ErrorKind::ParseError,
            message: "bad".into(),
        }
    }

    #[test]
    fn problems_past_the_limit_are_counted_in_one_row_per_table() {
        let log = ErrorLog::with_limit(3);
        for i in 0..6 {
            log.push(problem(i));
        }
        // A repeat of a kept problem is not a new one.
        log.push(problem(0));
        let rows = log.snapshot();
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(log.len(), 5);
        assert_eq!(rows[..3], [problem(0), problem(1), problem(2)]);
        // One row per table whose problems went unlisted: /f3 of t, /f4 and /f5 of u.
        for (row, table, n) in [(&rows[3], "t", 1), (&rows[4], "u", 2)] {
            assert_eq!((row.kind, row.table_name.as_str(), row.path.as_str()), (ErrorKind::TooLarge, table, "/"));
            let want = format!("{n} more problems of {table} were reported after the first 3 problems");
            assert!(row.message.starts_with(&want), "{}", row.message);
        }
    }
}
