//! osquery's string functions (`osquery/sql/sqlite_string.cpp`):
//! `regex_match`, `split`, `concat`, `concat_ws`.
//!
//! Arguments are read as osquery reads them: `sqlite3_value_text` (so a
//! number or blob is SQLite's own text of it) cut at the first NUL, and the
//! index by `sqlite3_value_int`. Results are osquery's bytes, NULLs and
//! error texts.

use std::borrow::Cow;

use embargo_tables::embargo_catalog::{MAX_PATTERN_BYTES, REGEX_DFA_SIZE_LIMIT, REGEX_SIZE_LIMIT};

use super::{Args, Out};

/// `static_cast<size_t>(sqlite3_value_int(…))`: a negative index is past
/// every end.
fn index(args: &Args<'_>, i: usize) -> Option<usize> {
    usize::try_from(args.int(i)).ok()
}

/// `split(value, tokens, index)`: the `index`-th piece of `value` cut at any
/// byte of `tokens`, empty pieces dropped and the rest trimmed of white
/// space (osquery::split: boost::split, remove empties, then trim, so a
/// piece of only spaces stays, as '').
pub(super) fn split<'a>(args: &Args<'a>) -> Out<'a> {
    if (0..3).any(|i| args.is_null(i)) {
        return Out::Null;
    }
    let input = args.c_text(0).unwrap_or_default();
    let tokens = args.c_text(1).unwrap_or_default();
    let index = index(args, 2);
    if tokens.is_empty() {
        return Out::error("Invalid input to split function");
    }
    let piece =
        index.and_then(|n| input.split(|b| tokens.contains(b)).filter(|p| !p.is_empty()).map(trim_c_space).nth(n));
    piece.map_or(Out::Null, |p| Out::Text(Cow::Borrowed(p)))
}

/// boost::algorithm::trim in the C locale: `isspace` is these six.
fn trim_c_space(s: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().position(|b| !space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !space(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// `regex_match(value, pattern, index)`: group `index` of the first match
/// (0 is the whole match); NULL when nothing matches or the pattern has no
/// such group, '' for a group that took no part in the match.
///
/// osquery runs ECMAScript `std::regex`; this runs the `regex` crate. The
/// two read the catalog's dialect (`embargo_catalog::check_regex_dialect`)
/// alike; outside it (back-references, look-around, inline flags,
/// non-ASCII `\w`) they may differ.
pub(super) fn regex_match<'a>(args: &Args<'a>) -> Out<'a> {
    if (0..3).any(|i| args.is_null(i)) {
        return Out::Null;
    }
    let Some(pattern) = args.c_text(1) else { return Out::Null };
    let input = args.c_text(0).unwrap_or_default();
    let index = index(args, 2);
    if pattern.len() > MAX_PATTERN_BYTES {
        return Out::error(format!("Invalid regex: too big, max size is {MAX_PATTERN_BYTES} bytes"));
    }
    with_compiled(&String::from_utf8_lossy(pattern), |re| {
        let re = re.ok_or(())?;
        // Past the last group is NULL whether or not the value matches.
        let Some(index) = index.filter(|&n| n < re.captures_len()) else { return Ok(Out::Null) };
        // `find` runs the lazy DFA; capture groups need the slower engines.
        Ok(if index == 0 {
            re.find(input).map_or(Out::Null, |m| Out::Text(Cow::Borrowed(m.as_bytes())))
        } else {
            re.captures(input)
                .map_or(Out::Null, |c| Out::Text(Cow::Borrowed(c.get(index).map_or(&b""[..], |m| m.as_bytes()))))
        })
    })
    .unwrap_or_else(|()| Out::error("Invalid regex"))
}

thread_local! {
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, Option<regex::bytes::Regex>>> =
        Default::default();
}

/// Runs `f` with `pattern` compiled (None when it does not compile), kept
/// per thread. SQLite's own aux-data cache only helps when the pattern is a
/// literal; in the canned queries it comes from a joined catalog row, and
/// recompiling it per row would dominate a scan. The Regex is borrowed, not
/// cloned: a clone starts with an empty matching cache, which costs as much
/// as the match. Over bytes, as osquery matches a value's bytes, UTF-8 or
/// not; with the limits of the catalog loader's `compile_regex`, so a
/// catalog regex it accepts compiles here.
fn with_compiled<T>(pattern: &str, f: impl FnOnce(Option<&regex::bytes::Regex>) -> T) -> T {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() > 4096 {
                cache.clear();
            }
            let re = regex::bytes::RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                .build()
                .ok();
            cache.insert(pattern.to_string(), re);
        }
        f(cache[pattern].as_ref())
    })
}

/// `concat(…)`: the arguments' text, NULLs skipped; NULL when there are none.
pub(super) fn concat<'a>(args: &Args<'a>) -> Out<'a> {
    join(args, b"", 0)
}

/// `concat_ws(separator, …)`: osquery puts the separator after every
/// non-NULL argument but the last one given, so `concat_ws('-', 'a', NULL)`
/// is 'a-'. A NULL separator is ''; no arguments after it give NULL.
pub(super) fn concat_ws<'a>(args: &Args<'a>) -> Out<'a> {
    if args.len() == 0 {
        return Out::error("Missing separator to concat_ws");
    }
    let sep = if args.is_null(0) { &b""[..] } else { args.c_text(0).unwrap_or_default() };
    join(args, sep, 1)
}

fn join<'a>(args: &Args<'a>, sep: &[u8], start: usize) -> Out<'a> {
    if args.len() == start {
        return Out::Null;
    }
    let mut out = Vec::new();
    for i in start..args.len() {
        if args.is_null(i) {
            continue;
        }
        out.extend_from_slice(args.c_text(i).unwrap_or_default());
        if !sep.is_empty() && i + 1 < args.len() {
            out.extend_from_slice(sep);
        }
        // osquery's bound, checked as it grows so that nothing larger is built.
        if out.len() > i32::MAX as usize {
            return Out::error("Too much data for concat_ws");
        }
    }
    Out::Text(Cow::Owned(out))
}
