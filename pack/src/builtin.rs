//! The canned queries over osquery 5.23.1's built-in tables, one per
//! platform, with the catalog's indicators written into the SQL.
//!
//! Each query is the canned one with a different evidence model in front:
//! the built-in tables are read into the same `obs` rows embargo's model
//! builds (evidence, kind of value, lowercased value, name, version, detail,
//! observed state, source table, path), each indicator becomes one
//! condition on them, and from `best` on the text is the canned model's own
//! (`canned::model_from_best`), followed by the canned query's body. So the
//! findings, their states, `leftover` and the exposure score are computed by
//! the very SQL embargo runs, and the rows have the same columns.

use crate::PackError;
use crate::sql::{MATCH, lit, lit_own, operand};
use embargo_catalog::{Catalog, Indicator, Kind, MatchKind, Platform, Vendor, canned};

/// An osquery platform, with the catalog platform it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Linux,
    Windows,
    Darwin,
}

impl Target {
    pub const ALL: &'static [Target] = &[Target::Linux, Target::Windows, Target::Darwin];

    /// osquery's and Fleet's name.
    pub fn osquery(self) -> &'static str {
        match self {
            Target::Linux => "linux",
            Target::Windows => "windows",
            Target::Darwin => "darwin",
        }
    }

    /// For people, and Fleet's GitOps folder names.
    pub fn label(self) -> &'static str {
        match self {
            Target::Linux => "Linux",
            Target::Windows => "Windows",
            Target::Darwin => "macOS",
        }
    }

    pub fn folder(self) -> &'static str {
        match self {
            Target::Linux => "linux",
            Target::Windows => "windows",
            Target::Darwin => "macos",
        }
    }

    fn catalog(self) -> Platform {
        match self {
            Target::Linux => Platform::Linux,
            Target::Windows => Platform::Windows,
            Target::Darwin => Platform::Macos,
        }
    }

    /// The built-in tables the query reads (the list for the platform).
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Target::Linux => &[
                "deb_packages",
                "rpm_packages",
                "systemd_units",
                "certificates",
                "processes",
                "chrome_extensions",
                "firefox_addons",
                "file",
                "system_info",
            ],
            Target::Windows => &[
                "programs",
                "services",
                "drivers",
                "certificates",
                "processes",
                "chrome_extensions",
                "firefox_addons",
                "file",
                "system_info",
            ],
            Target::Darwin => &[
                "apps",
                "package_receipts",
                "homebrew_packages",
                "launchd",
                "system_extensions",
                "kernel_extensions",
                "certificates",
                "processes",
                "chrome_extensions",
                "firefox_addons",
                "file",
                "system_info",
            ],
        }
    }

    /// The kinds of value `obs` holds on this platform: indicators of other
    /// kinds could never match here and are left out.
    fn value_kinds(self) -> &'static [&'static str] {
        const COMMON: &[&str] =
            &["name", "product", "publisher", "service", "cert_subject", "cert_issuer", "process", "browser_extension"];
        match self {
            Target::Darwin => &[
                "name",
                "product",
                "bundle_id",
                "service",
                "cert_subject",
                "cert_issuer",
                "process",
                "browser_extension",
            ],
            _ => COMMON,
        }
    }

    /// What this platform's built-in tables cannot see that embargo does;
    /// the pack descriptions say it.
    pub fn blind_spots(self) -> &'static str {
        match self {
            Target::Linux => {
                "osquery's built-in tables cannot see: NSS certificate databases (system, users', Firefox and \
                 Thunderbird cert9.db) and trust anchor or blocklist folders outside OpenSSL's default bundle and \
                 directory; snap, flatpak and apk packages; SysV init scripts; systemd units that are not loaded \
                 (systemd_units lists loaded units only, so a disabled leftover unit is missed); processes' and \
                 services' state on an offline disk image (osquery reads only the live host, never a --root \
                 image)."
            }
            Target::Windows => {
                "osquery's built-in tables cannot see: per-user Uninstall keys and certificate stores of users \
                 who are not logged on (programs and certificates read HKEY_USERS, where only loaded profiles \
                 are), drivers that are neither a service the Service Control Manager lists nor bound to a \
                 device, offline state of a disk image (osquery reads only the live host), and paths on a \
                 system drive other than C:."
            }
            Target::Darwin => {
                "osquery's built-in tables cannot see: certificate trust settings (a certificate in a keychain \
                 counts as present, not trusted, so exposure may be lower than embargo's), launchd override \
                 databases (a job disabled there still counts as enabled), code-signing Team IDs (publisher \
                 indicators), apps outside the folders osquery's apps table searches, and offline state of a disk \
                 image (osquery reads only the live host)."
            }
        }
    }

    /// The osquery form of a catalog path: root-relative POSIX on Linux and
    /// macOS, `C:\…` on Windows.
    fn os_path(self, pattern: &str) -> String {
        match self {
            Target::Windows => format!("C:{}", pattern.trim_end_matches('/').replace('/', "\\")),
            _ => pattern.to_string(),
        }
    }
}

/// Which canned query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueryKind {
    Findings,
    Exposure,
    Leftovers,
}

impl QueryKind {
    pub const ALL: &'static [QueryKind] = &[QueryKind::Findings, QueryKind::Exposure, QueryKind::Leftovers];

    /// The canned query's name.
    pub fn canned(self) -> &'static str {
        match self {
            QueryKind::Findings => "banned_vendor_findings",
            QueryKind::Exposure => "host_exposure",
            QueryKind::Leftovers => "banned_vendor_leftovers",
        }
    }
}

/// SQLite refuses a compound SELECT of more than 500 terms
/// (SQLITE_MAX_COMPOUND_SELECT, which osquery keeps); the alternatives are
/// grouped well below that.
const GROUP: usize = 400;

/// `host`: the hostname from system_info, the platform, and today at
/// midnight UTC as `as_of`, as embargo's default `--as-of`.
fn host_cte(target: Target) -> String {
    let family = match target {
        Target::Darwin => "macos",
        t => t.osquery(),
    };
    format!(
        "host AS (SELECT (SELECT hostname FROM system_info) AS hostname, '{family}' AS os_family,\n\
         \x20             CAST(strftime('%s', 'now', 'start of day') AS INTEGER) AS as_of)"
    )
}

/// `banned_vendors`, with the columns the canned queries read, from the
/// catalog (every vendor, context vendors too: `banned = 0` keeps them out).
fn vendors_cte(vendors: &[&Vendor]) -> Result<String, PackError> {
    let mut rows = Vec::new();
    let bad = |v: &Vendor, why: String| PackError::Unexpressible {
        vendor: v.id.clone(),
        kind: "vendor".into(),
        match_kind: "text".into(),
        pattern: v.name.clone(),
        why,
    };
    for v in vendors {
        let id = lit(&v.id).map_err(|w| bad(v, w))?;
        let name = lit(&v.name).map_err(|w| bad(v, w))?;
        let banned = u8::from(v.banned);
        let opt = |d: Option<embargo_catalog::Date>| d.map_or("NULL".to_string(), |d| lit_own(&d.to_string()));
        if v.authorities.is_empty() {
            rows.push(format!("({id}, {name}, {banned}, NULL, NULL, NULL, NULL)"));
        }
        for a in &v.authorities {
            rows.push(format!(
                "({id}, {name}, {banned}, {}, {}, {}, {})",
                lit(&a.name).map_err(|w| bad(v, w))?,
                lit(&a.citation).map_err(|w| bad(v, w))?,
                opt(a.effective_date),
                opt(a.updates_end_date)
            ));
        }
    }
    if rows.is_empty() {
        // A catalog with no vendor: an empty table of the right shape.
        rows.push("(NULL, NULL, 0, NULL, NULL, NULL, NULL)".into());
    }
    Ok(format!(
        "banned_vendors(vendor_id, vendor, banned, authority, citation, effective_date, updates_end_date) AS (VALUES\n  {})",
        rows.join(",\n  ")
    ))
}

/// The software, services and extensions of each platform, in the shapes
/// `obs` reads: `sw(name, version, publisher, identifier, observed,
/// source_table, path, product)`, `svc(evidence, value, name, detail,
/// observed, source_table, path, bundle)`, `ext(id, version, detail,
/// observed, source_table, path)` and `ct(..., observed)`.
fn sources(target: Target) -> &'static str {
    match target {
        Target::Linux => LINUX,
        Target::Windows => WINDOWS,
        Target::Darwin => DARWIN,
    }
}

/// The file name of a path (what follows the last `/` or `\`): rtrim()
/// strips every character but the separators from the right, leaving the
/// directory. The same expression as the canned model's.
macro_rules! basename {
    ($p:literal) => {
        concat!("substr(", $p, ", length(rtrim(", $p, ", replace(replace(", $p, ", '/', ''), '\\', ''))) + 1)")
    };
}

// dpkg's state word is the Status line's last; packages that are not
// installed (purged) are no evidence. rpm's version is [epoch:]version-release
// as embargo writes it.
const LINUX: &str = "sw AS (
  SELECT name, version, maintainer AS publisher, NULL AS identifier,
         CASE WHEN status IS NULL OR status = '' OR status LIKE '% installed' THEN 'installed'
              WHEN status LIKE '%config-files' THEN 'config_only' ELSE 'present' END AS observed,
         'deb_packages' AS source_table, admindir || '/status' AS path, 0 AS product
  FROM deb_packages WHERE status IS NULL OR status NOT LIKE '%not-installed'
  UNION ALL
  SELECT name, CASE WHEN epoch > 0 THEN epoch || ':' ELSE '' END || version || '-' || release, vendor, NULL,
         'installed', 'rpm_packages', NULL, 0
  FROM rpm_packages
),
units AS MATERIALIZED (SELECT id, unit_file_state, sub_state, fragment_path FROM systemd_units),
-- systemd units match by their name and, for services, without the suffix.
svc AS (
  SELECT 'service' AS evidence, u.value, u.id AS name, u.unit_file_state AS detail,
         CASE WHEN u.sub_state = 'running' THEN 'running'
              WHEN u.unit_file_state IN ('disabled', 'masked', 'masked-runtime', 'indirect', 'bad') THEN 'disabled'
              ELSE 'enabled' END AS observed,
         'systemd_units' AS source_table, u.fragment_path AS path, 0 AS bundle
  FROM (SELECT id AS value, * FROM units
        UNION ALL
        SELECT substr(id, 1, length(id) - 8), * FROM units WHERE id LIKE '%.service') AS u
),
-- Everything in OpenSSL's default bundle and directory is trusted.
ct AS MATERIALIZED (
  SELECT common_name, subject2, issuer2, lower(sha1) AS sha1, path, 'trusted' AS observed
  FROM certificates
),";

// Windows: services of driver type and PnP drivers are drivers; a driver
// also matches by its image's file name (klif.sys). The start types are
// written as embargo writes them.
const WINDOWS: &str = concat!(
    "sw AS (
  SELECT name, version, publisher, NULL AS identifier, 'installed' AS observed, 'programs' AS source_table,
         install_location AS path, 1 AS product
  FROM programs
),
ws AS MATERIALIZED (SELECT name, service_type, status, start_type, path FROM services),
dr AS MATERIALIZED (
  SELECT DISTINCT service, image FROM drivers
  WHERE (service IS NOT NULL OR image IS NOT NULL)
    AND lower(coalesce(service, '')) NOT IN (SELECT lower(name) FROM ws)
),
svc AS (
  SELECT CASE WHEN w.service_type LIKE '%DRIVER%' THEN 'driver' ELSE 'service' END AS evidence,
         w.value, w.name,
         CASE w.start_type WHEN 'BOOT_START' THEN 'boot' WHEN 'SYSTEM_START' THEN 'system'
              WHEN 'AUTO_START' THEN 'automatic' WHEN 'DEMAND_START' THEN 'manual'
              WHEN 'DISABLED' THEN 'disabled' ELSE lower(w.start_type) END AS detail,
         CASE WHEN w.status = 'RUNNING' THEN 'running' WHEN w.start_type = 'DISABLED' THEN 'disabled'
              ELSE 'enabled' END AS observed,
         'services' AS source_table, w.path AS path, 0 AS bundle
  FROM (SELECT name AS value, * FROM ws
        UNION ALL
        SELECT b.* FROM (SELECT ",
    basename!("path"),
    " AS value, * FROM ws WHERE path IS NOT NULL) AS b
        WHERE b.value <> '' AND lower(b.value) <> lower(b.name)) AS w
  UNION ALL
  -- PnP drivers whose service the SCM does not list.
  SELECT 'driver', d.value, d.name, 'pnp', 'enabled', 'drivers', d.image, 0
  FROM (SELECT service AS value, service AS name, image FROM dr WHERE service <> ''
        UNION ALL
        SELECT ",
    basename!("image"),
    ", coalesce(nullif(service, ''), ",
    basename!("image"),
    "), image FROM dr WHERE image <> '') AS d
  WHERE d.value <> ''
),
-- Certificates by store, as embargo reads Windows stores.
ct AS MATERIALIZED (
  SELECT common_name, subject2, issuer2, lower(sha1) AS sha1, path,
         CASE WHEN lower(store) = 'disallowed' THEN 'distrusted'
              WHEN lower(store) IN ('root', 'authroot', 'smartcardroot', 'trustedpublisher', 'trustedpeople') THEN 'trusted'
              ELSE 'present' END AS observed
  FROM certificates
),"
);

// macOS: apps by display name (CFBundleDisplayName, else CFBundleName, else
// the bundle's name), receipts by package id, Homebrew by formula or cask;
// launchd labels and kext and system extension identifiers are bundle ids.
const DARWIN: &str = "sw AS (
  SELECT coalesce(nullif(display_name, ''), nullif(bundle_name, ''),
                  CASE WHEN name LIKE '%.app' THEN substr(name, 1, length(name) - 4) ELSE name END) AS name,
         bundle_short_version AS version, NULL AS publisher, bundle_identifier AS identifier,
         'installed' AS observed, 'apps' AS source_table, path, 1 AS product
  FROM apps
  UNION ALL
  SELECT package_id, version, NULL, package_id, 'installed', 'package_receipts', path, 0 FROM package_receipts
  UNION ALL
  SELECT name, version, NULL, NULL, 'installed', 'homebrew_packages', path, 1 FROM homebrew_packages
),
svc AS (
  SELECT 'service' AS evidence, label AS value, label AS name,
         CASE WHEN disabled IN ('1', 'true') THEN 'disabled' WHEN run_at_load IN ('1', 'true') THEN 'run_at_load'
              ELSE 'on_demand' END AS detail,
         CASE WHEN disabled IN ('1', 'true') THEN 'disabled' ELSE 'enabled' END AS observed,
         'launchd' AS source_table, path, 1 AS bundle
  FROM launchd WHERE label IS NOT NULL AND label <> ''
  UNION ALL
  -- kernel_extensions lists the loaded ones.
  SELECT 'driver', name, name, version, 'running', 'kernel_extensions', path, 1 FROM kernel_extensions
  UNION ALL
  -- sysextd's state: only activated_enabled runs.
  SELECT 'driver', identifier, identifier, state,
         CASE WHEN state = 'activated_enabled' THEN 'enabled' ELSE 'disabled' END, 'system_extensions', path, 1
  FROM system_extensions
),
-- Keychains' certificates; their trust settings are not in osquery's table.
ct AS MATERIALIZED (
  SELECT common_name, subject2, issuer2, lower(sha1) AS sha1, path, 'present' AS observed
  FROM certificates
),";

// Browser extensions of every user. Chrome's `state` is 1 when enabled;
// Firefox's add-ons are enabled when active.
const EXTENSIONS: &str = "
ext AS (
  SELECT identifier AS id, version, browser_type || ': ' || coalesce(name, '') AS detail,
         CASE WHEN state = '0' THEN 'disabled' ELSE 'enabled' END AS observed,
         'chrome_extensions' AS source_table, path
  FROM chrome_extensions
  UNION ALL
  SELECT identifier, version, 'firefox: ' || coalesce(name, ''),
         CASE WHEN active = '0' OR disabled = '1' THEN 'disabled' ELSE 'enabled' END, 'firefox_addons', path
  FROM firefox_addons
),";

/// `obs`: every value an indicator is matched against, as embargo's model
/// has it. Materialised, because every indicator's condition reads it.
const OBS: &str = concat!(
    "
obs AS MATERIALIZED (
  SELECT 'software' AS evidence, 'name' AS ikind, lower(name) AS lv, name, version, publisher AS detail,
         observed, source_table, path
  FROM sw
  UNION ALL
  -- A product name too, except deb and rpm package names, which never are.
  SELECT 'software', 'product', lower(name), name, version, publisher, observed, source_table, path
  FROM sw WHERE product = 1
  UNION ALL
  -- A Maintainer's e-mail address is not part of the name.
  SELECT 'software', 'publisher',
         lower(trim(CASE WHEN instr(publisher, '<') > 1 THEN substr(publisher, 1, instr(publisher, '<') - 1)
                         ELSE publisher END)),
         name, version, publisher, observed, source_table, path
  FROM sw WHERE publisher IS NOT NULL
  UNION ALL
  SELECT 'software', 'bundle_id', lower(identifier), name, version, publisher, observed, source_table, path
  FROM sw WHERE identifier IS NOT NULL AND identifier <> ''
  UNION ALL
  SELECT evidence, 'service', lower(value), name, NULL, detail, observed, source_table, path FROM svc
  UNION ALL
  SELECT evidence, 'bundle_id', lower(value), name, NULL, detail, observed, source_table, path FROM svc
  WHERE bundle = 1
  UNION ALL
  -- The catalog's certificate patterns name a whole CN= or O= attribute.
  -- They are matched against subject2 and issuer2 (OpenSSL's
  -- XN_FLAG_ONELINE form, `C = RU, O = AO Kaspersky Lab, CN = ...`), never
  -- the deprecated subject and issuer (X509_NAME_oneline, whose `/`
  -- separators look like a `/` inside a value). A `/` there is part of a
  -- value, so it is hidden; a value holding `,` or `+` is quoted, so the
  -- text inside quotes is left out (what precedes the first quote and
  -- follows the last is matched).
  SELECT 'certificate', c.ikind, lower(replace(c.part, '/', '\\2f')), c.sha1, NULL, c.common_name, c.observed,
         'certificates', c.path
  FROM (SELECT d.ikind, CASE WHEN instr(d.value, '\"') = 0 THEN d.value
                             ELSE substr(d.value, 1, instr(d.value, '\"') - 1) END AS part,
               d.sha1, d.common_name, d.observed, d.path
        FROM dns AS d
        UNION ALL
        SELECT d.ikind, substr(d.value, length(rtrim(d.value, replace(d.value, '\"', ''))) + 1),
               d.sha1, d.common_name, d.observed, d.path
        FROM dns AS d WHERE instr(d.value, '\"') > 0) AS c
  WHERE c.part <> ''
  UNION ALL
  SELECT 'process', 'process', lower(p.value), p.name, NULL, p.cmdline, 'running', 'processes', p.path
  FROM (SELECT name AS value, name, cmdline, path FROM pr
        UNION ALL
        -- The executable's file name when it differs from the process name.
        SELECT b.* FROM (SELECT ",
    basename!("path"),
    " AS value, name, cmdline, path FROM pr WHERE path IS NOT NULL) AS b
        WHERE b.value <> '' AND b.value <> b.name) AS p
  UNION ALL
  SELECT 'browser_extension', 'browser_extension', lower(id), id, version, detail, observed, source_table, path
  FROM ext
),"
);

const PROCESSES: &str = "
pr AS MATERIALIZED (SELECT name, cmdline, path FROM processes),
dns AS (
  SELECT 'cert_subject' AS ikind, subject2 AS value, sha1, common_name, observed, path FROM ct
  WHERE subject2 IS NOT NULL AND subject2 <> ''
  UNION ALL
  SELECT 'cert_issuer', issuer2, sha1, common_name, observed, path FROM ct
  WHERE issuer2 IS NOT NULL AND issuer2 <> ''
),";

/// The indicator's kind of value in `obs`, or None for paths (looked up in
/// `file`).
fn value_kind(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Package => "name",
        Kind::ProductName => "product",
        Kind::Publisher => "publisher",
        Kind::Service | Kind::Driver => "service",
        Kind::BundleId => "bundle_id",
        Kind::CertSubject => "cert_subject",
        Kind::CertIssuer => "cert_issuer",
        Kind::Process => "process",
        Kind::BrowserExtension => "browser_extension",
        Kind::Path => return None,
    })
}

fn unexpressible(v: &Vendor, i: &Indicator, why: String) -> PackError {
    PackError::Unexpressible {
        vendor: v.id.clone(),
        kind: i.kind.as_str().into(),
        match_kind: i.match_kind.as_str().into(),
        pattern: i.pattern.clone(),
        why,
    }
}

/// The catalog's text for an indicator, as embargo's `indicator` column has it.
fn indicator_text(i: &Indicator) -> String {
    format!("{} {} {}", i.kind.as_str(), i.match_kind.as_str(), i.pattern)
}

/// `ind` (the catalog's indicators for the platform, each pattern turned
/// into the operand of its match rule's operator) and `hits`: every `obs`
/// value joined to the indicators of its kind that it matches, and one
/// `file` lookup per path indicator.
///
/// The indicators are data in one VALUES list rather than one SQL
/// alternative each: every alternative that reads `obs` copies its whole
/// definition into the statement, and SQLite refuses a statement with
/// some twenty such copies ("VIEWs and/or subqueries nested too deep").
fn hits_cte(target: Target, vendors: &[&Vendor]) -> Result<String, PackError> {
    let mut rows = Vec::new();
    let mut paths = Vec::new();
    for v in vendors {
        for i in &v.indicators {
            if i.platform != Platform::All && i.platform != target.catalog() {
                continue;
            }
            let bad = |why: String| unexpressible(v, i, why);
            let meta = format!(
                "{}, {}, {}",
                lit(&v.id).map_err(&bad)?,
                lit(i.confidence.as_str()).map_err(&bad)?,
                lit(&indicator_text(i)).map_err(&bad)?
            );
            let Some(kind) = value_kind(i.kind) else {
                // A path is looked up, never searched for: osquery's file
                // table takes exact paths (a pattern would make it walk the
                // disk, which its watchdog may kill).
                if i.match_kind != MatchKind::Exact {
                    return Err(bad(
                        "osquery's file table is only ever asked for exact paths; a path pattern would make it \
                         search the file system"
                            .into(),
                    ));
                }
                let path = lit(&target.os_path(&i.pattern)).map_err(&bad)?;
                paths.push(format!(
                    "SELECT 'path', 'path', lower(f.path), {name}, NULL, f.type, 'present', 'file', f.path, {meta}\n  \
                     FROM file AS f WHERE f.path = {path}",
                    name = lit(&i.pattern).map_err(&bad)?
                ));
                continue;
            };
            if !target.value_kinds().contains(&kind) {
                continue;
            }
            let lp = lit(&operand(i.match_kind, &i.pattern).map_err(&bad)?).map_err(&bad)?;
            let needle = match (i.match_kind, i.matcher().needle()) {
                (MatchKind::Regex, Some(n)) => lit(n).map_err(&bad)?,
                _ => "NULL".to_string(),
            };
            rows.push(format!("('{kind}', '{}', {lp}, {needle}, {meta})", i.match_kind.as_str()));
        }
    }
    if rows.is_empty() {
        rows.push("(NULL, NULL, NULL, NULL, NULL, NULL, NULL)".into());
    }
    let mut all = vec![format!(
        "SELECT o.*, i.vendor_id, i.confidence, i.indicator\n  FROM obs AS o JOIN ind AS i ON i.okind = o.ikind\n  \
         WHERE {MATCH}"
    )];
    if paths.len() >= GROUP {
        return Err(PackError::TooLarge { target: target.label().into(), branches: paths.len(), max: GROUP });
    }
    all.extend(paths);
    Ok(format!(
        "ind(okind, match, lp, needle, vendor_id, confidence, indicator) AS (VALUES\n  {}),\nhits AS (\n{}\n),\n\
         evidence AS (SELECT * FROM hits),",
        rows.join(",\n  "),
        all.join("\nUNION ALL\n")
    ))
}

/// The complete query.
pub fn query(catalog: &Catalog, target: Target, kind: QueryKind, vendor: Option<&str>) -> Result<String, PackError> {
    let vendors: Vec<&Vendor> = catalog.vendors().iter().filter(|v| vendor.is_none_or(|id| v.id == id)).collect();
    let body = canned::body(kind.canned()).map_err(|e| PackError::Json(e.to_string()))?;
    let mut sql = format!(
        "-- embargo's {name} over osquery's built-in tables ({label}), generated by `embargo pack`: the\n\
         -- catalog's indicators are written into the SQL; from `best` on it is queries/lib/findings.sql.\nWITH\n",
        name = kind.canned(),
        label = target.label()
    );
    sql.push_str(&host_cte(target));
    sql.push_str(",\n");
    sql.push_str(&vendors_cte(&vendors)?);
    sql.push_str(",\n");
    sql.push_str(sources(target));
    sql.push_str(EXTENSIONS);
    sql.push_str(PROCESSES);
    sql.push_str(OBS);
    sql.push('\n');
    sql.push_str(&hits_cte(target, &vendors)?);
    sql.push('\n');
    sql.push_str(canned::model_from_best());
    sql.push('\n');
    sql.push_str(&body);
    sql.push('\n');
    Ok(sql)
}
