//! A small extension manager in Rust, playing osqueryd for the built
//! binary: it serves `ping`, `registerExtension` (osquery's rules: a
//! duplicate name is refused), `extensions()` and `deregisterExtension` on a
//! socket in a temporary directory, and spawns the extension with osqueryd's
//! argv. The Python peer tests (osquery's own generated Thrift code) are the
//! independent check; this one drives the lifecycle cases.
#![allow(dead_code)]

use std::io::{BufReader, BufWriter};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use embargo_osquery::protocol::{self, ExtensionStatus, InternalExtensionInfo, Registry};
use embargo_osquery::thrift::{Limits, MessageType, Reader, Writer, ttype};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
}

#[derive(Default)]
pub struct State {
    /// Registrations accepted: uuid, info, registry.
    pub registered: Vec<(i64, InternalExtensionInfo, Registry)>,
    /// registerExtension calls seen, refused ones included.
    pub register_calls: usize,
    /// How many more registrations to refuse as duplicates.
    pub refuse_duplicates: usize,
    pub deregistered: Vec<i64>,
    pub extensions_calls: usize,
    pub next_uuid: i64,
}

pub struct FakeManager {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<UnixStream>>>,
    pub connections: Arc<AtomicUsize>,
}

impl FakeManager {
    pub fn start() -> FakeManager {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("osquery.em");
        let m = FakeManager {
            dir,
            socket,
            state: Arc::new(Mutex::new(State { next_uuid: 4242, ..Default::default() })),
            stop: Arc::default(),
            open: Arc::default(),
            connections: Arc::default(),
        };
        m.listen();
        m
    }

    /// (Re)starts listening on the socket.
    pub fn listen(&self) {
        self.stop.store(false, Ordering::SeqCst);
        let _ = std::fs::remove_file(&self.socket);
        let listener = UnixListener::bind(&self.socket).unwrap();
        let (state, stop, open, conns) =
            (self.state.clone(), self.stop.clone(), self.open.clone(), self.connections.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(s) = s else { continue };
                conns.fetch_add(1, Ordering::SeqCst);
                open.lock().unwrap().push(s.try_clone().unwrap());
                let state = state.clone();
                std::thread::spawn(move || serve(s, state));
            }
        });
    }

    /// osqueryd going away: every connection closed, the socket removed.
    pub fn vanish(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let _ = std::fs::remove_file(&self.socket);
        // Wake the accept loop so it sees `stop`.
        let _ = UnixStream::connect(&self.socket);
    }

    /// osqueryd killed (`kill -9`): every connection closed, nobody
    /// listening any more, and the socket file left behind.
    pub fn die(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        // Wake the accept loop: it sees `stop` and drops the listener.
        let _ = UnixStream::connect(&self.socket);
        let deadline = Instant::now() + Duration::from_secs(5);
        while UnixStream::connect(&self.socket).is_ok() {
            assert!(Instant::now() < deadline, "the fake manager still listens");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn uuid(&self) -> Option<i64> {
        self.state.lock().unwrap().registered.last().map(|r| r.0)
    }

    pub fn extension_socket(&self) -> Option<PathBuf> {
        self.uuid().map(|u| PathBuf::from(format!("{}.{u}", self.socket.display())))
    }

    /// Waits until the extension has registered and its socket answers ping.
    pub fn wait_for_extension(&self, timeout: Duration) -> PathBuf {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(p) = self.extension_socket()
                && embargo_osquery::client::ping(&p, Duration::from_secs(2)).is_ok()
            {
                return p;
            }
            assert!(Instant::now() < deadline, "the extension did not come up within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Where the extension's standard error goes.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("extension.log")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Spawns the extension as osqueryd does: `[--verbose] --socket S --timeout T --interval I`.
    pub fn spawn(&self, extra: &[&str], timeout: &str, interval: &str) -> Child {
        self.spawn_env(extra, timeout, interval, &[])
    }

    pub fn spawn_env(&self, extra: &[&str], timeout: &str, interval: &str, env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo-osquery"));
        cmd.arg("--verbose")
            .args(["--socket", self.socket.to_str().unwrap(), "--timeout", timeout, "--interval", interval])
            .args(extra)
            .env("OSQUERY_EXTENSION", std::process::id().to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.log()).unwrap());
        cmd.spawn().expect("embargo-osquery starts")
    }
}

impl Drop for FakeManager {
    fn drop(&mut self) {
        self.vanish();
    }
}

fn serve(s: UnixStream, state: Arc<Mutex<State>>) {
    let mut r = Reader::new(BufReader::new(s.try_clone().unwrap()), Limits::default());
    let mut w = Writer::new(BufWriter::new(s));
    loop {
        let Ok(h) = r.read_message_begin() else { return };
        assert_eq!(h.kind, MessageType::Call);
        let seq = h.seq;
        match h.name.as_str() {
            "ping" => {
                r.read_struct(|r, _, ty| r.skip(ty)).unwrap();
                let st = ExtensionStatus::ok("pong");
                reply_status(&mut w, "ping", seq, &st);
            }
            "registerExtension" => {
                let (mut info, mut registry) = (InternalExtensionInfo::default(), Vec::new());
                r.read_struct(|r, id, ty| {
                    match id {
                        1 => info = protocol::read_info(r)?,
                        2 => registry = protocol::read_registry(r)?,
                        _ => r.skip(ty)?,
                    }
                    Ok(())
                })
                .unwrap();
                let mut st = state.lock().unwrap();
                st.register_calls += 1;
                let dup = st.refuse_duplicates > 0
                    || st.registered.iter().any(|(u, i, _)| i.name == info.name && !st.deregistered.contains(u));
                let status = if dup {
                    st.refuse_duplicates = st.refuse_duplicates.saturating_sub(1);
                    ExtensionStatus::failed("Duplicate extension registered")
                } else {
                    st.next_uuid += 1;
                    let uuid = st.next_uuid;
                    st.registered.push((uuid, info, registry));
                    ExtensionStatus { code: 0, message: "OK".into(), uuid }
                };
                drop(st);
                reply_status(&mut w, "registerExtension", seq, &status);
            }
            "deregisterExtension" => {
                let mut uuid = 0;
                r.read_struct(|r, id, ty| {
                    if id == 1 {
                        uuid = r.read_i64()?
                    } else {
                        r.skip(ty)?
                    }
                    Ok(())
                })
                .unwrap();
                state.lock().unwrap().deregistered.push(uuid);
                reply_status(&mut w, "deregisterExtension", seq, &ExtensionStatus::ok("OK"));
            }
            "extensions" => {
                r.read_struct(|r, _, ty| r.skip(ty)).unwrap();
                let list: Vec<(i64, InternalExtensionInfo)> = {
                    let mut st = state.lock().unwrap();
                    st.extensions_calls += 1;
                    st.registered
                        .iter()
                        .filter(|(u, ..)| !st.deregistered.contains(u))
                        .map(|(u, i, _)| (*u, i.clone()))
                        .collect()
                };
                protocol::write_reply(
                    &mut w,
                    "extensions",
                    seq,
                    Some((ttype::MAP, &mut |w| protocol::write_extension_list(w, &list))),
                )
                .unwrap();
            }
            other => panic!("the fake manager has no method {other}"),
        }
    }
}

fn reply_status(w: &mut Writer<BufWriter<UnixStream>>, method: &str, seq: i32, st: &ExtensionStatus) {
    let _ = protocol::write_reply(w, method, seq, Some((ttype::STRUCT, &mut |w| protocol::write_status(w, st))));
}

/// Waits for the child to exit, up to `timeout`.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running extension under a fake manager; killed when dropped.
pub struct Running {
    pub manager: FakeManager,
    pub child: Child,
    pub socket: PathBuf,
}

impl Running {
    pub fn start(extra: &[&str]) -> Running {
        Running::start_env(extra, &[])
    }

    pub fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Running {
        let manager = FakeManager::start();
        let child = manager.spawn_env(extra, "5", "1", env);
        let socket = manager.wait_for_extension(Duration::from_secs(20));
        Running { manager, child, socket }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
