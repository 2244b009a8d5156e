//! A Kaspersky Endpoint Security for Linux install recorded only in an older
//! rpm backend (RHEL/CentOS 7's Berkeley DB `Packages`, big-endian as an
//! s390x host writes it; SUSE 15's NDB `Packages.db`) is found by `scan`.
//! The fixtures come from tests/fixtures/rpm/make-other-backends.sh; kesl's
//! vendor and version are its make.sh recipe (rpm's own reading of the
//! Berkeley DB file is checked in tables/tests/rpm_backends.rs).
mod common;

use common::*;
use serde_json::Value;

fn scan(root: &str) -> (Option<i32>, Value) {
    let r = fixture(root);
    let o = embargo(&["--root", r.to_str().unwrap(), "--as-of", "2025-09-29", "--format", "json", "scan"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{root}: {e}; {}", stderr(&o)));
    (o.status.code(), v)
}

#[test]
fn kesl_in_an_older_rpm_backend_is_a_finding() {
    for (root, path, packages) in [
        ("rpm/bdb-be", "/var/lib/rpm/Packages", 3),
        ("rpm/bdb-le", "/var/lib/rpm/Packages", 48),
        ("rpm/ndb", "/usr/lib/sysimage/rpm/Packages.db", 3),
    ] {
        let (code, v) = scan(root);
        assert_eq!(code, Some(1), "{root}: {v}");
        let findings: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["vendor_id"] == "kaspersky" && f["evidence"] == "software")
            .collect();
        assert_eq!(findings.len(), 1, "{root}: {findings:?}");
        let f = findings[0];
        assert_eq!((f["name"].as_str(), f["version"].as_str()), (Some("kesl"), Some("12.1.0.1297-1")), "{root}");
        assert_eq!(f["path"].as_str(), Some(path), "{root}");
        let rows = json_rows(&fixture(root), "SELECT count(*) AS n FROM installed_software WHERE source = 'rpm'");
        assert_eq!(rows[0]["n"], packages, "{root}");
        let errors = json_rows(&fixture(root), "SELECT * FROM scan_errors WHERE table_name = 'installed_software'");
        assert!(errors.is_empty(), "{root}: {errors:?}");
    }
}
