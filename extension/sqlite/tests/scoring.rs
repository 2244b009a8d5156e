//! The exposure scoring model (README, "Exposure score"), checked on
//! hand-made findings: host_exposure is run over a findings table whose rows
//! each test writes, so every property is tested in isolation.

use std::sync::Arc;

use embargo_catalog::canned;
use embargo_sqlite::ScanSlot;
use embargo_tables::{Engine, Root};
use rusqlite::Connection;

/// One finding: (evidence, observed state, confidence).
type F = (&'static str, &'static str, &'static str);

/// host_exposure's (score, level) for Kaspersky when `findings` are all the
/// evidence, judged on 2025-09-29.
fn exposure(findings: &[F]) -> (i64, String, Option<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Root::new(dir.path()).unwrap()).with_as_of(1_759_104_000); // 2025-09-29
    let conn = Connection::open_in_memory().unwrap();
    embargo_sqlite::register(&conn, ScanSlot::new(Arc::new(engine))).unwrap();
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE {}(vendor_id, vendor, evidence, name, version, detail, state, confidence, indicator, \
         source_table, path, observed)",
        canned::FINDINGS_TABLE
    ))
    .unwrap();
    for (i, (evidence, observed, confidence)) in findings.iter().enumerate() {
        let state = if *evidence == "software" { *observed } else { "leftover" };
        conn.execute(
            &format!(
                "INSERT INTO temp.{} VALUES ('kaspersky', 'Kaspersky', ?1, ?2, NULL, NULL, ?3, ?4, 'test', 'test', ?2, ?5)",
                canned::FINDINGS_TABLE
            ),
            (evidence, format!("item{i}"), state, confidence, observed),
        )
        .unwrap();
    }
    let sql = canned::over_findings_table("host_exposure").unwrap();
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        if r.get::<_, String>("vendor_id").unwrap() == "kaspersky" {
            return (r.get("score").unwrap(), r.get("level").unwrap(), r.get("days_without_updates").unwrap());
        }
    }
    panic!("no kaspersky row");
}

fn score(findings: &[F]) -> i64 {
    exposure(findings).0
}

#[test]
fn no_evidence_is_none() {
    let (score, level, days) = exposure(&[]);
    assert_eq!((score, level.as_str()), (0, "none"));
    // 2024-09-29 to 2025-09-29.
    assert_eq!(days, Some(365));
}

#[test]
fn an_interception_root_or_a_boot_driver_outweighs_a_leftover_folder() {
    let folder = score(&[("path", "present", "high")]);
    assert!(score(&[("certificate", "trusted", "high")]) > folder);
    assert!(score(&[("driver", "enabled", "high")]) > folder);
    assert_eq!(exposure(&[("certificate", "trusted", "high")]).1, "high");
}

#[test]
fn running_or_enabled_services_outweigh_disabled_ones() {
    let disabled = score(&[("service", "disabled", "high")]);
    assert!(score(&[("service", "enabled", "high")]) > disabled);
    assert!(score(&[("service", "running", "high")]) > score(&[("service", "enabled", "high")]));
    assert!(score(&[("driver", "running", "high")]) > score(&[("driver", "disabled", "high")]));
}

#[test]
fn configuration_left_behind_counts_little() {
    let (score, level, _) = exposure(&[("software", "config_only", "high")]);
    assert!(score < score_of_installed(), "{score}");
    assert_eq!(level, "low");
}

fn score_of_installed() -> i64 {
    score(&[("software", "installed", "high")])
}

#[test]
fn independent_kinds_of_evidence_raise_the_score() {
    let package = score_of_installed();
    let service = score(&[("service", "enabled", "high")]);
    let both = score(&[("software", "installed", "high"), ("service", "enabled", "high")]);
    assert!(both > package + service - 1, "{both} vs {package} + {service}");
    // More of the same kind is not more exposure.
    assert_eq!(score(&[("software", "installed", "high"), ("software", "installed", "high")]), package);
}

#[test]
fn paths_alone_never_lift_a_host_above_low() {
    let many: Vec<F> = (0..40).map(|_| ("path", "present", "low")).collect();
    assert_eq!(exposure(&many).1, "low");
    let sure: Vec<F> = (0..40).map(|_| ("path", "present", "high")).collect();
    assert_eq!(exposure(&sure).1, "low");
    // A path beside real evidence still counts.
    assert!(
        score(&[("service", "enabled", "high"), ("path", "present", "high")])
            > score(&[("service", "enabled", "high")])
    );
}

#[test]
fn confidence_scales_the_weight() {
    let high = score(&[("service", "enabled", "high")]);
    let medium = score(&[("service", "enabled", "medium")]);
    let low = score(&[("service", "enabled", "low")]);
    assert!(high > medium && medium > low && low >= 1, "{high} {medium} {low}");
}

#[test]
fn the_score_is_capped_at_100() {
    let everything: Vec<F> = vec![
        ("certificate", "trusted", "high"),
        ("driver", "running", "high"),
        ("service", "running", "high"),
        ("process", "running", "high"),
        ("software", "installed", "high"),
        ("browser_extension", "enabled", "high"),
        ("path", "present", "high"),
    ];
    assert_eq!(exposure(&everything).0, 100);
    assert_eq!(exposure(&everything).1, "critical");
}
