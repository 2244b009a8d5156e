//! installed_software's dpkg source against dpkg-query, and against hostile roots.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// `name:arch` of every package dpkg-query calls installed, for an admindir.
fn dpkg_installed(admindir: &Path) -> BTreeSet<String> {
    let admindir = format!("--admindir={}", admindir.display());
    run_peer("dpkg-query", &[&admindir, "-W", "-f=${Package}:${Architecture} ${db:Status-Status}\\n"])
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, state)| *state == "installed")
        .map(|(pkg, _)| pkg.to_string())
        .collect()
}

fn embargo_installed(root: &Path) -> BTreeSet<String> {
    json_rows(root, "SELECT identifier FROM installed_software WHERE source = 'deb' AND installed = 1")
        .into_iter()
        .map(|r| r["identifier"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn this_host_agrees_with_dpkg_query() {
    if !peer("dpkg-query") || !Path::new("/var/lib/dpkg/status").exists() {
        return;
    }
    let ours = embargo_installed(Path::new("/"));
    let theirs = dpkg_installed(Path::new("/var/lib/dpkg"));
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
}

#[test]
fn fixture_agrees_with_dpkg_query() {
    if !peer("dpkg-query") {
        return;
    }
    let root = fixture("roots/debian-mini");
    let theirs = dpkg_installed(&root.join("var/lib/dpkg"));
    assert_eq!(embargo_installed(&root), theirs);
    // Written from the fixture's recipe (make-debian-mini.sh).
    let rows = json_rows(&root, "SELECT name, status, installed, size, version FROM installed_software ORDER BY name");
    let states: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            (r["name"].as_str().unwrap().into(), r["status"].as_str().unwrap().into(), r["installed"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        states,
        [
            ("base-files".to_string(), "install ok installed".to_string(), 1),
            ("bash".into(), "hold ok installed".into(), 1),
            ("broken-tool".into(), "install reinstreq half-installed".into(), 0),
            ("old-tool".into(), "deinstall ok config-files".into(), 0),
            ("zlib1g".into(), "install ok installed".into(), 1),
        ]
    );
    let zlib = rows.iter().find(|r| r["name"] == "zlib1g").unwrap();
    assert_eq!(zlib["version"], "1:1.2.13.dfsg-1");
    // Installed-Size: 168 (KiB)
    assert_eq!(zlib["size"], 168 * 1024);
}

#[test]
fn pushdown_returns_exactly_what_sql_asks() {
    let root = fixture("roots/debian-mini");
    let rows = json_rows(
        &root,
        "SELECT name FROM installed_software WHERE name IN ('bash', 'zlib1g', 'absent') AND source = 'deb' ORDER BY 1",
    );
    assert_eq!(rows, vec![serde_json::json!({"name": "bash"}), serde_json::json!({"name": "zlib1g"})]);
    let rows = json_rows(&root, "SELECT name FROM installed_software WHERE source = 'rpm'");
    assert!(rows.is_empty());
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn errors(root: &Path) -> Vec<serde_json::Value> {
    json_rows(root, "SELECT table_name, path, kind, message FROM scan_errors WHERE table_name = 'installed_software'")
}

/// A dpkg run interrupted after writing its journal: dpkg-query applies
/// `updates/NNNN` over the status file, and so must we.
#[test]
fn the_updates_journal_is_applied_as_dpkg_does() {
    let dir = tempfile::tempdir().unwrap();
    let stanza = |name: &str, status: &str, arch: &str, version: &str| {
        format!(
            "Package: {name}\nStatus: {status}\nMaintainer: M <m@example.org>\nArchitecture: {arch}\nVersion: {version}\nDescription: {name}\n\n"
        )
    };
    // Two architectures of one package are allowed only for `Multi-Arch: same`.
    let multi_arch = |s: String| s.replace("Architecture:", "Multi-Arch: same\nArchitecture:");
    let status = [
        stanza("alpha", "install ok installed", "amd64", "1.0"),
        stanza("beta", "install ok installed", "all", "2.0"),
        multi_arch(stanza("delta", "install ok installed", "amd64", "4.0")),
        multi_arch(stanza("delta", "install ok installed", "i386", "4.0")),
    ]
    .concat();
    write(dir.path(), "var/lib/dpkg/status", status.as_bytes());
    // Removed to its configuration, a new package, an upgrade replayed twice
    // (the later record wins), one architecture of two purged, and dpkg's
    // temporary file, which is not a record.
    write(
        dir.path(),
        "var/lib/dpkg/updates/0000",
        stanza("alpha", "deinstall ok config-files", "amd64", "1.0").as_bytes(),
    );
    write(dir.path(), "var/lib/dpkg/updates/0001", stanza("gamma", "install ok installed", "amd64", "3.0").as_bytes());
    write(dir.path(), "var/lib/dpkg/updates/0002", stanza("beta", "install ok unpacked", "all", "2.1").as_bytes());
    write(dir.path(), "var/lib/dpkg/updates/0010", stanza("beta", "install ok installed", "all", "2.1").as_bytes());
    write(
        dir.path(),
        "var/lib/dpkg/updates/0011",
        multi_arch(stanza("delta", "purge ok not-installed", "i386", "4.0")).as_bytes(),
    );
    write(dir.path(), "var/lib/dpkg/updates/tmp.i", stanza("beta", "install ok installed", "all", "9.9").as_bytes());
    let rows =
        json_rows(dir.path(), "SELECT identifier, version, status, path FROM installed_software ORDER BY identifier");
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["identifier"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "alpha:amd64 1.0 deinstall ok config-files /var/lib/dpkg/updates/0000",
            "beta:all 2.1 install ok installed /var/lib/dpkg/updates/0010",
            "delta:amd64 4.0 install ok installed /var/lib/dpkg/status",
            "gamma:amd64 3.0 install ok installed /var/lib/dpkg/updates/0001",
        ]
    );
    assert!(errors(dir.path()).is_empty());
    if peer("dpkg-query") {
        assert_eq!(embargo_installed(dir.path()), dpkg_installed(&dir.path().join("var/lib/dpkg")));
    }
    // A corrupt journal record costs only itself.
    write(dir.path(), "var/lib/dpkg/updates/0012", b"\x00\xff garbage\n\nPackage: x\n\n");
    let again =
        json_rows(dir.path(), "SELECT identifier, version, status, path FROM installed_software ORDER BY identifier");
    assert_eq!(again, rows);
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e["path"] == "/var/lib/dpkg/updates/0012" && e["kind"] == "parse_error"), "{errs:?}");
}

#[cfg(unix)]
#[test]
fn a_status_file_linked_out_of_the_root_is_not_followed() {
    // The host's own status file is what a hostile image would try to make us read.
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "status", b"Package: analysts-secret\nStatus: install ok installed\n\n");
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("status"), dir.path().join("var/lib/dpkg/status")).unwrap();
    let rows = json_rows(dir.path(), "SELECT name FROM installed_software");
    assert!(rows.is_empty(), "read outside the root: {rows:?}");
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["path"], "/var/lib/dpkg/status");
    assert_eq!(errs[0]["kind"], "not_found");
    // A relative link climbing out lands on the root's own file instead.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "status", b"Package: inside\nStatus: install ok installed\n\n");
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../status", dir.path().join("var/lib/dpkg/status")).unwrap();
    let rows = json_rows(dir.path(), "SELECT name FROM installed_software");
    assert_eq!(rows, vec![serde_json::json!({"name": "inside"})]);
}

#[test]
fn malformed_stanzas_cost_only_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let mut status = Vec::new();
    status.extend_from_slice(b"Package: good-one\nStatus: install ok installed\nVersion: 1.0\n\n");
    status.extend_from_slice(b"\x00\xff\xfe garbage \x01\x02\n\n");
    status.extend_from_slice(b"Package: no-status\nVersion: 2\n\n");
    status.extend_from_slice(b"Package: good-two\nStatus: install ok installed\nVersion: 2.0\n\n");
    // Truncated mid-stanza, as a crash during a dpkg run leaves it.
    status.extend_from_slice(b"Package: trunc");
    write(dir.path(), "var/lib/dpkg/status", &status);
    let o = embargo(&[
        "--root",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "query",
        "SELECT name FROM installed_software ORDER BY 1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows, vec![serde_json::json!({"name": "good-one"}), serde_json::json!({"name": "good-two"})]);
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 3, "one row per bad stanza: {errs:?}");
    for e in &errs {
        assert_eq!(e["table_name"], "installed_software");
        assert_eq!(e["path"], "/var/lib/dpkg/status");
        assert_eq!(e["kind"], "parse_error");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    let fifo = dir.path().join("var/lib/dpkg/status");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["kind"], "not_regular_file");
}

#[test]
fn binary_garbage_everywhere_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic pseudo-random bytes with some newlines and colons.
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            [b'\n', b':', b' ', (x & 0xff) as u8][(x >> 8) as usize % 4]
        })
        .collect();
    write(dir.path(), "var/lib/dpkg/status", &bytes);
    write(dir.path(), "etc/os-release", &bytes[..5000]);
    write(dir.path(), "etc/hostname", &bytes[..100]);
    let o = embargo(&[
        "--root",
        dir.path().to_str().unwrap(),
        "query",
        "SELECT count(*) FROM installed_software; SELECT * FROM scan_host; SELECT count(*) FROM scan_errors",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A file the scanning user may not read is one `permission_denied` row; the
/// rest of the scan goes on. Root reads everything, so as root the binary is
/// run as `nobody` through util-linux's setpriv.
#[cfg(unix)]
#[test]
fn an_unreadable_status_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "var/lib/dpkg/status", b"Package: a\nStatus: install ok installed\n\n");
    write(dir.path(), "etc/hostname", b"locked-host\n");
    std::fs::set_permissions(dir.path().join("var/lib/dpkg/status"), std::fs::Permissions::from_mode(0o000)).unwrap();
    for d in ["", "var", "var/lib", "var/lib/dpkg", "etc"] {
        std::fs::set_permissions(dir.path().join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(dir.path().join("etc/hostname"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let root = dir.path().to_str().unwrap();
    let sql =
        "SELECT kind, path FROM scan_errors WHERE table_name = 'installed_software'; SELECT hostname FROM scan_host";
    let bin = env!("CARGO_BIN_EXE_embargo");
    let is_root = unsafe { libc::geteuid() } == 0;
    // `nobody` may not be able to reach the build directory: run a copy.
    let bin_dir = tempfile::tempdir().unwrap();
    let mut cmd = if is_root {
        if !peer("setpriv") {
            return;
        }
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = bin_dir.path().join("embargo");
        std::fs::copy(bin, &copy).unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(&copy);
        c
    } else {
        std::process::Command::new(bin)
    };
    let o = cmd.args(["--root", root, "--format", "jsonl", "query", sql]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"kind\": \"permission_denied\", \"path\": \"/var/lib/dpkg/status\"}\n{\"hostname\": \"locked-host\"}\n"
    );
}

/// dpkg-query's verdict on an admindir: `Some(installed name:arch)` when it
/// reads the database, `None` when it refuses it.
fn dpkg_query_reads(admindir: &Path) -> Option<BTreeSet<String>> {
    let o = std::process::Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f=${Package}:${Architecture} ${db:Status-Status}\\n"])
        .output()
        .unwrap();
    o.status.success().then(|| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, state)| *state == "installed")
            .map(|(pkg, _)| pkg.to_string())
            .collect()
    })
}

fn rows_with_path(root: &Path) -> Vec<String> {
    json_rows(root, "SELECT identifier, version, status, path FROM installed_software ORDER BY identifier")
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["identifier"].as_str().unwrap(),
                r["version"].as_str().unwrap_or("-"),
                r["status"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

const JOURNAL_BASE: &str = "Package: alpha\nStatus: install ok installed\nMaintainer: M <m@example.org>\n\
    Architecture: amd64\nVersion: 1.0\nDescription: a\n\n\
    Package: beta\nStatus: install ok installed\nMaintainer: M <m@example.org>\n\
    Architecture: all\nVersion: 2.0\nDescription: b\n\n";

/// A journal record cut short — in a value, after a whole line, in the
/// Status line — is one scan_errors row, and the package keeps the record
/// before it. dpkg-query refuses each such journal ("missing final
/// newline", "missing 'Version' field"); without the broken file it lists
/// exactly what embargo lists with it.
#[test]
fn a_half_written_journal_record_costs_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "var/lib/dpkg/status", JOURNAL_BASE.as_bytes());
    // A good record before the broken one: dpkg wrote it whole.
    write(
        dir.path(),
        "var/lib/dpkg/updates/0001",
        b"Package: gamma\nStatus: install ok installed\nMaintainer: M <m@example.org>\nArchitecture: amd64\n\
          Version: 3.0\nDescription: g\n",
    );
    let admindir = dir.path().join("var/lib/dpkg");
    let expected = [
        "alpha:amd64 1.0 install ok installed /var/lib/dpkg/status",
        "beta:all 2.0 install ok installed /var/lib/dpkg/status",
        "gamma:amd64 3.0 install ok installed /var/lib/dpkg/updates/0001",
    ];
    assert_eq!(rows_with_path(dir.path()), expected);
    let whole = peer("dpkg-query").then(|| dpkg_query_reads(&admindir).expect("dpkg-query reads the whole journal"));
    if let Some(whole) = &whole {
        assert_eq!(&embargo_installed(dir.path()), whole);
    }
    let upgrade = "Package: alpha\nStatus: install ok installed\nMaintainer: M <m@example.org>\nArchitecture: amd64\n\
                   Version: 1.1\nDescription: a\n";
    let cut_in_version = &upgrade[..upgrade.find("1.1").unwrap() + 2];
    let cut_after_maintainer = &upgrade[..upgrade.find("Architecture").unwrap()];
    let cut_in_status = &upgrade[..upgrade.find("installed").unwrap() + 4];
    for (cut, why) in [
        (cut_in_version, "the record ends without a final newline"),
        (cut_after_maintainer, "no Version field, which dpkg requires in state installed"),
        (cut_in_status, "the record ends without a final newline"),
    ] {
        write(dir.path(), "var/lib/dpkg/updates/0002", cut.as_bytes());
        assert_eq!(rows_with_path(dir.path()), expected, "{cut:?}");
        let errs = errors(dir.path());
        assert_eq!(errs.len(), 1, "{cut:?}: {errs:?}");
        assert_eq!(errs[0]["path"], "/var/lib/dpkg/updates/0002");
        assert_eq!(errs[0]["kind"], "parse_error");
        assert!(errs[0]["message"].as_str().unwrap().contains(why), "{cut:?}: {errs:?}");
        if whole.is_some() {
            assert_eq!(dpkg_query_reads(&admindir), None, "dpkg-query accepted {cut:?}");
        }
    }
    // The whole record, written as dpkg writes it, is applied.
    write(dir.path(), "var/lib/dpkg/updates/0002", upgrade.as_bytes());
    assert_eq!(rows_with_path(dir.path())[0], "alpha:amd64 1.1 install ok installed /var/lib/dpkg/updates/0002");
    assert!(errors(dir.path()).is_empty());
    if whole.is_some() {
        assert_eq!(dpkg_query_reads(&admindir).as_ref(), Some(&embargo_installed(dir.path())));
    }
    // Cut right after its first line, a record has no Status: dpkg would
    // take that as not-installed and lose the package; embargo keeps the
    // complete record before it and reports this one.
    write(dir.path(), "var/lib/dpkg/updates/0002", b"Package: alpha\n");
    assert_eq!(rows_with_path(dir.path()), expected);
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]["message"].as_str().unwrap().contains("no Status field"), "{errs:?}");
}

/// dpkg refuses a journal whose numbered names are too long or of mixed
/// lengths; a scan says so and goes on.
#[test]
fn journal_names_dpkg_refuses_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "var/lib/dpkg/status", JOURNAL_BASE.as_bytes());
    let rec = |v: &str| {
        format!(
            "Package: beta\nStatus: install ok installed\nMaintainer: M\nArchitecture: all\nVersion: {v}\nDescription: b\n"
        )
    };
    write(dir.path(), "var/lib/dpkg/updates/00000000001", rec("9.9").as_bytes());
    let admindir = dir.path().join("var/lib/dpkg");
    if peer("dpkg-query") {
        assert_eq!(dpkg_query_reads(&admindir), None);
    }
    assert_eq!(rows_with_path(dir.path())[1], "beta:all 2.0 install ok installed /var/lib/dpkg/status");
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["path"], "/var/lib/dpkg/updates/00000000001");
    std::fs::remove_file(dir.path().join("var/lib/dpkg/updates/00000000001")).unwrap();
    // 9 < 10 numerically; dpkg would sort `10` first, were it to read them.
    write(dir.path(), "var/lib/dpkg/updates/9", rec("2.1").as_bytes());
    write(dir.path(), "var/lib/dpkg/updates/10", rec("2.2").as_bytes());
    if peer("dpkg-query") {
        assert_eq!(dpkg_query_reads(&admindir), None);
    }
    assert_eq!(rows_with_path(dir.path())[1], "beta:all 2.2 install ok installed /var/lib/dpkg/updates/10");
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["path"], "/var/lib/dpkg/updates");
    assert!(errs[0]["message"].as_str().unwrap().contains("different lengths (1 and 2 digits"), "{errs:?}");
}

/// A distroless image: no status file, one control stanza per package in
/// status.d, mostly without Status. The packages are installed; the
/// md5sums files are not records; a stanza without a name is an error.
#[test]
fn distroless_status_d_is_read() {
    // From the fixture's files (see its README).
    distroless_root_reads_as(
        &fixture("roots/distroless-mini"),
        &[
            "base-files:amd64 12.4+deb12u5 [install ok installed] 1 /var/lib/dpkg/status.d/multiple",
            "libsqlite3-0:amd64 3.40.1-2 [installed] 1 /var/lib/dpkg/status.d/libsqlite3-0",
            "no-version - [installed] 1 /var/lib/dpkg/status.d/multiple",
            "tzdata:all 2024a-0+deb12u1 [install ok installed] 1 /var/lib/dpkg/status.d/multiple",
        ],
    );
}

/// The same on a real distroless image's file (arm64, Debian 11) and syft's
/// hostile sample (tests/real-world.sh fetches them from anchore/syft).
#[test]
fn real_distroless_status_d_is_read() {
    let Some(root) = real_data("dpkg/distroless") else { return };
    // From the files' own lines.
    distroless_root_reads_as(
        &root,
        &[
            "libsqlite3-0:arm64 3.34.1-3 [installed] 1 /var/lib/dpkg/status.d/libsqlite3-0",
            "no-version - [installed] 1 /var/lib/dpkg/status.d/multiple",
            "tzdata:all 2020a-0+deb10u1 [install ok installed] 1 /var/lib/dpkg/status.d/multiple",
            "util-linux:amd64 2.33.1-0.1 [install ok installed] 1 /var/lib/dpkg/status.d/multiple",
        ],
    );
}

fn distroless_root_reads_as(root: &Path, want: &[&str]) {
    let root = root.to_path_buf();
    let rows = json_rows(
        &root,
        "SELECT identifier, version, status, installed, size, publisher, path FROM installed_software ORDER BY identifier",
    );
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} [{}] {} {}",
                r["identifier"].as_str().unwrap(),
                r["version"].as_str().unwrap_or("-"),
                r["status"].as_str().unwrap(),
                r["installed"],
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(got, want);
    let errs = errors(&root);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["path"], "/var/lib/dpkg/status.d/multiple");
    assert!(errs[0]["message"].as_str().unwrap().contains("no Package field"), "{errs:?}");

    // dpkg-query reads the same stanzas once they are a status file (with
    // the Status a distroless record lacks, and without the two it would
    // refuse): every field embargo reports must be what dpkg-query says.
    if !peer("dpkg-query") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut status = String::new();
    for f in ["libsqlite3-0", "multiple"] {
        let text = std::fs::read_to_string(root.join("var/lib/dpkg/status.d").join(f)).unwrap();
        for stanza in text.split("\n\n").map(str::trim_end).filter(|s| s.contains("\nVersion: ")) {
            let stanza = match stanza.contains("\nStatus: ") {
                true => stanza.to_string(),
                false => stanza.replacen('\n', "\nStatus: install ok installed\n", 1),
            };
            status.push_str(&stanza);
            status.push_str("\n\n");
        }
    }
    write(dir.path(), "status", status.as_bytes());
    let admindir = format!("--admindir={}", dir.path().display());
    let theirs: BTreeSet<String> = run_peer(
        "dpkg-query",
        &[&admindir, "-W", "-f=${Package}:${Architecture} ${Version} ${Installed-Size} ${Maintainer}\\n"],
    )
    .lines()
    .map(str::to_string)
    .collect();
    let ours: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["version"].is_string())
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["identifier"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
                r["size"].as_i64().unwrap() / 1024,
                r["publisher"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ours.len(), 3);
    assert_eq!(ours, theirs);
}

/// Where a root has both, the status file's record of a package wins over
/// its status.d record, and the package is listed once.
#[test]
fn the_status_file_wins_over_status_d() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("roots/distroless-mini/var/lib/dpkg/status.d/libsqlite3-0");
    write(dir.path(), "var/lib/dpkg/status.d/libsqlite3-0", &std::fs::read(src).unwrap());
    write(
        dir.path(),
        "var/lib/dpkg/status",
        b"Package: libsqlite3-0\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 3.40.1-2\n\n",
    );
    assert_eq!(
        rows_with_path(dir.path()),
        ["libsqlite3-0:amd64 3.40.1-2 deinstall ok config-files /var/lib/dpkg/status"]
    );
    assert!(errors(dir.path()).is_empty());
}
