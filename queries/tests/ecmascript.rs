//! Every regex in the embedded catalog finds the same values in Rust as in
//! C++ `std::regex` (ECMAScript grammar, `regex_search`), the engine behind
//! the contract's `regex_match`. The peer is compiled at test time.

use std::io::Write;
use std::process::{Command, Stdio};

use embargo_catalog::{Catalog, MatchKind};

const PEER: &str = r#"
#include <iostream>
#include <regex>
#include <string>
// Reads "pattern<TAB>value" lines; prints 1, 0, or E (pattern refused).
int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        auto tab = line.find('\t');
        try {
            std::regex re(line.substr(0, tab), std::regex::ECMAScript);
            std::cout << (std::regex_search(line.substr(tab + 1), re) ? "1" : "0") << "\n";
        } catch (const std::regex_error&) {
            std::cout << "E\n";
        }
    }
}
"#;

/// Values that each regex is tried on: hits and near misses, already lowercase.
const PROBES: &[&str] = &[
    "avp21.2",
    "avp18.0.0",
    "avp21",
    "avp21.2.3.4",
    "xavp21.2",
    "ksde5.2",
    "ksde1.0.0",
    "ksde",
    "cn=kaspersky anti-virus personal root certificate, o=ao kaspersky lab",
    "c=ru, o=ao kaspersky lab, cn=kaspersky anti-virus personal root certificate",
    "/c=ru/o=ao kaspersky lab/cn=kaspersky anti-virus personal root certificate",
    "o = ao kaspersky lab, cn = kaspersky anti-virus personal root certificate",
    "cn=kaspersky anti-virus personal root certificate fake",
    "cn=kasperski bakery root, o=kasperski bakery",
    "o=ao kaspersky labs fan club",
    "ou=ao kaspersky lab",
    "hangzhou hikvision digital technology co., ltd.",
    "hikvision",
    "hikvisionary",
    "zhejiang dahua technology co., ltd.",
    "dahuax",
    "ultraav",
    "ultraav antivirus",
    "ultravpn",
    "myultraav",
    "",
];

#[test]
fn catalog_regexes_mean_the_same_in_ecmascript() {
    if !peer_available("g++") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("peer.cpp");
    let bin = dir.path().join("peer");
    std::fs::write(&src, PEER).unwrap();
    let built = Command::new("g++").args(["-std=c++17", "-O1", "-o"]).arg(&bin).arg(&src).status().unwrap();
    assert!(built.success(), "g++ could not build the peer");

    let catalog = Catalog::embedded();
    let regexes: Vec<_> =
        catalog.indicators().filter(|(_, i)| i.match_kind == MatchKind::Regex).map(|(_, i)| i).collect();
    assert!(regexes.len() >= 6, "expected the catalog's regexes, got {}", regexes.len());
    let mut input = String::new();
    let mut expected = Vec::new();
    for i in &regexes {
        for v in PROBES {
            input.push_str(&format!("{}\t{}\n", i.pattern, v));
            expected.push((i.pattern.clone(), *v, i.matches(v)));
        }
    }
    let mut child = Command::new(&bin).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let answers: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(answers.len(), expected.len());
    let mut hits = 0;
    for ((pattern, value, rust), peer) in expected.iter().zip(answers) {
        assert_ne!(peer, "E", "std::regex refuses {pattern:?}");
        assert_eq!(*rust, peer == "1", "{pattern:?} on {value:?}: rust {rust}, std::regex {peer}");
        hits += usize::from(*rust);
    }
    // The probes exercise both outcomes for the catalog's regexes.
    assert!(hits >= 12, "only {hits} hits");
}

/// As `embargo_tables::testing::peer_available` (this crate does not depend on the tables crate).
fn peer_available(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "peer tool `{tool}` is missing; .ci/run must install it");
        eprintln!("skipping: peer tool `{tool}` is not installed");
    }
    found
}
