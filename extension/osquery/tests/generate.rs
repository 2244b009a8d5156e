//! `generate` through the protocol on fixture roots: rows as osquery reads
//! them (every value a string, NULL an absent key), checked against
//! dpkg-query and the fixtures' recipes; constraints as osquery sends them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use embargo_osquery::client;
use embargo_osquery::protocol::StringMap;

const T: Duration = Duration::from_secs(30);

type Row = BTreeMap<String, String>;

/// osquery's context JSON for `constraints` (column, op, expr), every
/// other column of the table listed with an empty list, as
/// `setRequestFromContext` writes it.
fn context(table: &str, constraints: &[(&str, i32, &str)]) -> String {
    let spec = embargo_tables::tables::find(table).unwrap().spec();
    let cols: Vec<serde_json::Value> = spec
        .columns
        .iter()
        .map(|c| {
            let list: Vec<serde_json::Value> = constraints
                .iter()
                .filter(|(n, ..)| *n == c.name)
                .map(|(_, op, expr)| serde_json::json!({"op": op, "expr": expr}))
                .collect();
            serde_json::json!({"name": c.name, "list": list, "affinity": c.ty.sql()})
        })
        .collect();
    let used: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    serde_json::json!({"constraints": cols, "colsUsed": used, "colsUsedBitset": (1u64 << used.len()) - 1}).to_string()
}

fn generate(socket: &Path, table: &str, ctx: &str) -> Result<Vec<Row>, (i32, String)> {
    let request: StringMap = vec![("action".into(), "generate".into()), ("context".into(), ctx.into())];
    let resp = client::call_plugin(socket, T, "table", table, &request).unwrap();
    let st = resp.status.expect("status set");
    if st.code != 0 {
        return Err((st.code, st.message));
    }
    Ok(resp.response.into_iter().map(|r| r.into_iter().collect()).collect())
}

fn start_on(root: &Path, extra: &[&str]) -> Running {
    let mut args = vec!["--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    Running::start(&args)
}

/// dpkg-query's view of the fixture: Package → (Version, Architecture,
/// Installed-Size, Status).
fn dpkg_query(admindir: &Path) -> BTreeMap<String, (String, String, String, String)> {
    let out = std::process::Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f=${Package}\t${Version}\t${Architecture}\t${Installed-Size}\t${Status}\n"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), (f[1].to_string(), f[2].to_string(), f[3].to_string(), f[4].to_string()))
        })
        .collect()
}

#[test]
fn installed_software_agrees_with_dpkg_query_as_strings() {
    if !embargo_tables::testing::peer_available("dpkg-query") {
        return;
    }
    let root = fixture("roots/debian-mini");
    let run = start_on(&root, &[]);
    let rows = generate(&run.socket, "installed_software", &context("installed_software", &[])).unwrap();
    let theirs = dpkg_query(&root.join("var/lib/dpkg"));
    assert_eq!(rows.len(), theirs.len());
    for r in &rows {
        let name = &r["name"];
        let (version, arch, kib, status) = &theirs[name];
        assert_eq!(&r["version"], version, "{name}");
        assert_eq!(&r["arch"], arch, "{name}");
        assert_eq!(&r["status"], status, "{name}");
        assert_eq!(r["source"], "deb");
        assert_eq!(r["identifier"], format!("{name}:{arch}"));
        // Integers in decimal: Installed-Size is KiB, `size` bytes.
        let kib: i64 = kib.parse().unwrap();
        assert_eq!(r["size"], (kib * 1024).to_string(), "{name}");
        let installed = status.ends_with(" installed");
        assert_eq!(r["installed"], if installed { "1" } else { "0" }, "{name}");
        // NULL is an absent key, never an empty string.
        assert!(!r.contains_key("user"), "{name}: {r:?}");
        assert!(r.values().all(|v| !v.is_empty()), "{name}: {r:?}");
    }
    // The recipe (make-debian-mini.sh) holds bash on hold.
    let bash = rows.iter().find(|r| r["name"] == "bash").unwrap();
    assert_eq!(bash["status"], "hold ok installed");
}

/// `source IN ('rpm')` arrives as one op-2 entry, `IN ('deb', 'rpm')` as
/// two: the generator reads only the sources asked for. (A TTL of 0: within
/// one scan, rows made without constraints serve the constrained calls
/// after them, which osquery filters.)
#[test]
fn equals_and_in_reach_the_generator() {
    let root = fixture("roots/debian-mini");
    let run = start_on(&root, &["--cache-ttl", "0"]);
    let all = generate(&run.socket, "installed_software", &context("installed_software", &[])).unwrap();
    assert!(!all.is_empty());
    let rpm =
        generate(&run.socket, "installed_software", &context("installed_software", &[("source", 2, "rpm")])).unwrap();
    assert!(rpm.is_empty(), "{rpm:?}");
    let both = context("installed_software", &[("source", 2, "rpm"), ("source", 2, "deb")]);
    assert_eq!(
        generate(&run.socket, "installed_software", &context("installed_software", &[("source", 2, "deb")]))
            .unwrap()
            .len(),
        all.len()
    );
    assert_eq!(generate(&run.socket, "installed_software", &both).unwrap().len(), all.len());
    // Other operators are hints: all rows, osquery filters.
    let gt = context("installed_software", &[("size", 4, "100000000000")]);
    assert_eq!(generate(&run.socket, "installed_software", &gt).unwrap().len(), all.len());
    // Old osquery: op as a string, an empty list as "".
    let old = r#"{"constraints":[{"name":"source","list":[{"op":"2","expr":"rpm"}],"affinity":"TEXT"},{"name":"name","list":"","affinity":"TEXT"}]}"#;
    assert!(generate(&run.socket, "installed_software", old).unwrap().is_empty());
}

#[test]
fn file_presence_needs_its_required_path_and_finds_what_the_root_has() {
    let root = fixture("roots/debian-mini");
    let run = start_on(&root, &[]);
    let (code, message) = generate(&run.socket, "file_presence", &context("file_presence", &[])).unwrap_err();
    assert_eq!(code, 1);
    let spec = embargo_tables::tables::find("file_presence").unwrap().spec();
    let expected =
        embargo_tables::query::Builder::new(spec, embargo_tables::query::Folding::Union).build().unwrap_err();
    assert_eq!(message, expected.to_string(), "the text every surface shows");

    let ctx = context("file_presence", &[("path", 2, "/etc/os-release"), ("path", 2, "/opt/kaspersky")]);
    let rows = generate(&run.socket, "file_presence", &ctx).unwrap();
    let by_path: BTreeMap<&str, &Row> = rows.iter().map(|r| (r["path"].as_str(), r)).collect();
    assert_eq!(by_path.len(), 2, "{rows:?}");
    let os_release = by_path["/etc/os-release"];
    let meta = std::fs::metadata(root.join("etc/os-release")).unwrap();
    assert_eq!(os_release["exists"], "1");
    assert_eq!(os_release["size"], meta.len().to_string());
    assert_eq!(by_path["/opt/kaspersky"]["exists"], "0");
}

/// Problems are rows of scan_errors, read as a table of its own.
#[test]
fn scan_errors_lists_the_problems_of_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/os-release"), "ID=debian\n").unwrap();
    // A directory where dpkg's status file belongs.
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg/status")).unwrap();
    let run = start_on(dir.path(), &[]);
    let rows = generate(&run.socket, "scan_errors", &context("scan_errors", &[])).unwrap();
    let hit = rows
        .iter()
        .find(|r| r["table_name"] == "installed_software" && r["path"] == "/var/lib/dpkg/status")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(hit["kind"], "not_regular_file");
    assert!(!hit["message"].is_empty());
}

/// Calls within the TTL read one scan (one clock: scan_host.scanned_at);
/// with a TTL of 0 every call is a fresh scan.
#[test]
fn calls_within_the_ttl_share_one_scan() {
    let root = fixture("roots/debian-mini");
    let scanned_at = |run: &Running| {
        let rows = generate(&run.socket, "scan_host", &context("scan_host", &[])).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["os_family"], "linux");
        rows[0]["scanned_at"].parse::<i64>().unwrap()
    };
    let run = start_on(&root, &["--cache-ttl", "30"]);
    let first = scanned_at(&run);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(scanned_at(&run), first);
    drop(run);
    let run = start_on(&root, &["--cache-ttl", "0"]);
    let first = scanned_at(&run);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(scanned_at(&run) > first);
}

#[test]
fn catalog_tables_and_as_of_come_through() {
    let root = fixture("roots/debian-mini");
    let run = start_on(&root, &["--as-of", "2025-09-29"]);
    let vendors =
        generate(&run.socket, "banned_vendors", &context("banned_vendors", &[("vendor_id", 2, "kaspersky")])).unwrap();
    assert!(vendors.iter().all(|r| r["vendor_id"] == "kaspersky") && !vendors.is_empty(), "{vendors:?}");
    let host = generate(&run.socket, "scan_host", &context("scan_host", &[])).unwrap();
    // 2025-09-29T00:00:00Z (`date -u -d 2025-09-29 +%s`).
    assert_eq!(host[0]["as_of"], "1759104000");
}
