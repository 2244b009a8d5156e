//! The osquery SQL functions embargo's canned queries use, with osquery's
//! semantics, so that one query text runs in embargo and in osqueryd alike.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error, Result};

pub fn register_functions(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("regex_match", 3, flags, regex_match)?;
    conn.create_scalar_function("split", 3, flags, split)?;
    conn.create_scalar_function("concat", -1, flags, concat)?;
    conn.create_scalar_function("concat_ws", -1, flags, concat_ws)?;
    conn.create_scalar_function("version_compare", 2, flags, version_compare)?;
    conn.create_scalar_function("version_compare", 3, flags, version_compare)?;
    Ok(())
}

fn text(ctx: &Context<'_>, i: usize) -> Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(v.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

/// The third argument of `regex_match` and `split`: an integer, said so
/// plainly when it is not (rusqlite's own error names no function).
fn index_arg(ctx: &Context<'_>, function: &str) -> Result<i64> {
    match ctx.get_raw(2) {
        ValueRef::Integer(i) => Ok(i),
        other => Err(Error::UserFunctionError(
            format!("{function}: the index (argument 3) must be an integer, not {}", other.data_type()).into(),
        )),
    }
}

/// `regex_match(value, pattern, index)`: group `index` of the first match of
/// `pattern` in `value` (0 is the whole match), or NULL.
fn regex_match(ctx: &Context<'_>) -> Result<Value> {
    let (Some(value), Some(pattern)) = (borrowed_text(ctx, 0)?, borrowed_text(ctx, 1)?) else { return Ok(Value::Null) };
    let Ok(index) = usize::try_from(index_arg(ctx, "regex_match")?) else { return Ok(Value::Null) };
    with_compiled(&pattern, |re| {
        // `find` runs the lazy DFA; capture groups need the slower engines.
        let m = if index == 0 { re.find(&value) } else { re.captures(&value).and_then(|c| c.get(index)) };
        m.map_or(Value::Null, |m| Value::Text(m.as_str().to_string()))
    })
    .map_err(|e| Error::UserFunctionError(format!("regex_match: invalid pattern {pattern:?}: {e}").into()))
}

/// Argument `i` as text, borrowed from SQLite when it already is valid text.
fn borrowed_text<'a>(ctx: &'a Context<'_>, i: usize) -> Result<Option<std::borrow::Cow<'a, str>>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v.to_string().into()),
        ValueRef::Real(v) => Some(v.to_string().into()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
    })
}

thread_local! {
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> = Default::default();
}

/// Runs `f` with `pattern` compiled, kept per thread. SQLite's own aux-data
/// cache only helps when the pattern is a literal; in the canned queries it
/// comes from a joined catalog row, and recompiling it per row would
/// dominate a scan. The Regex is borrowed, not cloned: a clone starts with
/// an empty matching cache, which costs as much as the match.
fn with_compiled<T>(pattern: &str, f: impl FnOnce(&regex::Regex) -> T) -> std::result::Result<T, regex::Error> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() > 4096 {
                cache.clear();
            }
            cache.insert(pattern.to_string(), embargo_tables::embargo_catalog::compile_regex(pattern)?);
        }
        Ok(f(&cache[pattern]))
    })
}

/// `split(value, tokens, index)`: the `index`-th non-empty piece of `value`
/// split at any of the characters in `tokens`, or NULL.
fn split(ctx: &Context<'_>) -> Result<Value> {
    let (Some(value), Some(tokens)) = (text(ctx, 0)?, text(ctx, 1)?) else { return Ok(Value::Null) };
    let Ok(index) = usize::try_from(index_arg(ctx, "split")?) else { return Ok(Value::Null) };
    Ok(value
        .split(|c| tokens.contains(c))
        .filter(|p| !p.is_empty())
        .nth(index)
        .map_or(Value::Null, |p| Value::Text(p.to_string())))
}

fn concat(ctx: &Context<'_>) -> Result<Value> {
    let mut out = String::new();
    for i in 0..ctx.len() {
        if let Some(t) = text(ctx, i)? {
            out.push_str(&t);
        }
    }
    Ok(Value::Text(out))
}

fn concat_ws(ctx: &Context<'_>) -> Result<Value> {
    if ctx.is_empty() {
        return Err(Error::UserFunctionError("concat_ws needs a separator".into()));
    }
    let sep = text(ctx, 0)?.unwrap_or_default();
    let mut parts = Vec::new();
    for i in 1..ctx.len() {
        if let Some(t) = text(ctx, i)? {
            parts.push(t);
        }
    }
    Ok(Value::Text(parts.join(&sep)))
}

/// `version_compare(a, b[, flavor])`: -1, 0 or 1. The DPKG flavor is dpkg's
/// algorithm (epoch, upstream, revision; `~` sorts first); RHEL is
/// rpmvercmp's; the default compares dot-separated pieces, numerically where
/// both are numbers.
fn version_compare(ctx: &Context<'_>) -> Result<Value> {
    let (Some(a), Some(b)) = (text(ctx, 0)?, text(ctx, 1)?) else { return Ok(Value::Null) };
    let flavor = if ctx.len() > 2 { text(ctx, 2)?.unwrap_or_default().to_ascii_uppercase() } else { String::new() };
    let ord = match flavor.as_str() {
        "DPKG" => embargo_tables::version::dpkg_cmp(&a, &b),
        "RHEL" => embargo_tables::version::rpm_cmp(&a, &b),
        _ => embargo_tables::version::plain_cmp(&a, &b),
    };
    Ok(Value::Integer(ord as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(conn: &Connection, sql: &str) -> Value {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn functions_behave_like_osquery() {
        let c = Connection::open_in_memory().unwrap();
        register_functions(&c).unwrap();
        assert_eq!(
            one(&c, "SELECT regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', 1)"),
            Value::Text("endpoint".into())
        );
        assert_eq!(one(&c, "SELECT regex_match('klogd', '^kaspersky', 0)"), Value::Null);
        assert_eq!(one(&c, "SELECT split('a,,b;c', ',;', 1)"), Value::Text("b".into()));
        assert_eq!(one(&c, "SELECT split('a', ',', 3)"), Value::Null);
        assert_eq!(one(&c, "SELECT concat('a', NULL, 1)"), Value::Text("a1".into()));
        assert_eq!(one(&c, "SELECT concat_ws('-', 'a', NULL, 'b')"), Value::Text("a-b".into()));
        assert_eq!(one(&c, "SELECT version_compare('1:1.0', '2.0', 'DPKG')"), Value::Integer(1));
        assert_eq!(one(&c, "SELECT version_compare('1.0~rc1', '1.0', 'DPKG')"), Value::Integer(-1));
        assert_eq!(one(&c, "SELECT version_compare('1.10', '1.9')"), Value::Integer(1));
        assert!(c.query_row("SELECT regex_match('a', '(', 0)", [], |r| r.get::<_, Value>(0)).is_err());
        for sql in
            ["SELECT regex_match('a', 'a', NULL)", "SELECT split('a', ',', x'01')", "SELECT split('a', ',', 1.5)"]
        {
            let err = c.query_row(sql, [], |r| r.get::<_, Value>(0)).unwrap_err().to_string();
            assert!(err.contains("the index (argument 3) must be an integer"), "{sql}: {err}");
        }
    }
}
