//! The evidence model (queries/lib/findings.sql) on hand-made source rows.
//! A temp table named like a collector's table shadows it, so each test
//! decides exactly what the host holds; the catalog tables stay real.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use embargo_catalog::canned;
use embargo_sqlite::ScanSlot;
use embargo_tables::{Engine, Root};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

fn connect(root: &Path) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    embargo_sqlite::register(&conn, ScanSlot::new(Arc::new(Engine::new(Root::new(root).unwrap())))).unwrap();
    conn
}

/// Shadows every source table with an empty temp table of the same columns.
fn shadow_sources(conn: &Connection) {
    for name in [
        "installed_software",
        "installed_services",
        "installed_certificates",
        "running_processes",
        "browser_extensions",
    ] {
        let table = embargo_tables::tables::all().iter().find(|t| t.spec().name == name).unwrap();
        let cols: Vec<&str> = table.spec().columns.iter().map(|c| c.name).collect();
        conn.execute_batch(&format!("CREATE TEMP TABLE {name}(\"{}\")", cols.join("\", \""))).unwrap();
    }
}

fn insert(conn: &Connection, table: &str, row: &[(&str, Value)]) {
    let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; row.len()].join(", ");
    conn.execute(
        &format!("INSERT INTO temp.{table}(\"{}\") VALUES ({marks})", cols.join("\", \"")),
        params_from_iter(row.iter().map(|(_, v)| v.clone())),
    )
    .unwrap();
}

/// (vendor_id, evidence, name, indicator) of every finding.
fn findings(conn: &Connection) -> Vec<(String, String, String, String)> {
    conn.execute_batch(&canned::materialize_findings()).unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT vendor_id, evidence, name, indicator FROM temp.{} ORDER BY 1, 2, 3, 4",
            canned::FINDINGS_TABLE
        ))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn a_process_is_found_by_its_executable_name_too() {
    let dir = tempfile::tempdir().unwrap();
    // A Windows root: the catalog's process indicators are Windows ones.
    std::fs::create_dir_all(dir.path().join("Windows/System32/config")).unwrap();
    std::fs::write(dir.path().join("Windows/System32/config/SOFTWARE"), "regf").unwrap();
    let conn = connect(dir.path());
    shadow_sources(&conn);
    let procs = [
        ("renamed.exe", Some(r"C:\Program Files (x86)\Kaspersky Lab\Kaspersky 21.3\avp.exe")),
        ("avpui.exe", None),
        ("x", Some(r"C:\tools\")),
        ("y", Some("/")),
        ("klogd", Some("/usr/sbin/klogd")),
        ("mixed", Some(r"D:/Apps\kl/avpsus.exe")),
    ];
    for (i, (name, path)) in procs.iter().enumerate() {
        insert(
            &conn,
            "running_processes",
            &[("pid", Value::Integer(i as i64 + 100)), ("name", text(name)), ("path", path.map_or(Value::Null, text))],
        );
    }
    let got = findings(&conn);
    let expected = [
        ("kaspersky", "process", "avpui.exe", "process exact avpui.exe"),
        ("kaspersky", "process", "mixed", "process exact avpsus.exe"),
        ("kaspersky", "process", "renamed.exe", "process exact avp.exe"),
    ];
    let got: Vec<(&str, &str, &str, &str)> =
        got.iter().map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str())).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_regex_indicator_runs_only_on_values_holding_its_needle() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path());
    shadow_sources(&conn);
    // Count the regex runs with a stand-in registered over the real one.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    conn.create_scalar_function("regex_match", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        counted.fetch_add(1, Ordering::Relaxed);
        let (value, pattern): (Option<String>, String) = (ctx.get(0)?, ctx.get(1)?);
        let re = regex::Regex::new(&pattern).unwrap();
        Ok(value.and_then(|v| re.find(&v).map(|m| m.as_str().to_string())))
    })
    .unwrap();
    let publishers = [
        ("adduser", "Debian Adduser Developers <adduser@packages.debian.org>"),
        ("nvr-client", "Zhejiang Dahua Technology Co., Ltd."),
        ("smartpss", "Dahua Tech Inc"),
        ("noodles", "Dahuang Ltd"),
    ];
    for (name, publisher) in publishers {
        insert(
            &conn,
            "installed_software",
            &[
                ("name", text(name)),
                ("publisher", text(publisher)),
                ("installed", Value::Integer(1)),
                ("source", text("deb")),
            ],
        );
    }
    let got = findings(&conn);
    let names: Vec<(&str, &str)> = got.iter().map(|(v, _, n, _)| (v.as_str(), n.as_str())).collect();
    // "Zhejiang Dahua …" matches exactly and by the regex; the best one is kept.
    assert_eq!(names, [("dahua", "nvr-client"), ("dahua", "smartpss")]);
    assert!(got.iter().any(|(_, _, n, i)| n == "smartpss" && i == r"publisher regex \bdahua\b"), "{got:?}");
    // Three publishers contain "dahua", none "hikvision": three regex runs,
    // where checking every publisher against both regexes would take eight.
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

/// The evidence model's text, whose CTEs a test may select from.
const EVIDENCE_MODEL: &str = include_str!("../../../queries/lib/findings.sql");

/// A value matching `hir`: the first alternative, each class's first (or,
/// with `late`, last) character, each repetition `min` (or `min + 1`) times.
fn instance(hir: &regex_syntax::hir::Hir, late: bool, out: &mut String) {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(l) => out.push_str(&String::from_utf8_lossy(&l.0)),
        HirKind::Class(Class::Unicode(c)) => {
            let r = if late { c.ranges().last() } else { c.ranges().first() };
            out.extend(r.map(|r| if late { r.end() } else { r.start() }));
        }
        HirKind::Class(Class::Bytes(c)) => {
            let r = if late { c.ranges().last() } else { c.ranges().first() };
            out.extend(r.map(|r| char::from(if late { r.end() } else { r.start() })));
        }
        HirKind::Repetition(r) => {
            let n = if late { r.max.map_or(r.min + 1, |m| m.min(r.min + 1)) } else { r.min };
            for _ in 0..n {
                instance(&r.sub, late, out);
            }
        }
        HirKind::Capture(c) => instance(&c.sub, late, out),
        HirKind::Concat(hs) => hs.iter().for_each(|h| instance(h, late, out)),
        HirKind::Alternation(hs) => instance(if late { hs.last().unwrap() } else { &hs[0] }, late, out),
    }
}

/// Values made from `pattern` that should match it, and near misses.
fn probes_for(i: &embargo_catalog::Indicator) -> Vec<String> {
    use embargo_catalog::MatchKind;
    let p = i.pattern.as_str();
    let mut hits: Vec<String> = match i.match_kind {
        MatchKind::Exact => vec![p.to_string()],
        MatchKind::Prefix => vec![format!("{p}x"), format!("{p}Agent 2.0")],
        MatchKind::Glob => vec![p.replace('*', "").replace('?', "q"), p.replace('*', "Xy-1").replace('?', "Q")],
        MatchKind::Regex => {
            let hir = regex_syntax::Parser::new().parse(p).unwrap();
            [false, true]
                .into_iter()
                .map(|late| {
                    let mut s = String::new();
                    instance(&hir, late, &mut s);
                    s
                })
                .collect()
        }
    };
    hits.extend(i.matcher().needle().map(str::to_string));
    let mut out = Vec::new();
    for h in hits {
        let mut shorter = h.clone();
        shorter.pop();
        out.extend([h.to_ascii_uppercase(), format!("x{h}"), format!("{h}x"), format!("{h} "), shorter, h]);
    }
    out
}

/// Rust's matcher (`Indicator::matches`) and the SQL one (the `hits` CTE of
/// queries/lib/findings.sql, as osquery runs it) find the same values for
/// every catalog indicator on every platform. Each value goes into every
/// column an indicator kind is compared with; the probes are each
/// indicator's own pattern made concrete, near misses around it, and known
/// look-alikes. Each indicator is also checked on its own: a probe made from
/// it that both matchers match, and one that neither does. Path indicators
/// are looked up in the root (`file_presence`), not compared with values:
/// [`path_indicators_are_found_exactly_when_their_path_exists`] covers them.
#[test]
fn the_rust_and_sql_matchers_agree_on_every_indicator() {
    use embargo_catalog::{Catalog, Kind, Platform};
    use std::collections::BTreeSet;
    let catalog = Catalog::embedded();
    let mut probes: BTreeSet<String> = catalog.indicators().flat_map(|(_, i)| probes_for(i)).collect();
    probes.extend(
        [
            "klogd",
            "klipper.service",
            "Kasperski",
            "Kasperski Bakery Root CA",
            "Kaspersky",
            "Kaspersky Lab",
            "avp.exe",
            "avp21",
            "AVP21.2",
            "avp21.2.3.4",
            "dahuang",
            "ultraav-x",
            "",
            " ",
            "kaspersky anti-virus personal root certificaté",
            "/C=RU/O=AO Kaspersky Lab/CN=Kaspersky Anti-Virus Personal Root Certificate",
            "CN=Kaspersky Anti-Virus Personal Root Certificate, O=AO Kaspersky Lab",
            "O = AO Kaspersky Lab, CN = Kaspersky Anti-Virus Personal Root Certificate",
            // The forged subject as it was rendered, and as installed_certificates renders it now.
            "/O=Acme/CN=Kaspersky Anti-Virus Personal Root Certificate/CN=Harmless Acme Root",
            r"/O=Acme\2FCN\3DKaspersky Anti-Virus Personal Root Certificate/CN=Harmless Acme Root",
            r"/CN=Harmless Comma Root/O=Acme\2C CN\3DKaspersky Anti-Virus Personal Root Certificate",
            r"/CN=Harmless Lab Root/OU=Acme\2FO\3DAO Kaspersky Lab",
        ]
        .map(str::to_string),
    );
    // Values differing only in ASCII case are one value to both matchers.
    let probes: Vec<String> = {
        let mut seen = BTreeSet::new();
        probes.into_iter().filter(|p| seen.insert(p.to_ascii_lowercase())).collect()
    };
    // The publisher column is trimmed and cut at `<` before matching.
    let as_publisher = |p: &str| p.trim() == p && !p.contains('<');

    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path());
    shadow_sources(&conn);
    conn.execute_batch("CREATE TEMP TABLE scan_host(hostname, os_family, as_of)").unwrap();
    for (n, p) in probes.iter().enumerate() {
        let id = text(&format!("probe{n}"));
        let publisher = if as_publisher(p) { text(p) } else { Value::Null };
        insert(
            &conn,
            "installed_software",
            &[("name", text(p)), ("publisher", publisher), ("identifier", text(p)), ("source", text("programs"))],
        );
        insert(&conn, "installed_services", &[("name", text(p)), ("kind", text("windows_service"))]);
        insert(&conn, "running_processes", &[("pid", Value::Integer(n as i64)), ("name", text(p))]);
        insert(&conn, "installed_certificates", &[("sha1", id), ("subject", text(p)), ("issuer", text(p))]);
        insert(&conn, "browser_extensions", &[("id", text(p)), ("browser", text("chrome"))]);
    }

    let column = |k: Kind| match k {
        Kind::Package => "name",
        Kind::ProductName => "product",
        Kind::Service | Kind::Driver => "service",
        k => k.as_str(),
    };
    let mut compared = 0;
    let mut matched = BTreeSet::new();
    // (vendor, indicator) → a probe of its own it matches and one it does not.
    let own: Vec<(&str, String, Option<String>, Option<String>)> = catalog
        .indicators()
        .filter(|(_, i)| i.kind != Kind::Path)
        .map(|(v, i)| {
            let mine: Vec<String> =
                probes_for(i).into_iter().filter(|p| i.kind != Kind::Publisher || as_publisher(p)).collect();
            let hit = mine.iter().find(|p| i.matches(p)).cloned();
            let miss = mine.iter().find(|p| !i.matches(p)).cloned();
            (v.id.as_str(), format!("{} {} {}", i.kind, i.match_kind, i.pattern), hit, miss)
        })
        .collect();
    let mut own_checked = BTreeSet::new();
    for os in [Platform::Linux, Platform::Windows, Platform::Macos] {
        conn.execute("DELETE FROM temp.scan_host", []).unwrap();
        conn.execute("INSERT INTO temp.scan_host VALUES ('probe', ?1, 0)", [os.as_str()]).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "{EVIDENCE_MODEL}\nSELECT DISTINCT vendor_id, indicator, ikind, lv FROM hits WHERE ikind <> 'path'"
            ))
            .unwrap();
        let sql: BTreeSet<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut rust = BTreeSet::new();
        for (v, i) in catalog.indicators() {
            if i.kind == Kind::Path || !(i.platform == Platform::All || i.platform == os) {
                continue;
            }
            for p in &probes {
                if i.kind == Kind::Publisher && !as_publisher(p) {
                    continue;
                }
                compared += 1;
                if i.matches(p) {
                    let indicator = format!("{} {} {}", i.kind, i.match_kind, i.pattern);
                    matched.insert(indicator.clone());
                    rust.insert((v.id.clone(), indicator, column(i.kind).to_string(), p.to_ascii_lowercase()));
                }
            }
        }
        for ((v, i), (vendor, indicator, hit, miss)) in
            catalog.indicators().filter(|(_, i)| i.kind != Kind::Path).zip(&own)
        {
            if !(i.platform == Platform::All || i.platform == os) {
                continue;
            }
            let key =
                |p: &str| (vendor.to_string(), indicator.clone(), column(i.kind).to_string(), p.to_ascii_lowercase());
            let (Some(hit), Some(miss)) = (hit, miss) else { continue };
            assert_eq!(v.id, *vendor);
            assert!(sql.contains(&key(hit)) && rust.contains(&key(hit)), "{os}: {indicator} does not match {hit:?}");
            assert!(!sql.contains(&key(miss)) && !rust.contains(&key(miss)), "{os}: {indicator} matches {miss:?}");
            own_checked.insert((vendor.to_string(), indicator.clone()));
        }
        eprintln!("{os}: {} matches in both", rust.intersection(&sql).count());
        let only_rust: Vec<_> = rust.difference(&sql).collect();
        let only_sql: Vec<_> = sql.difference(&rust).collect();
        assert!(only_rust.is_empty() && only_sql.is_empty(), "{os}: only Rust {only_rust:#?}\nonly SQL {only_sql:#?}");
    }
    // Every indicator is matched by some probe, so the agreement is not one of matching nothing.
    let unmatched: Vec<String> = catalog
        .indicators()
        .filter(|(_, i)| i.kind != Kind::Path)
        .map(|(_, i)| format!("{} {} {}", i.kind, i.match_kind, i.pattern))
        .filter(|i| !matched.contains(i))
        .collect();
    assert!(unmatched.is_empty(), "no probe matches {unmatched:#?}");
    let unchecked: Vec<_> =
        own.iter().filter(|(v, i, _, _)| !own_checked.contains(&(v.to_string(), i.clone()))).collect();
    assert!(unchecked.is_empty(), "no own hit and miss for {unchecked:#?}");
    assert!(compared > 100_000, "{compared} comparisons");
    // The forged subject, rendered as installed_certificates does, matches nothing.
    let forged = r"/O=Acme\2FCN\3DKaspersky Anti-Virus Personal Root Certificate/CN=Harmless Acme Root";
    assert_eq!(catalog.indicators().filter(|(_, i)| i.matches(forged)).count(), 0);
}

/// Path indicators through both matchers: the SQL one is `file_presence`
/// joined on the pattern, so a path indicator is found when its path exists
/// on the root, and the Rust one must say the same of the entries the root
/// holds. Each path indicator gets a root holding only one probe path at a
/// time (its directories exist with it): the pattern itself, a directory
/// below it, near misses (one character more or less, under another
/// directory) and, on a Windows root, the pattern in other cases, which
/// file_presence finds there as Windows would. Other cases are not probed on
/// Linux and macOS roots: file_presence looks paths up case-sensitively on
/// them while `Indicator::matches` ignores ASCII case.
#[test]
fn path_indicators_are_found_exactly_when_their_path_exists() {
    use embargo_catalog::{Catalog, Kind, Platform};
    use std::collections::BTreeSet;
    let catalog = Catalog::embedded();
    let mut checked = 0;
    for (os, marker, content) in [
        (Platform::Linux, None, &b""[..]),
        (Platform::Windows, Some("Windows/System32/config/SOFTWARE"), &b"regf\x01\0\0\0"[..]),
        (Platform::Macos, Some("System/Library/CoreServices/SystemVersion.plist"), &b"bplist00\xd1\x01\x02"[..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        if let Some(m) = marker {
            std::fs::create_dir_all(dir.path().join(m).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(m), content).unwrap();
        }
        let host: String = connect(dir.path()).query_row("SELECT os_family FROM scan_host", [], |r| r.get(0)).unwrap();
        assert_eq!(host, os.as_str(), "the marker makes a {os} root");
        let paths: Vec<_> = catalog
            .indicators()
            .filter(|(_, i)| i.kind == Kind::Path && (i.platform == Platform::All || i.platform == os))
            .collect();
        assert!(!paths.is_empty(), "{os} has path indicators");
        for (_, i) in &paths {
            let p = i.pattern.as_str();
            let own = format!("path exact {p}");
            let mut shorter = p.to_string();
            shorter.pop();
            let mut probes = vec![(p.to_string(), true), (format!("{p}/x"), true)];
            probes.extend([format!("{p}x"), shorter, format!("/x{p}")].map(|m| (m, false)));
            if os == Platform::Windows {
                probes.extend([(p.to_ascii_uppercase(), true), (p.to_ascii_lowercase(), true)]);
            }
            for (probe, found) in probes {
                let top = probe.split('/').nth(1).unwrap();
                assert!(marker.is_none_or(|m| !m.starts_with(top)), "{probe} would remove the marker");
                std::fs::create_dir_all(dir.path().join(&probe[1..])).unwrap();
                // A fresh scan each time: a Root remembers the directories it
                // has walked, so a path removed under it would still be seen.
                let conn = connect(dir.path());
                shadow_sources(&conn);
                let mut stmt = conn
                    .prepare(&format!(
                        "{EVIDENCE_MODEL}\nSELECT DISTINCT vendor_id, indicator FROM hits WHERE ikind = 'path'"
                    ))
                    .unwrap();
                let sql: BTreeSet<(String, String)> =
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
                // What the root holds: the probe and every directory above it.
                let entries: Vec<&str> =
                    probe.match_indices('/').skip(1).map(|(at, _)| &probe[..at]).chain([probe.as_str()]).collect();
                let rust: BTreeSet<(String, String)> = paths
                    .iter()
                    .filter(|(_, j)| entries.iter().any(|e| j.matches(e)))
                    .map(|(v, j)| (v.id.clone(), format!("{} {} {}", j.kind, j.match_kind, j.pattern)))
                    .collect();
                assert_eq!(sql, rust, "{os} root holding {probe:?}");
                let hit = sql.iter().any(|(_, ind)| *ind == own);
                assert_eq!(hit, found, "{os}: {own} on a root holding {probe:?}");
                std::fs::remove_dir_all(dir.path().join(top)).unwrap();
                checked += 1;
            }
        }
    }
    let all = catalog.indicators().filter(|(_, i)| i.kind == Kind::Path).count();
    assert!(checked >= all * 5, "{checked} roots for {all} path indicators");
}
