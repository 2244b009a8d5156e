//! The `embargo` command: thin glue between the flags, the tables and the
//! printers. Exit codes: 0 success, 1 a finding at or above `--fail-on`
//! (scan), 2 any usage, SQL or catalog error.

mod args;
mod engine;
mod output;
mod scan;
mod shell;
mod sqlite_setup;

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use args::{Cli, Command, Format, SchemaStyle};

fn main() -> ExitCode {
    sqlite_setup::configure_sqlite();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("embargo: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    match &cli.command {
        Command::Tables => match g.format {
            // Plain names, one per line, for scripts and shells.
            None => {
                for t in embargo_tables::tables::all() {
                    writeln!(out, "{}", t.spec().name)?;
                }
            }
            Some(format) => {
                let mut sink = output::sink(format, &mut out);
                sink.begin(&["name".into(), "description".into()])?;
                for t in embargo_tables::tables::all() {
                    let spec = t.spec();
                    sink.row(&[output::Cell::Text(spec.name.into()), output::Cell::Text(spec.description.into())])?;
                }
                sink.end()?;
                sink.finish()?;
            }
        },
        Command::Schema { table, style } => schema(&mut out, table.as_deref(), *style)?,
        Command::Pack { flavor, out: dir } => pack(&mut out, g, flavor.flavor(), dir.as_deref())?,
        Command::Query { sql, file } => {
            let sql = match (sql, file) {
                (Some(sql), _) => sql.clone(),
                (None, Some(path)) if path.as_os_str() == "-" => read_stdin()?,
                (None, Some(path)) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the SQL file {}", path.display()))?,
                (None, None) => read_stdin()?,
            };
            let engine = engine::Session::open(g)?;
            if engine.run_sql(&sql, g.format.unwrap_or(Format::Table), &mut out)? == 0 {
                anyhow::bail!("no SQL statement given (only blanks, comments or `;`)");
            }
        }
        Command::Scan { fail_on } => {
            let engine = engine::Session::open(g)?;
            let report = scan::run(&engine)?;
            report.print(g.format.unwrap_or(Format::Table), &mut out)?;
            out.flush()?;
            if report.nothing_found {
                eprintln!(
                    "embargo: warning: no operating system and no installed software found under {}; \
                     is the image mounted there?",
                    g.root.display()
                );
            }
            return Ok(if report.worst() >= *fail_on { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
        Command::Shell => {
            drop(out);
            let engine = engine::Session::open(g)?;
            shell::run(&engine, g.format.unwrap_or(Format::Table))?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<String> {
    let mut s = String::new();
    io::stdin().read_to_string(&mut s).context("cannot read SQL from standard input")?;
    if s.trim().is_empty() {
        anyhow::bail!("no SQL given: pass it as an argument, with -f FILE, or on standard input");
    }
    Ok(s)
}

/// `embargo pack`: every file is generated before any is written, so a
/// catalog the pack cannot express leaves nothing behind.
fn pack(
    out: &mut dyn Write,
    g: &args::Global,
    flavor: embargo_pack::Flavor,
    dir: Option<&std::path::Path>,
) -> Result<()> {
    let catalog = match &g.catalog {
        Some(path) => std::sync::Arc::new(
            embargo_catalog::Catalog::from_path(path).map_err(|e| anyhow::anyhow!("--catalog: {e}"))?,
        ),
        None => embargo_catalog::Catalog::embedded(),
    };
    let files = embargo_pack::generate(&catalog, flavor)
        .with_context(|| format!("cannot generate the {} pack", flavor.as_str()))?;
    match dir {
        None => {
            if let Some(main) = files.first() {
                out.write_all(main.contents.as_bytes())?;
            }
        }
        Some(dir) => {
            for path in embargo_pack::write_files(dir, &files)? {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(())
}

fn schema(out: &mut dyn Write, table: Option<&str>, style: SchemaStyle) -> Result<()> {
    let specs: Vec<&embargo_tables::TableSpec> = match table {
        Some(name) => vec![engine::find_table(name)?.spec()],
        None => embargo_tables::tables::all().iter().map(|t| t.spec()).collect(),
    };
    match style {
        SchemaStyle::Sql => {
            for s in specs {
                writeln!(out, "{};", s.create_table_sql())?;
            }
        }
        SchemaStyle::Markdown => out.write_all(embargo_tables::docs::markdown(&specs).as_bytes())?,
        SchemaStyle::OsqueryJson => {
            serde_json::to_writer_pretty(&mut *out, &embargo_tables::docs::osquery_json(&specs))?;
            writeln!(out)?;
        }
    }
    Ok(())
}
