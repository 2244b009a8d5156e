//! `embargo shell`: SQL at a prompt, with line editing and history.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::args::Format;
use crate::engine::{Engine, find_table};

const HELP: &str = "\
SQL statements end with `;` and may span lines. Dot commands:
  .tables            list the tables
  .schema [TABLE]    CREATE TABLE statements
  .mode [FORMAT]     show or set the output: table, json, jsonl, csv, line
  .help              this text
  .quit              leave (also Ctrl-D)";

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".embargo_history"))
}

pub fn run(engine: &Engine, mut format: Format) -> Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!("embargo shell on root {} — .help for help", engine.scan.root.base().display());
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "embargo> " } else { "    ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let trimmed = line.trim();
        if pending.is_empty() && trimmed.starts_with('.') {
            let _ = editor.add_history_entry(trimmed);
            match dot_command(engine, trimmed, &mut format) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => eprintln!("error: {e:#}"),
            }
            continue;
        }
        if trimmed.is_empty() && pending.is_empty() {
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        if !crate::engine::is_complete(&pending) {
            continue;
        }
        let sql = std::mem::take(&mut pending);
        let _ = editor.add_history_entry(sql.trim());
        let stdout = io::stdout();
        let mut out = stdout.lock();
        if let Err(e) = engine.run_sql(&sql, format, &mut out) {
            eprintln!("error: {e:#}");
        }
        let _ = out.flush();
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// Runs one dot command; `Ok(true)` means leave the shell.
fn dot_command(engine: &Engine, line: &str, format: &mut Format) -> Result<bool> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("");
    let arg = words.next();
    match cmd {
        ".quit" | ".exit" | ".q" => return Ok(true),
        ".help" => println!("{HELP}"),
        ".tables" => {
            for t in embargo_tables::tables::all() {
                println!("{}", t.spec().name);
            }
        }
        ".schema" => match arg {
            Some(name) => println!("{};", find_table(name)?.spec().create_table_sql()),
            None => {
                for t in embargo_tables::tables::all() {
                    println!("{};", t.spec().create_table_sql());
                }
            }
        },
        ".mode" => match arg {
            None => println!("{}", format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()),
            Some(m) => {
                *format = Format::from_str(m, true)
                    .map_err(|_| anyhow::anyhow!("unknown mode {m:?}: use table, json, jsonl, csv or line"))?
            }
        },
        _ => anyhow::bail!("unknown command {cmd}; .help lists them"),
    }
    let _ = engine;
    Ok(false)
}
