//! The canned queries: `lib/findings.sql` (the evidence model) joined to each
//! body in `canned/`. The composed text is what runs everywhere (embargo,
//! sqlite3 with libembargo, osqueryd); `queries/<name>.sql` holds a copy of
//! each, kept current by a test.

/// A name that is no canned query's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no canned query named {0:?}")]
pub struct UnknownQuery(pub String);

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

/// The header comment lines of a body, and the SQL after them.
fn split_header(body: &str) -> (Vec<&str>, Vec<&str>) {
    let header: Vec<&str> = body.lines().take_while(|l| l.starts_with("-- ")).collect();
    let rest = body.lines().skip(header.len()).collect();
    (header, rest)
}

/// The evidence model without its leading comment.
fn lib_body() -> String {
    LIB.lines().skip_while(|l| l.starts_with("--")).collect::<Vec<_>>().join("\n")
}

/// The one-line CTE `name AS (...)` of the evidence model, so that queries
/// over the findings table define `host` and `vendors` exactly as it does.
fn lib_cte(name: &str) -> &'static str {
    let prefix = format!("{name} AS (");
    LIB.lines().find(|l| l.starts_with(&prefix)).map_or("", |l| l.trim_end_matches(','))
}

fn compose(name: &'static str, body: &str) -> Canned {
    let (header, rest) = split_header(body);
    let field = |key: &str| {
        header.iter().find_map(|l| l.strip_prefix("-- ")?.strip_prefix(key)?.strip_prefix(": ")).unwrap_or("").trim()
    };
    let sql = format!("{}\n{}\n{}\n", header.join("\n"), lib_body(), rest.join("\n").trim_end());
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
    format!("CREATE TEMP TABLE {FINDINGS_TABLE} AS\n{}\nSELECT * FROM findings", lib_body())
}

/// The canned query `name` over the table [`materialize_findings`] made
/// instead of over the whole evidence model.
pub fn over_findings_table(name: &str) -> Result<String, UnknownQuery> {
    let (_, body) = BODIES.iter().find(|(n, _)| *n == name).ok_or_else(|| UnknownQuery(name.to_string()))?;
    let (_, rest) = split_header(body);
    Ok(format!(
        "WITH\n{},\n{},\nfindings AS (SELECT * FROM temp.{FINDINGS_TABLE})\n{}",
        lib_cte("host"),
        lib_cte("vendors"),
        rest.join("\n")
    ))
}

/// The part of canned query `name` after the evidence model, without its
/// header comment: the SQL that reads `findings` (and `host`, `vendors`,
/// `banned_vendors`). The built-in-tables packs put their own evidence model
/// in front of it.
pub fn body(name: &str) -> Result<String, UnknownQuery> {
    let (_, body) = BODIES.iter().find(|(n, _)| *n == name).ok_or_else(|| UnknownQuery(name.to_string()))?;
    let (_, rest) = split_header(body);
    Ok(rest.join("\n").trim_end().to_string())
}

/// The evidence model from its `best` CTE on: how evidence rows become
/// findings (the strongest indicator per piece, the vendors, `leftover`).
/// Whatever fills an `evidence` CTE with the model's columns can end with
/// this text.
pub fn model_from_best() -> &'static str {
    // The comment line before `best AS (` goes with it.
    let start =
        LIB.find("\n-- One row per piece of evidence").or_else(|| LIB.find("\nbest AS (")).map_or(LIB.len(), |i| i + 1);
    LIB[start..].trim_end()
}

pub fn all() -> Vec<Canned> {
    BODIES.iter().map(|(name, body)| compose(name, body)).collect()
}

/// The runnable SQL of the canned query `name`.
pub fn sql(name: &str) -> Result<String, UnknownQuery> {
    all().into_iter().find(|c| c.name == name).map(|c| c.sql).ok_or_else(|| UnknownQuery(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::UnknownQuery;

    /// What rewrites the committed queries; README.md gives it too.
    const BLESS: &str = "EMBARGO_BLESS=1 cargo test -p embargo-catalog canned";

    #[test]
    fn an_unknown_name_is_a_typed_error() {
        let e = super::sql("no_such_query").unwrap_err();
        assert_eq!(e, UnknownQuery("no_such_query".into()));
        assert_eq!(e.to_string(), "no canned query named \"no_such_query\"");
        assert_eq!(super::over_findings_table("nope"), Err(UnknownQuery("nope".into())));
        assert!(super::sql("host_exposure").unwrap().contains("FROM scan_host"));
        assert!(super::over_findings_table("host_exposure").unwrap().contains("temp.embargo_findings"));
    }

    #[test]
    fn the_model_after_its_evidence_starts_at_best() {
        let tail = super::model_from_best();
        assert!(tail.starts_with("-- One row per piece of evidence"), "{tail}");
        assert!(tail.contains("\nbest AS (") && tail.contains("\nfindings AS ("), "{tail}");
        let body = super::body("host_exposure").unwrap();
        assert!(body.starts_with(", weighed AS ("), "{body}");
    }

    #[test]
    fn queries_over_the_findings_table_reuse_the_models_ctes() {
        for name in ["host", "vendors"] {
            assert!(super::lib_cte(name).starts_with(&format!("{name} AS (")), "{name} not found in lib/findings.sql");
        }
    }

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
            assert!(committed == c.sql, "{} is stale: run `{BLESS}`", path.display());
        }
    }

    /// Found in review: the header named `embargo-dev compose-queries`,
    /// which never existed.
    #[test]
    fn the_models_header_names_the_command_that_regenerates_the_queries() {
        let header: String = super::LIB.lines().take_while(|l| l.starts_with("--")).collect::<Vec<_>>().join(" ");
        let header = header.replace("-- ", "");
        assert!(header.contains(&format!("`{BLESS}`")), "{header}");
        assert!(header.contains("queries/canned/"), "{header}");
    }
}
