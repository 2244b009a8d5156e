//! The `Extension` service on `<manager socket>.<uuid>`: one thread per
//! connection, as osquery's TThreadedServer (osquery opens a connection per
//! call, probes with a ping on another first, and watches us from a third),
//! with a bounded number of connections and a read/write timeout on each,
//! so a stalled or silent client costs one thread for a while and never
//! blocks the others.

use std::io::{BufReader, BufWriter};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::plugin::Plugin;
use crate::protocol::{self, ExtensionStatus, Request};
use crate::thrift::{Limits, Reader, Writer, ttype};

/// What the server tells the lifecycle.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// The manager (or anyone who can reach the socket) called `shutdown()`.
    Shutdown,
    /// SIGTERM, SIGINT or SIGHUP.
    Signal(i32),
}

#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Connections served at once; more wait in the listen queue for up to
    /// [`QUEUE_WAIT`], then are closed.
    pub max_connections: usize,
    /// How long a connection may be silent (between or inside requests) or
    /// refuse to take our reply before it is closed.
    pub io_timeout: Duration,
    pub limits: Limits,
    pub verbose: bool,
}

/// How long a connection over the limit waits for a free slot.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

pub struct Server {
    pub plugin: Arc<Plugin>,
    pub options: ServerOptions,
    /// The uuid the manager gave us, sent back in `ping`.
    pub uuid: i64,
    pub events: mpsc::Sender<Event>,
}

impl Server {
    /// Accepts connections until the process ends, each on a thread of its own.
    pub fn serve(self: Arc<Self>, listener: UnixListener) {
        let active = Arc::new(AtomicUsize::new(0));
        for stream in listener.incoming() {
            let stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and the like: back off instead of spinning.
                    if self.options.verbose {
                        eprintln!("embargo-osquery: accept: {e}");
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            if !wait_for_slot(&active, self.options.max_connections) {
                if self.options.verbose {
                    eprintln!("embargo-osquery: {} connections open; closing a new one", self.options.max_connections);
                }
                continue;
            }
            let server = self.clone();
            let slot = Slot(active.clone());
            // Small stacks: a connection only decodes and encodes (bounded
            // depth); generators run on workers of their own.
            let spawned =
                std::thread::Builder::new().name("connection".into()).stack_size(256 << 10).spawn(move || {
                    let _slot = slot;
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.connection(stream)));
                });
            if let Err(e) = spawned {
                eprintln!("embargo-osquery: cannot start a connection thread: {e}");
            }
        }
    }

    fn connection(&self, stream: UnixStream) {
        let timeout = Some(self.options.io_timeout);
        if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
            return;
        }
        let mut r = Reader::new(BufReader::with_capacity(16 << 10, &stream), self.options.limits);
        let mut w = Writer::new(BufWriter::with_capacity(64 << 10, &stream));
        loop {
            let (request, seq) = match protocol::read_request(&mut r) {
                Ok(x) => x,
                Err(e) => {
                    if self.options.verbose && !e.is_disconnect() {
                        eprintln!("embargo-osquery: dropping a connection: {e}");
                    }
                    return;
                }
            };
            let shutdown = request == Request::Shutdown;
            if self.reply(&mut w, request, seq).is_err() {
                return;
            }
            if shutdown {
                let _ = self.events.send(Event::Shutdown);
                return;
            }
        }
    }

    fn reply<W: std::io::Write>(&self, w: &mut Writer<W>, request: Request, seq: i32) -> std::io::Result<()> {
        match request {
            Request::Ping => {
                let status = ExtensionStatus { code: 0, message: "pong".into(), uuid: self.uuid };
                protocol::write_reply(
                    w,
                    "ping",
                    seq,
                    Some((ttype::STRUCT, &mut |w| protocol::write_status(w, &status))),
                )
            }
            Request::Shutdown => protocol::write_reply(w, "shutdown", seq, None),
            Request::Call { registry, item, request } => {
                let started = Instant::now();
                let answer = self.plugin.call(&registry, &item, &request);
                if self.options.verbose {
                    let status = answer.status();
                    eprintln!(
                        "embargo-osquery: call({registry}, {item}, {:?}) -> code {} {:?} in {:.3} s",
                        request.iter().find(|(k, _)| k == "action").map(|(_, v)| v.as_str()).unwrap_or(""),
                        status.code,
                        status.message,
                        started.elapsed().as_secs_f64()
                    );
                }
                protocol::write_reply(w, "call", seq, Some((ttype::STRUCT, &mut |w| answer.write(w))))
            }
            Request::Unknown(method) => protocol::write_exception(
                w,
                &method,
                seq,
                protocol::UNKNOWN_METHOD,
                &format!("Invalid method name: '{method}'"),
            ),
        }
    }
}

/// Holds one of the connection slots until dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a slot, waiting up to [`QUEUE_WAIT`] for one to free.
fn wait_for_slot(active: &AtomicUsize, max: usize) -> bool {
    let deadline = Instant::now() + QUEUE_WAIT;
    loop {
        let n = active.load(Ordering::SeqCst);
        if n < max {
            if active.compare_exchange(n, n + 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return true;
            }
            continue;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
