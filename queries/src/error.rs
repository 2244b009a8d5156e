//! Why a catalog was refused, and where.

use std::fmt;

use crate::date::DateError;

/// A refused catalog: the file, where in it (line and/or field path), and
/// what is wrong. Displays as `kaspersky.toml:123: indicators[12].pattern: …`.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogError {
    /// The file's name as given (a path for `from_path`, the file name for the embedded catalog).
    pub file: String,
    /// 1-based line the problem is on, when known.
    pub line: Option<usize>,
    /// The field path inside the file (`indicators[12].pattern`), when known.
    pub field: Option<String>,
    pub problem: Problem,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("cannot read: {message}")]
    Io { message: String },
    #[error("{message}")]
    Syntax { message: String },
    #[error("unknown {what} `{value}` (expected one of: {expected})")]
    UnknownWord { what: &'static str, value: String, expected: String },
    #[error("the pattern is empty")]
    EmptyPattern,
    #[error("must not be empty")]
    EmptyField,
    #[error("the pattern is {bytes} bytes, more than the {max}-byte limit")]
    PatternTooLong { bytes: usize, max: usize },
    #[error("invalid regex: {message}")]
    InvalidRegex { message: String },
    #[error("the regex uses {construct}, which Rust's regex and ECMAScript do not share")]
    ForbiddenRegex { construct: String },
    #[error(
        "the regex contains uppercase {found:?}; regexes are matched against the lowercased value, so write them in lowercase"
    )]
    UppercaseRegex { found: char },
    #[error("bad glob: {reason}")]
    BadGlob { reason: String },
    #[error("{message}")]
    BadDate { message: DateError },
    #[error("vendor id `{id}` is also defined in {other_file}")]
    DuplicateVendor { id: String, other_file: String },
    #[error("`{value}` is not a valid {what}: {reason}")]
    BadValue { what: &'static str, value: String, reason: String },
    #[error("indicator repeats indicators[{first}] (same kind, match, platform and pattern)")]
    DuplicateIndicator { first: usize },
    /// `bytes`: what was seen before refusing (a file's length, a running
    /// total, or the limit and one byte when a file was longer than it said).
    #[error("{what} holds {bytes} bytes or more, over the {max}-byte limit")]
    TooLarge { what: &'static str, bytes: u64, max: u64 },
}

impl CatalogError {
    pub fn new(file: impl Into<String>, problem: Problem) -> Self {
        CatalogError { file: file.into(), line: None, field: None, problem }
    }

    pub fn at(mut self, line: Option<usize>, field: Option<String>) -> Self {
        self.line = line;
        self.field = field;
        self
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.problem)
    }
}

impl std::error::Error for CatalogError {}
