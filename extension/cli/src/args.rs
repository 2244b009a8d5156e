//! Command-line flags. The help text here is the first manual most users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::scan::Level;

#[derive(Debug, Parser)]
#[command(
    name = "embargo",
    version,
    about = "Find software from banned vendors, with SQL.",
    long_about = "embargo exposes a system's installed software, services, certificates, processes and \
browser extensions as SQL tables, and ships queries that find software from vendors barred by law \
(Kaspersky first) and score each host's exposure.\n\nIt reads the running system or, with --root, a \
mounted disk image, which it never writes to and never leaves.",
    after_help = "Examples:\n  embargo tables\n  embargo query \"SELECT name, version FROM installed_software WHERE source = 'deb'\"\n  \
embargo --root /mnt/image --format json query -f my.sql\n  embargo shell"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Scan this directory as if it were `/` (a mounted disk image). Paths
    /// resolve inside it as in a chroot; nothing outside it is read.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Output format for rows.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Replace the built-in banned-vendor catalog with this TOML file or
    /// directory of TOML files.
    #[arg(long, global = true, value_name = "PATH")]
    pub catalog: Option<PathBuf>,

    /// Judge the host as of this date (YYYY-MM-DD) instead of today: how long
    /// banned software has gone without lawful updates, for instance.
    #[arg(long = "as-of", global = true, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    Table,
    /// One JSON array of objects; numbers stay numbers, NULL is null.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// One `column = value` line per column, rows separated by a blank line.
    Line,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL against the tables and print the rows.
    ///
    /// The SQL comes from the argument, from -f FILE, or from standard input.
    /// Several statements separated by `;` run in turn.
    Query {
        /// The SQL to run. It may start with a `--` comment, as the canned
        /// queries do.
        #[arg(allow_hyphen_values = true, value_parser = sql_text)]
        sql: Option<String>,
        /// Read the SQL from this file (`-` for standard input).
        #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with = "sql")]
        file: Option<PathBuf>,
    },
    /// An interactive SQL shell with line editing and history.
    ///
    /// Type SQL ending in `;`, or a dot command: .tables, .schema [TABLE],
    /// .mode FORMAT, .help, .quit.
    Shell,
    /// Scan for software from banned vendors and report each vendor's exposure.
    ///
    /// Runs the canned queries (host_exposure, banned_vendor_findings) on the
    /// root. Exit code 0 when no vendor reaches --fail-on, 1 when one does,
    /// 2 on an error.
    ///
    /// Output: table and line print the report, with a "looked at:" line of
    /// what was read; json prints {"host", "exposure", "findings",
    /// "coverage", "unreadable"}; jsonl one object per line, each with a
    /// "record" of host, exposure, finding, coverage or unreadable; csv the
    /// exposure rows only.
    ///
    /// Unreadable evidence: a file of an evidence table that was too large,
    /// not readable, corrupt, a symlink loop, not a regular file, or a link
    /// whose target is outside the root or gone. It is listed on an
    /// "unreadable evidence" line and counts as at least medium for
    /// --fail-on. A missing file does not count.
    #[command(after_help = "Examples:\n  embargo scan\n  embargo --root /mnt/image --format json scan --fail-on high")]
    Scan {
        /// The exposure level at which the exit code becomes 1.
        #[arg(long = "fail-on", value_enum, default_value = "medium", value_name = "LEVEL")]
        fail_on: Level,
    },
    /// List the tables: their names, or with --format their descriptions too.
    Tables,
    /// Generate scheduled-query packs for a fleet from the catalog and the
    /// canned queries.
    ///
    /// osquery: an osquery pack (embargo.json) running the canned queries
    /// over the embargo extension's tables, only where the extension is
    /// loaded. osquery-builtin: a pack (embargo-builtin.json) over osquery
    /// 5.23.1's built-in tables, the catalog's indicators written into the
    /// SQL, one query per platform. fleet: Fleet YAML (fleet.yml: queries
    /// and policies; fleet-extension.yml: the extension's queries) and the
    /// same specs as GitOps lib/ files.
    ///
    /// Without --out the pack's main file (embargo.json, embargo-builtin.json
    /// or fleet.yml) is printed; with --out every file is written into DIR
    /// (created if missing), each complete or not at all.
    #[command(after_help = "Examples:\n  embargo pack --flavor osquery > /etc/osquery/packs/embargo.json\n  \
embargo pack --flavor fleet --out queries/packs")]
    Pack {
        /// Which pack.
        #[arg(long, value_enum)]
        flavor: PackFlavor,
        /// Write the files into this directory instead of printing the main one.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Show table schemas: every table, or the one named.
    Schema {
        /// The table to show.
        table: Option<String>,
        /// How to show it.
        #[arg(long = "as", value_enum, default_value = "sql")]
        style: SchemaStyle,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PackFlavor {
    /// osquery pack over the embargo extension's tables.
    Osquery,
    /// osquery pack over osquery's built-in tables only.
    #[value(name = "osquery-builtin")]
    OsqueryBuiltin,
    /// Fleet YAML and GitOps lib files.
    Fleet,
}

impl PackFlavor {
    pub fn flavor(self) -> embargo_pack::Flavor {
        use embargo_pack::Flavor;
        match self {
            PackFlavor::Osquery => Flavor::Osquery,
            PackFlavor::OsqueryBuiltin => Flavor::OsqueryBuiltin,
            PackFlavor::Fleet => Flavor::Fleet,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaStyle {
    /// CREATE TABLE statements.
    Sql,
    /// The table reference as Markdown (docs/tables.md is this output).
    Markdown,
    /// osquery's table-spec JSON, for check_pack.py and Fleet.
    #[value(name = "osquery-json")]
    OsqueryJson,
}

/// Parses `YYYY-MM-DD` into Unix seconds at midnight UTC.
pub fn parse_date(s: &str) -> Result<i64, String> {
    embargo_catalog::Date::parse_iso(s)
        .map(embargo_catalog::Date::unix_seconds)
        .map_err(|why| format!("{why} (for example 2025-01-31)"))
}

/// SQL may start with a `--` comment, so the argument accepts a leading
/// hyphen; a single word that does is a mistyped option, not SQL.
fn sql_text(s: &str) -> Result<String, String> {
    if s.starts_with('-') && !s.contains(char::is_whitespace) {
        return Err("not an option of `query` (see --help); SQL that starts with a comment has more after it".into());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::{Cli, parse_date};
    use clap::{CommandFactory, Parser};

    /// `--fail-on` takes the exposure levels above none: `none` would make
    /// every scan fail.
    #[test]
    fn fail_on_offers_the_levels_above_none() {
        let cli = Cli::command();
        let scan = cli.find_subcommand("scan").unwrap();
        let arg = scan.get_arguments().find(|a| a.get_id() == "fail_on").unwrap();
        let names: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        assert_eq!(names, ["low", "medium", "high", "critical"]);
        assert_eq!(arg.get_default_values(), ["medium"]);
        assert!(Cli::try_parse_from(["embargo", "scan", "--fail-on", "none"]).is_err());
        assert!(Cli::try_parse_from(["embargo", "scan", "--fail-on", "HIGH"]).is_err());
        assert!(Cli::try_parse_from(["embargo", "scan", "--fail-on", "critical"]).is_ok());
    }

    /// The `--as-of` messages as they were when the CLI had its own date parser.
    #[test]
    fn as_of_errors_say_which_problem() {
        // `date -u -d 2024-02-29 +%s`
        assert_eq!(parse_date("2024-02-29"), Ok(1_709_164_800));
        assert_eq!(
            parse_date("2024-02-30").unwrap_err(),
            "`2024-02-30` is not a calendar date (for example 2025-01-31)"
        );
        assert_eq!(
            parse_date("2024-2-3").unwrap_err(),
            "`2024-2-3` is not an ISO date YYYY-MM-DD (for example 2025-01-31)"
        );
    }
}
