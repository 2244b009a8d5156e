//! `embargo-osquery`: embargo's tables inside osqueryd, as an osquery
//! extension (installed as `embargo.ext`).
//!
//! The runtime is the project's own, over the standard library: Thrift's
//! binary protocol with bounded reads ([`thrift`]), osquery's IDL
//! ([`protocol`]), a thread-per-connection UNIX-socket server ([`server`])
//! and the manager client ([`client`]). Not `osquery-rust-ng`: its
//! registration status is ignored, it does not wait for the manager, it
//! answers an unknown table with a Thrift exception and leaves status codes
//! unset (see the protocol notes the project was built from); those are the
//! parts an extension that lives for days must own. Not the `thrift` crate
//! either: its binary protocol sizes allocations from wire lengths, and
//! osquery's surface (six structs, nine methods) is small enough to encode
//! by hand with every length bounded.
//!
//! The tables are the engine's ([`plugin`]); a `generate` call reads a scan
//! shared by the calls of a few seconds ([`scans`]); the query context
//! becomes the typed query every surface builds ([`context`]).

pub mod args;
pub mod client;
pub mod context;
pub mod lifecycle;
pub mod plugin;
pub mod protocol;
pub mod scans;
pub mod server;
pub mod thrift;
