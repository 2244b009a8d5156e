//! Helpers for tests that compare embargo with an independent peer tool.

/// Whether the peer `tool` can be run. Outside CI a missing tool skips the
/// test (with a note on stderr); with `CI=true` it fails it, so that CI can
/// never pass by skipping.
pub fn peer_available(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("peer tool `{tool}` is missing; .ci/run must install it");
        }
        eprintln!("skipping: peer tool `{tool}` is not installed");
    }
    found
}

/// `systemctl list-unit-files --root=ROOT`: (unit file, state) pairs,
/// sorted. systemctl exits 1 when it lists nothing; that is an empty list.
pub fn systemctl_unit_files(root: &std::path::Path) -> Vec<(String, String)> {
    let out = std::process::Command::new("systemctl")
        .args(["list-unit-files", "--no-legend", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .output()
        .expect("systemctl runs");
    let listed_none = out.status.code() == Some(1) && out.stdout.is_empty();
    assert!(out.status.success() || listed_none, "systemctl failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut pairs: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    pairs.sort();
    pairs
}

/// Writes a dpkg status file of `n` installed packages under `root`, each a
/// stanza of about 700 bytes in the shape of debian-mini's zlib1g: a root
/// slow enough to read that a small time budget is overrun. Package `i` is
/// `zlib{i}` at version `1:1.2.13.dfsg-{i}`.
pub fn write_dpkg_status(root: &std::path::Path, n: usize) -> std::io::Result<()> {
    use std::io::Write;
    let dpkg = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dpkg)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dpkg.join("status"))?);
    for i in 0..n {
        write!(
            out,
            "Package: zlib{i}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 168\n\
             Maintainer: Mark Brown <broonie@debian.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: zlib\n\
             Version: 1:1.2.13.dfsg-{i}\nProvides: libz1\nDepends: libc6 (>= 2.14)\n\
             Breaks: libxml2 (<< 2.7.6.dfsg-2), texlive-binaries (<< 2009-12)\nConflicts: zlib1 (<= 1:1.0.4-7)\n\
             Description: compression library - runtime\n zlib is a library implementing the deflate compression \
             method found\n in gzip and PKZIP.  This package includes the shared library.\nHomepage: http://zlib.net/\n\n"
        )?;
    }
    out.flush()
}
