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
/// problem met twice (a collector run again) is kept once.
#[derive(Debug, Default)]
pub struct ErrorLog {
    errors: Mutex<(Vec<ScanError>, std::collections::HashSet<ScanError>)>,
}

impl ErrorLog {
    pub fn push(&self, e: ScanError) {
        let mut guard = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let (list, seen) = &mut *guard;
        if seen.insert(e.clone()) {
            list.push(e);
        }
    }

    pub fn snapshot(&self) -> Vec<ScanError> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    pub fn len(&self) -> usize {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
