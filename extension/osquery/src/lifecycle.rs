//! From start to exit, as osqueryd expects of an autoloaded extension:
//! wait up to `--timeout` for the manager, register as `embargo` (retrying
//! the "Duplicate extension registered" a quick respawn meets), serve
//! `<socket>.<uuid>`, check every `--interval` that the manager still lists
//! us, and exit 0 when it does not, when it is gone, on `shutdown()` or on
//! SIGTERM/SIGINT, removing our socket file.

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use embargo_tables::engine::{Engine, EngineOptions, OpenError};

use crate::args::Args;
use crate::client;
use crate::plugin::Plugin;
use crate::protocol::InternalExtensionInfo;
use crate::scans::Scans;
use crate::server::{Event, Server, ServerOptions};

/// The name osquery lists us by (`osquery_extensions.name`,
/// `--extensions_require=embargo`).
pub const NAME: &str = "embargo";
/// The osquery SDK version we speak; the manager wants at least 1.7.7.
pub const SDK_VERSION: &str = "5.23.1";
pub const MIN_SDK_VERSION: &str = "1.8.0";
/// The manager's answer to a name still registered by a dead instance.
const DUPLICATE: &str = "Duplicate extension registered";
/// Consecutive failed checks (other than "gone") after which the manager
/// counts as gone.
const MAX_FAILED_CHECKS: u32 = 3;

pub fn info() -> InternalExtensionInfo {
    InternalExtensionInfo {
        name: NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        sdk_version: SDK_VERSION.into(),
        min_sdk_version: MIN_SDK_VERSION.into(),
    }
}

/// Why the extension cannot start; the binary exits 2 for
/// [`StartError::Usage`] (a bad --root or --catalog), 1 otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub fn open_engine(args: &Args) -> Result<Engine, StartError> {
    let options = EngineOptions { root: args.root.clone(), catalog: args.catalog.clone(), as_of: args.as_of };
    Engine::open(&options).map_err(|e| {
        StartError::Usage(match e {
            OpenError::Catalog(e) => format!("--catalog: {e}"),
            e => format!("--root {e}"),
        })
    })
}

fn log(args: &Args, msg: impl std::fmt::Display) {
    if args.verbose {
        eprintln!("embargo-osquery: {msg}");
    }
}

/// Runs until the manager goes away or asks us to stop.
pub fn run(args: Args) -> Result<(), StartError> {
    let engine = Arc::new(open_engine(&args)?);
    let scans = Scans::new(engine, args.cache_ttl, args.generate_budget);
    let plugin = Arc::new(Plugin::new(embargo_tables::tables::all(), scans).with_max_response(args.max_response_bytes));
    let call_timeout = args.timeout.max(Duration::from_secs(1));

    wait_for_manager(&args.socket, args.timeout, call_timeout)?;
    log(&args, format_args!("manager at {} answers", args.socket.display()));
    let uuid = register(&args, &plugin, call_timeout)?;
    log(&args, format_args!("registered as {NAME}, uuid {uuid}"));

    let path = PathBuf::from(format!("{}.{uuid}", args.socket.display()));
    let socket = SocketFile::bind(&path).map_err(StartError::Other)?;
    let (tx, rx) = mpsc::channel();
    let server = Arc::new(Server {
        plugin: plugin.clone(),
        options: ServerOptions {
            max_connections: args.max_connections,
            io_timeout: args.io_timeout,
            limits: Default::default(),
            verbose: args.verbose,
        },
        uuid,
        events: tx.clone(),
    });
    let listener = socket.listener.try_clone().context("cannot share the listening socket")?;
    std::thread::Builder::new()
        .name("accept".into())
        .spawn(move || server.serve(listener))
        .context("cannot start the server")?;
    watch_signals(tx)?;

    let mut failed = 0;
    loop {
        match rx.recv_timeout(args.interval) {
            Ok(Event::Shutdown) => {
                log(&args, "shutdown() asked; deregistering");
                let _ = client::deregister(&args.socket, Duration::from_millis(500), uuid);
                break;
            }
            Ok(Event::Signal(sig)) => {
                log(&args, format_args!("signal {sig}; exiting"));
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                plugin.scans().expire();
                match check_manager(&args.socket, call_timeout, uuid) {
                    Check::Listed => failed = 0,
                    Check::Gone(why) => {
                        log(&args, why);
                        break;
                    }
                    Check::Failed(why) => {
                        failed += 1;
                        log(&args, format_args!("manager check {failed} failed: {why}"));
                        if failed >= MAX_FAILED_CHECKS {
                            break;
                        }
                    }
                }
            }
        }
    }
    drop(socket);
    Ok(())
}

/// Polls until the manager's socket exists and answers `ping`.
fn wait_for_manager(socket: &Path, timeout: Duration, call_timeout: Duration) -> Result<(), StartError> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match client::ping(socket, call_timeout) {
            // osquery's client counts only code 1 as a failed ping.
            Ok(s) if s.code != 1 => return Ok(()),
            Ok(s) => format!("ping answered code {}: {}", s.code, s.message),
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(
                anyhow!("no extension manager answered at {} within {:?}: {last}", socket.display(), timeout).into()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Registers every table; retries within `--timeout` while the manager
/// still holds a dead instance's registration or cannot be reached.
fn register(args: &Args, plugin: &Plugin, call_timeout: Duration) -> Result<i64, StartError> {
    let deadline = Instant::now() + args.timeout;
    let registry = plugin.registry();
    let info = info();
    loop {
        let why = match client::register(&args.socket, call_timeout, &info, &registry) {
            Ok(s) if s.code == 0 => return Ok(s.uuid),
            Ok(s) if s.message.contains(DUPLICATE) => format!("the manager said {:?}", s.message),
            Ok(s) => {
                return Err(anyhow!("the manager refused the registration (code {}): {}", s.code, s.message).into());
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(anyhow!("could not register within {:?}: {why}", args.timeout).into());
        }
        log(args, format_args!("registration: {why}; retrying"));
        std::thread::sleep(Duration::from_millis(200));
    }
}

enum Check {
    Listed,
    Gone(String),
    Failed(String),
}

fn check_manager(socket: &Path, timeout: Duration, uuid: i64) -> Check {
    if !socket.exists() {
        return Check::Gone(format!("the manager socket {} is gone; exiting", socket.display()));
    }
    match client::extensions(socket, timeout) {
        Ok(list) if list.iter().any(|(u, _)| *u == uuid) => Check::Listed,
        Ok(_) => Check::Gone(format!("the manager no longer lists uuid {uuid}; exiting")),
        Err(e) if e.is_gone() => Check::Gone(format!("the manager is gone ({e}); exiting")),
        Err(e) => Check::Failed(e.to_string()),
    }
}

fn watch_signals(tx: mpsc::Sender<Event>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]).context("cannot watch signals")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = tx.send(Event::Signal(sig));
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// Our listening socket, whose file is removed when dropped.
struct SocketFile {
    path: PathBuf,
    listener: UnixListener,
}

impl SocketFile {
    fn bind(path: &Path) -> Result<Self> {
        // A stale socket of an earlier instance with the same uuid; only a
        // socket is removed, never a file someone put there.
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                bail!("{} exists and is not a socket; not removing it", path.display());
            }
            std::fs::remove_file(path).with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        let listener = UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
        Ok(SocketFile { path: path.to_path_buf(), listener })
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
