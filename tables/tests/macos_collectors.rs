//! The macOS collectors against tests/fixtures/macos: `root/` and `hostile/`
//! and `shaped/` (records in the shapes of plaso's and osquery's test data)
//! are written by make.py with Python's plistlib, and expected.json is what
//! plistlib reads back from them under the rules written in make.py; the real
//! test files themselves are read when `EMBARGO_REAL_DATA` is set
//! (tests/real-world.sh). Nothing here is embargo's own output.

use std::path::{Path, PathBuf};

use embargo_tables::collectors::{
    homebrew, kext, keychain, launchd, macos_apps, macos_version, receipts, trust_settings, x509,
};
use embargo_tables::{FsError, Root};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/macos")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

/// The records as JSON, sorted by `key`, to compare with expected.json
/// whatever order the folders were walked in.
fn sorted(mut v: Vec<Value>, key: &str) -> Value {
    v.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
    Value::Array(v)
}

fn sorted_expected(e: &Value, key: &str) -> Value {
    sorted(e.as_array().unwrap().clone(), key)
}

/// Every source of `root` as expected.json spells it, and the errors met.
fn collect(root: &Root) -> (Value, Vec<FsError>) {
    let mut errors = Vec::new();
    let mut report = |e: FsError| errors.push(e);
    let apps = macos_apps::read(root, &mut report)
        .into_iter()
        .map(|a| {
            json!({"install_location": a.install_location, "path": a.path, "identifier": a.info.identifier,
                "name": a.name(), "version": a.version(), "bundle_version": a.info.bundle_version, "user": a.user})
        })
        .collect();
    let receipts = receipts::read(root, &mut report)
        .into_iter()
        .map(|r| {
            json!({"identifier": r.identifier, "version": r.version, "install_time": r.install_time,
                "install_prefix": r.install_prefix, "path": r.path})
        })
        .collect();
    let brew = homebrew::read(root, &mut report)
        .into_iter()
        .map(|k| {
            json!({"name": k.name, "version": k.version, "kind": k.kind.as_str(), "prefix": k.prefix,
                "path": k.path, "install_time": k.install_time})
        })
        .collect();
    let jobs = launchd::read(root, &mut report)
        .into_iter()
        .map(|j| {
            json!({"label": j.label, "path": j.path, "program": j.exec_path(), "command": j.command(),
                "start_type": j.start_type(), "user": j.user})
        })
        .collect();
    let kexts = kext::read_kexts(root, &mut report)
        .into_iter()
        .map(|k| {
            json!({"identifier": k.info.identifier, "version": k.version(), "bundle_path": k.bundle_path,
                "path": k.path, "executable": k.executable_path()})
        })
        .collect();
    let sysext = kext::read_system_extensions(root, &mut report)
        .into_iter()
        .map(|s| {
            json!({"identifier": s.identifier, "team_id": s.team_id, "state": s.state, "version": s.version(),
                "categories": s.categories, "origin_path": s.origin_path})
        })
        .collect();
    let trust = trust_settings::read(root, &mut report)
        .into_iter()
        .map(|t| {
            json!({"sha1": t.sha1, "results": t.settings.iter().map(|s| s.result.as_str()).collect::<Vec<_>>(),
                "policies": t.settings.iter().map(|s| s.policy.clone()).collect::<Vec<_>>()})
        })
        .collect();
    let got = json!({
        "apps": sorted(apps, "path"), "receipts": sorted(receipts, "path"), "homebrew": sorted(brew, "path"),
        "launchd": sorted(jobs, "path"), "kexts": sorted(kexts, "path"), "system_extensions": sorted(sysext, "identifier"),
        "trust_settings": sorted(trust, "sha1"),
    });
    (got, errors)
}

fn check(root: &Root, e: &Value) {
    let (got, errors) = collect(root);
    assert!(errors.is_empty(), "{errors:#?}");
    for (source, key) in [
        ("apps", "path"),
        ("receipts", "path"),
        ("homebrew", "path"),
        ("launchd", "path"),
        ("kexts", "path"),
        ("system_extensions", "identifier"),
        ("trust_settings", "sha1"),
    ] {
        assert_eq!(got[source], sorted_expected(&e[source], key), "{source}");
    }
}

#[test]
fn the_fixture_root_reads_as_plistlib_reads_it() {
    let e = expected();
    let root = Root::new(dir().join("root")).unwrap();
    check(&root, &e);

    let v = macos_version::read_version(&root).unwrap().unwrap();
    let names = macos_version::read_host_names(&root).unwrap().unwrap();
    assert!(macos_version::is_macos(&root));
    assert_eq!(v.product_name.as_deref(), e["host"]["product_name"].as_str());
    assert_eq!(v.product_version.as_deref(), e["host"]["product_version"].as_str());
    assert_eq!(names.hostname().as_deref(), e["host"]["hostname"].as_str());

    let mut bad = Vec::new();
    let certs = keychain::read(&root, keychain::SYSTEM_KEYCHAIN, &mut |e| bad.push(e)).unwrap().unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let sha1: Vec<String> = certs.iter().map(|c| x509::parse_der(&c.der).unwrap().0.sha1).collect();
    assert_eq!(json!(sha1), e["keychain_sha1"]);
    assert_eq!(certs[0].print_name.as_deref(), Some("cert 0"));
}

#[test]
fn test_data_shapes_read_as_plistlib_reads_them() {
    let e = expected();
    let root = Root::new(dir().join("shaped")).unwrap();
    check(&root, &e["shaped"]);
    assert!(!macos_version::is_macos(&root));
    // make.py's password keychain: no certificate table; its schema must
    // still be walked without a complaint.
    let mut bad = Vec::new();
    let certs = keychain::read(&root, "/Users/test/Library/Keychains/login.keychain", &mut |e| bad.push(e)).unwrap();
    assert_eq!((certs.map(|c| c.len()), bad), (Some(0), vec![]));
}

/// plaso's and osquery's test files (launchd jobs, an Info.plist, a system
/// extension db, a real login.keychain), put in `$EMBARGO_REAL_DATA/macos`
/// by tests/real-world.sh; expected values from `make.py --expected`.
#[test]
fn public_test_data_reads_as_plistlib_reads_it() {
    let Some(data) = std::env::var_os("EMBARGO_REAL_DATA") else {
        eprintln!("skipping: EMBARGO_REAL_DATA is not set (fill a directory with tests/real-world.sh DIR)");
        return;
    };
    let real = PathBuf::from(data).join("macos");
    assert!(real.is_dir(), "{}: missing; run tests/real-world.sh", real.display());
    if !embargo_tables::testing::peer_available("python3") {
        return;
    }
    let out =
        std::process::Command::new("python3").arg(dir().join("make.py")).arg("--expected").arg(&real).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = Root::new(&real).unwrap();
    check(&root, &e);
    assert!(!macos_version::is_macos(&root));
    let mut bad = Vec::new();
    let certs = keychain::read(&root, "/Users/test/Library/Keychains/login.keychain", &mut |e| bad.push(e)).unwrap();
    assert_eq!((certs.map(|c| c.len()), bad), (Some(0), vec![]));
}

#[test]
fn the_trust_words_follow_the_settings() {
    let root = Root::new(dir().join("root")).unwrap();
    let entries = trust_settings::read(&root, &mut |e| panic!("{e}"));
    let kav = entries.iter().find(|t| t.settings.len() == 2).unwrap();
    assert_eq!((kav.trust(), kav.purposes()), ("trusted", vec!["server_auth"]));
    let denied = entries.iter().find(|t| t.settings.len() == 1).unwrap();
    assert_eq!((denied.trust(), denied.purposes()), ("distrusted", vec![]));
    assert!(kav.issuer.as_ref().is_some_and(|i| i[0] == 0x30) && kav.serial.is_some());
}

/// Each bad file is one error naming it; the good ones still come back.
#[test]
fn hostile_plists_are_errors_and_the_rest_still_reads() {
    let root = Root::new(dir().join("hostile")).unwrap();
    let mut errors = Vec::new();
    let apps = macos_apps::read(&root, &mut |e| errors.push(e));
    assert_eq!(apps.iter().map(|a| a.info.identifier.as_deref()).collect::<Vec<_>>(), [Some("com.example.good")]);
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort();
    let want: Vec<String> = ["BadOffset", "Cycle", "HugeCount", "Laughs", "Odd16", "Truncated"]
        .iter()
        .map(|n| format!("/Applications/{n}.app/Contents/Info.plist"))
        .collect();
    assert_eq!(paths, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(errors.iter().all(|e| e.kind == embargo_tables::ErrorKind::ParseError), "{errors:#?}");

    let mut errors = Vec::new();
    let jobs = launchd::read(&root, &mut |e| errors.push(e));
    assert_eq!(jobs.iter().map(|j| j.label.as_str()).collect::<Vec<_>>(), ["org.example.good"]);
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/Library/LaunchDaemons/org.example.garbage.plist", "/Library/LaunchDaemons/org.example.notadict.plist"]
    );
}

/// make.py run again writes the committed fixtures byte for byte.
#[test]
fn the_fixtures_are_reproducible() {
    if !embargo_tables::testing::peer_available("python3") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3").arg(dir().join("make.py")).arg(out.path()).status().unwrap();
    assert!(status.success());
    for sub in ["root", "hostile", "shaped"] {
        for entry in walk(&dir().join(sub)) {
            let rel = entry.strip_prefix(dir()).unwrap();
            assert_eq!(
                std::fs::read(&entry).unwrap(),
                std::fs::read(out.path().join(rel)).unwrap(),
                "{}",
                rel.display()
            );
        }
        assert_eq!(walk(&dir().join(sub)).len(), walk(&out.path().join(sub)).len(), "{sub}");
    }
    assert_eq!(
        std::fs::read(dir().join("expected.json")).unwrap(),
        std::fs::read(out.path().join("expected.json")).unwrap()
    );
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
