//! Calls to a Thrift peer over a UNIX socket, one connection per call as
//! osquery's own client does: the manager (ping, registerExtension,
//! extensions, deregisterExtension) and, for tests and benchmarks, an
//! extension (ping, call, shutdown).

use std::io::{BufReader, BufWriter};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::protocol::{self, ExtensionResponse, ExtensionStatus, InternalExtensionInfo, Registry, StringMap};
use crate::thrift::{self, Limits, Reader, Writer, ttype};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {path}: {source}")]
    Connect { path: String, source: std::io::Error },
    #[error(transparent)]
    Thrift(#[from] thrift::Error),
    #[error("{0}: the reply has no result")]
    NoResult(&'static str),
}

impl ClientError {
    /// Whether nothing listens there any more (the socket file is gone, or
    /// its server is).
    pub fn is_gone(&self) -> bool {
        matches!(self, ClientError::Connect { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused))
    }
}

/// One call on a fresh connection.
fn call<T>(
    path: &Path,
    timeout: Duration,
    method: &'static str,
    args: impl FnOnce(&mut Writer<BufWriter<UnixStream>>) -> std::io::Result<()>,
    success: impl FnMut(&mut Reader<BufReader<UnixStream>>, u8) -> thrift::Result<T>,
) -> Result<T, ClientError> {
    let connect = |source| ClientError::Connect { path: path.display().to_string(), source };
    let stream = UnixStream::connect(path).map_err(connect)?;
    stream.set_read_timeout(Some(timeout)).map_err(connect)?;
    stream.set_write_timeout(Some(timeout)).map_err(connect)?;
    let mut w = Writer::new(BufWriter::new(stream.try_clone().map_err(connect)?));
    protocol::write_call(&mut w, method, 1, args).map_err(thrift::Error::from)?;
    let mut r = Reader::new(BufReader::new(stream), Limits::default());
    protocol::read_reply(&mut r, method, success)?.ok_or(ClientError::NoResult(method))
}

fn status_field<R: std::io::Read>(r: &mut Reader<R>, ty: u8) -> thrift::Result<ExtensionStatus> {
    thrift::expect_type(ty, ttype::STRUCT)?;
    protocol::read_status(r)
}

pub fn ping(path: &Path, timeout: Duration) -> Result<ExtensionStatus, ClientError> {
    call(path, timeout, "ping", |_| Ok(()), status_field)
}

pub fn register(
    path: &Path,
    timeout: Duration,
    info: &InternalExtensionInfo,
    registry: &Registry,
) -> Result<ExtensionStatus, ClientError> {
    call(
        path,
        timeout,
        "registerExtension",
        |w| {
            w.write_field_begin(ttype::STRUCT, 1)?;
            protocol::write_info(w, info)?;
            w.write_field_begin(ttype::MAP, 2)?;
            protocol::write_registry(w, registry)
        },
        status_field,
    )
}

pub fn deregister(path: &Path, timeout: Duration, uuid: i64) -> Result<ExtensionStatus, ClientError> {
    call(
        path,
        timeout,
        "deregisterExtension",
        |w| {
            w.write_field_begin(ttype::I64, 1)?;
            w.write_i64(uuid)
        },
        status_field,
    )
}

pub fn extensions(path: &Path, timeout: Duration) -> Result<Vec<(i64, InternalExtensionInfo)>, ClientError> {
    call(
        path,
        timeout,
        "extensions",
        |_| Ok(()),
        |r, ty| {
            thrift::expect_type(ty, ttype::MAP)?;
            protocol::read_extension_list(r)
        },
    )
}

/// `call(registry, item, request)` on an extension.
pub fn call_plugin(
    path: &Path,
    timeout: Duration,
    registry: &str,
    item: &str,
    request: &StringMap,
) -> Result<ExtensionResponse, ClientError> {
    call(
        path,
        timeout,
        "call",
        |w| {
            w.write_field_begin(ttype::STRING, 1)?;
            w.write_string(registry)?;
            w.write_field_begin(ttype::STRING, 2)?;
            w.write_string(item)?;
            w.write_field_begin(ttype::MAP, 3)?;
            protocol::write_string_map(w, request)
        },
        |r, ty| {
            thrift::expect_type(ty, ttype::STRUCT)?;
            protocol::read_response(r)
        },
    )
}

/// `shutdown()` on an extension (a void reply).
pub fn shutdown(path: &Path, timeout: Duration) -> Result<(), ClientError> {
    let connect = |source| ClientError::Connect { path: path.display().to_string(), source };
    let stream = UnixStream::connect(path).map_err(connect)?;
    stream.set_read_timeout(Some(timeout)).map_err(connect)?;
    let mut w = Writer::new(BufWriter::new(&stream));
    protocol::write_call(&mut w, "shutdown", 1, |_| Ok(())).map_err(thrift::Error::from)?;
    let mut r = Reader::new(BufReader::new(&stream), Limits::default());
    protocol::read_reply(&mut r, "shutdown", |r, ty| r.skip(ty))?;
    Ok(())
}
