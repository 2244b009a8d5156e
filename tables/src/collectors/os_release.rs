//! `os-release(5)`, `hostname(5)` and `machine-id(5)`: who a Linux root is.

use std::collections::HashMap;

use crate::error::FsError;
use crate::root::Root;

/// `etc/os-release` wins over `usr/lib/os-release`, as the man page says.
pub const PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Parses shell-style `KEY=value` lines, unquoting single and double quotes
/// and the backslash escapes os-release allows inside double quotes.
pub fn parse(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        out.insert(k.trim().to_string(), unquote(v.trim()));
    }
    out
}

fn unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let mut s = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    s.push(n);
                }
            } else {
                s.push(c);
            }
        }
        s
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        inner.to_string()
    } else {
        v.to_string()
    }
}

/// os-release's fields, by key.
pub type Fields = HashMap<String, String>;

/// The first os-release file present, parsed, with the path it came from.
/// A dangling link at the first is an error (the second is not read then:
/// the image says where its os-release is, and it is not there).
pub fn read(root: &Root) -> Result<Option<(String, Fields)>, FsError> {
    for path in PATHS {
        match root.read_to_string(path) {
            Ok(text) => return Ok(Some((path.to_string(), parse(&text)))),
            Err(e) if e.kind == crate::ErrorKind::NotFound => match root.dangling(path) {
                Some(e) => return Err(e),
                None => continue,
            },
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// How much of a one-line file (`etc/hostname`, `etc/machine-id`) is read:
/// real ones are a few dozen bytes.
pub const FIRST_LINE_LIMIT: u64 = 64 << 10;

/// The first line of a small file such as `etc/hostname`, trimmed.
pub fn first_line(root: &Root, path: &str) -> Result<Option<String>, FsError> {
    match root.read_limited(path, FIRST_LINE_LIMIT) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            Ok(text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string))
        }
        Err(e) if e.kind == crate::ErrorKind::NotFound => root.dangling(path).map_or(Ok(None), Err),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    /// Found in review: a dangling or out-of-root link at etc/hostname,
    /// etc/machine-id or etc/os-release read as a plainly absent file.
    #[cfg(unix)]
    #[test]
    fn links_that_lead_nowhere_inside_the_root_are_errors() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        symlink("/etc/shadow", dir.path().join("etc/hostname")).unwrap();
        symlink("../nowhere", dir.path().join("etc/machine-id")).unwrap();
        symlink("/etc/passwd", dir.path().join("etc/os-release")).unwrap();
        let root = crate::Root::new(dir.path()).unwrap();
        for path in ["/etc/hostname", "/etc/machine-id"] {
            let e = super::first_line(&root, path).unwrap_err();
            assert_eq!((e.kind, e.path.as_str()), (crate::ErrorKind::NotFound, path));
            assert!(e.message.contains("symbolic link"), "{e}");
        }
        assert_eq!(super::read(&root).unwrap_err().path, "/etc/os-release");
        // A plainly absent file stays silent.
        assert_eq!(super::first_line(&root, "/etc/absent").unwrap(), None);
        std::fs::remove_file(dir.path().join("etc/os-release")).unwrap();
        assert_eq!(super::read(&root).unwrap(), None);
    }

    #[test]
    fn quoting_follows_os_release() {
        let m = super::parse("NAME=\"Debian GNU/Linux\"\nVERSION_ID='12'\nID=debian\n# c\nPRETTY=\"a \\\"q\\\" b\"\n");
        assert_eq!(m["NAME"], "Debian GNU/Linux");
        assert_eq!(m["VERSION_ID"], "12");
        assert_eq!(m["ID"], "debian");
        assert_eq!(m["PRETTY"], "a \"q\" b");
    }
}
