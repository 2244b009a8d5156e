//! osquery's version ordering (`osquery/sql/sqlite_version.cpp`): the
//! `version_compare` function and the `version*` collations.
//!
//! This is osquery's own heuristic, not dpkg's or rpm's algorithm (those are
//! in `embargo_tables::version`): a query must order versions the same way
//! in embargo and in osqueryd, so this follows osquery byte for byte,
//! including where it differs from the package managers.

use std::ffi::c_char;

use super::{Args, Out};

/// osquery's four switches; each flavor is a fixed set of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// A version with an epoch (`N:`) sorts above one without.
    pub epoch: bool,
    /// Delimiters are ordered `~ < - < ^ < . < :`.
    pub delim_precedence: bool,
    /// What is left of the longer version decides (`~` below, `^` above).
    pub comp_remaining: bool,
    /// With `comp_remaining`: a pending difference counts only after a non-digit.
    pub remainder_precedence: bool,
}

pub const GENERIC: Options =
    Options { epoch: false, delim_precedence: false, comp_remaining: false, remainder_precedence: false };
pub const ARCH: Options =
    Options { epoch: true, delim_precedence: false, comp_remaining: true, remainder_precedence: true };
pub const DPKG: Options =
    Options { epoch: true, delim_precedence: true, comp_remaining: false, remainder_precedence: false };
pub const RHEL: Options =
    Options { epoch: true, delim_precedence: true, comp_remaining: true, remainder_precedence: false };

/// The collations osquery registers, by name.
pub const COLLATIONS: [(&std::ffi::CStr, &Options); 4] =
    [(c"version", &GENERIC), (c"version_arch", &ARCH), (c"version_dpkg", &DPKG), (c"version_rhel", &RHEL)];

/// A byte as C's `char`: osquery subtracts `char`s, whose sign is the
/// platform's, so a byte above 0x7f orders as it does in osquery built for
/// the same platform.
fn ch(b: u8) -> i64 {
    b as c_char as i64
}

fn delimiter(b: u8) -> i64 {
    match b {
        b'~' => 1,
        b'-' => 2,
        b'^' => 3,
        b'.' => 4,
        b':' => 5,
        _ => 0,
    }
}

fn epoch(l: &[u8], r: &[u8]) -> i64 {
    let colon = |v: &[u8]| v.iter().position(|&b| b == b':');
    match (colon(l), colon(r)) {
        (Some(a), Some(b)) => a as i64 - b as i64,
        (Some(_), None) => 1,
        (None, Some(_)) => -1,
        (None, None) => 0,
    }
}

/// The longer version's tail, once the common length is compared.
fn remainder(l: &[u8], r: &[u8], pos: usize, diff: i64, o: Options) -> i64 {
    if l.len() == pos {
        if o.comp_remaining {
            match r[pos] {
                b'~' => return 1,
                b'-' => return 0,
                b'^' => return -1,
                _ if diff != 0 && (!o.remainder_precedence || !l[pos - 1].is_ascii_digit()) => return diff,
                _ => {}
            }
        } else if diff != 0 && delimiter(r[pos]) > 0 {
            return diff;
        }
    }
    if r.len() == pos {
        if o.comp_remaining {
            match l[pos] {
                b'~' => return -1,
                b'-' => return 0,
                b'^' => return 1,
                _ if diff != 0 && (!o.remainder_precedence || !r[pos - 1].is_ascii_digit()) => return diff,
                _ => {}
            }
        } else if diff != 0 && delimiter(l[pos]) > 0 {
            return diff;
        }
    }
    l.len() as i64 - r.len() as i64
}

/// osquery's `versionCompare`: negative, zero or positive (only the sign
/// means anything).
pub fn compare(l: &[u8], r: &[u8], o: Options) -> i64 {
    match (l.is_empty(), r.is_empty()) {
        (true, true) => return 0,
        (true, false) => return -1,
        (false, true) => return 1,
        _ => {}
    }
    if l == r {
        return 0;
    }
    if o.epoch {
        let d = epoch(l, r);
        if d != 0 {
            return d;
        }
    }
    let mut first_diff = 0;
    let min = l.len().min(r.len());
    for i in 0..min {
        let (ld, rd) = (delimiter(l[i]), delimiter(r[i]));
        match (ld, rd) {
            (0, 0) => {
                if first_diff == 0 {
                    first_diff = ch(l[i]) - ch(r[i]);
                }
                continue;
            }
            (0, _) => return 1,
            (_, 0) => return -1,
            _ => {}
        }
        if first_diff != 0 {
            return first_diff;
        }
        if o.delim_precedence && ld != rd {
            return ld - rd;
        }
    }
    if l.len() == r.len() {
        return first_diff;
    }
    remainder(l, r, min, first_diff, o)
}

pub fn collate(l: &[u8], r: &[u8], o: Options) -> std::cmp::Ordering {
    compare(l, r, o).cmp(&0)
}

const NEED_TWO: &str = "Must provide two version strings to compare.";

/// `version_compare(left, right[, flavor])`: -1, 0 or 1; flavor is `ARCH`,
/// `DPKG` or `RHEL` in any case. Arguments after the third are ignored, as
/// in osquery.
pub(super) fn version_compare<'a>(args: &Args<'a>) -> Out<'a> {
    if args.len() < 2 || !args.is_text(0) || !args.is_text(1) {
        return Out::error(NEED_TWO);
    }
    let mut options = GENERIC;
    if args.len() > 2 {
        if !args.is_text(2) {
            return Out::error("The optional third parameter is not a string.");
        }
        let flavor = args.c_text(2).unwrap_or_default();
        options = match () {
            _ if flavor.eq_ignore_ascii_case(b"ARCH") => ARCH,
            _ if flavor.eq_ignore_ascii_case(b"DPKG") => DPKG,
            _ if flavor.eq_ignore_ascii_case(b"RHEL") => RHEL,
            _ => return Out::error("The optional third parameter does not match one of: (ARCH, DPKG, RHEL)."),
        };
    }
    let (l, r) = (args.c_text(0).unwrap_or_default(), args.c_text(1).unwrap_or_default());
    Out::Int(compare(l, r, options).clamp(-1, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors_set_the_switches_osquery_sets() {
        // versionCollateARCH/DPKG/RHEL and versionCompareFunc's flavor branch.
        assert_eq!(compare(b"1:1", b"2", ARCH).signum(), 1);
        assert_eq!(compare(b"1:1", b"2", GENERIC).signum(), -1);
        // delim_precedence: '~' below '-' only where it is on.
        assert_eq!(compare(b"1~a", b"1-a", DPKG).signum(), -1);
        assert_eq!(compare(b"1~a", b"1-a", ARCH).signum(), 0);
    }
}
