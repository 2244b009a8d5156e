//! A bound on the rows one file's bad records make.
//!
//! A file of millions of tiny bad records (junk PEM blocks, malformed
//! stanzas, non-object add-ons) would otherwise make millions of
//! `scan_errors` rows, and memory would grow with the input.

use crate::error::{ErrorKind, FsError};

/// Bad records of one document reported one by one; the rest are counted.
pub const BAD_RECORD_ROWS: usize = 1000;

/// Passes on the first `limit` parse errors of one file and counts the
/// rest, which [`Capped::finish`] reports in one row. Other kinds
/// (too_large, io_error) always pass.
pub struct Capped<'p, F: FnMut(FsError)> {
    path: &'p str,
    limit: usize,
    what: &'static str,
    inner: F,
    parse_errors: usize,
}

impl<'p, F: FnMut(FsError)> Capped<'p, F> {
    /// `what` names the records in the summary row (`bad blocks`).
    pub fn new(path: &'p str, limit: usize, what: &'static str, inner: F) -> Self {
        Capped { path, limit, what, inner, parse_errors: 0 }
    }

    pub fn push(&mut self, e: FsError) {
        if e.kind == ErrorKind::ParseError {
            self.parse_errors += 1;
            if self.parse_errors > self.limit {
                return;
            }
        }
        (self.inner)(e)
    }

    pub fn finish(mut self) {
        if self.parse_errors > self.limit {
            let more = self.parse_errors - self.limit;
            (self.inner)(FsError::parse(
                self.path,
                format!("{more} more {} after the first {}", self.what, self.limit),
            ));
        }
    }
}
