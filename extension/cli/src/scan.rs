//! `embargo scan`: the canned queries, run on one root, as a report.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;

use crate::args::Format;
use crate::engine::Engine;
use crate::output::{self, Cell};

/// Exposure levels, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
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
}

pub fn run(engine: &Engine) -> Result<Report> {
    use embargo_catalog::canned;
    engine.scan.forget_rows();
    let host = engine.table("SELECT * FROM scan_host")?;
    let mut tables: Vec<&'static dyn embargo_tables::Table> = embargo_tables::tables::all()
        .iter()
        .copied()
        .filter(|t| !t.spec().columns.iter().any(|c| c.options.required) && t.spec().name != "scan_errors")
        .collect();
    // The slowest collectors first, so that the two finish together.
    tables.sort_by_key(|t| !matches!(t.spec().name, "installed_certificates" | "installed_services"));
    // The collectors run while SQLite compiles the evidence model.
    let scan = engine.scan.clone();
    let prefetch = std::thread::spawn(move || scan.prefetch(&tables));
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
    let exposure = engine.table(&canned::over_findings_table("host_exposure").map_err(anyhow::Error::msg)?)?;
    let findings = engine.table(&canned::over_findings_table("banned_vendor_findings").map_err(anyhow::Error::msg)?)?;
    // "Processes are read only on the live system" is a fact about the
    // root, not a problem reading it.
    let errors: Vec<_> = engine
        .scan
        .errors
        .snapshot()
        .into_iter()
        .filter(|e| e.kind != embargo_tables::ErrorKind::Unsupported)
        .collect();
    let no_os =
        host.rows.first().is_none_or(|r| host.text(r, "os_name").is_empty() && host.text(r, "hostname").is_empty());
    let software = engine.table("SELECT 1 FROM installed_software LIMIT 1")?;
    // With problems, the report lists them instead.
    let nothing_found = no_os && software.rows.is_empty() && errors.is_empty();
    Ok(Report { host, exposure, findings, errors, nothing_found })
}

impl Report {
    /// The highest level any vendor reached.
    pub fn worst(&self) -> Level {
        self.exposure.rows.iter().map(|r| Level::parse(&self.exposure.text(r, "level"))).max().unwrap_or(Level::None)
    }

    pub fn print(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        match format {
            Format::Json => {
                let host = self.host.json_objects().as_array().and_then(|a| a.first().cloned()).unwrap_or_default();
                let doc = serde_json::json!({
                    "host": host,
                    "exposure": self.exposure.json_objects(),
                    "findings": self.findings.json_objects(),
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
                Cell::Integer(t) => embargo_tables::dates::format_iso_date(*t),
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
