//! Fleet YAML: `kind: query` and `kind: policy` documents for `fleetctl
//! apply -f`, and the same specs as GitOps `lib/` files (plain lists of
//! specs, without apiVersion and kind).
//!
//! The YAML is written by serde_yaml_ng, the maintained fork of serde_yaml
//! (which is deprecated; serde_yml is unmaintained and unsound by RustSec).

use serde::Serialize;

use crate::builtin::{self, QueryKind, Target};
use crate::osquery::{OSQUERY_VERSION, builtin_name};
use crate::{PackError, PackFile, interval_of};
use embargo_catalog::{Catalog, Vendor, canned};

pub const FLEET_FILE: &str = "fleet.yml";
pub const FLEET_EXTENSION_FILE: &str = "fleet-extension.yml";

/// A score from which a vendor counts against a host: `medium`, the level
/// at which `embargo scan` exits 1 by default.
const FAIL_SCORE: u32 = 20;

/// `spec` of a `kind: query` (Fleet's QuerySpec).
#[derive(Serialize)]
struct QuerySpec {
    name: String,
    description: String,
    platform: String,
    min_osquery_version: String,
    interval: u32,
    logging: &'static str,
    observer_can_run: bool,
    automations_enabled: bool,
    query: String,
}

/// `spec` of a `kind: policy` (Fleet's PolicySpec).
#[derive(Serialize)]
struct PolicySpec {
    name: String,
    description: String,
    platform: String,
    critical: bool,
    resolution: String,
    query: String,
}

#[derive(Serialize)]
struct Doc<'a, T> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    spec: &'a T,
}

fn yaml<T: Serialize + ?Sized>(value: &T) -> Result<String, PackError> {
    serde_yaml_ng::to_string(value).map_err(|e| PackError::Yaml(e.to_string()))
}

/// Documents separated by `---`, as `fleetctl apply -f` reads them.
fn documents(queries: &[QuerySpec], policies: &[PolicySpec]) -> Result<String, PackError> {
    let mut docs = Vec::new();
    for q in queries {
        docs.push(yaml(&Doc { api_version: "v1", kind: "query", spec: q })?);
    }
    for p in policies {
        docs.push(yaml(&Doc { api_version: "v1", kind: "policy", spec: p })?);
    }
    Ok(format!("---\n{}", docs.join("---\n")))
}

fn title(kind: QueryKind) -> &'static str {
    match kind {
        QueryKind::Findings => "banned-vendor findings",
        QueryKind::Exposure => "host exposure to banned vendors",
        QueryKind::Leftovers => "banned-vendor leftovers",
    }
}

fn description(kind: QueryKind) -> String {
    canned::all().into_iter().find(|c| c.name == kind.canned()).map(|c| c.description).unwrap_or_default()
}

fn builtin_queries(catalog: &Catalog, target: Target) -> Result<Vec<QuerySpec>, PackError> {
    QueryKind::ALL
        .iter()
        .map(|kind| {
            Ok(QuerySpec {
                name: format!("embargo: {} ({})", title(*kind), target.label()),
                description: format!(
                    "{} From osquery's built-in tables; the osquery pack's query {}. {}",
                    description(*kind),
                    builtin_name(*kind, target),
                    target.blind_spots()
                ),
                platform: target.osquery().into(),
                min_osquery_version: OSQUERY_VERSION.into(),
                interval: interval_of(*kind),
                logging: "snapshot",
                observer_can_run: true,
                automations_enabled: false,
                query: builtin::query(catalog, target, *kind, None)?,
            })
        })
        .collect()
}

fn extension_queries() -> Vec<QuerySpec> {
    QueryKind::ALL
        .iter()
        .filter_map(|kind| {
            let c = canned::all().into_iter().find(|c| c.name == kind.canned())?;
            Some(QuerySpec {
                name: format!("embargo: {} (embargo extension)", title(*kind)),
                description: format!(
                    "{} Needs the embargo osquery extension (embargo.ext) on the host; without it the query fails.",
                    c.description
                ),
                platform: c.platforms.join(","),
                min_osquery_version: OSQUERY_VERSION.into(),
                interval: interval_of(*kind),
                logging: "snapshot",
                observer_can_run: true,
                automations_enabled: false,
                query: c.sql,
            })
        })
        .collect()
}

/// A policy passes when its query returns a row: here, when no banned
/// vendor (or not `vendor`) reaches a medium exposure.
fn policy(catalog: &Catalog, target: Target, vendor: Option<&Vendor>) -> Result<PolicySpec, PackError> {
    let exposure = builtin::query(catalog, target, QueryKind::Exposure, vendor.map(|v| v.id.as_str()))?;
    let (who, filter) = match vendor {
        Some(v) => (v.name.clone(), format!(" AND e.vendor_id = '{}'", v.id.replace('\'', "''"))),
        None => ("banned-vendor".to_string(), String::new()),
    };
    let name = match vendor {
        Some(v) => format!("embargo: no {} software ({})", v.name, target.label()),
        None => format!("embargo: no banned-vendor software ({})", target.label()),
    };
    Ok(PolicySpec {
        name,
        description: format!(
            "Passes when no {who} software is on the host: {} a medium exposure (score {FAIL_SCORE} or \
             more) in the built-in-tables host_exposure query, the level at which `embargo scan` exits 1. Fails \
             for installed software, an enabled service or driver, a trusted root certificate, a running process \
             or an enabled browser extension; leftover folders or configuration alone do not fail it. {}",
            match vendor {
                Some(v) => format!("{} does not reach", v.name),
                None => "no banned vendor reaches".to_string(),
            },
            target.blind_spots()
        ),
        platform: target.osquery().into(),
        critical: vendor.is_none(),
        resolution: format!(
            "Run the query \"embargo: {} ({})\" on the host (or `embargo scan` there) to list the evidence, then \
             remove the {who} software: uninstall its packages, delete its services and drivers, and take its root \
             certificates out of every trust store; re-image the host if removal fails. The policy passes again \
             at its next run once the evidence is gone.",
            title(QueryKind::Findings),
            target.label()
        ),
        query: format!(
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM (\n{}) AS e WHERE e.score >= {FAIL_SCORE}{filter})",
            exposure.trim_end()
        ),
    })
}

fn policies(catalog: &Catalog, target: Target) -> Result<Vec<PolicySpec>, PackError> {
    let mut out = vec![policy(catalog, target, None)?];
    for v in catalog.vendors().iter().filter(|v| v.banned) {
        out.push(policy(catalog, target, Some(v))?);
    }
    Ok(out)
}

/// fleet.yml (the built-in queries and the policies), fleet-extension.yml
/// (the extension's queries) and the GitOps lib files.
pub fn files(catalog: &Catalog) -> Result<Vec<PackFile>, PackError> {
    let mut queries = Vec::new();
    let mut all_policies = Vec::new();
    let mut lib = Vec::new();
    for target in Target::ALL {
        let q = builtin_queries(catalog, *target)?;
        let p = policies(catalog, *target)?;
        lib.push(PackFile {
            path: format!("lib/{}/queries/embargo.queries.yml", target.folder()),
            contents: yaml(&q)?,
        });
        lib.push(PackFile {
            path: format!("lib/{}/policies/embargo.policies.yml", target.folder()),
            contents: yaml(&p)?,
        });
        queries.extend(q);
        all_policies.extend(p);
    }
    let ext = extension_queries();
    lib.push(PackFile { path: "lib/all/queries/embargo-extension.queries.yml".into(), contents: yaml(&ext)? });
    let mut files = vec![
        PackFile { path: FLEET_FILE.into(), contents: documents(&queries, &all_policies)? },
        PackFile { path: FLEET_EXTENSION_FILE.into(), contents: documents(&ext, &[])? },
    ];
    files.extend(lib);
    Ok(files)
}
