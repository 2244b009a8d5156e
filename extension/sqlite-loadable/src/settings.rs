//! `embargo_root`, `embargo_catalog` and `embargo_as_of`: what the next
//! statements scan and judge by, set and read back from SQL; and
//! `embargo_budget`: how long a statement's scan may take.
//!
//! With an argument each opens a new engine first, so that a root that
//! cannot be listed or a file that is not a catalog is an SQL error and the
//! previous setting stays; without one it reads the current value back.
//! They may only be called from top-level SQL (DIRECTONLY): a view or
//! trigger in a database someone else wrote cannot repoint the scan.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use embargo_tables::embargo_catalog::Date;
use embargo_tables::engine::{DEFAULT_BUDGET, OpenError};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error, Result};

use crate::connection::{Settings, State};

pub fn register(conn: &Connection, state: &Arc<State>) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY;
    for n_arg in [0, 1] {
        let s = state.clone();
        conn.create_scalar_function("embargo_root", n_arg, flags, move |ctx| root(&s, ctx))?;
        let s = state.clone();
        conn.create_scalar_function("embargo_catalog", n_arg, flags, move |ctx| catalog(&s, ctx))?;
        let s = state.clone();
        conn.create_scalar_function("embargo_as_of", n_arg, flags, move |ctx| as_of(&s, ctx))?;
        let s = state.clone();
        conn.create_scalar_function("embargo_budget", n_arg, flags, move |ctx| budget(&s, ctx))?;
    }
    Ok(())
}

fn fail(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::UserFunctionError(format!("{name}: {msg}").into())
}

/// The argument as text; NULL is `None` where the setting has a default to
/// go back to. Numbers and blobs are refused: a path or date is text.
fn argument(name: &str, what: &str, ctx: &Context<'_>) -> Result<Option<String>> {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(t) => Ok(Some(t.to_string())),
            Err(_) => Err(fail(name, format!("{what} is not valid UTF-8 text"))),
        },
        ValueRef::Integer(_) | ValueRef::Real(_) => Err(fail(name, format!("{what} must be text, not a number"))),
        ValueRef::Blob(_) => Err(fail(name, format!("{what} must be text, not a blob"))),
    }
}

fn shown(p: &std::path::Path) -> Value {
    Value::Text(p.display().to_string())
}

fn root(state: &State, ctx: &Context<'_>) -> Result<Value> {
    const NAME: &str = "embargo_root";
    let current = state.settings();
    if ctx.is_empty() {
        return Ok(shown(&current.options.root));
    }
    let Some(path) = argument(NAME, "the root (a directory path)", ctx)? else {
        return Err(fail(NAME, "the root cannot be NULL; embargo_root('/') scans this system"));
    };
    if path.is_empty() {
        return Err(fail(NAME, "the root cannot be empty; embargo_root('/') scans this system"));
    }
    let mut next = current.clone();
    next.options.root = PathBuf::from(&path);
    state.apply(next).map_err(|e| {
        let why = match e {
            // The catalog did load before; say so rather than blame the root.
            OpenError::Catalog(e) => format!("the catalog no longer loads: {e}"),
            e => format!("cannot scan {e}"),
        };
        fail(NAME, format!("{why}; the root stays {}", current.options.root.display()))
    })?;
    Ok(Value::Text(path))
}

fn catalog(state: &State, ctx: &Context<'_>) -> Result<Value> {
    const NAME: &str = "embargo_catalog";
    let current = state.settings();
    let was = |s: &Settings| s.options.catalog.as_deref().map_or(Value::Null, shown);
    if ctx.is_empty() {
        return Ok(was(&current));
    }
    let path = argument(NAME, "the catalog (a TOML file or directory)", ctx)?;
    if path.as_deref() == Some("") {
        return Err(fail(NAME, "the catalog path is empty; embargo_catalog(NULL) restores the embedded one"));
    }
    let mut next = current.clone();
    next.options.catalog = path.map(PathBuf::from);
    state.apply(next.clone()).map_err(|e| {
        let stays =
            current.options.catalog.as_ref().map_or("the embedded catalog".to_string(), |p| p.display().to_string());
        let why = match e {
            OpenError::Catalog(e) => format!("not a catalog: {e}"),
            e => format!("the root can no longer be scanned: {e}"),
        };
        fail(NAME, format!("{why}; the catalog stays {stays}"))
    })?;
    Ok(was(&next))
}

fn as_of(state: &State, ctx: &Context<'_>) -> Result<Value> {
    const NAME: &str = "embargo_as_of";
    let current = state.settings();
    let was = |s: &Settings| s.as_of_text.clone().map_or(Value::Null, Value::Text);
    if ctx.is_empty() {
        return Ok(was(&current));
    }
    let text = argument(NAME, "the date (YYYY-MM-DD)", ctx)?;
    let mut next = current.clone();
    next.options.as_of = match &text {
        None => None,
        Some(t) => Some(
            Date::parse_iso(t)
                .map(Date::unix_seconds)
                .map_err(|e| fail(NAME, format!("{e} (for example 2025-01-31)")))?,
        ),
    };
    next.as_of_text = text;
    state.apply(next.clone()).map_err(|e| fail(NAME, format!("{e}; the date stays as it was")))?;
    Ok(was(&next))
}

/// The longest budget accepted: a year, as osquery's flags allow.
const MAX_BUDGET_SECONDS: f64 = 86_400.0 * 365.0;

/// `embargo_budget()` reads the budget of each statement's scan, in
/// seconds; `embargo_budget(S)` sets it (a positive number of seconds),
/// `embargo_budget(NULL)` restores the default. NULL and an error on a
/// host whose SQLite is single-threaded (see `connection.rs`).
fn budget(state: &State, ctx: &Context<'_>) -> Result<Value> {
    const NAME: &str = "embargo_budget";
    if !state.threadsafe {
        if ctx.is_empty() {
            return Ok(Value::Null);
        }
        return Err(fail(
            NAME,
            "this SQLite is built single-threaded (SQLITE_THREADSAFE=0), so scans run on the statement's thread, without a budget",
        ));
    }
    let current = state.slot.budget().unwrap_or(DEFAULT_BUDGET);
    if ctx.is_empty() {
        return Ok(Value::Real(current.as_secs_f64()));
    }
    let stays = || format!("the budget stays {} s", current.as_secs_f64());
    let seconds = match ctx.get_raw(0) {
        ValueRef::Null => DEFAULT_BUDGET.as_secs_f64(),
        ValueRef::Integer(i) => i as f64,
        ValueRef::Real(r) => r,
        ValueRef::Text(_) | ValueRef::Blob(_) => {
            return Err(fail(NAME, format!("the budget must be a number of seconds, such as 5.0; {}", stays())));
        }
    };
    if !(0.001..=MAX_BUDGET_SECONDS).contains(&seconds) {
        return Err(fail(NAME, format!("{seconds} is not a number of seconds from 0.001 to a year; {}", stays())));
    }
    state.slot.set_budget(Some(Duration::from_secs_f64(seconds)));
    Ok(Value::Real(seconds))
}
