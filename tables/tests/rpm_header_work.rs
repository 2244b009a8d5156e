//! The work `rpmdb::parse_header` does is linear in the blob, measured in
//! bytes allocated (a counting allocator, so this is its own test binary)
//! rather than in time, which depends on the machine and the build.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use embargo_tables::collectors::rpmdb;

struct Counting;

thread_local! {
    // Per thread: the test harness runs other tests' allocations alongside.
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + new_size));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

/// An rpm header blob (no magic) of `entries` index entries (tag, type,
/// offset, count) over `data`.
fn blob(entries: &[[u32; 4]], data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for e in entries {
        for v in e {
            b.extend_from_slice(&v.to_be_bytes());
        }
    }
    b.extend_from_slice(data);
    b
}

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const STRING: u32 = 6;

/// fuzz/regressions/rpm_header/quadratic-shared-string, scaled down: every
/// index entry is a NAME pointing at the same 64 KiB string. Each was
/// decoded and copied in turn, 4096 x 64 KiB = 256 MiB allocated for a
/// 128 KiB blob (the fuzzer's 1 MiB one took over 30 s).
#[test]
fn entries_sharing_one_string_cost_it_once() {
    let mut data = vec![b'n'; 64 << 10];
    data.push(0);
    data.extend_from_slice(b"1.0\0");
    let mut entries = vec![[NAME, STRING, 0, 1]; 4096];
    entries.push([VERSION, STRING, (64 << 10) + 1, 1]);
    let b = blob(&entries, &data);
    let (p, bytes) = allocated_by(|| rpmdb::parse_header(&b));
    let p = p.unwrap();
    assert_eq!((p.name.len(), p.version.as_deref()), (64 << 10, Some("1.0")));
    assert!(bytes <= 2 * b.len(), "{bytes} bytes allocated to parse a {}-byte blob", b.len());
}

/// The last entry of a tag is the one that counts, as before; an earlier
/// duplicate that is broken still makes the header an error.
#[test]
fn duplicate_tags_keep_their_meaning() {
    let data = b"first\0second\0";
    let p = rpmdb::parse_header(&blob(&[[NAME, STRING, 0, 1], [NAME, STRING, 6, 1]], data)).unwrap();
    assert_eq!(p.name, "second");
    let unterminated = rpmdb::parse_header(&blob(&[[NAME, STRING, 6, 1], [NAME, STRING, 0, 1]], b"first\0second"));
    assert!(unterminated.unwrap_err().starts_with("entry 0 (tag 1000): string runs past the end"));
    let not_a_string = rpmdb::parse_header(&blob(&[[NAME, 4, 0, 1], [NAME, STRING, 6, 1]], data));
    assert!(not_a_string.unwrap_err().starts_with("entry 0 (tag 1000): type 4 count 1 is not a string"));
}
