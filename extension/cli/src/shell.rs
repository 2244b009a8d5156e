//! `embargo shell`: SQL at a prompt, with line editing and history.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::args::Format;
use crate::engine::{Session, find_table};

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

/// With a terminal on standard input the shell greets, keeps a history and
/// carries on after an error. Fed from a pipe or file it is a script runner:
/// output is only the results, nothing goes to the history, and any failed
/// statement or command makes it end with an error (exit 2).
pub fn run(engine: &Session, mut format: Format) -> Result<()> {
    use std::io::IsTerminal;
    let interactive = io::stdin().is_terminal();
    let mut editor = DefaultEditor::new()?;
    let history = history_path().filter(|_| interactive);
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    if interactive {
        println!("embargo shell on root {} — .help for help", engine.root().base().display());
    }
    let sigint = Sigint::install(engine)?;
    let mut failures = 0usize;
    let mut report = |e: anyhow::Error| {
        eprintln!("embargo: {e:#}");
        failures += 1;
    };
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "embargo> " } else { "    ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => {
                // A last statement without its `;` still runs (or says why it cannot).
                if !pending.trim().is_empty() {
                    let sql = std::mem::take(&mut pending);
                    let mut out = io::stdout().lock();
                    if let Err(e) = sigint.during(|| engine.run_sql(&sql, format, &mut out)) {
                        report(e);
                    }
                    let _ = out.flush();
                }
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let trimmed = line.trim();
        if pending.is_empty() && trimmed.starts_with('.') {
            let _ = editor.add_history_entry(trimmed);
            match dot_command(engine, trimmed, &mut format) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => report(e),
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
        if let Err(e) = sigint.during(|| engine.run_sql(&sql, format, &mut out)) {
            report(e);
        }
        let _ = out.flush();
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    if failures > 0 && !interactive {
        anyhow::bail!("{failures} statement(s) or command(s) failed");
    }
    Ok(())
}

/// Ctrl-C while a statement runs interrupts the statement (SQLite's
/// "interrupted" error) and the shell goes on. At the prompt rustyline reads
/// Ctrl-C itself; fed from a pipe, a SIGINT between statements ends the
/// shell as it would without this handler.
struct Sigint {
    running: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Sigint {
    #[cfg(unix)]
    fn install(engine: &Session) -> Result<Sigint> {
        use std::sync::atomic::Ordering;
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])?;
        let handle = engine.conn.get_interrupt_handle();
        let flag = running.clone();
        // A thread, not the signal handler, calls SQLite: the interrupt
        // handle takes a lock, which a signal handler must not.
        std::thread::spawn(move || {
            for _ in signals.forever() {
                if flag.load(Ordering::SeqCst) {
                    handle.interrupt();
                } else {
                    let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGINT);
                }
            }
        });
        Ok(Sigint { running })
    }

    #[cfg(not(unix))]
    fn install(_engine: &Session) -> Result<Sigint> {
        Ok(Sigint { running: Default::default() })
    }

    fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering;
        self.running.store(true, Ordering::SeqCst);
        let r = f();
        self.running.store(false, Ordering::SeqCst);
        r
    }
}

/// Runs one dot command; `Ok(true)` means leave the shell.
fn dot_command(engine: &Session, line: &str, format: &mut Format) -> Result<bool> {
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
