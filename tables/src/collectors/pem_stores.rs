//! Linux trust stores made of certificate files: the system bundles, OpenSSL's
//! hashed certificate directory, and the anchor and blocklist folders that
//! update-ca-certificates and p11-kit's update-ca-trust read.

use std::ffi::{OsStr, OsString};
use std::io::Read;

use crate::collectors::capped::Capped;
use crate::collectors::x509::{self, AuxTrust, CertCache, CertInfo};
use crate::error::{ErrorKind, FsError};
use crate::root::{DEFAULT_READ_LIMIT, EntryType, Root, lossy};

/// Single-file bundles of the distributions' ca-certificates packages and of
/// p11-kit's extraction. `ca-bundle.trust.crt` holds OpenSSL `TRUSTED
/// CERTIFICATE` blocks with per-purpose trust.
pub const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/var/lib/ca-certificates/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt",
];

/// OpenSSL's CApath: `*.pem`, `*.crt` and `<hash>.N` links.
pub const DIRECTORIES: &[&str] = &["/etc/ssl/certs"];

/// Folders whose files the distribution tools turn into trust (`distrusted`
/// false) or distrust (`true`). `recursive` and `crt_only` follow
/// update-ca-certificates for /usr/local/share/ca-certificates; p11-kit reads
/// every file of its folders, one level deep.
pub struct AnchorDir {
    pub path: &'static str,
    pub distrusted: bool,
    pub recursive: bool,
    pub crt_only: bool,
}

pub const ANCHOR_DIRS: &[AnchorDir] = &[
    AnchorDir { path: "/usr/local/share/ca-certificates", distrusted: false, recursive: true, crt_only: true },
    AnchorDir { path: "/etc/pki/ca-trust/source/anchors", distrusted: false, recursive: false, crt_only: false },
    AnchorDir { path: "/usr/share/pki/trust/anchors", distrusted: false, recursive: false, crt_only: false },
    AnchorDir { path: "/etc/pki/ca-trust/source/blocklist", distrusted: true, recursive: false, crt_only: false },
    AnchorDir { path: "/etc/pki/ca-trust/source/blacklist", distrusted: true, recursive: false, crt_only: false },
    AnchorDir { path: "/usr/share/pki/trust/blocklist", distrusted: true, recursive: false, crt_only: false },
    AnchorDir { path: "/usr/share/pki/trust/blacklist", distrusted: true, recursive: false, crt_only: false },
];

/// Deeper than any real anchor tree; stops directory-link cycles.
pub const MAX_DEPTH: usize = 8;

/// Whether a name in OpenSSL's hashed directory is a certificate entry:
/// `*.pem`, `*.crt`, or `<8 hex digits>.<digits>` (`.rN` are CRLs).
pub fn is_directory_cert_name(name: &str) -> bool {
    name.ends_with(".pem") || name.ends_with(".crt") || is_hash_link_name(name)
}

/// `<8 hex digits>.<digits>`: the subject-hash names `openssl rehash` makes.
pub fn is_hash_link_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, n)) => {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A file of a store folder, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedFile {
    /// Exact, to open: a name need not be UTF-8.
    pub path: OsString,
    pub is_link: bool,
}

/// The files in `dir` a store reads, as root-relative paths, sorted.
/// Entries are typed without following links; links are kept for the caller
/// to resolve (and to report when they loop).
pub fn list_files(
    root: &Root,
    dir: &(impl AsRef<OsStr> + ?Sized),
    recursive: bool,
    keep: &dyn Fn(&str) -> bool,
    bad: &mut dyn FnMut(FsError),
) -> Result<Vec<ListedFile>, FsError> {
    let mut out = Vec::new();
    walk(root, dir.as_ref(), recursive, keep, bad, 0, &mut out)?;
    Ok(out)
}

fn walk(
    root: &Root,
    dir: &OsStr,
    recursive: bool,
    keep: &dyn Fn(&str) -> bool,
    bad: &mut dyn FnMut(FsError),
    depth: usize,
    out: &mut Vec<ListedFile>,
) -> Result<(), FsError> {
    for entry in root.read_dir(dir)? {
        let path = entry.path_in(dir);
        let is_dir = match entry.entry_type {
            EntryType::Dir => true,
            // A link to a directory is followed only when recursing.
            EntryType::Symlink if recursive => root.resolve(&path).map(|r| r.metadata.is_dir()).unwrap_or(false),
            _ => false,
        };
        if is_dir {
            if recursive {
                if depth >= MAX_DEPTH {
                    bad(FsError::new(ErrorKind::SymlinkLoop, lossy(&path), format!("deeper than {MAX_DEPTH} levels")));
                } else if let Err(e) = walk(root, &path, recursive, keep, bad, depth + 1, out) {
                    bad(e);
                }
            }
            continue;
        }
        if keep(&entry.name) {
            out.push(ListedFile { path, is_link: entry.entry_type == EntryType::Symlink });
        }
    }
    Ok(())
}

/// One certificate found in a file.
#[derive(Clone, Debug)]
pub struct FileCert {
    pub info: CertInfo,
    /// Set for OpenSSL `TRUSTED CERTIFICATE` blocks.
    pub aux: Option<AuxTrust>,
}

/// A bundle past this size is read no further (with a too_large row; the
/// certificates before it are kept). A distribution's bundle is 200 KB.
pub const BUNDLE_LIMIT: u64 = 1 << 30;

/// Certificates read from one file at most (each is a row): 1,000 times a
/// distribution's roots. Other blocks and junk cost only time, which the
/// byte limit bounds, so they are not counted.
pub const CERT_LIMIT: usize = 200_000;

/// Bad blocks reported one by one per file; the rest are counted in one row.
pub const BAD_BLOCK_ROWS: usize = 1000;

/// Reads the certificate file at `path` (PEM with any number of blocks, or a
/// single DER certificate), calling `each` per certificate. Bad blocks go to
/// `bad`, one error each; blocks that hold no certificate (keys, CRLs) are
/// skipped. `Err` is a file that could not be read at all.
///
/// A file of up to [`DEFAULT_READ_LIMIT`] is read whole; a bigger one can
/// only be PEM (no certificate is that big), and is split as it is read, so
/// padding a bundle hides none of the certificates after the padding.
pub fn read_cert_file(
    file: &mut std::fs::File,
    path: &str,
    cache: &mut CertCache,
    mut each: impl FnMut(FileCert),
    bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    // Sized from the inode, so that a file is read in one call, not a growing series.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0).min(DEFAULT_READ_LIMIT);
    let mut data = Vec::with_capacity(size as usize + 1);
    file.take(DEFAULT_READ_LIMIT + 1).read_to_end(&mut data).map_err(|e| FsError::io(path, &e))?;
    let mut bad = Capped::new(path, BAD_BLOCK_ROWS, "bad blocks", bad);
    if data.len() as u64 <= DEFAULT_READ_LIMIT {
        parse_cert_bytes(&data, path, cache, &mut each, &mut |e| bad.push(e));
        bad.finish();
        return Ok(());
    }
    let mut reader = x509::PemReader::new(file.take(BUNDLE_LIMIT - data.len() as u64), data);
    let (mut blocks, mut certs) = (0usize, 0usize);
    while let Some(next) = reader.next_block() {
        let block = next.map_err(|e| FsError::io(path, &e))?;
        blocks += 1;
        if !counted(&block, &mut certs) {
            bad.push(too_many_certs(path));
            break;
        }
        cert_of_block(block, path, cache, &mut each, &mut |e| bad.push(e));
    }
    if blocks == 0 {
        bad.push(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!("no PEM block, and more than the {DEFAULT_READ_LIMIT}-byte limit of a DER certificate"),
        ));
    } else if reader.bytes_read >= BUNDLE_LIMIT {
        bad.push(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!(
                "more than the {BUNDLE_LIMIT}-byte limit; the certificates in the first {BUNDLE_LIMIT} bytes are kept"
            ),
        ));
    }
    bad.finish();
    Ok(())
}

pub fn parse_cert_bytes(
    data: &[u8],
    path: &str,
    cache: &mut CertCache,
    each: &mut dyn FnMut(FileCert),
    bad: &mut dyn FnMut(FsError),
) {
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        bad(FsError::parse(path, "empty file: no certificate"));
        return;
    }
    if !x509::looks_like_pem(data) {
        if data[0] != 0x30 {
            bad(FsError::parse(path, "neither PEM text nor a DER certificate"));
            return;
        }
        match cache.parse(data) {
            Ok((info, _)) => each(FileCert { info, aux: None }),
            Err(e) => bad(FsError::parse(path, e)),
        }
        return;
    }
    let mut certs = 0usize;
    for block in x509::pem_block_iter(data) {
        if !counted(&block, &mut certs) {
            bad(too_many_certs(path));
            break;
        }
        cert_of_block(block, path, cache, each, bad);
    }
}

/// Counts a certificate block; false past [`CERT_LIMIT`].
fn counted(block: &Result<x509::PemBlock, String>, certs: &mut usize) -> bool {
    if block.as_ref().is_ok_and(|b| x509::is_certificate_label(&b.label)) {
        *certs += 1;
    }
    *certs <= CERT_LIMIT
}

fn too_many_certs(path: &str) -> FsError {
    FsError::new(
        ErrorKind::TooLarge,
        path,
        format!("more than {CERT_LIMIT} certificates; the file is read no further, the first {CERT_LIMIT} are kept"),
    )
}

/// The certificate of one PEM block, if it is one.
fn cert_of_block(
    block: Result<x509::PemBlock, String>,
    path: &str,
    cache: &mut CertCache,
    each: &mut dyn FnMut(FileCert),
    bad: &mut dyn FnMut(FsError),
) {
    let block = match block {
        Ok(b) => b,
        Err(e) => return bad(FsError::parse(path, e)),
    };
    if !x509::is_certificate_label(&block.label) {
        return;
    }
    let (info, rest) = match cache.parse(&block.der) {
        Ok(v) => v,
        Err(e) => return bad(FsError::parse(path, format!("line {}: {e}", block.line))),
    };
    let aux = if block.label == "TRUSTED CERTIFICATE" {
        match x509::parse_openssl_aux(rest) {
            Ok(a) => Some(a),
            Err(e) => {
                bad(FsError::parse(path, format!("line {}: {e}", block.line)));
                None
            }
        }
    } else {
        None
    };
    each(FileCert { info, aux });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names() {
        for ok in ["a.pem", "b.crt", "9d6523ce.0", "9D6523CE.12"] {
            assert!(is_directory_cert_name(ok), "{ok}");
        }
        for no in ["9d6523ce.r0", "ca-certificates.crt.bak", "java", "README", "1234567.0"] {
            assert!(!is_directory_cert_name(no), "{no}");
        }
    }

    #[test]
    fn empty_and_garbage_files_are_one_error_each() {
        let mut errors = Vec::new();
        let mut n = 0;
        parse_cert_bytes(b"", "/e", &mut CertCache::default(), &mut |_| n += 1, &mut |e| errors.push(e));
        parse_cert_bytes(b"hello", "/g", &mut CertCache::default(), &mut |_| n += 1, &mut |e| errors.push(e));
        parse_cert_bytes(&[0x30, 0x82, 0x01], "/t", &mut CertCache::default(), &mut |_| n += 1, &mut |e| {
            errors.push(e)
        });
        assert_eq!(n, 0);
        assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/e", "/g", "/t"]);
        assert!(errors.iter().all(|e| e.kind == ErrorKind::ParseError));
    }

    fn fixture_pem(rel: &str) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/certs/root");
        std::fs::read_to_string(dir.join(rel)).unwrap()
    }

    /// Reads `body` as a store file: (common names, errors).
    fn read_body(body: &[u8]) -> (Vec<String>, Vec<FsError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bundle.crt"), body).unwrap();
        let (mut file, _) = Root::new(dir.path()).unwrap().open("/bundle.crt").unwrap();
        let (mut names, mut errors) = (Vec::new(), Vec::new());
        read_cert_file(
            &mut file,
            "/bundle.crt",
            &mut CertCache::default(),
            |c| names.push(c.info.common_name.unwrap_or_default()),
            |e| errors.push(e),
        )
        .unwrap();
        (names, errors)
    }

    /// Found in the security review: padding the trust bundle past 64 MB
    /// made the whole file too_large, so the Kaspersky root after the
    /// padding was never seen. Big files are split as they are read.
    #[test]
    fn a_bundle_padded_past_the_read_limit_still_shows_every_certificate() {
        let example = fixture_pem("usr/share/ca-certificates/test/example.crt");
        let kaspersky = fixture_pem("usr/local/share/ca-certificates/kaspersky/kav.crt");
        let mut body = example.clone().into_bytes();
        let comment = format!("# {}\n", "padding ".repeat(12));
        while (body.len() as u64) < DEFAULT_READ_LIMIT + (4 << 20) {
            body.extend_from_slice(comment.as_bytes());
        }
        body.extend_from_slice(kaspersky.as_bytes());
        // A block padded past its own limit is one error, not the end of the file.
        body.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        body.resize(body.len() + x509::PEM_BLOCK_LIMIT + 10, b'A');
        body.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
        body.extend_from_slice(example.as_bytes());
        let (names, errors) = read_body(&body);
        assert_eq!(names, ["Example Root CA", "Kaspersky Anti-Virus Personal Root Certificate", "Example Root CA"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("longer than"), "{errors:?}");
        // The same certificates, from the same text without padding.
        let small = format!("{example}{kaspersky}{example}");
        assert_eq!(read_body(small.as_bytes()).0, names);
    }

    /// Found in the security review: each BEGIN without an END searched the
    /// rest of the file for one, quadratic in the number of such lines. And
    /// each bad block was a row, without bound.
    #[test]
    fn begin_lines_without_end_are_linear_and_bounded_in_rows() {
        let kaspersky = fixture_pem("usr/local/share/ca-certificates/kaspersky/kav.crt");
        let body_of = |size: usize| {
            let mut body = Vec::new();
            while body.len() < size {
                body.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n");
            }
            body.extend_from_slice(kaspersky.as_bytes());
            body
        };
        // Linear, as a ratio rather than a wall-clock limit (a loaded machine
        // slows both sizes alike): 8x the bytes costs about 8x the time, where
        // the quadratic search cost 64x. The faster of two runs of each.
        let fastest = |body: &[u8]| {
            (0..2)
                .map(|_| {
                    let started = std::time::Instant::now();
                    let out = read_body(body);
                    (started.elapsed(), out)
                })
                .min_by_key(|(t, _)| *t)
                .unwrap()
        };
        let (small_time, _) = fastest(&body_of(1 << 20));
        let (big_time, (names, errors)) = fastest(&body_of(8 << 20));
        assert!(
            big_time < small_time * 24 + std::time::Duration::from_millis(200),
            "8 MiB took {big_time:?}, 1 MiB {small_time:?}: not linear"
        );
        assert_eq!(names, ["Kaspersky Anti-Virus Personal Root Certificate"]);
        assert_eq!(errors.len(), BAD_BLOCK_ROWS + 1);
        assert!(errors[0].message.contains("no END line"), "{:?}", errors[0]);
        assert!(errors[BAD_BLOCK_ROWS].message.ends_with(&format!("more bad blocks after the first {BAD_BLOCK_ROWS}")));
    }

    #[test]
    fn the_streaming_splitter_agrees_with_the_whole_file_one() {
        let kaspersky = fixture_pem("usr/local/share/ca-certificates/kaspersky/kav.crt");
        let text = format!(
            "junk -----BEGIN\n{kaspersky}-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n\
             -----BEGIN X-----\n-----BEGIN PUBLIC KEY-----\r\naGk=\r\n-----END PUBLIC KEY-----\r\n\
             -----BEGIN A-----\naGk=\n-----END B-----\n-----BEGIN broken\n{kaspersky}-----BEGIN CERTIFICATE-----\nAAAA"
        );
        let whole = x509::pem_blocks(text.as_bytes());
        assert_eq!(whole.len(), 8, "{whole:?}");
        for step in [1, 2, 5, 11, 64, 1000] {
            for split in [0, 7, 100] {
                let (head, tail) = text.as_bytes().split_at(split);
                let mut reader = x509::PemReader::new(tail, head.to_vec()).with_chunk(step);
                let mut streamed = Vec::new();
                while let Some(b) = reader.next_block() {
                    streamed.push(b.unwrap());
                }
                assert_eq!(streamed, whole, "reads of {step} bytes after {split}");
            }
        }
    }
}
