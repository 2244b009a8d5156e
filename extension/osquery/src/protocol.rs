//! osquery's Thrift IDL (`osquery/extensions/thrift/osquery.thrift`): its
//! structs and the arguments and results of the methods we serve
//! (`Extension`: ping, call, shutdown) and call (`ExtensionManager`: ping,
//! extensions, registerExtension, deregisterExtension), both ways so that
//! the tests' manager speaks the same codec.

use std::io::{Read, Write};

use crate::thrift::{self, Error, MessageType, Reader, Result, Writer, expect_type, ttype};

/// `map<string, string>`: a plugin request, or one row / route entry.
pub type StringMap = Vec<(String, String)>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtensionStatus {
    pub code: i32,
    pub message: String,
    pub uuid: i64,
}

impl ExtensionStatus {
    pub fn ok(message: impl Into<String>) -> Self {
        ExtensionStatus { code: 0, message: message.into(), uuid: 0 }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        ExtensionStatus { code: 1, message: message.into(), uuid: 0 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InternalExtensionInfo {
    pub name: String,
    pub version: String,
    pub sdk_version: String,
    pub min_sdk_version: String,
}

/// `ExtensionRegistry`: registry name → plugin name → route info rows.
pub type Registry = Vec<(String, Vec<(String, Vec<StringMap>)>)>;

/// A call the `Extension` service receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Ping,
    Call {
        registry: String,
        item: String,
        request: StringMap,
    },
    Shutdown,
    /// A method this service does not have: answered with Thrift's
    /// UNKNOWN_METHOD exception, as every Thrift server does.
    Unknown(String),
}

/// TApplicationException type codes.
pub const UNKNOWN_METHOD: i32 = 1;

pub fn read_string_map<R: Read>(r: &mut Reader<R>) -> Result<StringMap> {
    r.read_map((ttype::STRING, ttype::STRING), |r| Ok((r.read_string()?, r.read_string()?)))
}

pub fn write_string_map<W: Write>(w: &mut Writer<W>, m: &[(String, String)]) -> std::io::Result<()> {
    w.write_map_begin(ttype::STRING, ttype::STRING, m.len())?;
    for (k, v) in m {
        w.write_string(k)?;
        w.write_string(v)?;
    }
    Ok(())
}

pub fn read_status<R: Read>(r: &mut Reader<R>) -> Result<ExtensionStatus> {
    let mut s = ExtensionStatus::default();
    r.read_struct(|r, id, ty| {
        match (id, ty) {
            (1, ttype::I32) => s.code = r.read_i32()?,
            (2, ttype::STRING) => s.message = r.read_string()?,
            (3, ttype::I64) => s.uuid = r.read_i64()?,
            _ => r.skip(ty)?,
        }
        Ok(())
    })?;
    Ok(s)
}

pub fn write_status<W: Write>(w: &mut Writer<W>, s: &ExtensionStatus) -> std::io::Result<()> {
    w.write_field_begin(ttype::I32, 1)?;
    w.write_i32(s.code)?;
    w.write_field_begin(ttype::STRING, 2)?;
    w.write_string(&s.message)?;
    w.write_field_begin(ttype::I64, 3)?;
    w.write_i64(s.uuid)?;
    w.write_field_stop()
}

pub fn read_info<R: Read>(r: &mut Reader<R>) -> Result<InternalExtensionInfo> {
    let mut i = InternalExtensionInfo::default();
    r.read_struct(|r, id, ty| {
        match (id, ty) {
            (1, ttype::STRING) => i.name = r.read_string()?,
            (2, ttype::STRING) => i.version = r.read_string()?,
            (3, ttype::STRING) => i.sdk_version = r.read_string()?,
            (4, ttype::STRING) => i.min_sdk_version = r.read_string()?,
            _ => r.skip(ty)?,
        }
        Ok(())
    })?;
    Ok(i)
}

pub fn write_info<W: Write>(w: &mut Writer<W>, i: &InternalExtensionInfo) -> std::io::Result<()> {
    for (id, v) in [(1, &i.name), (2, &i.version), (3, &i.sdk_version), (4, &i.min_sdk_version)] {
        w.write_field_begin(ttype::STRING, id)?;
        w.write_string(v)?;
    }
    w.write_field_stop()
}

/// An `ExtensionResponse`, rows written by `row(writer, i)` for i in 0..n,
/// so that a generate's rows go from the table's cells to the socket
/// without a map per row in between.
pub fn write_response<W: Write>(
    w: &mut Writer<W>,
    status: &ExtensionStatus,
    n: usize,
    mut row: impl FnMut(&mut Writer<W>, usize) -> std::io::Result<()>,
) -> std::io::Result<()> {
    w.write_field_begin(ttype::STRUCT, 1)?;
    write_status(w, status)?;
    w.write_field_begin(ttype::LIST, 2)?;
    w.write_list_begin(ttype::MAP, n)?;
    for i in 0..n {
        row(w, i)?;
    }
    w.write_field_stop()
}

/// An `ExtensionResponse` read whole (a client's side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtensionResponse {
    pub status: Option<ExtensionStatus>,
    pub response: Vec<StringMap>,
}

pub fn read_response<R: Read>(r: &mut Reader<R>) -> Result<ExtensionResponse> {
    let mut resp = ExtensionResponse::default();
    r.read_struct(|r, id, ty| {
        match (id, ty) {
            (1, ttype::STRUCT) => resp.status = Some(read_status(r)?),
            (2, ttype::LIST) => resp.response = r.read_list(ttype::MAP, read_string_map)?,
            _ => r.skip(ty)?,
        }
        Ok(())
    })?;
    Ok(resp)
}

pub fn write_registry<W: Write>(w: &mut Writer<W>, reg: &Registry) -> std::io::Result<()> {
    w.write_map_begin(ttype::STRING, ttype::MAP, reg.len())?;
    for (registry, plugins) in reg {
        w.write_string(registry)?;
        w.write_map_begin(ttype::STRING, ttype::LIST, plugins.len())?;
        for (plugin, routes) in plugins {
            w.write_string(plugin)?;
            w.write_list_begin(ttype::MAP, routes.len())?;
            for route in routes {
                write_string_map(w, route)?;
            }
        }
    }
    Ok(())
}

pub fn read_registry<R: Read>(r: &mut Reader<R>) -> Result<Registry> {
    r.read_map((ttype::STRING, ttype::MAP), |r| {
        let registry = r.read_string()?;
        let plugins = r.read_map((ttype::STRING, ttype::LIST), |r| {
            let plugin = r.read_string()?;
            let routes = r.read_list(ttype::MAP, read_string_map)?;
            Ok((plugin, routes))
        })?;
        Ok((registry, plugins))
    })
}

/// Reads one request of the `Extension` service: the header and its
/// arguments struct.
pub fn read_request<R: Read>(r: &mut Reader<R>) -> Result<(Request, i32)> {
    let header = r.read_message_begin()?;
    if !matches!(header.kind, MessageType::Call | MessageType::Oneway) {
        return Err(Error::Protocol(format!("expected a call, got {:?}", header.kind)));
    }
    let req = match header.name.as_str() {
        "ping" => {
            r.read_struct(|r, _, ty| r.skip(ty))?;
            Request::Ping
        }
        "shutdown" => {
            r.read_struct(|r, _, ty| r.skip(ty))?;
            Request::Shutdown
        }
        "call" => {
            let (mut registry, mut item, mut request) = (String::new(), String::new(), Vec::new());
            r.read_struct(|r, id, ty| {
                match id {
                    1 => registry = r.expect_string(ty)?,
                    2 => item = r.expect_string(ty)?,
                    3 => {
                        expect_type(ty, ttype::MAP)?;
                        request = read_string_map(r)?;
                    }
                    _ => r.skip(ty)?,
                }
                Ok(())
            })?;
            Request::Call { registry, item, request }
        }
        other => {
            r.read_struct(|r, _, ty| r.skip(ty))?;
            Request::Unknown(other.to_string())
        }
    };
    Ok((req, header.seq))
}

/// Writes the value of a reply's `success` field.
pub type BodyWriter<'a, W> = dyn FnMut(&mut Writer<W>) -> std::io::Result<()> + 'a;

/// A reply whose result struct has `success` (field 0) written by `body`,
/// or no fields at all (a void method) when `body` is `None`.
pub fn write_reply<W: Write>(
    w: &mut Writer<W>,
    method: &str,
    seq: i32,
    success: Option<(u8, &mut BodyWriter<'_, W>)>,
) -> std::io::Result<()> {
    w.write_message_begin(method, MessageType::Reply, seq)?;
    if let Some((ty, body)) = success {
        w.write_field_begin(ty, 0)?;
        body(w)?;
    }
    w.write_field_stop()?;
    w.flush()
}

/// Thrift's TApplicationException reply.
pub fn write_exception<W: Write>(
    w: &mut Writer<W>,
    method: &str,
    seq: i32,
    kind: i32,
    message: &str,
) -> std::io::Result<()> {
    w.write_message_begin(method, MessageType::Exception, seq)?;
    w.write_field_begin(ttype::STRING, 1)?;
    w.write_string(message)?;
    w.write_field_begin(ttype::I32, 2)?;
    w.write_i32(kind)?;
    w.write_field_stop()?;
    w.flush()
}

/// A call whose arguments struct is written by `args`.
pub fn write_call<W: Write>(
    w: &mut Writer<W>,
    method: &str,
    seq: i32,
    args: impl FnOnce(&mut Writer<W>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    w.write_message_begin(method, MessageType::Call, seq)?;
    args(w)?;
    w.write_field_stop()?;
    w.flush()
}

/// Reads a reply to `method`, handing its `success` field (id 0, type) to
/// `success`; an exception reply is an error with its message.
pub fn read_reply<R: Read, T>(
    r: &mut Reader<R>,
    method: &str,
    mut success: impl FnMut(&mut Reader<R>, u8) -> Result<T>,
) -> Result<Option<T>> {
    let header = r.read_message_begin()?;
    if header.kind == MessageType::Exception {
        let mut message = String::new();
        r.read_struct(|r, id, ty| {
            match (id, ty) {
                (1, ttype::STRING) => message = r.read_string()?,
                _ => r.skip(ty)?,
            }
            Ok(())
        })?;
        return Err(Error::Protocol(format!("{method}: the peer raised: {message}")));
    }
    if header.kind != MessageType::Reply || header.name != method {
        return Err(Error::Protocol(format!("expected a reply to {method}, got {:?} {}", header.kind, header.name)));
    }
    let mut out = None;
    r.read_struct(|r, id, ty| {
        if id == 0 {
            out = Some(success(r, ty)?);
        } else {
            r.skip(ty)?;
        }
        Ok(())
    })?;
    Ok(out)
}

/// Reads the `InternalExtensionList` of an `extensions()` reply.
pub fn read_extension_list<R: Read>(r: &mut Reader<R>) -> Result<Vec<(i64, InternalExtensionInfo)>> {
    r.read_map((ttype::I64, ttype::STRUCT), |r| Ok((r.read_i64()?, read_info(r)?)))
}

pub fn write_extension_list<W: Write>(w: &mut Writer<W>, list: &[(i64, InternalExtensionInfo)]) -> std::io::Result<()> {
    w.write_map_begin(ttype::I64, ttype::STRUCT, list.len())?;
    for (uuid, info) in list {
        w.write_i64(*uuid)?;
        write_info(w, info)?;
    }
    Ok(())
}

pub use thrift::Limits;
