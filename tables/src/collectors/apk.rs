//! Alpine's package database, `lib/apk/db/installed`: one record per
//! installed package, each a run of `X:value` lines (one letter, a colon, the
//! value to the end of the line) ended by a blank line. apk-tools writes it
//! in `apk_db_write_fdb`. The letters kept here are those a row needs (`P`
//! name, `V` version, `A` arch, `m` maintainer, `I` installed size in bytes,
//! `t` build time); the others (`T` description, `U` url, `L` licence, `o`
//! origin, `D`/`p`/`r` dependencies, …) are skipped. The file lists (`F:` directory, `R:` file, `Z:` digest, `a:`/`M:`
//! modes) are most of the file and are skipped without being copied.
//!
//! Like the dpkg status file it is streamed through a push parser, so time
//! is linear and memory flat whatever the size of the database or the
//! length of a line. apk itself refuses a whole database on the first line
//! that is not `X:`; a scan instead reports that record and goes on.

use std::io::Read;

use crate::collectors::capped::Capped;
use crate::collectors::read_at::read_chunks;
use crate::error::{ErrorKind, FsError};
use crate::root::Root;

/// Where apk-tools 2 and 3 keep the database; apk-tools 3 also reads it
/// under `/usr` (a merged-usr layout links one to the other).
pub const INSTALLED_PATHS: [&str; 2] = ["/lib/apk/db/installed", "/usr/lib/apk/db/installed"];

/// One installed package.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApkPackage {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub maintainer: Option<String>,
    /// `I:`, installed size in bytes.
    pub installed_size: Option<i64>,
    /// `t:`, when the package was built (Unix seconds); apk records no
    /// install time.
    pub build_time: Option<i64>,
}

impl ApkPackage {
    /// `name-version`, as `apk info -v` names an installed package.
    pub fn identifier(&self) -> String {
        // Built by hand: format!'s machinery was a tenth of a 100k-entry read.
        let mut id = String::with_capacity(self.name.len() + 1 + self.version.len());
        id.push_str(&self.name);
        id.push('-');
        id.push_str(&self.version);
        id
    }
}

/// Where a database stops being read. Alpine's largest images list a few
/// thousand packages in a few MB; the parser is linear, so this only bounds
/// the time a hostile (or sparse) file costs.
pub const FILE_LIMIT: u64 = 1 << 30;

/// The longest kept value (`P:`, `V:`, `m:` …); a longer one makes its
/// record an error. Real values are under 200 bytes.
pub const VALUE_LIMIT: usize = 64 << 10;

/// Bad records reported one by one per file; the rest are counted in one row.
pub const BAD_RECORD_ROWS: usize = 1000;

/// Small enough that the buffer stays in L2 between the kernel's copy and
/// the parse: 17% faster on 100,000 entries than 256 KiB chunks.
const CHUNK: usize = 64 * 1024;

/// Reads every apk database of the root (each file once, however many
/// paths lead to it): `each(path, package)` per valid record, `bad` per
/// problem. A root without one is not a problem.
pub fn read_all(root: &Root, mut each: impl FnMut(&'static str, ApkPackage), mut bad: impl FnMut(FsError)) {
    let mut seen: Vec<String> = Vec::new();
    for path in INSTALLED_PATHS {
        match root.resolve(path) {
            Ok(r) => {
                if seen.contains(&r.path) {
                    continue;
                }
                seen.push(r.path);
                if let Err(e) = read_installed(root, path, |p| each(path, p), &mut bad) {
                    bad(e);
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                if let Some(e) = root.dangling(path) {
                    bad(e);
                }
            }
            Err(e) => bad(e),
        }
    }
}

/// Every valid record of one database. Bad records go to `bad` (up to
/// [`BAD_RECORD_ROWS`] rows); an unreadable file is the `Err`. A file longer
/// than [`FILE_LIMIT`] is read up to the limit and reported as `too_large`.
pub fn read_installed(
    root: &Root,
    path: &str,
    mut each: impl FnMut(ApkPackage),
    bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let (file, resolved) = root.open_capped(path, FILE_LIMIT)?;
    let mut bad = Capped::new(path, BAD_RECORD_ROWS, "bad records", bad);
    if resolved.metadata.len() > FILE_LIMIT {
        bad.push(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!(
                "{} bytes is more than the {FILE_LIMIT}-byte limit; only the records in the first {FILE_LIMIT} bytes are read",
                resolved.metadata.len()
            ),
        ));
    }
    let mut file = file.take(FILE_LIMIT);
    let mut parser = Parser::default();
    let mut emit = |r: Result<ApkPackage, String>| match r {
        Ok(p) => each(p),
        Err(msg) => bad.push(FsError::parse(path, msg)),
    };
    let read = read_chunks(&mut file, CHUNK, |bytes| parser.feed(bytes, &mut emit)).map_err(|e| FsError::io(path, &e));
    if read.is_ok() {
        parser.finish(&mut emit);
    }
    // A file that grew past the limit after it was measured.
    let grew = resolved.metadata.len() <= FILE_LIMIT && file.limit() == 0;
    if read.is_ok() && grew && file.into_inner().read(&mut [0]).is_ok_and(|n| n > 0) {
        bad.push(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!("more than the {FILE_LIMIT}-byte limit; only the records in the first {FILE_LIMIT} bytes are read"),
        ));
    }
    bad.finish();
    read
}

/// Parses a whole database held in memory (the fuzz target's entry point;
/// the scan streams through [`read_installed`]).
pub fn parse(data: &[u8]) -> Vec<Result<ApkPackage, String>> {
    let mut out = Vec::new();
    let mut parser = Parser::default();
    parser.feed(data, &mut |r| out.push(r));
    parser.finish(&mut |r| out.push(r));
    out
}

/// The fields a row keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Version,
    Arch,
    Maintainer,
    InstalledSize,
    BuildTime,
}

impl Field {
    fn of(letter: u8) -> Option<Field> {
        Some(match letter {
            b'P' => Field::Name,
            b'V' => Field::Version,
            b'A' => Field::Arch,
            b'm' => Field::Maintainer,
            b'I' => Field::InstalledSize,
            b't' => Field::BuildTime,
            _ => return None,
        })
    }
}

/// Where the parser is within a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum At {
    #[default]
    LineStart,
    /// After the field letter, expecting its colon.
    Colon(u8),
    Value(Field),
    /// In a line whose rest does not matter.
    Skip,
}

/// A push parser of apk database records: bytes go in as read, in chunks of
/// any size, and each byte is looked at a bounded number of times.
#[derive(Default)]
struct Parser {
    at: At,
    value: Vec<u8>,
    value_overflow: bool,
    line: usize,
    /// The line the current record started on (0: no record open).
    start: usize,
    record_no: usize,
    /// The record's first problem; the rest of it is only skipped.
    error: Option<String>,
    pkg: ApkPackage,
    name: Option<String>,
    version: Option<String>,
}

impl Parser {
    fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(Result<ApkPackage, String>)) {
        while let Some(&first) = data.first() {
            match self.at {
                At::LineStart => {
                    self.line += 1;
                    if first == b'\n' {
                        data = &data[1..];
                        self.end_record(emit);
                        continue;
                    }
                    if self.start == 0 {
                        self.start = self.line;
                    }
                    // Most lines are whole in the chunk: letter and colon at once.
                    match data.get(1) {
                        Some(&second) => {
                            data = &data[2..];
                            self.after_letter(first, second);
                        }
                        None => {
                            data = &data[1..];
                            self.at = At::Colon(first);
                        }
                    }
                }
                At::Colon(letter) => {
                    data = &data[1..];
                    self.after_letter(letter, first);
                }
                At::Value(field) => {
                    let (part, rest, done) = match memchr::memchr(b'\n', data) {
                        Some(i) => (&data[..i], &data[i + 1..], true),
                        None => (data, &data[data.len()..], false),
                    };
                    data = rest;
                    if done && self.value.is_empty() && part.len() <= VALUE_LIMIT {
                        // The whole value is in this chunk: no copy to the buffer.
                        self.set(field, part);
                        self.at = At::LineStart;
                        continue;
                    }
                    let room = VALUE_LIMIT - self.value.len().min(VALUE_LIMIT);
                    if part.len() > room {
                        self.value_overflow = true;
                    }
                    self.value.extend_from_slice(&part[..part.len().min(room)]);
                    if done {
                        let value = std::mem::take(&mut self.value);
                        self.set(field, &value);
                        self.value = value;
                        self.value.clear();
                        self.at = At::LineStart;
                    }
                }
                At::Skip => match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        data = &data[i + 1..];
                        self.at = At::LineStart;
                    }
                    None => data = &[],
                },
            }
        }
    }

    /// The end of the input: the last line need not end in a newline.
    fn finish(&mut self, emit: &mut impl FnMut(Result<ApkPackage, String>)) {
        match self.at {
            At::Colon(letter) => self.bad_line(letter, b'\n'),
            At::Value(field) => {
                let value = std::mem::take(&mut self.value);
                self.set(field, &value);
            }
            At::LineStart | At::Skip => {}
        }
        self.at = At::LineStart;
        self.end_record(emit);
    }

    /// A line's first two bytes: a field's letter and its colon, or a line
    /// that is no field.
    fn after_letter(&mut self, letter: u8, second: u8) {
        if second == b':' && letter.is_ascii_alphabetic() {
            self.at = match Field::of(letter) {
                Some(f) if self.error.is_none() => {
                    self.value_overflow = false;
                    At::Value(f)
                }
                _ => At::Skip,
            };
        } else {
            self.bad_line(letter, second);
            self.at = if second == b'\n' { At::LineStart } else { At::Skip };
        }
    }

    fn bad_line(&mut self, letter: u8, second: u8) {
        if self.error.is_none() {
            let shown: Vec<u8> = if second == b'\n' { vec![letter] } else { vec![letter, second] };
            self.error = Some(format!(
                "line {} is not a field (`X:value`): starts {:?}",
                self.line,
                String::from_utf8_lossy(&shown)
            ));
        }
    }

    fn set(&mut self, field: Field, value: &[u8]) {
        if self.value_overflow {
            if self.error.is_none() {
                self.error = Some(format!("line {}: value longer than {VALUE_LIMIT} bytes", self.line));
            }
            return;
        }
        let text = || match std::str::from_utf8(value) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(value).into_owned(),
        };
        // Numbers are ASCII digits; anything else is unknown, not an error.
        let number = || std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok()).filter(|n| *n >= 0);
        match field {
            Field::Name => self.name = Some(text()),
            Field::Version => self.version = Some(text()),
            Field::Arch => self.pkg.arch = Some(text()),
            Field::Maintainer => self.pkg.maintainer = Some(text()),
            Field::InstalledSize => self.pkg.installed_size = number(),
            Field::BuildTime => self.pkg.build_time = number(),
        }
    }

    fn end_record(&mut self, emit: &mut impl FnMut(Result<ApkPackage, String>)) {
        if self.start == 0 {
            return;
        }
        self.record_no += 1;
        let start = std::mem::take(&mut self.start);
        let mut pkg = std::mem::take(&mut self.pkg);
        let (name, version, error) = (self.name.take(), self.version.take(), self.error.take());
        let result = match (error, name.filter(|n| !n.is_empty()), version.filter(|v| !v.is_empty())) {
            (Some(e), _, _) => Err(e),
            (None, None, _) => Err("no P: (package name)".into()),
            (None, Some(n), None) => Err(format!("package {n} has no V: (version)")),
            (None, Some(n), Some(v)) => {
                pkg.name = n;
                pkg.version = v;
                Ok(pkg)
            }
        };
        emit(result.map_err(|e| format!("record {} (line {start}): {e}", self.record_no)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[u8] = b"C:Q1CpjMpFo3UY/Tn4CshBpA+PXMf04=\nP:musl\nV:1.2.2-r3\nA:armv7\nS:360760\nI:516096\n\
T:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\n\
m:Timo Ter\xc3\xa4s <timo.teras@iki.fi>\nt:1620570927\nF:lib\nR:ld-musl-armhf.so.1\na:0:0:755\n\
Z:Q1OR21cpf2INrOZXtXeMnWdqhkld4=\n\nP:zlib\nV:1.2.11-r3\nA:armv7\nI:77824\n";

    #[test]
    fn records_keep_their_fields() {
        let got: Vec<ApkPackage> = parse(TWO).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            ApkPackage {
                name: "musl".into(),
                version: "1.2.2-r3".into(),
                arch: Some("armv7".into()),
                maintainer: Some("Timo Teräs <timo.teras@iki.fi>".into()),
                installed_size: Some(516096),
                build_time: Some(1620570927),
            }
        );
        assert_eq!(got[1].identifier(), "zlib-1.2.11-r3");
    }

    /// Chunk boundaries fall everywhere, between a letter and its colon too.
    #[test]
    fn any_chunking_gives_the_same_records() {
        let mut text = TWO.to_vec();
        text.extend_from_slice(b"\n\n\nxy\nP:junk\nV:1\n\nP:ok\n\nV:2\n\nP:\x00\xff\nV:3");
        let whole = parse(&text);
        assert_eq!(whole.len(), 6, "{whole:?}");
        assert_eq!(
            whole[2].as_ref().unwrap_err(),
            "record 3 (line 25): line 25 is not a field (`X:value`): starts \"xy\""
        );
        assert_eq!(whole[3].as_ref().unwrap_err(), "record 4 (line 29): package ok has no V: (version)");
        assert_eq!(whole[4].as_ref().unwrap_err(), "record 5 (line 31): no P: (package name)");
        assert_eq!(whole[5].as_ref().unwrap().name, "\u{0}\u{fffd}");
        for chunk in [1, 2, 3, 7, 64] {
            let mut out = Vec::new();
            let mut p = Parser::default();
            for part in text.chunks(chunk) {
                p.feed(part, &mut |r| out.push(r));
            }
            p.finish(&mut |r| out.push(r));
            assert_eq!(out, whole, "chunks of {chunk} bytes");
        }
    }

    #[test]
    fn kept_values_are_bounded_and_skipped_lines_are_not() {
        let long = "x".repeat(VALUE_LIMIT + 1);
        let text = format!("P:a\nV:1\nR:{}\n\nP:{long}\nV:1\n\nP:c\nV:1\n", "r".repeat(10 << 20));
        let got = parse(text.as_bytes());
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().unwrap().name, "a");
        assert_eq!(
            got[1].as_ref().unwrap_err(),
            &format!("record 2 (line 5): line 5: value longer than {VALUE_LIMIT} bytes")
        );
        assert_eq!(got[2].as_ref().unwrap().name, "c");
    }

    #[test]
    fn numbers_that_are_not_numbers_are_unknown() {
        let got = parse(b"P:a\nV:1\nI:lots\nt:-5\n");
        assert_eq!((got[0].as_ref().unwrap().installed_size, got[0].as_ref().unwrap().build_time), (None, None));
    }

    #[test]
    fn bad_record_rows_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = "!\n\n".repeat(BAD_RECORD_ROWS * 3);
        body.push_str("P:kesl\nV:12\n");
        std::fs::create_dir_all(dir.path().join("lib/apk/db")).unwrap();
        std::fs::write(dir.path().join("lib/apk/db/installed"), body).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let (mut pkgs, mut errs) = (Vec::new(), Vec::new());
        read_all(&root, |_, p| pkgs.push(p.name), |e| errs.push(e));
        assert_eq!(pkgs, ["kesl"]);
        assert_eq!(errs.len(), BAD_RECORD_ROWS + 1);
        assert_eq!(
            errs[BAD_RECORD_ROWS].message,
            format!("{} more bad records after the first {BAD_RECORD_ROWS}", BAD_RECORD_ROWS * 2)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_database_reached_by_two_paths_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("usr/lib/apk/db")).unwrap();
        std::fs::write(dir.path().join("usr/lib/apk/db/installed"), b"P:a\nV:1\n").unwrap();
        std::os::unix::fs::symlink("usr/lib", dir.path().join("lib")).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut got = Vec::new();
        read_all(&root, |path, p| got.push((path, p.name)), |e| panic!("{e}"));
        assert_eq!(got, [("/lib/apk/db/installed", "a".to_string())]);
    }
}
