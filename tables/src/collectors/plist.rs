//! Property lists (macOS `.plist`): XML, binary (`bplist00`) and OpenStep
//! text, read from the root with a size limit checked first.
//!
//! The `plist` crate parses all three. What it does not do, and this module
//! adds:
//! - **UTF-16 XML.** Apple's tools read and write plists in UTF-16 (with a
//!   BOM, or a bare `<?xml` in UTF-16), and the crate fails on them. They are
//!   transcoded to UTF-8 first; an odd number of bytes or an unpaired
//!   surrogate is a parse error, never a lossy guess.
//! - **A bound on what a binary plist expands to.** The crate already checks
//!   that the offset table and each collection's references lie before the
//!   trailer (so an absurd object count fails before it allocates), and it
//!   refuses an object that contains itself. It does not bound *sharing*: an
//!   array whose two elements are the same array, 40 levels deep, is a few
//!   hundred bytes and 2^40 values, and one 1 MB string referenced a million
//!   times is a terabyte of copies. The tree is built here from the crate's
//!   event stream, counting values and string/data bytes against budgets
//!   proportional to the file, and nesting against a depth limit (dropping a
//!   very deep tree recurses).
//! - **A trailer check before the crate sees the file**, so that a binary
//!   plist whose trailer is inconsistent with the file's length fails with a
//!   message that says how, whatever a later crate version guards.

use std::ffi::OsStr;
use std::io::Cursor;

use plist::stream::{Event, Reader};
pub use plist::{Dictionary, Value};

use crate::error::{ErrorKind, FsError};
use crate::root::{Root, lossy};

/// Plists larger than this are not read. Info.plist, launchd jobs, receipts
/// and the extension and trust databases are kilobytes; the largest real
/// Info.plists (with every document type and URL scheme) are under 1 MiB.
pub const LIMIT: u64 = 8 << 20;

/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 256;

/// Values a document may produce per byte of file, and in all.
pub const VALUES_PER_BYTE: u64 = 2;
pub const MAX_VALUES: u64 = 4_000_000;
/// String and data bytes a document may produce per byte of file, and in
/// all. Binary plists share equal strings, so a little expansion is normal.
pub const TEXT_PER_BYTE: u64 = 16;
pub const MAX_TEXT: u64 = 64 << 20;

/// Reads and parses the plist at `path`.
pub fn read(root: &Root, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Value, FsError> {
    read_limited(root, path, LIMIT)
}

/// [`read`] with a size limit of `limit` bytes.
pub fn read_limited(root: &Root, path: &(impl AsRef<OsStr> + ?Sized), limit: u64) -> Result<Value, FsError> {
    let path = path.as_ref();
    let bytes = root.read_limited(path, limit)?;
    parse(&bytes).map_err(|m| FsError::parse(lossy(path), m))
}

/// [`read`], with a plainly absent file as `None`. A symlink that leads
/// nowhere inside the root is still an error.
pub fn read_if_present(root: &Root, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Option<Value>, FsError> {
    let path = path.as_ref();
    match read(root, path) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => root.dangling(path).map_or(Ok(None), Err),
        Err(e) => Err(e),
    }
}

/// [`read`] of a plist that must be a dictionary at the top.
pub fn read_dict(root: &Root, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Dictionary, FsError> {
    let path = path.as_ref();
    into_dict(read(root, path)?).map_err(|m| FsError::parse(lossy(path), m))
}

/// [`read_dict`], with a plainly absent file as `None` (see [`read_if_present`]).
pub fn read_dict_if_present(root: &Root, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Option<Dictionary>, FsError> {
    let path = path.as_ref();
    read_if_present(root, path)?.map(|v| into_dict(v).map_err(|m| FsError::parse(lossy(path), m))).transpose()
}

/// The top-level dictionary, or why not.
pub fn into_dict(v: Value) -> Result<Dictionary, String> {
    match v {
        Value::Dictionary(d) => Ok(d),
        other => Err(format!("expected a dictionary at the top, found {}", kind(&other))),
    }
}

/// Parses a plist in any of its encodings.
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.starts_with(b"bplist") {
        check_trailer(bytes)?;
        return build(bytes);
    }
    match utf16_text(bytes)? {
        Some(text) => build(text.as_bytes()),
        None => build(bytes),
    }
}

/// UTF-16 XML transcoded to UTF-8; `None` when `bytes` is not UTF-16.
fn utf16_text(bytes: &[u8]) -> Result<Option<String>, String> {
    let (big_endian, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (false, rest),
        [0xFE, 0xFF, rest @ ..] => (true, rest),
        // No BOM: XML must start with `<` (or whitespace), which in UTF-16
        // puts a NUL on one side.
        [b'<', 0, _, 0, ..] | [b' ' | b'\t' | b'\r' | b'\n', 0, _, 0, ..] => (false, bytes),
        [0, b'<', 0, _, ..] | [0, b' ' | b'\t' | b'\r' | b'\n', 0, _, ..] => (true, bytes),
        _ => return Ok(None),
    };
    if body.len() % 2 != 0 {
        return Err(format!("UTF-16 text of odd length ({} bytes)", body.len()));
    }
    let units = body.chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(format!("invalid UTF-16 at unit {i}: unpaired surrogate {:#06x}", e.unpaired_surrogate()));
            }
        }
    }
    Ok(Some(out))
}

/// What a binary plist's 32-byte trailer must agree with: offset and
/// reference sizes, an offset table inside the file before the trailer, at
/// least one byte of object data per object, and a top object that exists.
fn check_trailer(bytes: &[u8]) -> Result<(), String> {
    const HEADER: u64 = 8;
    const TRAILER: u64 = 32;
    let len = bytes.len() as u64;
    if len < HEADER + 1 + TRAILER {
        return Err(format!(
            "binary plist of {len} bytes is truncated (header, one object and the trailer need {})",
            HEADER + 1 + TRAILER
        ));
    }
    let t = &bytes[bytes.len() - TRAILER as usize..];
    let be = |r: std::ops::Range<usize>| t[r].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
    let (offset_size, ref_size) = (u64::from(t[6]), u64::from(t[7]));
    let (objects, top, table) = (be(8..16), be(16..24), be(24..32));
    if !(1..=8).contains(&offset_size) || !(1..=8).contains(&ref_size) {
        return Err(format!(
            "binary plist trailer: offset size {offset_size} or reference size {ref_size} is not 1 to 8 bytes"
        ));
    }
    let data_end = len - TRAILER;
    if table < HEADER + 1 || table > data_end {
        return Err(format!(
            "binary plist trailer: offset table at {table} is outside the object data (8..{data_end})"
        ));
    }
    if objects.checked_mul(offset_size).is_none_or(|n| n > data_end - table) {
        return Err(format!(
            "binary plist trailer: {objects} objects of {offset_size}-byte offsets do not fit between {table} and the trailer at {data_end}"
        ));
    }
    if objects == 0 || objects > table - HEADER {
        return Err(format!("binary plist trailer: {objects} objects in {} bytes of object data", table - HEADER));
    }
    if ref_size < 8 && objects > 1u64 << (8 * ref_size) {
        return Err(format!("binary plist trailer: {objects} objects cannot be named by {ref_size}-byte references"));
    }
    if top >= objects {
        return Err(format!("binary plist trailer: top object {top} of {objects}"));
    }
    Ok(())
}

enum Open {
    Array(Vec<Value>),
    Dict(Dictionary, Option<String>),
}

/// Builds the tree from the crate's events, within the budgets above.
fn build(bytes: &[u8]) -> Result<Value, String> {
    let len = bytes.len() as u64;
    let mut values_left = (VALUES_PER_BYTE * len + 1024).min(MAX_VALUES);
    let mut text_left = (TEXT_PER_BYTE * len + (1 << 20)).min(MAX_TEXT);
    let mut stack: Vec<Open> = Vec::new();
    let mut events = Reader::new(Cursor::new(bytes));
    loop {
        let event = match events.next() {
            Some(Ok(e)) => e,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the document ended before its top value was complete".into()),
        };
        values_left = values_left.checked_sub(1).ok_or_else(|| {
            format!("more values than {len} bytes can hold without sharing (a binary plist that references the same objects over and over?)")
        })?;
        let value = match event {
            Event::StartArray(_) | Event::StartDictionary(_) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested more than {MAX_DEPTH} levels deep"));
                }
                // The declared length is not trusted for a capacity.
                stack.push(match event {
                    Event::StartArray(_) => Open::Array(Vec::new()),
                    _ => Open::Dict(Dictionary::new(), None),
                });
                continue;
            }
            Event::EndCollection => match stack.pop() {
                Some(Open::Array(a)) => Value::Array(a),
                Some(Open::Dict(d, None)) => Value::Dictionary(d),
                Some(Open::Dict(_, Some(k))) => return Err(format!("dictionary key {k:?} has no value")),
                None => return Err("a collection ends that never started".into()),
            },
            Event::Boolean(b) => Value::Boolean(b),
            Event::Integer(i) => Value::Integer(i),
            Event::Real(r) => Value::Real(r),
            Event::Date(d) => Value::Date(d),
            Event::Uid(u) => Value::Uid(u),
            Event::String(s) => {
                spend(&mut text_left, s.len())?;
                Value::String(s.into_owned())
            }
            Event::Data(d) => {
                spend(&mut text_left, d.len())?;
                Value::Data(d.into_owned())
            }
            other => return Err(format!("unsupported plist value {other:?}")),
        };
        match stack.last_mut() {
            None => return Ok(value),
            Some(Open::Array(a)) => a.push(value),
            Some(Open::Dict(_, key @ None)) => match value {
                Value::String(k) => *key = Some(k),
                other => return Err(format!("dictionary key is {}, not a string", kind(&other))),
            },
            Some(Open::Dict(d, key @ Some(_))) => {
                let k = key.take().unwrap_or_default();
                d.insert(k, value);
            }
        }
    }
}

fn spend(left: &mut u64, n: usize) -> Result<(), String> {
    *left = left.checked_sub(n as u64).ok_or_else(|| {
        "strings and data add up to far more than the file holds (a binary plist that references the same objects over and over?)".to_string()
    })?;
    Ok(())
}

/// A value's type, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Dictionary(_) => "a dictionary",
        Value::Boolean(_) => "a boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "a date",
        Value::Real(_) => "a real",
        Value::Integer(_) => "an integer",
        Value::String(_) => "a string",
        Value::Uid(_) => "a UID",
        _ => "an unknown value",
    }
}

/// A string member.
pub fn string(d: &Dictionary, key: &str) -> Option<String> {
    d.get(key).and_then(Value::as_string).map(str::to_string)
}

/// A member that is text by meaning but may be stored as a number
/// (`CFBundleVersion` is sometimes `<integer>`): strings as they are,
/// integers in decimal, reals as Rust prints them (`1.5`, `2`).
pub fn text(d: &Dictionary, key: &str) -> Option<String> {
    match d.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(r) => Some(r.to_string()),
        _ => None,
    }
}

/// A boolean member. launchd and the bundle loader also take the strings
/// `YES`/`true` and integers, as CFPreferences does.
pub fn boolean(d: &Dictionary, key: &str) -> Option<bool> {
    match d.get(key)? {
        Value::Boolean(b) => Some(*b),
        Value::Integer(i) => i.as_signed().map(|n| n != 0),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => Some(true),
            "no" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An integer member.
pub fn integer(d: &Dictionary, key: &str) -> Option<i64> {
    d.get(key)?.as_signed_integer()
}

/// A dictionary member.
pub fn dict<'a>(d: &'a Dictionary, key: &str) -> Option<&'a Dictionary> {
    d.get(key)?.as_dictionary()
}

/// The string elements of an array member, others skipped.
pub fn strings(d: &Dictionary, key: &str) -> Vec<String> {
    d.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_string).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A date member as Unix seconds.
pub fn unix_time(d: &Dictionary, key: &str) -> Option<i64> {
    let t: std::time::SystemTime = d.get(key)?.as_date()?.into();
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs_f64().ceil() as i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary plist of `objects` (each its encoded bytes), with 2-byte
    /// offsets and 1-byte references; `top` names the top object.
    fn bplist(objects: &[Vec<u8>], top: u64) -> Vec<u8> {
        let mut out = b"bplist00".to_vec();
        let mut offsets = Vec::new();
        for o in objects {
            offsets.push(out.len() as u16);
            out.extend_from_slice(o);
        }
        let table = out.len() as u64;
        for o in offsets {
            out.extend_from_slice(&o.to_be_bytes());
        }
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&[2, 1]);
        out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
        out.extend_from_slice(&top.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
    }

    fn ascii(s: &str) -> Vec<u8> {
        assert!(s.len() < 15);
        let mut o = vec![0x50 | s.len() as u8];
        o.extend_from_slice(s.as_bytes());
        o
    }

    fn array(refs: &[u8]) -> Vec<u8> {
        assert!(refs.len() < 15);
        let mut o = vec![0xA0 | refs.len() as u8];
        o.extend_from_slice(refs);
        o
    }

    #[test]
    fn a_hand_made_binary_plist_reads() {
        // {"Label": "x", "List": ["x", "x"]}: "x" is shared, as Apple's writer does.
        let objs = vec![vec![0xD2, 1, 2, 3, 4], ascii("Label"), ascii("List"), ascii("x"), array(&[3, 3])];
        let v = parse(&bplist(&objs, 0)).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(string(d, "Label").as_deref(), Some("x"));
        assert_eq!(strings(d, "List"), ["x", "x"]);
    }

    #[test]
    fn an_object_offset_past_the_data_is_an_error() {
        let mut b = bplist(&[ascii("Label")], 0);
        // The one offset entry sits right before the trailer.
        let at = b.len() - 32 - 2;
        b[at..at + 2].copy_from_slice(&0x7fffu16.to_be_bytes());
        let e = parse(&b).unwrap_err();
        assert!(e.to_lowercase().contains("offset"), "{e}");
    }

    #[test]
    fn a_reference_cycle_is_an_error() {
        // Object 0 is an array holding object 0.
        let e = parse(&bplist(&[array(&[0])], 0)).unwrap_err();
        assert!(e.to_lowercase().contains("recurs"), "{e}");
        // Two arrays holding each other.
        assert!(parse(&bplist(&[array(&[1]), array(&[0])], 0)).is_err());
    }

    /// Through a whole scan of a macOS root: an app whose Info.plist holds
    /// an array that contains itself is one parse_error row naming the file;
    /// the other app is still listed.
    #[test]
    fn a_reference_cycle_in_an_info_plist_is_a_row_and_the_other_apps_are_listed() {
        use crate::table::Table;
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, body: &[u8]| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        let dict = |pairs: &[(&str, &str)]| {
            let body: String = pairs.iter().map(|(k, v)| format!("<key>{k}</key><string>{v}</string>")).collect();
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>{body}</dict></plist>\n")
        };
        write(
            "System/Library/CoreServices/SystemVersion.plist",
            dict(&[("ProductName", "macOS"), ("ProductVersion", "14.0")]).as_bytes(),
        );
        write(
            "Applications/Good.app/Contents/Info.plist",
            dict(&[
                ("CFBundleName", "Good"),
                ("CFBundleIdentifier", "com.example.good"),
                ("CFBundleShortVersionString", "1.0"),
            ])
            .as_bytes(),
        );
        // {"List": object 2}, where object 2 is an array holding object 2.
        write("Applications/Loop.app/Contents/Info.plist", &bplist(&[vec![0xD1, 1, 2], ascii("List"), array(&[2])], 0));
        let scan = crate::Scan::new(crate::Root::new(dir.path()).unwrap());
        let table = &crate::tables::installed_software::TABLE;
        let rows = table.generate(&scan.ctx("installed_software"), &crate::Query::all());
        let col = table.spec().columns.iter().position(|c| c.name == "identifier").unwrap();
        let ids: Vec<_> = (0..rows.len())
            .map(|r| match rows.cell(r, col) {
                crate::ValueRef::Text(t) => t.to_string(),
                _ => String::new(),
            })
            .collect();
        assert!(ids.contains(&"com.example.good".to_string()), "{ids:?}");
        let errors = scan.errors.snapshot();
        let hit: Vec<_> = errors.iter().filter(|e| e.path == "/Applications/Loop.app/Contents/Info.plist").collect();
        assert_eq!(hit.len(), 1, "{errors:?}");
        assert_eq!(hit[0].kind, ErrorKind::ParseError);
        assert!(hit[0].message.to_lowercase().contains("recurs"), "{}", hit[0].message);
    }

    #[test]
    fn an_absurd_object_count_is_refused_before_allocation() {
        let mut b = bplist(&[ascii("Label")], 0);
        let n = b.len() - 24;
        b[n..n + 8].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let e = parse(&b).unwrap_err();
        assert!(e.contains("1099511627776 objects"), "{e}");
        // An object count that fits the table but not the object data.
        let mut b = bplist(&[ascii("A"), ascii("B")], 0);
        let table = b.len() - 32 - 4;
        b.splice(table..table, vec![0; 40]);
        let len = b.len();
        b[len - 24..len - 16].copy_from_slice(&22u64.to_be_bytes());
        b[len - 8..].copy_from_slice(&(table as u64 + 40).to_be_bytes());
        assert!(parse(&b).is_err());
    }

    #[test]
    fn bad_trailers_and_truncation_are_errors() {
        let good = bplist(&[ascii("Label")], 0);
        for cut in [0, 8, 20, good.len() - 1] {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut top = good.clone();
        let n = top.len() - 16;
        top[n..n + 8].copy_from_slice(&5u64.to_be_bytes());
        assert!(parse(&top).unwrap_err().contains("top object 5"));
        let mut sizes = good.clone();
        let n = sizes.len() - 26;
        sizes[n] = 9;
        assert!(parse(&sizes).unwrap_err().contains("offset size 9"));
    }

    #[test]
    fn shared_collections_cannot_amplify() {
        // Array i holds array i+1 twice: 2^40 leaves from 40 small objects.
        let mut objs: Vec<Vec<u8>> = (0..40u8).map(|i| array(&[i + 1, i + 1])).collect();
        objs.push(ascii("leaf"));
        let t = std::time::Instant::now();
        let e = parse(&bplist(&objs, 0)).unwrap_err();
        assert!(e.contains("more values than"), "{e}");
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn a_shared_long_string_cannot_amplify() {
        // One 60 KB string referenced by 14-element arrays nested 3 deep: 2,744
        // references, 164 MB of copies.
        let mut s = vec![0x5F, 0x11];
        s.extend_from_slice(&60_000u16.to_be_bytes());
        s.extend_from_slice(&[b'a'; 60_000]);
        let objs = vec![array(&[1; 14]), array(&[2; 14]), array(&[3; 14]), s];
        // Offsets are 2 bytes: the string starts before 64 KiB.
        let e = parse(&bplist(&objs, 0)).unwrap_err();
        assert!(e.contains("strings and data"), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("<plist>{}{}</plist>", "<array>".repeat(MAX_DEPTH + 1), "</array>".repeat(MAX_DEPTH + 1));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("levels deep"));
        let ok = format!("<plist>{}{}</plist>", "<array>".repeat(MAX_DEPTH), "</array>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for u in (if bom { "\u{feff}" } else { "" }).encode_utf16().chain(s.encode_utf16()) {
            out.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    }

    const XML16: &str = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<plist version=\"1.0\"><dict><key>CFBundleName</key><string>Ünï 日本</string></dict></plist>\n";

    #[test]
    fn utf16_xml_reads_in_both_byte_orders_with_or_without_bom() {
        for (be, bom) in [(false, true), (true, true), (false, false), (true, false)] {
            let v = parse(&utf16(XML16, be, bom)).unwrap_or_else(|e| panic!("be={be} bom={bom}: {e}"));
            assert_eq!(string(v.as_dictionary().unwrap(), "CFBundleName").as_deref(), Some("Ünï 日本"));
        }
    }

    #[test]
    fn odd_or_broken_utf16_is_an_error() {
        let mut odd = utf16(XML16, false, true);
        odd.push(b'\n');
        assert!(parse(&odd).unwrap_err().contains("odd length"));
        let mut lone = utf16("<plist><string>", false, true);
        lone.extend_from_slice(&0xD800u16.to_le_bytes());
        lone.extend_from_slice(&utf16("</string></plist>", false, false));
        assert!(parse(&lone).unwrap_err().contains("surrogate"));
    }

    #[test]
    fn lenient_accessors() {
        let x = b"<plist><dict><key>v</key><integer>42</integer><key>r</key><real>1.5</real>\
            <key>b</key><string>YES</string><key>n</key><integer>0</integer><key>s</key><string>1.0</string></dict></plist>";
        let v = parse(x).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(text(d, "v").as_deref(), Some("42"));
        assert_eq!(text(d, "r").as_deref(), Some("1.5"));
        assert_eq!(text(d, "s").as_deref(), Some("1.0"));
        assert_eq!(string(d, "v"), None);
        assert_eq!((boolean(d, "b"), boolean(d, "n"), boolean(d, "s")), (Some(true), Some(false), None));
        assert!(into_dict(Value::Boolean(true)).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for g in [
            &b""[..],
            b"bplist",
            b"bplist00",
            b"\xff\xfe",
            b"<plist><dict><key>a</key></dict></plist>",
            b"{ a = ",
            b"\x00\x01\x02",
        ] {
            assert!(parse(g).is_err(), "{g:?}");
        }
    }
}
