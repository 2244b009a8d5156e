//! installed_certificates against openssl and certutil.
//! Fixture: tests/fixtures/certs (regenerate with its make.sh).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use embargo_tables::embargo_catalog::Kind;
use embargo_tables::tables::installed_certificates::{InstalledCertificate, TABLE};
use embargo_tables::testing::peer_available;
use embargo_tables::{ErrorKind, Query, Root, Scan, ScanError, Value};
use sha2::Digest;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/certs/root")
}

fn scan(root: &Path, q: &Query) -> (Vec<InstalledCertificate>, Vec<ScanError>) {
    let scan = Scan::new(Root::new(root).unwrap());
    let rows = (TABLE.generate)(&scan.ctx("installed_certificates"), q);
    (rows, scan.errors.snapshot())
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// The PEM blocks of a file, as openssl would be handed them one by one.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            cur = Some(String::new());
        }
        if let Some(c) = cur.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line.starts_with("-----END ") {
            out.extend(cur.take());
        }
    }
    out
}

/// `openssl x509 <args>` on `input`; stdout.
fn openssl_x509(input: &[u8], args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .arg("x509")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl x509 {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// `sha256 Fingerprint=AB:CD:…` → `abcd…`
fn normalise_fingerprint(line: &str) -> String {
    line.trim().split_once('=').unwrap().1.replace(':', "").to_lowercase()
}

/// The attributes of a certificate's subject or issuer (`-subject`,
/// `-issuer`) as openssl parses them, in order: one per line with
/// `sep_multiline`, values as UTF-8 and unescaped. `None` for a name with a
/// multi-valued RDN, whose attributes share a line.
fn openssl_name(pem: &[u8], which: &str) -> Option<Vec<(String, String)>> {
    let out = openssl_x509(pem, &["-noout", which, "-nameopt", "sep_multiline,sname,utf8"]);
    let mut attrs = Vec::new();
    for line in out.lines().skip(1) {
        let line = line.strip_prefix("    ").expect("sep_multiline indents each attribute");
        if line.contains(" + ") {
            return None;
        }
        let (k, v) = line.split_once('=').unwrap();
        attrs.push((k.to_string(), v.to_string()));
    }
    Some(attrs)
}

/// The subject/issuer rendering the table documents, written here from
/// openssl's attributes: `/TYPE=value` each, `/ , + = \` and control
/// characters inside a value as `\XX` (hex of the UTF-8 bytes).
fn escaped_oneline(attrs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in attrs {
        s += &format!("/{k}=");
        for c in v.chars() {
            if "/,+=\\".contains(c) || c.is_control() {
                s.extend(c.to_string().bytes().map(|b| format!("\\{b:02X}")));
            } else {
                s.push(c);
            }
        }
    }
    s
}

#[test]
fn host_bundle_fingerprints_agree_with_openssl() {
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if !Path::new(bundle).exists() || !peer_available("openssl") {
        return;
    }
    let (rows, _) = scan(Path::new("/"), &Query::all().with("store", vec![Value::Text("bundle".into())]));
    let ours: Vec<&InstalledCertificate> = rows.iter().filter(|r| text(&r.path) == bundle).collect();
    let blocks = pem_blocks(&std::fs::read_to_string(bundle).unwrap());
    let (mut sha256_ok, mut sha1_ok, mut serial_ok, mut subject_ok, mut subject_compared) = (0, 0, 0, 0, 0);
    let mut theirs_sha256 = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let out = openssl_x509(block.as_bytes(), &["-noout", "-fingerprint", "-sha256", "-serial"]);
        let out = out + &openssl_x509(block.as_bytes(), &["-noout", "-fingerprint", "-sha1"]);
        let lines: Vec<&str> = out.lines().collect();
        let sha256 = normalise_fingerprint(lines.iter().find(|l| l.starts_with("sha256 ")).unwrap());
        let sha1 = normalise_fingerprint(lines.iter().find(|l| l.starts_with("sha1 ")).unwrap());
        let serial = normalise_fingerprint(lines.iter().find(|l| l.starts_with("serial=")).unwrap());
        theirs_sha256.push(sha256.clone());
        let Some(row) = ours.get(i) else { continue };
        sha256_ok += (text(&row.sha256) == sha256) as usize;
        sha1_ok += (text(&row.sha1) == sha1) as usize;
        serial_ok += (text(&row.serial) == serial) as usize;
        // A multi-valued RDN is one line with ` + ` between its attributes; those are not compared.
        if let Some(attrs) = openssl_name(block.as_bytes(), "-subject") {
            subject_compared += 1;
            subject_ok += (text(&row.subject) == escaped_oneline(&attrs)) as usize;
        }
    }
    let n = blocks.len();
    eprintln!(
        "host bundle: sha256 {sha256_ok}/{n}, sha1 {sha1_ok}/{n}, serial {serial_ok}/{n}, subject {subject_ok}/{subject_compared}"
    );
    let mut ours_sha256: Vec<String> = ours.iter().map(|r| text(&r.sha256).to_string()).collect();
    ours_sha256.sort();
    theirs_sha256.sort();
    assert_eq!(ours_sha256, theirs_sha256, "the sets of SHA-256 fingerprints differ");
    assert_eq!((sha256_ok, sha1_ok, serial_ok), (n, n, n));
    assert_eq!(subject_ok, subject_compared);
}

/// Values holding `/`, `,` or `+` (tests/fixtures/scan/neg-cert-forged, made
/// with `openssl req -subj`) are escaped, so a separator in `subject` or
/// `issuer` always separates attributes and the catalog's certificate
/// indicators (`(^|[,/+]) *cn *= *…`) see only real attributes.
#[test]
fn separators_inside_values_are_escaped() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/scan/neg-cert-forged");
    let bundle = root.join("etc/ssl/certs/ca-certificates.crt");
    let (rows, errors) = scan(&root, &Query::all());
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (text(&r.subject), text(&r.organization), text(&r.common_name))).collect();
    assert_eq!(
        got,
        [
            (
                r"/O=Acme\2FCN\3DKaspersky Anti-Virus Personal Root Certificate/CN=Harmless Acme Root",
                "Acme/CN=Kaspersky Anti-Virus Personal Root Certificate",
                "Harmless Acme Root"
            ),
            (
                r"/CN=Harmless Comma Root/O=Acme\2C CN\3DKaspersky Anti-Virus Personal Root Certificate",
                "Acme, CN=Kaspersky Anti-Virus Personal Root Certificate",
                "Harmless Comma Root"
            ),
            (
                r"/CN=Harmless Plus Root/O=Acme\2BCN\3DKaspersky Anti-Virus Personal Root Certificate",
                "Acme+CN=Kaspersky Anti-Virus Personal Root Certificate",
                "Harmless Plus Root"
            ),
            (r"/CN=Harmless Lab Root/OU=Acme\2FO\3DAO Kaspersky Lab", "", "Harmless Lab Root"),
        ]
    );
    let catalog = embargo_tables::embargo_catalog::Catalog::embedded();
    for r in &rows {
        assert_eq!(r.subject, r.issuer, "self-signed");
        for kind in [Kind::CertSubject, Kind::CertIssuer] {
            let hits: Vec<&str> = catalog.matching(kind, text(&r.subject)).map(|(_, i)| i.pattern.as_str()).collect();
            assert!(hits.is_empty(), "{} matches {hits:?}", text(&r.subject));
        }
    }
    // The genuine interception root still matches both ways.
    let (genuine, _) = scan(&fixture(), &Query::all());
    let kav = find(&genuine, "/etc/ssl/certs/ca-certificates.crt", "Kaspersky Anti-Virus Personal Root Certificate");
    for kind in [Kind::CertSubject, Kind::CertIssuer] {
        assert_eq!(catalog.matching(kind, text(&kav.subject)).count(), 2, "{kind}: its CN and its O");
    }
    if !peer_available("openssl") {
        return;
    }
    for (row, block) in rows.iter().zip(pem_blocks(&std::fs::read_to_string(&bundle).unwrap())) {
        for (which, ours) in [("-subject", &row.subject), ("-issuer", &row.issuer)] {
            let attrs = openssl_name(block.as_bytes(), which).unwrap();
            assert_eq!(text(ours), escaped_oneline(&attrs), "{attrs:?}");
        }
    }
}

fn find<'a>(rows: &'a [InstalledCertificate], path: &str, cn: &str) -> &'a InstalledCertificate {
    let hits: Vec<_> = rows.iter().filter(|r| text(&r.path) == path && text(&r.common_name) == cn).collect();
    assert_eq!(hits.len(), 1, "{cn} in {path}: {hits:#?}");
    hits[0]
}

#[test]
fn fixture_rows_follow_the_recipe() {
    let (rows, errors) = scan(&fixture(), &Query::all());
    assert!(errors.is_empty(), "{errors:#?}");
    let mut per_store: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *per_store.entry(text(&r.store)).or_default() += 1;
    }
    assert_eq!(per_store, BTreeMap::from([("anchor", 3), ("bundle", 5), ("directory", 2), ("nss", 5)]));

    let kav_cn = "Kaspersky Anti-Virus Personal Root Certificate";
    let kav = find(&rows, "/etc/ssl/certs/ca-certificates.crt", kav_cn);
    assert_eq!(text(&kav.subject), "/C=RU/O=AO Kaspersky Lab/CN=Kaspersky Anti-Virus Personal Root Certificate");
    assert_eq!(kav.subject, kav.issuer);
    assert_eq!(text(&kav.organization), "AO Kaspersky Lab");
    assert_eq!((kav.ca, kav.self_signed), (Some(1), Some(1)));
    assert_eq!((text(&kav.key_algorithm), kav.key_strength), ("rsaEncryption", Some(2048)));
    assert_eq!(text(&kav.signing_algorithm), "sha256WithRSAEncryption");
    assert_eq!(kav.not_valid_after.unwrap() - kav.not_valid_before.unwrap(), 7300 * 86400);
    assert_eq!((text(&kav.trust), text(&kav.store_location)), ("trusted", "system"));

    let bakery = find(&rows, "/etc/ssl/certs/ca-certificates.crt", "Kasperski Bakery Root CA");
    assert_eq!((text(&bakery.key_algorithm), bakery.key_strength), ("rsaEncryption", Some(3072)));
    assert_eq!(text(&bakery.signing_algorithm), "sha384WithRSAEncryption");
    let example = find(&rows, "/etc/ssl/certs/ca-certificates.crt", "Example Root CA");
    assert_eq!((text(&example.key_algorithm), example.key_strength), ("id-ecPublicKey", Some(256)));

    // The Kaspersky root is an update-ca-certificates anchor; its /etc/ssl/certs link is that file, not a new one.
    let anchor = find(&rows, "/usr/local/share/ca-certificates/kaspersky/kav.crt", kav_cn);
    assert_eq!((text(&anchor.store), text(&anchor.trust)), ("anchor", "trusted"));
    assert!(!rows.iter().any(|r| text(&r.path).ends_with("kav.pem") || text(&r.path).ends_with(".0")));
    assert!(!rows.iter().any(|r| text(&r.path).contains("not-a-crt")));
    find(&rows, "/etc/ssl/certs/example.pem", "Example Root CA");
    find(&rows, "/etc/ssl/certs/bakery.pem", "Kasperski Bakery Root CA");

    let leaf = find(&rows, "/etc/pki/ca-trust/source/anchors/leaf.der", "leaf.example.test");
    assert_eq!((leaf.ca, leaf.self_signed), (Some(0), Some(0)));
    assert_eq!(text(&leaf.serial), "ab12");
    assert_eq!(text(&leaf.issuer), "/C=US/O=Example Trust/CN=Example Root CA");
    assert_eq!((text(&leaf.key_algorithm), leaf.key_strength), ("id-ecPublicKey", Some(384)));
    assert_eq!(text(&leaf.signing_algorithm), "ecdsa-with-SHA256");

    let blocked = find(&rows, "/etc/pki/ca-trust/source/blocklist/revoked.pem", "Revoked Example CA");
    assert_eq!((text(&blocked.store), text(&blocked.trust)), ("anchor", "distrusted"));

    let trust_bundle = "/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt";
    let t = find(&rows, trust_bundle, "Example Root CA");
    assert_eq!((text(&t.trust), text(&t.purposes)), ("trusted", "server_auth,email"));
    assert_eq!(t.sha256, example.sha256, "the trust data is not part of the fingerprint");
    let t = find(&rows, trust_bundle, "Revoked Example CA");
    assert_eq!((text(&t.trust), t.purposes.as_deref()), ("distrusted", None));

    let system_nss = find(&rows, "/etc/pki/nssdb/cert9.db", "Example Root CA");
    assert_eq!((text(&system_nss.store_location), system_nss.user.as_deref()), ("system", None));
    assert_eq!((text(&system_nss.trust), text(&system_nss.purposes)), ("trusted", "server_auth"));
}

#[test]
fn fixture_fingerprints_agree_with_openssl() {
    if !peer_available("openssl") {
        return;
    }
    let (rows, _) = scan(&fixture(), &Query::all());
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows.iter().filter(|r| text(&r.store) != "nss") {
        by_path.entry(text(&r.path).to_string()).or_default().push(text(&r.sha256).to_string());
    }
    for (path, mut ours) in by_path {
        let bytes = Root::new(fixture()).unwrap().read(&path).unwrap();
        let mut theirs: Vec<String> = if path.ends_with(".der") {
            vec![openssl_x509(&bytes, &["-inform", "DER", "-noout", "-fingerprint", "-sha256"])]
        } else {
            pem_blocks(std::str::from_utf8(&bytes).unwrap())
                .iter()
                .map(|b| openssl_x509(b.as_bytes(), &["-noout", "-fingerprint", "-sha256"]))
                .collect()
        };
        theirs = theirs.iter().map(|l| normalise_fingerprint(l)).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{path}");
    }
}

/// Trust from certutil's flags: C (trusted CA) and P (trusted peer) trust a
/// purpose; T in the SSL column trusts client authentication; `p` alone is a
/// distrusted peer.
fn expected_from_flags(flags: &str) -> (&'static str, Option<String>) {
    let cols: Vec<&str> = flags.split(',').collect();
    let trusts = |c: &str| c.contains('C') || c.contains('P');
    let mut purposes = Vec::new();
    if trusts(cols[0]) {
        purposes.push("server_auth");
    }
    if cols[0].contains('T') {
        purposes.push("client_auth");
    }
    if trusts(cols[2]) {
        purposes.push("code_signing");
    }
    if trusts(cols[1]) {
        purposes.push("email");
    }
    if !purposes.is_empty() {
        ("trusted", Some(purposes.join(",")))
    } else if cols[0].contains('p') {
        ("distrusted", None)
    } else {
        ("unspecified", None)
    }
}

#[test]
fn nss_rows_agree_with_certutil() {
    if !peer_available("certutil") {
        return;
    }
    let profile = "/home/alice/.mozilla/firefox/abcd1234.default-release";
    let db = format!("{profile}/cert9.db");
    let dir = format!("sql:{}", fixture().join(&profile[1..]).display());
    let (rows, _) = scan(&fixture(), &Query::all().with("store", vec![Value::Text("nss".into())]));
    let ours: Vec<&InstalledCertificate> = rows.iter().filter(|r| text(&r.path) == db).collect();
    let listing = Command::new("certutil").args(["-L", "-d", &dir]).output().unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let mut seen = 0;
    for line in listing.lines().skip(4).filter(|l| !l.trim().is_empty()) {
        let line = line.trim_end();
        let (nick, flags) = line.rsplit_once(char::is_whitespace).unwrap();
        let nick = nick.trim();
        let der = Command::new("certutil").args(["-L", "-d", &dir, "-n", nick, "-r"]).output().unwrap().stdout;
        let sha256 = embargo_tables::collectors::x509::hex(&sha2::Sha256::digest(&der));
        let row = ours.iter().find(|r| text(&r.sha256) == sha256).unwrap_or_else(|| panic!("{nick} missing"));
        let (trust, purposes) = expected_from_flags(flags);
        assert_eq!((text(&row.trust), row.purposes.clone()), (trust, purposes), "{nick} ({flags})");
        assert_eq!((text(&row.store_location), text(&row.user)), ("user", "alice"));
        assert_eq!(text(&row.common_name), nick, "the fixture names each certificate by its CN");
        seen += 1;
    }
    assert_eq!((seen, ours.len()), (4, 4));
}

#[cfg(unix)]
#[test]
fn bad_input_is_one_error_each_and_the_rest_comes_back() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let certs = r.join("etc/ssl/certs");
    std::fs::create_dir_all(&certs).unwrap();
    let good = std::fs::read_to_string(fixture().join("usr/share/ca-certificates/test/example.crt")).unwrap();
    let other = std::fs::read(fixture().join("usr/share/ca-certificates/test/bakery.crt")).unwrap();
    std::fs::write(
        certs.join("ca-certificates.crt"),
        format!("{good}-----BEGIN CERTIFICATE-----\nMIIB%%%not*base64\n-----END CERTIFICATE-----\n"),
    )
    .unwrap();
    std::fs::write(certs.join("good.pem"), &other).unwrap();
    let der = std::fs::read(fixture().join("etc/pki/ca-trust/source/anchors/leaf.der")).unwrap();
    std::fs::write(certs.join("truncated.crt"), &der[..der.len() / 2]).unwrap();
    std::fs::write(certs.join("empty.pem"), b"").unwrap();
    symlink("loop.pem", certs.join("loop.pem")).unwrap();
    let nssdb = r.join("home/bob/.pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    std::fs::write(nssdb.join("cert9.db"), b"SQLite format 3\0 but not really, just garbage bytes".repeat(40)).unwrap();

    let (rows, errors) = scan(r, &Query::all());
    let mut got: Vec<(&str, &str)> = rows.iter().map(|r| (text(&r.store), text(&r.common_name))).collect();
    got.sort();
    assert_eq!(got, [("bundle", "Example Root CA"), ("directory", "Kasperski Bakery Root CA")]);
    let mut errs: Vec<(&str, ErrorKind)> = errors.iter().map(|e| (e.path.as_str(), e.kind)).collect();
    errs.sort();
    assert_eq!(
        errs,
        [
            ("/etc/ssl/certs/ca-certificates.crt", ErrorKind::ParseError),
            ("/etc/ssl/certs/empty.pem", ErrorKind::ParseError),
            ("/etc/ssl/certs/loop.pem", ErrorKind::SymlinkLoop),
            ("/etc/ssl/certs/truncated.crt", ErrorKind::ParseError),
            ("/home/bob/.pki/nssdb/cert9.db", ErrorKind::ParseError),
        ],
        "{errors:#?}"
    );
}

#[test]
fn store_pushdown_gives_the_rows_of_a_full_scan() {
    let (all, _) = scan(&fixture(), &Query::all());
    for store in ["bundle", "directory", "anchor", "nss"] {
        let (some, errors) = scan(&fixture(), &Query::all().with("store", vec![Value::Text(store.into())]));
        let expected: Vec<_> = all.iter().filter(|r| text(&r.store) == store).cloned().collect();
        assert_eq!(some, expected, "store = {store}");
        assert!(errors.is_empty());
    }
    let kav = all.iter().find(|r| text(&r.common_name).starts_with("Kaspersky")).unwrap();
    let (by_sha1, _) = scan(&fixture(), &Query::all().with("sha1", vec![Value::Text(text(&kav.sha1).into())]));
    assert_eq!(by_sha1.len(), 3, "bundle, anchor and Firefox hold the Kaspersky root");
}

/// A browser holding its database open with a write lock must not stop, or
/// hang, the scan: embargo reads a copy, and never waits on a lock.
#[test]
fn a_locked_cert9_db_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("home/bob/.mozilla/firefox/x.default");
    std::fs::create_dir_all(&profile).unwrap();
    let src = fixture().join("home/alice/.mozilla/firefox/abcd1234.default-release/cert9.db");
    std::fs::copy(&src, profile.join("cert9.db")).unwrap();
    let holder = rusqlite::Connection::open(profile.join("cert9.db")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE; UPDATE nssPublic SET id = id WHERE 0;").unwrap();
    let started = std::time::Instant::now();
    let (rows, errors) = scan(dir.path(), &Query::all().with("store", vec![Value::Text("nss".into())]));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(rows.len(), 4, "{errors:?}");
    assert!(rows.iter().all(|r| text(&r.user) == "bob"));
    holder.execute_batch("ROLLBACK").unwrap();
}
