//! The osquery SQL functions and collations embargo's canned queries may
//! use, with osquery's semantics, so that one query text runs in embargo,
//! in sqlite3 with libembargo and in osqueryd alike.
//!
//! They are registered through SQLite's C API rather than rusqlite's
//! closures: osquery reads its arguments with `sqlite3_value_text` and
//! `sqlite3_value_int`, and calling the same functions is the only way to
//! convert a number, a blob or an odd index exactly as osquery does.

mod string;
mod version;

use std::borrow::Cow;
use std::ffi::{CStr, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::{Connection, Result, ffi};

type Body = for<'a> fn(&Args<'a>) -> Out<'a>;

/// (name, number of arguments or -1, body), as osquery registers them.
const FUNCTIONS: [(&CStr, c_int, Body); 5] = [
    (c"regex_match", 3, string::regex_match),
    (c"split", 3, string::split),
    (c"concat", -1, string::concat),
    (c"concat_ws", -1, string::concat_ws),
    (c"version_compare", -1, version::version_compare),
];

pub fn register_functions(conn: &Connection) -> Result<()> {
    // SAFETY: the handle is the open connection's; SQLite copies the names,
    // and the bodies and collation options are 'static.
    let db = unsafe { conn.handle() };
    let flags = ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS;
    for (name, n_arg, body) in FUNCTIONS {
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                name.as_ptr(),
                n_arg,
                flags,
                body as *const () as *mut c_void,
                Some(call),
                None,
                None,
                None,
            )
        };
        check(rc)?;
    }
    for (name, options) in version::COLLATIONS {
        let arg = options as *const version::Options as *mut c_void;
        let rc =
            unsafe { ffi::sqlite3_create_collation_v2(db, name.as_ptr(), ffi::SQLITE_UTF8, arg, Some(collate), None) };
        check(rc)?;
    }
    Ok(())
}

fn check(rc: c_int) -> Result<()> {
    if rc == ffi::SQLITE_OK { Ok(()) } else { Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None)) }
}

/// A function's arguments, read through SQLite's own conversions.
pub(crate) struct Args<'a>(&'a [*mut ffi::sqlite3_value]);

impl<'a> Args<'a> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn kind(&self, i: usize) -> c_int {
        unsafe { ffi::sqlite3_value_type(self.0[i]) }
    }

    fn is_null(&self, i: usize) -> bool {
        self.kind(i) == ffi::SQLITE_NULL
    }

    fn is_text(&self, i: usize) -> bool {
        self.kind(i) == ffi::SQLITE_TEXT
    }

    /// `sqlite3_value_text` as osquery takes it, a C string: SQLite's text
    /// of a number or blob, up to the first NUL. None when SQLite gives no
    /// text (NULL, or out of memory).
    fn c_text(&self, i: usize) -> Option<&'a [u8]> {
        let p = unsafe { ffi::sqlite3_value_text(self.0[i]) };
        // SAFETY: SQLite's text is NUL-terminated and lives while the
        // argument does, which is the whole call.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p.cast()) }.to_bytes())
    }

    /// `sqlite3_value_int`: SQLite's integer of any value (text is parsed,
    /// a real truncated, a 64-bit integer cut to 32 bits).
    fn int(&self, i: usize) -> c_int {
        unsafe { ffi::sqlite3_value_int(self.0[i]) }
    }
}

/// A function's result.
pub(crate) enum Out<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, [u8]>),
    Error(Cow<'static, str>),
}

impl Out<'_> {
    fn error(msg: impl Into<Cow<'static, str>>) -> Self {
        Out::Error(msg.into())
    }
}

unsafe extern "C" fn call(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    let out = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: registered with a `Body` as user data, and SQLite passes
        // `argc` valid values.
        let body: Body = unsafe { std::mem::transmute::<*mut c_void, Body>(ffi::sqlite3_user_data(ctx)) };
        let argv: &[*mut ffi::sqlite3_value] = match usize::try_from(argc) {
            Ok(n) if n > 0 && !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
            _ => &[],
        };
        let out = body(&Args(argv));
        unsafe { answer(ctx, out) }
    }));
    if out.is_err() {
        unsafe { ffi::sqlite3_result_error(ctx, c"internal error in an embargo SQL function".as_ptr(), -1) };
    }
}

unsafe fn answer(ctx: *mut ffi::sqlite3_context, out: Out<'_>) {
    unsafe {
        match out {
            Out::Null => ffi::sqlite3_result_null(ctx),
            Out::Int(v) => ffi::sqlite3_result_int64(ctx, v),
            Out::Text(t) => match c_int::try_from(t.len()) {
                Ok(n) => ffi::sqlite3_result_text(ctx, t.as_ptr().cast(), n, ffi::SQLITE_TRANSIENT()),
                Err(_) => ffi::sqlite3_result_error_toobig(ctx),
            },
            Out::Error(msg) => {
                let n = c_int::try_from(msg.len()).unwrap_or(c_int::MAX);
                ffi::sqlite3_result_error(ctx, msg.as_ptr().cast(), n)
            }
        }
    }
}

unsafe extern "C" fn collate(arg: *mut c_void, n1: c_int, p1: *const c_void, n2: c_int, p2: *const c_void) -> c_int {
    let bytes = |n: c_int, p: *const c_void| match usize::try_from(n) {
        // SAFETY: SQLite passes n bytes at p.
        Ok(n) if n > 0 && !p.is_null() => unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) },
        _ => &[][..],
    };
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: registered with a &'static Options as its argument.
        let options = unsafe { *(arg as *const version::Options) };
        version::collate(bytes(n1, p1), bytes(n2, p2), options) as c_int
    }))
    .unwrap_or(0)
}

#[cfg(test)]
mod tests;
