//! `embargo scan`: the canned queries, run on one root, as a report.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;

use embargo_tables::spec::Prefetch;

use crate::args::Format;
use crate::engine::Session;
use crate::output::{self, Cell};

/// Exposure levels, weakest first; also the values of `scan --fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
    /// Not a `--fail-on` value: every scan would fail.
    #[value(skip)]
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    fn parse(s: &str) -> Level {
        Level::from_str(s, true).unwrap_or(Level::None)
    }
}

/// The rows of one query, with their column names.
pub struct Fetched {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Fetched {
    fn get<'a>(&'a self, row: &'a [Cell], col: &str) -> &'a Cell {
        self.columns.iter().position(|c| c == col).map_or(&Cell::Null, |i| &row[i])
    }

    /// A cell as the text report shows it: safe for a terminal, since most
    /// values come from the scanned image.
    fn text(&self, row: &[Cell], col: &str) -> String {
        match self.get(row, col) {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => output::terminal_safe(s).into_owned(),
        }
    }

    fn json_objects(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(self.columns.iter().cloned().zip(r.iter().map(Cell::to_json)).collect())
                })
                .collect(),
        )
    }
}

pub struct Report {
    pub host: Fetched,
    pub exposure: Fetched,
    pub findings: Fetched,
    /// Problems reading the root, in the order met.
    pub errors: Vec<embargo_tables::ScanError>,
    /// No operating system, no software and no problem found: most likely
    /// the wrong directory, or an image not mounted there.
    pub nothing_found: bool,
    /// What the scan looked at, per source.
    pub coverage: Coverage,
    /// The problems that left evidence unread ([`embargo_tables::table::counts_as_unreadable`]).
    pub unreadable: Vec<embargo_tables::ScanError>,
}

/// Counts of what was read, so that a clean report can be told apart from
/// a scan that read nothing.
pub struct Coverage {
    /// (source, packages), e.g. ("deb", 724).
    pub software: Vec<(String, i64)>,
    /// (kind, units), e.g. ("systemd", 214).
    pub services: Vec<(String, i64)>,
    pub certificates: i64,
    /// Distinct store files (or keys) the certificates came from.
    pub certificate_stores: i64,
    pub browser_extensions: i64,
    pub browser_profiles: i64,
    pub processes: i64,
    pub problems: usize,
}

impl Coverage {
    fn read(engine: &Session, problems: usize) -> Result<Coverage> {
        let pairs = |sql: &str| -> Result<Vec<(String, i64)>> {
            let t = engine.table(sql)?;
            Ok(t.rows
                .iter()
                .map(|r| {
                    (
                        t.text(r, "k"),
                        match t.get(r, "n") {
                            Cell::Integer(n) => *n,
                            _ => 0,
                        },
                    )
                })
                .collect())
        };
        let one = |sql: &str| -> Result<(i64, i64)> {
            let t = engine.table(sql)?;
            let get = |c| {
                t.rows.first().map_or(0, |r| match t.get(r, c) {
                    Cell::Integer(n) => *n,
                    _ => 0,
                })
            };
            Ok((get("n"), get("m")))
        };
        let software =
            pairs("SELECT source AS k, count(*) AS n FROM installed_software GROUP BY source ORDER BY n DESC, k")?;
        let services =
            pairs("SELECT kind AS k, count(*) AS n FROM installed_services GROUP BY kind ORDER BY n DESC, k")?;
        let (certificates, certificate_stores) =
            // A directory store is the directory, not each file in it; a
            // Windows store (a registry key or a user's store folder holds
            // one certificate per key or file) is its location, user and name.
            one("SELECT count(*) AS n, count(DISTINCT store || char(0) || CASE \
                 WHEN path NOT LIKE '/%' OR path LIKE '%/SystemCertificates/%/Certificates/%' \
                 THEN ifnull(store_location, '') || char(0) || ifnull(user, '') \
                 WHEN store = 'directory' THEN rtrim(path, replace(path, '/', '')) \
                 ELSE path END) AS m FROM installed_certificates")?;
        let (browser_extensions, browser_profiles) =
            one("SELECT count(*) AS n, count(DISTINCT browser || char(0) || user || char(0) || profile) AS m \
             FROM browser_extensions")?;
        let (processes, _) = one("SELECT count(*) AS n, 0 AS m FROM running_processes")?;
        Ok(Coverage {
            software,
            services,
            certificates,
            certificate_stores,
            browser_extensions,
            browser_profiles,
            processes,
            problems,
        })
    }

    /// `looked at: 724 deb packages, 214 systemd units, 144 certificates in
    /// 3 stores, 2 browser extensions in 1 profile; 0 problems`.
    pub fn summary(&self) -> String {
        let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.software.is_empty() {
            parts.push("0 packages".to_string());
        }
        for (source, n) in &self.software {
            parts.push(plural(*n, &format!("{source} package"), &format!("{source} packages")));
        }
        if self.services.is_empty() {
            parts.push("0 services".to_string());
        }
        for (kind, n) in &self.services {
            let (one, many) = match kind.as_str() {
                "systemd" => ("systemd unit".to_string(), "systemd units".to_string()),
                "sysv" => ("SysV init script".into(), "SysV init scripts".into()),
                _ => (format!("{kind} service"), format!("{kind} services")),
            };
            parts.push(plural(*n, &one, &many));
        }
        parts.push(format!(
            "{} in {}",
            plural(self.certificates, "certificate", "certificates"),
            plural(self.certificate_stores, "store", "stores")
        ));
        parts.push(format!(
            "{} in {}",
            plural(self.browser_extensions, "browser extension", "browser extensions"),
            plural(self.browser_profiles, "profile", "profiles")
        ));
        if self.processes > 0 {
            parts.push(plural(self.processes, "process", "processes"));
        }
        format!("looked at: {}; {}", parts.join(", "), plural(self.problems as i64, "problem", "problems"))
    }

    fn to_json(&self) -> serde_json::Value {
        let map =
            |v: &[(String, i64)]| serde_json::Value::Object(v.iter().map(|(k, n)| (k.clone(), (*n).into())).collect());
        serde_json::json!({
            "software": map(&self.software),
            "services": map(&self.services),
            "certificates": self.certificates,
            "certificate_stores": self.certificate_stores,
            "browser_extensions": self.browser_extensions,
            "browser_profiles": self.browser_profiles,
            "processes": self.processes,
            "problems": self.problems,
            "summary": self.summary(),
        })
    }
}

/// Whether `table` has a row that stands for the link at `path`: by that
/// path, or, for a row read from no file (a unit whose file is gone), by the
/// name the link gives it.
fn has_row_at(engine: &Session, table: &str, path: &str) -> bool {
    let Some(spec) = embargo_tables::tables::find(table).map(|t| t.spec()) else { return false };
    if spec.column_index("path").is_none() || spec.column_index("name").is_none() {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let sql = format!("SELECT 1 FROM \"{table}\" WHERE path = ?1 OR (path IS NULL AND name = ?2) LIMIT 1");
    engine.conn.query_row(&sql, [path, name], |_| Ok(())).is_ok()
}

pub fn run(engine: &Session) -> Result<Report> {
    use embargo_catalog::canned;
    // One scan for the whole report: every query below shares its rows.
    let scan = engine.begin();
    let host = engine.table("SELECT * FROM scan_host")?;
    let mut tables: Vec<&'static dyn embargo_tables::Table> = embargo_tables::tables::all()
        .iter()
        .copied()
        .filter(|t| t.spec().attributes.prefetch != Prefetch::No)
        .collect();
    // The slowest collectors first, so that they finish with the others.
    tables.sort_by_key(|t| t.spec().attributes.prefetch != Prefetch::First);
    // The collectors run while SQLite compiles the evidence model.
    let prefetching = scan.clone();
    let prefetch = std::thread::spawn(move || prefetching.prefetch(&tables));
    // The evidence model is evaluated once; both reports read its result.
    engine
        .conn
        .execute_batch(&format!("DROP TABLE IF EXISTS temp.{}", canned::FINDINGS_TABLE))
        .map_err(crate::engine::explain)?;
    let mut materialize = engine.conn.prepare(&canned::materialize_findings()).map_err(crate::engine::explain)?;
    // A collector that panicked is run again by the statement, which reports it.
    let _ = prefetch.join();
    materialize.execute([]).map_err(crate::engine::explain)?;
    drop(materialize);
    let exposure = engine.table(&canned::over_findings_table("host_exposure")?)?;
    let findings = engine.table(&canned::over_findings_table("banned_vendor_findings")?)?;
    // "Processes are read only on the live system" is a fact about the
    // root, not a problem reading it.
    let errors: Vec<_> =
        scan.errors.snapshot().into_iter().filter(|e| e.kind != embargo_tables::ErrorKind::Unsupported).collect();
    let no_os =
        host.rows.first().is_none_or(|r| host.text(r, "os_name").is_empty() && host.text(r, "hostname").is_empty());
    let software = engine.table("SELECT 1 FROM installed_software LIMIT 1")?;
    // With problems, the report lists them instead.
    let nothing_found = no_os && software.rows.is_empty() && errors.is_empty();
    let coverage = Coverage::read(engine, errors.len())?;
    let unreadable = errors
        .iter()
        .filter(|e| {
            embargo_tables::table::counts_as_unreadable(&scan.root, e, || has_row_at(engine, &e.table_name, &e.path))
        })
        .cloned()
        .collect();
    Ok(Report { host, exposure, findings, errors, nothing_found, coverage, unreadable })
}

impl Report {
    /// The highest level any vendor reached; at least `medium` when
    /// evidence could not be read, since a limit must never make a host
    /// look clean.
    pub fn worst(&self) -> Level {
        let found = self
            .exposure
            .rows
            .iter()
            .map(|r| Level::parse(&self.exposure.text(r, "level")))
            .max()
            .unwrap_or(Level::None);
        if self.unreadable.is_empty() { found } else { found.max(Level::Medium) }
    }

    fn unreadable_json(&self) -> serde_json::Value {
        self.unreadable
            .iter()
            .map(|e| {
                serde_json::json!({"table_name": e.table_name, "path": e.path, "kind": e.kind.as_str(), "message": e.message})
            })
            .collect()
    }

    pub fn print(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        match format {
            Format::Json => {
                let host = self.host.json_objects().as_array().and_then(|a| a.first().cloned()).unwrap_or_default();
                let doc = serde_json::json!({
                    "host": host,
                    "exposure": self.exposure.json_objects(),
                    "findings": self.findings.json_objects(),
                    "coverage": self.coverage.to_json(),
                    "unreadable": self.unreadable_json(),
                });
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
            }
            Format::Jsonl => {
                for (record, table) in [("host", &self.host), ("exposure", &self.exposure), ("finding", &self.findings)]
                {
                    if let serde_json::Value::Array(rows) = table.json_objects() {
                        for mut row in rows {
                            if let serde_json::Value::Object(m) = &mut row {
                                m.insert("record".into(), record.into());
                            }
                            serde_json::to_writer(&mut *out, &row)?;
                            writeln!(out)?;
                        }
                    }
                }
                let mut extra = vec![self.coverage.to_json()];
                extra[0]["record"] = "coverage".into();
                if let serde_json::Value::Array(rows) = self.unreadable_json() {
                    for mut row in rows {
                        row["record"] = "unreadable".into();
                        extra.push(row);
                    }
                }
                for row in extra {
                    serde_json::to_writer(&mut *out, &row)?;
                    writeln!(out)?;
                }
            }
            Format::Csv => {
                let mut sink = output::sink(Format::Csv, out);
                sink.begin(&self.exposure.columns)?;
                for r in &self.exposure.rows {
                    sink.row(r)?;
                }
                sink.end()?;
                sink.finish()?;
            }
            Format::Table | Format::Line => self.print_text(out)?,
        }
        Ok(())
    }

    fn print_text(&self, out: &mut dyn Write) -> Result<()> {
        let h = &self.host;
        if let Some(row) = h.rows.first() {
            let as_of = match h.get(row, "as_of") {
                Cell::Integer(t) => {
                    embargo_catalog::Date::from_unix_seconds(*t).map(|d| d.to_string()).unwrap_or_default()
                }
                _ => String::new(),
            };
            let os = format!("{} {}", h.text(row, "os_name"), h.text(row, "os_version")).trim().to_string();
            let os = if os.is_empty() { h.text(row, "os_family") } else { os };
            writeln!(
                out,
                "embargo scan of {} ({os}), root {}, as of {}\n",
                or_unknown(h.text(row, "hostname")),
                h.text(row, "root"),
                as_of
            )?;
        }
        let e = &self.exposure;
        let mut clean = Vec::new();
        for row in &e.rows {
            let level = e.text(row, "level");
            let vendor_id = e.text(row, "vendor_id");
            if level == "none" {
                clean.push(e.text(row, "vendor"));
                continue;
            }
            writeln!(out, "{} — {} (score {})", e.text(row, "vendor"), level.to_uppercase(), e.text(row, "score"))?;
            let days = e.text(row, "days_without_updates");
            writeln!(out, "  authority: {}", e.text(row, "authority"))?;
            match days.parse::<i64>() {
                Ok(d) if d >= 0 => writeln!(out, "  {d} days without lawful updates")?,
                // --as-of before the end of updates.
                Ok(d) => writeln!(out, "  lawful updates end in {} days", -d)?,
                Err(_) => {}
            }
            writeln!(out, "  reasons:   {}", e.text(row, "reasons"))?;
            writeln!(out, "  evidence:")?;
            let f = &self.findings;
            for fr in f.rows.iter().filter(|fr| f.text(fr, "vendor_id") == vendor_id) {
                let version = f.text(fr, "version");
                let detail = f.text(fr, "detail");
                writeln!(
                    out,
                    "    - {:<17} {}{}{} [{}; {}] ({})",
                    f.text(fr, "evidence"),
                    f.text(fr, "name"),
                    if version.is_empty() { String::new() } else { format!(" {version}") },
                    if detail.is_empty() { String::new() } else { format!(" — {detail}") },
                    f.text(fr, "state"),
                    f.text(fr, "indicator"),
                    f.text(fr, "confidence"),
                )?;
            }
            writeln!(out, "  action:    {}\n", e.text(row, "action"))?;
        }
        if !clean.is_empty() {
            writeln!(out, "No evidence of: {}.", clean.join(", "))?;
        }
        writeln!(out, "{}", output::terminal_safe(&self.coverage.summary()))?;
        if !self.unreadable.is_empty() {
            const SHOWN: usize = 5;
            let paths: Vec<String> =
                self.unreadable.iter().take(SHOWN).map(|e| format!("{} ({})", e.path, e.kind)).collect();
            let more = self.unreadable.len().saturating_sub(SHOWN);
            let line = format!(
                "unreadable evidence: {} file(s) could not be read, so this report may miss what they hold: {}{}",
                self.unreadable.len(),
                paths.join(", "),
                if more > 0 { format!(", and {more} more") } else { String::new() }
            );
            writeln!(out, "{}", output::terminal_safe(&line))?;
        }
        if !self.errors.is_empty() {
            writeln!(out, "\n{} problem(s) reading the root:", self.errors.len())?;
            const SHOWN: usize = 5;
            for e in self.errors.iter().take(SHOWN) {
                let line = format!("{} {}: {} ({})", e.table_name, e.path, e.message, e.kind);
                writeln!(out, "  - {}", output::terminal_safe(&line))?;
            }
            if self.errors.len() > SHOWN {
                let root = self.host.rows.first().map(|r| self.host.text(r, "root")).unwrap_or_default();
                let flag = if root.is_empty() || root == "/" { String::new() } else { format!("--root '{root}' ") };
                writeln!(
                    out,
                    "  … and {} more: embargo {flag}query \"SELECT * FROM scan_errors\"",
                    self.errors.len() - SHOWN
                )?;
            }
        }
        Ok(())
    }
}

fn or_unknown(s: String) -> String {
    if s.is_empty() { "unknown host".into() } else { s }
}
