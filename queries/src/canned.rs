//! The canned queries: `lib/findings.sql` (the evidence model) joined to each
//! body in `canned/`. The composed text is what runs everywhere (embargo,
//! sqlite3 with libembargo, osqueryd); `queries/<name>.sql` holds a copy of
//! each, kept current by a test.

/// A shipped query with its header.
#[derive(Clone, Debug)]
pub struct Canned {
    pub name: &'static str,
    pub description: String,
    /// osquery's platform names: linux, windows, darwin.
    pub platforms: Vec<String>,
    /// Suggested schedule interval, seconds.
    pub interval: u32,
    /// The complete, runnable SQL.
    pub sql: String,
}

const LIB: &str = include_str!("../lib/findings.sql");

const BODIES: &[(&str, &str)] = &[
    ("banned_vendor_findings", include_str!("../canned/banned_vendor_findings.sql")),
    ("host_exposure", include_str!("../canned/host_exposure.sql")),
    ("banned_vendor_leftovers", include_str!("../canned/banned_vendor_leftovers.sql")),
];

fn compose(name: &'static str, body: &str) -> Canned {
    let mut header = Vec::new();
    let mut rest = Vec::new();
    for line in body.lines() {
        if rest.is_empty() && line.starts_with("-- ") {
            header.push(line);
        } else {
            rest.push(line);
        }
    }
    let field = |key: &str| {
        header.iter().find_map(|l| l.strip_prefix("-- ")?.strip_prefix(key)?.strip_prefix(": ")).unwrap_or("").trim()
    };
    let lib_body: Vec<&str> = LIB.lines().skip_while(|l| l.starts_with("--")).collect();
    let sql = format!("{}\n{}\n{}\n", header.join("\n"), lib_body.join("\n"), rest.join("\n").trim_end());
    Canned {
        name,
        description: field("description").to_string(),
        platforms: field("platforms").split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        interval: field("interval").parse().unwrap_or(3600),
        sql,
    }
}

/// The name of the temporary table [`materialize_findings`] fills.
pub const FINDINGS_TABLE: &str = "embargo_findings";

/// SQL that stores the `findings` of the evidence model in a temporary
/// table, so that several canned queries of one scan share one evaluation.
pub fn materialize_findings() -> String {
    let lib_body: Vec<&str> = LIB.lines().skip_while(|l| l.starts_with("--")).collect();
    format!("CREATE TEMP TABLE {FINDINGS_TABLE} AS\n{}\nSELECT * FROM findings", lib_body.join("\n"))
}

/// The canned query `name` over the table [`materialize_findings`] made
/// instead of over the whole evidence model.
pub fn over_findings_table(name: &str) -> Result<String, String> {
    let (_, body) = BODIES.iter().find(|(n, _)| *n == name).ok_or_else(|| format!("no canned query named {name:?}"))?;
    let body: Vec<&str> = body.lines().skip_while(|l| l.starts_with("-- ")).collect();
    Ok(format!(
        "WITH\nhost AS (SELECT hostname, os_family, as_of FROM scan_host),\n\
         vendors AS (SELECT DISTINCT vendor_id, vendor, banned FROM banned_vendors),\n\
         findings AS (SELECT * FROM temp.{FINDINGS_TABLE})\n{}",
        body.join("\n")
    ))
}

pub fn all() -> Vec<Canned> {
    BODIES.iter().map(|(name, body)| compose(name, body)).collect()
}

/// The runnable SQL of the canned query `name`.
pub fn sql(name: &str) -> Result<String, String> {
    all().into_iter().find(|c| c.name == name).map(|c| c.sql).ok_or_else(|| format!("no canned query named {name:?}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_files_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for c in super::all() {
            assert!(!c.description.is_empty() && !c.platforms.is_empty(), "{} header", c.name);
            let path = dir.join(format!("{}.sql", c.name));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if std::env::var_os("EMBARGO_BLESS").is_some() {
                std::fs::write(&path, &c.sql).unwrap();
                continue;
            }
            assert!(
                committed == c.sql,
                "{} is stale: run `EMBARGO_BLESS=1 cargo test -p embargo-catalog canned`",
                path.display()
            );
        }
    }
}
