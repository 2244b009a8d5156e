//! The embedded catalog loads, says what the contract and the research say,
//! and is precise; a broken catalog is refused with the file, the line or
//! field, and the reason.

#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use embargo_catalog::{Catalog, CatalogError, Confidence, EMBEDDED_FILES, Kind, MatchKind, Platform, Problem, Scope};

fn embedded() -> std::sync::Arc<Catalog> {
    Catalog::embedded()
}

#[test]
fn the_embedded_catalog_loads_and_lists_every_file() {
    let c = embedded();
    let ids: Vec<&str> = c.vendors().iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["kaspersky", "ultraav", "huawei", "zte", "hytera", "hikvision", "dahua", "bytedance", "deepseek"]);
    // Every file in queries/catalog is compiled in (include_str! is listed by hand).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/catalog");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let embedded: BTreeSet<String> = EMBEDDED_FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, embedded);
    // Each file is named for its vendor.
    for v in c.vendors() {
        assert_eq!(v.file, format!("{}.toml", v.id));
    }
    // Loading the directory gives the same catalog.
    let from_dir = Catalog::from_path(dir).unwrap();
    assert_eq!(from_dir.indicators().count(), c.indicators().count());
}

#[test]
fn vendors_and_authorities_say_what_the_sources_say() {
    let c = embedded();
    let k = c.vendor("kaspersky").unwrap();
    assert!(k.banned);
    let ed = k.authorities.iter().find(|a| a.scope == Scope::AllUsPersons).unwrap();
    assert_eq!(ed.effective_date.unwrap().to_string(), "2024-07-20");
    assert_eq!(ed.updates_end_date.unwrap().to_string(), "2024-09-29");
    assert!(ed.citation.contains("89 FR 52434"));
    let names: Vec<&str> = k.entities.iter().map(|e| e.name.as_str()).collect();
    for n in ["AO Kaspersky Lab", "OOO Kaspersky Group", "Kaspersky Labs Limited"] {
        assert!(names.contains(&n), "{n}");
    }
    assert!(!c.vendor("ultraav").unwrap().banned);
    // Section 889 and the FCC list are equipment-only for the five equipment makers.
    for id in ["huawei", "zte", "hytera", "hikvision", "dahua"] {
        let v = c.vendor(id).unwrap();
        assert!(v.banned);
        assert!(!v.authorities.is_empty());
        assert!(v.authorities.iter().all(|a| a.scope == Scope::EquipmentOnly), "{id}");
    }
    let d = c.vendor("deepseek").unwrap();
    assert!(d.authorities.iter().all(|a| matches!(a.scope, Scope::StateAgency | Scope::AgencyDirective)));
    // Every authority and indicator names a source.
    for v in c.vendors() {
        assert!(v.authorities.iter().all(|a| !a.source.trim().is_empty()));
        assert!(v.indicators.iter().all(|i| !i.source.trim().is_empty()));
    }
}

#[test]
fn kaspersky_indicators_find_its_software_on_every_platform() {
    let c = embedded();
    let hits =
        |kind: Kind, value: &str| -> Vec<String> { c.matching(kind, value).map(|(v, _)| v.id.clone()).collect() };
    let kaspersky = |kind: Kind, value: &str| {
        let h = hits(kind, value);
        assert!(h.iter().any(|v| v == "kaspersky"), "{kind} {value:?} should match kaspersky, got {h:?}");
    };
    // Linux
    for p in ["kesl", "kesl-gui", "klnagent", "klnagent64"] {
        kaspersky(Kind::Package, p);
    }
    for s in ["kesl.service", "kesl-supervisor", "klnagent64.service"] {
        kaspersky(Kind::Service, s);
    }
    for p in ["/opt/kaspersky", "/opt/kaspersky/kesl", "/var/opt/kaspersky/kesl", "/etc/init.d/kesl"] {
        kaspersky(Kind::Path, p);
    }
    kaspersky(Kind::Process, "kesl");
    // Windows
    for s in ["KLIF", "klhk", "AVP21.2", "avp18.0.0", "KSDE5.2", "KAVFS", "Kaspersky Anti-Virus Service 21.2"] {
        kaspersky(Kind::Service, s);
    }
    for d in ["klif.sys", "KLIFKS.SYS", "klupd_klif_arkmon.sys", "kneps.sys"] {
        kaspersky(Kind::Driver, d);
    }
    for p in ["avp.exe", "AVPUI.EXE", "klnagent.exe", "kavremover.exe"] {
        kaspersky(Kind::Process, p);
    }
    for n in [
        "Kaspersky Total Security",
        "Kaspersky Endpoint Security for Windows",
        "Kaspersky Small Office Security",
        "Kaspersky",
    ] {
        kaspersky(Kind::ProductName, n);
    }
    for p in ["AO Kaspersky Lab", "Kaspersky Lab", "Kaspersky"] {
        kaspersky(Kind::Publisher, p);
    }
    kaspersky(Kind::Path, "/ProgramData/Kaspersky Lab");
    kaspersky(Kind::Path, "/Program Files (x86)/Kaspersky Lab");
    kaspersky(Kind::BrowserExtension, "ahkjpbeeocnddjkakilopmfdlnjdpcdm");
    // macOS
    for b in ["com.kaspersky.kav", "com.kaspersky.kav_agent", "com.kaspersky.kav.sysext"] {
        kaspersky(Kind::BundleId, b);
    }
    kaspersky(Kind::Package, "com.kaspersky.kav.core");
    kaspersky(Kind::Publisher, "2Y8XE5CQ94");
    kaspersky(Kind::Path, "/Library/Application Support/Kaspersky Lab");
    // The interception root, however the subject is spelled.
    for dn in [
        "CN=Kaspersky Anti-Virus Personal Root Certificate, O=AO Kaspersky Lab",
        "C=RU, O=AO KASPERSKY LAB, CN=Kaspersky Anti-Virus Personal Root Certificate",
        "/C=RU/O=AO Kaspersky Lab/CN=Kaspersky Anti-Virus Personal Root Certificate",
        "O = AO Kaspersky Lab, CN = Kaspersky Anti-Virus Personal Root Certificate",
    ] {
        kaspersky(Kind::CertSubject, dn);
        kaspersky(Kind::CertIssuer, dn);
    }
}

#[test]
fn look_alikes_match_nothing() {
    let c = embedded();
    let none = |kind: Kind, value: &str| {
        let h: Vec<_> = c.matching(kind, value).map(|(v, i)| format!("{}:{}", v.id, i.pattern)).collect();
        assert!(h.is_empty(), "{kind} {value:?} must match nothing, matched {h:?}");
    };
    for kind in Kind::ALL {
        for v in [
            "klogd",
            "klipper.service",
            "klipper",
            "kl",
            "Kasper Hansen <kasper@debian.org>",
            "kasperskyx",
            "Kasperski Bakery",
            "CN=Kasperski Bakery Root CA, O=Kasperski Bakery",
            "CN=Kaspersky Anti-Virus Personal Root Certificate Fake, O=Example",
            "O=AO Kaspersky Labs Fan Club",
            "avp",
            "avp21",
            "xavp21.2",
            "ksde",
            "/opt/kaspersky-fan",
            "/opt",
            "",
        ] {
            none(*kind, v);
        }
    }
    // Kind matters: a package named like a driver service is not a package indicator.
    none(Kind::Package, "klif");
    none(Kind::Process, "upgrade.exe");
    none(Kind::Process, "wdserver");
}

#[test]
fn counts_by_vendor_and_kind_are_reported() {
    // Not an assertion on exact numbers (the catalog grows); prints the table
    // the report quotes, and checks Kaspersky covers every kind but none.
    let c = embedded();
    for v in c.vendors() {
        let mut line = format!("{:10}", v.id);
        for k in Kind::ALL {
            let n = v.indicators.iter().filter(|i| i.kind == *k).count();
            if n > 0 {
                line.push_str(&format!(" {k}={n}"));
            }
        }
        println!("{line} total={}", v.indicators.len());
    }
    let k = c.vendor("kaspersky").unwrap();
    for kind in Kind::ALL {
        assert!(k.indicators.iter().any(|i| i.kind == *kind), "kaspersky has no {kind} indicator");
    }
    for p in [Platform::Linux, Platform::Windows, Platform::Macos] {
        assert!(k.indicators.iter().any(|i| i.platform == p));
    }
    // Path indicators are concrete, exact and in the contract's form.
    for (_, i) in c.indicators().filter(|(_, i)| i.kind == Kind::Path) {
        assert_eq!(i.match_kind, MatchKind::Exact);
        assert!(i.pattern.starts_with('/') && !i.pattern.contains('\\'), "{}", i.pattern);
    }
    assert!(c.indicators().any(|(_, i)| i.confidence == Confidence::Low));
}

// ---- refusals ---------------------------------------------------------------

const GOOD: &str = r#"
id = "acme"
name = "Acme"
banned = true

[[authorities]]
name = "Acme Act"
citation = "1 FR 1"
scope = "all_us_persons"
effective_date = "2024-07-20"
source = "https://example.org/acme"

[[indicators]]
kind = "package"
pattern = "acme-agent"
match = "exact"
platform = "linux"
confidence = "high"
source = "https://example.org/acme"
"#;

fn load(text: &str) -> Result<Catalog, CatalogError> {
    Catalog::from_sources([("acme.toml", text)])
}

fn refuse(text: &str) -> CatalogError {
    load(text).expect_err("must be refused")
}

#[test]
fn a_good_file_loads() {
    let c = load(GOOD).unwrap();
    assert!(c.vendor("acme").unwrap().indicators[0].matches("ACME-agent"));
}

#[test]
fn unknown_words_are_refused_with_line_and_field() {
    let e = refuse(&GOOD.replace(r#"kind = "package""#, r#"kind = "pakage""#));
    assert_eq!(e.file, "acme.toml");
    assert_eq!(e.line, Some(14));
    assert_eq!(e.field.as_deref(), Some("indicators[0].kind"));
    assert!(matches!(&e.problem, Problem::UnknownWord { what: "kind", value, .. } if value == "pakage"));
    assert!(e.to_string().starts_with("acme.toml:14: indicators[0].kind: unknown kind `pakage`"), "{e}");

    for (from, to, what) in [
        (r#"match = "exact""#, r#"match = "contains""#, "match"),
        (r#"platform = "linux""#, r#"platform = "ios""#, "platform"),
        (r#"confidence = "high""#, r#"confidence = "certain""#, "confidence"),
        (r#"scope = "all_us_persons""#, r#"scope = "everyone""#, "scope"),
    ] {
        let e = refuse(&GOOD.replace(from, to));
        assert!(matches!(e.problem, Problem::UnknownWord { what: w, .. } if w == what), "{what}: {e}");
    }
}

fn with_pattern(match_kind: &str, pattern: &str) -> String {
    GOOD.replace(r#"pattern = "acme-agent""#, &format!("pattern = '{pattern}'"))
        .replace(r#"match = "exact""#, &format!(r#"match = "{match_kind}""#))
}

#[test]
fn bad_patterns_are_refused() {
    let e = refuse(&with_pattern("regex", "(kl"));
    assert!(matches!(e.problem, Problem::InvalidRegex { .. }), "{e}");
    assert_eq!(e.field.as_deref(), Some("indicators[0].pattern"));
    assert_eq!(e.line, Some(15));
    assert!(matches!(refuse(&with_pattern("regex", "(?=kl)")).problem, Problem::ForbiddenRegex { .. }));
    assert!(matches!(refuse(&with_pattern("regex", r"(a)\1")).problem, Problem::ForbiddenRegex { .. }));
    assert!(matches!(refuse(&with_pattern("regex", "(?i)acme")).problem, Problem::ForbiddenRegex { .. }));
    assert!(matches!(refuse(&with_pattern("regex", "(?P<x>acme)")).problem, Problem::ForbiddenRegex { .. }));
    assert!(matches!(refuse(&with_pattern("regex", "^Acme$")).problem, Problem::UppercaseRegex { found: 'A' }));
    let long = format!("^{}$", "a".repeat(300));
    assert!(matches!(refuse(&with_pattern("regex", &long)).problem, Problem::PatternTooLong { bytes: 302, max: 256 }));
    assert!(matches!(refuse(&with_pattern("exact", "")).problem, Problem::EmptyPattern));
    assert!(matches!(refuse(&with_pattern("glob", "*")).problem, Problem::BadGlob { .. }));
    assert!(matches!(refuse(&with_pattern("glob", "*acme*")).problem, Problem::BadGlob { .. }));
}

#[test]
fn bad_dates_are_refused() {
    for bad in ["2024-02-30", "2023-02-29", "2024-13-01", "24-07-20", "2024-07-20T00:00:00", "July 20, 2024", ""] {
        let e = refuse(&GOOD.replace("2024-07-20", bad));
        assert!(matches!(e.problem, Problem::BadDate { .. }), "{bad}: {e}");
        assert_eq!(e.field.as_deref(), Some("authorities[0].effective_date"));
        assert_eq!(e.line, Some(10));
    }
    // A TOML date (not a string) is a type error, reported with its line.
    let e = refuse(&GOOD.replace(r#""2024-07-20""#, "2024-07-20"));
    assert!(matches!(e.problem, Problem::Syntax { .. }), "{e}");
    assert_eq!(e.line, Some(10));
    let e = refuse(&GOOD.replace("effective_date", "updates_end_date").replace("2024-07-20", "2024-09-31"));
    assert_eq!(e.field.as_deref(), Some("authorities[0].updates_end_date"));
}

#[test]
fn duplicate_vendors_across_files_are_refused() {
    let e = Catalog::from_sources([("acme.toml", GOOD), ("acme2.toml", GOOD)]).unwrap_err();
    assert_eq!(e.file, "acme2.toml");
    assert_eq!(e.line, Some(2));
    assert!(
        matches!(&e.problem, Problem::DuplicateVendor { id, other_file } if id == "acme" && other_file == "acme.toml")
    );
    // …and against the real catalog files, from a directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("b.toml"), GOOD).unwrap();
    let e = Catalog::from_path(dir.path()).unwrap_err();
    assert!(e.file.ends_with("b.toml"), "{e}");
    assert!(e.to_string().contains("also defined in"), "{e}");
}

#[test]
fn structure_errors_name_the_file_and_line() {
    let e = refuse(&GOOD.replace(r#"confidence = "high""#, "confidence = \"high\"\ncolour = \"red\""));
    assert!(matches!(e.problem, Problem::Syntax { .. }), "{e}");
    assert_eq!(e.line, Some(19));
    let e = refuse("id = \"acme\"\nname = \"Acme\"\nbanned = maybe\n");
    assert_eq!(e.line, Some(3));
    let e = refuse(&GOOD.replace(r#"id = "acme""#, r#"id = "Acme Corp""#));
    assert!(matches!(e.problem, Problem::BadValue { what: "vendor id", .. }));
    // Path indicators must be exact and in the contract's form.
    let path = |p: &str, m: &str| {
        GOOD.replace(r#"kind = "package""#, r#"kind = "path""#)
            .replace(r#"pattern = "acme-agent""#, &format!("pattern = '{p}'"))
            .replace(r#"match = "exact""#, &format!(r#"match = "{m}""#))
    };
    assert!(load(&path("/opt/acme", "exact")).is_ok());
    for (p, m) in
        [(r"C:\ProgramData\Acme", "exact"), ("/opt/acme/", "exact"), ("/opt/acme", "prefix"), ("opt/acme", "exact")]
    {
        let e = refuse(&path(p, m));
        assert!(matches!(e.problem, Problem::BadValue { what: "path indicator", .. }), "{p}: {e}");
    }
    // Missing sources are refused, with the field that lacks one.
    let e = refuse(&GOOD.replacen(r#"source = "https://example.org/acme""#, r#"source = " ""#, 2));
    assert_eq!(e.problem, Problem::EmptyField);
    assert_eq!(e.field.as_deref(), Some("authorities[0].source"));
    let src = r#"source = "https://example.org/acme""#;
    let at = GOOD.rfind(src).unwrap();
    let e = refuse(&format!("{}source = \"\"{}", &GOOD[..at], &GOOD[at + src.len()..]));
    assert_eq!(e.field.as_deref(), Some("indicators[0].source"));
    assert_eq!(e.line, Some(19));
    // Duplicate indicators.
    let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[indicators]]").unwrap()..]);
    assert!(matches!(refuse(&twice).problem, Problem::DuplicateIndicator { first: 0 }));
}

#[test]
fn missing_paths_are_io_errors() {
    let e = Catalog::from_path("/nonexistent/catalog.toml").unwrap_err();
    assert!(matches!(e.problem, Problem::Io { .. }));
    assert_eq!(e.file, "/nonexistent/catalog.toml");
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(Catalog::from_path(dir.path()).unwrap_err().problem, Problem::Io { .. }));
    let f = dir.path().join("acme.toml");
    std::fs::write(&f, GOOD).unwrap();
    assert_eq!(Catalog::from_path(&f).unwrap().vendors().len(), 1);
}

#[test]
fn regexes_that_would_not_compile_at_scan_time_are_refused_at_load() {
    // Valid syntax, but its automaton is far over the size limit scanning
    // compiles with: refused now, not mid-scan.
    let e = refuse(&with_pattern("regex", "((a{100}){100}){100}"));
    assert!(matches!(&e.problem, Problem::InvalidRegex { message } if message.contains("limit")), "{e}");
    assert_eq!((e.field.as_deref(), e.line), (Some("indicators[0].pattern"), Some(15)));
    assert!(embargo_catalog::compile_regex("((a{100}){100}){100}").is_err());
    // What loads compiles with the scan's builder.
    let c = load(&with_pattern("regex", "^(acme-[a-z]{1,20}){1,10}$")).unwrap();
    let i = &c.vendor("acme").unwrap().indicators[0];
    assert!(embargo_catalog::compile_regex(&i.pattern).is_ok());
    assert!(i.matches("acme-agent"));
}

/// Catalog files of `len` bytes that take no disk space.
fn sparse(path: &std::path::Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[test]
fn oversized_catalogs_are_refused_before_they_are_read() {
    use embargo_catalog::{MAX_CATALOG_BYTES, MAX_CATALOG_FILE_BYTES};
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    sparse(&big, MAX_CATALOG_FILE_BYTES + 1);
    let e = Catalog::from_path(&big).unwrap_err();
    assert_eq!(e.file, big.display().to_string());
    assert!(
        matches!(e.problem, Problem::TooLarge { bytes, max, .. } if bytes == MAX_CATALOG_FILE_BYTES + 1 && max == MAX_CATALOG_FILE_BYTES),
        "{e}"
    );
    assert!(e.to_string().contains("over the 16777216-byte limit"), "{e}");
    // In a directory: the file is named, though the others are fine.
    std::fs::write(dir.path().join("acme.toml"), GOOD).unwrap();
    let e = Catalog::from_path(dir.path()).unwrap_err();
    assert!(e.file.ends_with("big.toml") && matches!(e.problem, Problem::TooLarge { .. }), "{e}");
    std::fs::remove_file(&big).unwrap();
    // Files each under the limit, too large together.
    let n = MAX_CATALOG_BYTES / MAX_CATALOG_FILE_BYTES + 1;
    for i in 0..n {
        sparse(&dir.path().join(format!("part{i}.toml")), MAX_CATALOG_FILE_BYTES);
    }
    let e = Catalog::from_path(dir.path()).unwrap_err();
    assert_eq!(e.file, dir.path().display().to_string());
    assert!(matches!(e.problem, Problem::TooLarge { max, .. } if max == MAX_CATALOG_BYTES), "{e}");
    // A file whose size says nothing is read only up to the limit.
    if std::path::Path::new("/dev/zero").exists() {
        let e = Catalog::from_path("/dev/zero").unwrap_err();
        assert!(matches!(e.problem, Problem::TooLarge { .. }), "{e}");
    }
}

/// `n` distinct exact indicators in one vendor file.
fn many_indicators(n: usize) -> String {
    let mut s = GOOD[..GOOD.find("[[indicators]]").unwrap()].to_string();
    for i in 0..n {
        s += &format!(
            "[[indicators]]\nkind = \"package\"\npattern = \"acme-agent-{i}\"\nmatch = \"exact\"\nplatform = \"linux\"\nconfidence = \"high\"\nsource = \"s\"\n\n"
        );
    }
    s
}

/// Loading four times the indicators takes about four times as long (it
/// took sixteen times, and minutes for 300,000, when each indicator was
/// checked for duplicates against all before it). The best of three runs
/// each, and a bound of eight, keep a busy machine from failing it.
#[test]
fn loading_time_grows_linearly_with_the_indicators() {
    let time = |text: &str| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                let c = load(text).unwrap();
                assert!(!c.vendors()[0].indicators.is_empty());
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let (small, large) = (many_indicators(5_000), many_indicators(20_000));
    let (t_small, t_large) = (time(&small), time(&large));
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64();
    eprintln!("5,000 indicators {t_small:?}, 20,000 {t_large:?}: x{ratio:.1}");
    assert!(ratio < 8.0, "4x the indicators took {ratio:.1}x the time ({t_small:?} -> {t_large:?})");
}
