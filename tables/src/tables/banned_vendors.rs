//! `banned_vendors`: the catalog's vendors and the authorities that bar them.

use crate::query::Query;
use crate::table::Ctx;

crate::declare_table! {
    /// One row per vendor and authority; a vendor with no authority (context) has one row with a NULL authority.
    pub struct BannedVendor {
        /// The vendor's catalog id (`kaspersky`).
        vendor_id: Text [index],
        /// The vendor's name.
        vendor: Text,
        /// 1 for a barred vendor; 0 for context (UltraAV: a sign of Kaspersky's September 2024 swap, never a finding).
        banned: Integer,
        /// The legal entities the authorities name, joined with '; '.
        entities: Text,
        /// The law, rule, order or directive.
        authority: Text,
        /// Where it is published (Federal Register page, public notice).
        citation: Text,
        /// Whom it binds: all_us_persons, federal_systems, federal_procurement, export_controls, sanctions, equipment_only, telecom_subsidy, state_agency, agency_directive.
        scope: Text,
        /// When it took effect, ISO YYYY-MM-DD.
        effective_date: Text,
        /// From when the vendor may no longer update its software for those bound, ISO YYYY-MM-DD.
        updates_end_date: Text,
        /// A page with the text or a summary of it.
        url: Text,
        /// Where the catalog's facts about this authority come from.
        source: Text,
        /// What the authority covers and what it does not.
        note: Text,
    }

    table banned_vendors {
        description: "Vendors whose software US authorities bar, one row per vendor and authority, from embargo's catalog (or --catalog).",
        class: Catalog,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT vendor, authority, scope, effective_date FROM banned_vendors WHERE banned = 1",
            "SELECT vendor_id, max(updates_end_date) FROM banned_vendors GROUP BY vendor_id",
        ],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<BannedVendor> {
    let mut rows = Vec::new();
    for v in ctx.scan.catalog().vendors().iter().filter(|v| q.admits("vendor_id", &v.id)) {
        let base = BannedVendor {
            vendor_id: Some(v.id.clone()),
            vendor: Some(v.name.clone()),
            banned: Some(i64::from(v.banned)),
            entities: Some(v.entities.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join("; ")),
            ..Default::default()
        };
        if v.authorities.is_empty() {
            rows.push(base);
            continue;
        }
        for a in &v.authorities {
            rows.push(BannedVendor {
                authority: Some(a.name.clone()),
                citation: Some(a.citation.clone()),
                scope: Some(a.scope.as_str().to_string()),
                effective_date: a.effective_date.map(|d| d.to_string()),
                updates_end_date: a.updates_end_date.map(|d| d.to_string()),
                url: a.url.clone(),
                source: Some(a.source.clone()),
                note: a.note.clone(),
                ..base.clone()
            });
        }
    }
    rows
}
