//! Linux trust stores made of certificate files: the system bundles, OpenSSL's
//! hashed certificate directory, and the anchor and blocklist folders that
//! update-ca-certificates and p11-kit's update-ca-trust read.

use std::io::Read;

use crate::collectors::x509::{self, AuxTrust, CertCache, CertInfo};
use crate::error::{ErrorKind, FsError};
use crate::root::{DEFAULT_READ_LIMIT, EntryType, Root};

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
const MAX_DEPTH: usize = 8;

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
    pub path: String,
    pub is_link: bool,
}

/// The files in `dir` a store reads, as root-relative paths, sorted.
/// Entries are typed without following links; links are kept for the caller
/// to resolve (and to report when they loop).
pub fn list_files(
    root: &Root,
    dir: &str,
    recursive: bool,
    keep: &dyn Fn(&str) -> bool,
    bad: &mut dyn FnMut(FsError),
) -> Result<Vec<ListedFile>, FsError> {
    let mut out = Vec::new();
    walk(root, dir, recursive, keep, bad, 0, &mut out)?;
    Ok(out)
}

fn walk(
    root: &Root,
    dir: &str,
    recursive: bool,
    keep: &dyn Fn(&str) -> bool,
    bad: &mut dyn FnMut(FsError),
    depth: usize,
    out: &mut Vec<ListedFile>,
) -> Result<(), FsError> {
    for entry in root.read_dir(dir)? {
        let path = format!("{}/{}", dir.trim_end_matches('/'), entry.name);
        let is_dir = match entry.entry_type {
            EntryType::Dir => true,
            // A link to a directory is followed only when recursing.
            EntryType::Symlink if recursive => root.resolve(&path).map(|r| r.metadata.is_dir()).unwrap_or(false),
            _ => false,
        };
        if is_dir {
            if recursive {
                if depth >= MAX_DEPTH {
                    bad(FsError::new(ErrorKind::SymlinkLoop, &path, format!("deeper than {MAX_DEPTH} levels")));
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

/// Reads the certificate file at `path` (PEM with any number of blocks, or a
/// single DER certificate), calling `each` per certificate. Bad blocks go to
/// `bad`, one error each; blocks that hold no certificate (keys, CRLs) are
/// skipped. `Err` is a file that could not be read at all.
pub fn read_cert_file(
    file: &mut std::fs::File,
    path: &str,
    cache: &mut CertCache,
    mut each: impl FnMut(FileCert),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    // Sized from the inode, so that a file is read in one call, not a growing series.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0).min(DEFAULT_READ_LIMIT);
    let mut data = Vec::with_capacity(size as usize + 1);
    file.take(DEFAULT_READ_LIMIT + 1).read_to_end(&mut data).map_err(|e| FsError::io(path, &e))?;
    if data.len() as u64 > DEFAULT_READ_LIMIT {
        return Err(FsError::new(ErrorKind::TooLarge, path, format!("more than the {DEFAULT_READ_LIMIT}-byte limit")));
    }
    parse_cert_bytes(&data, path, cache, &mut each, &mut bad);
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
    for block in x509::pem_blocks(data) {
        let block = match block {
            Ok(b) => b,
            Err(e) => {
                bad(FsError::parse(path, e));
                continue;
            }
        };
        if !x509::is_certificate_label(&block.label) {
            continue;
        }
        let (info, rest) = match cache.parse(&block.der) {
            Ok(v) => v,
            Err(e) => {
                bad(FsError::parse(path, format!("line {}: {e}", block.line)));
                continue;
            }
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
}
