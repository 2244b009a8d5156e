//! One allocator for the whole process: mimalloc, for Rust and for SQLite.
//!
//! A scan is allocation-bound: collectors build many small strings on two
//! threads while SQLite compiles a large statement, and glibc's malloc
//! serialises them on its arena locks (about a fifth of a scan's profile).
//! SQLite keeps its own allocator unless told otherwise before it starts,
//! so [`configure_sqlite`] must run before the first connection opens.

use std::ffi::{c_int, c_void};

use libmimalloc_sys as mi;
use rusqlite::ffi;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_reserve` in mimalloc.h's `mi_option_e` (v3); the Rust
/// bindings do not name it. Its value is in KiB.
const MI_OPTION_ARENA_RESERVE: mi::mi_option_t = 23;

/// mimalloc reserves 1 GiB of address space for its first arena and
/// initialises the bitmaps covering it: about 45 page faults, which a run of
/// a few milliseconds notices (faults cost 2-6 µs each on this VM). 64 MiB
/// covers a host scan; a large image gets more arenas as it goes. The arena
/// is reserved by the first allocation, before `main`, so this runs as an
/// ELF constructor; if it ever ran later, only the default would apply.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE_ALLOCATOR: extern "C" fn() = configure_allocator;

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
extern "C" fn configure_allocator() {
    // SAFETY: setting an option is always allowed; it only affects arenas
    // reserved afterwards.
    unsafe { mi::mi_option_set(MI_OPTION_ARENA_RESERVE, 64 * 1024) };
}

unsafe extern "C" fn sqlite_malloc(n: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; a bad one fails like OOM.
    match usize::try_from(n) {
        Ok(n) => unsafe { mi::mi_malloc(n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn sqlite_free(p: *mut c_void) {
    unsafe { mi::mi_free(p) }
}

unsafe extern "C" fn sqlite_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        Ok(n) => unsafe { mi::mi_realloc(p, n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn sqlite_size(p: *mut c_void) -> c_int {
    c_int::try_from(unsafe { mi::mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn sqlite_roundup(n: c_int) -> c_int {
    let n = usize::try_from(n).unwrap_or(0);
    c_int::try_from(unsafe { mi::mi_good_size(n) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn sqlite_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn sqlite_shutdown(_: *mut c_void) {}

/// Gives SQLite mimalloc, turns off its memory statistics (a global mutex
/// on every allocation, for figures embargo never reads) and its
/// per-connection mutexes: embargo uses each connection from one thread
/// (collector threads never touch SQLite). Returns false if SQLite was
/// already initialised, which it then refuses.
pub fn configure_sqlite() -> bool {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(sqlite_malloc),
        xFree: Some(sqlite_free),
        xRealloc: Some(sqlite_realloc),
        xSize: Some(sqlite_size),
        xRoundup: Some(sqlite_roundup),
        xInit: Some(sqlite_init),
        xShutdown: Some(sqlite_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: both options are valid before sqlite3_initialize(); after it
    // SQLite refuses them with SQLITE_MISUSE and nothing changes. The methods
    // struct is copied by SQLite.
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods) == ffi::SQLITE_OK
            && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) == ffi::SQLITE_OK
            && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) == ffi::SQLITE_OK
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_arena_reserve_is_set_before_main() {
        let kib = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_ARENA_RESERVE) };
        assert_eq!(kib, 64 * 1024);
    }

    #[test]
    fn sqlite_runs_on_mimalloc() {
        // Run alone in this process's test binary, or after another test
        // already opened SQLite: then configuration is refused, not broken.
        let configured = super::configure_sqlite();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let n: i64 = conn
            .query_row(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
                 SELECT count(DISTINCT printf('%0500d', i)) FROM c",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 20000);
        if configured {
            // With statistics off SQLite reports no memory in use.
            assert_eq!(unsafe { rusqlite::ffi::sqlite3_memory_used() }, 0);
        }
    }
}
