//! `banned_vendor_indicators`: the catalog's ways of recognising each
//! vendor's software, for canned queries to join against inventory tables.

use crate::query::Query;
use crate::table::Ctx;

crate::declare_table! {
    /// One row per indicator.
    pub struct BannedVendorIndicator {
        /// The vendor's catalog id (`kaspersky`).
        vendor_id: Text [index],
        /// What the pattern is compared with: publisher, product_name, package, service, driver, process, bundle_id, cert_subject, cert_issuer, browser_extension, path.
        kind: Text [index],
        /// The pattern as the catalog writes it (paths in root-relative POSIX form).
        pattern: Text,
        /// exact, prefix, glob (`*` any run, `?` one character, whole value) or regex (lowercase, run on lower(value)); all case-insensitive, never substring.
        r#match: Text,
        /// linux, windows, macos or all.
        platform: Text,
        /// high, medium or low.
        confidence: Text,
        /// Where the indicator comes from.
        source: Text,
        /// What to know before trusting a match.
        note: Text,
        /// For regex and glob indicators, lowercase text every match contains (NULL when there is none): `instr(lower(value), needle) > 0` is a cheap test before `regex_match`.
        needle: Text,
    }

    table banned_vendor_indicators {
        description: "Names, ids, certificate subjects and paths that identify a banned vendor's software, from embargo's catalog (or --catalog).",
        class: Catalog,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT kind, count(*) FROM banned_vendor_indicators WHERE vendor_id = 'kaspersky' GROUP BY kind",
            "SELECT f.path FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern WHERE i.kind = 'path' AND f.\"exists\" = 1",
        ],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<BannedVendorIndicator> {
    ctx.scan
        .catalog()
        .indicators()
        .filter(|(v, i)| q.admits("vendor_id", &v.id) && q.admits("kind", i.kind.as_str()))
        .map(|(v, i)| BannedVendorIndicator {
            vendor_id: Some(v.id.clone()),
            kind: Some(i.kind.as_str().to_string()),
            pattern: Some(i.pattern.clone()),
            r#match: Some(i.match_kind.as_str().to_string()),
            platform: Some(i.platform.as_str().to_string()),
            confidence: Some(i.confidence.as_str().to_string()),
            source: Some(i.source.clone()),
            note: i.note.clone(),
            needle: i.matcher().needle().map(str::to_string),
        })
        .collect()
}
