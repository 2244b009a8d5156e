//! Thrift's binary protocol, as osquery speaks it (TBinaryProtocol over a
//! buffered transport, no framing), with every length read from the wire
//! bounded before it is trusted.
//!
//! Why our own codec and not the `thrift` crate: osquery's surface is six
//! structs and nine methods, and what we must own is exactly the part a
//! general runtime gets wrong for a long-lived process fed by other
//! processes: a string length is refused above [`Limits::string`] and, below
//! it, memory grows only as bytes actually arrive (the crate's binary
//! protocol allocates `vec![0; len]` from the claimed length), a container
//! count never sizes an allocation, nesting is bounded, and a whole message
//! has a byte budget. The rest of the protocol is a few dozen lines.

use std::io::{self, Read, Write};

/// Thrift wire types.
pub mod ttype {
    pub const STOP: u8 = 0;
    pub const BOOL: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const DOUBLE: u8 = 4;
    pub const I16: u8 = 6;
    pub const I32: u8 = 8;
    pub const I64: u8 = 10;
    pub const STRING: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const MAP: u8 = 13;
    pub const SET: u8 = 14;
    pub const LIST: u8 = 15;
}

/// Message types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// What one message may hold. Exceeding any is a protocol error and the
/// connection is dropped.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes in one string (and in a method name).
    pub string: usize,
    /// Elements in one map, list or set.
    pub container: usize,
    /// Nesting of structs and containers.
    pub depth: usize,
    /// Bytes in one whole message.
    pub message: u64,
}

impl Default for Limits {
    /// Generous for osquery's traffic (a context JSON with a long `IN` list,
    /// a manager's extension list) and far below what would hurt.
    fn default() -> Self {
        Limits { string: 16 << 20, container: 1 << 20, depth: 16, message: 64 << 20 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl Error {
    fn protocol(s: impl Into<String>) -> Self {
        Error::Protocol(s.into())
    }

    /// Whether the peer simply went away (closed, reset, or stayed silent
    /// past the read timeout) rather than sending something wrong.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, Error::Io(e) if matches!(e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The header of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    pub name: String,
    pub kind: MessageType,
    pub seq: i32,
}

/// Reads one message at a time from a buffered stream.
pub struct Reader<R> {
    inner: R,
    limits: Limits,
    /// Bytes read of the current message.
    used: u64,
    depth: usize,
}

/// Bytes read at a time into a string, so that a claimed length costs
/// memory only as the data comes.
const CHUNK: usize = 64 << 10;

impl<R: Read> Reader<R> {
    pub fn new(inner: R, limits: Limits) -> Self {
        Reader { inner, limits, used: 0, depth: 0 }
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    fn take(&mut self, n: u64) -> Result<()> {
        self.used += n;
        if self.used > self.limits.message {
            return Err(Error::protocol(format!("message longer than {} bytes", self.limits.message)));
        }
        Ok(())
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        self.take(buf.len() as u64)?;
        self.inner.read_exact(buf)?;
        Ok(())
    }

    pub fn read_u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.fill(&mut b)?;
        Ok(b[0])
    }

    pub fn read_bool(&mut self) -> Result<bool> {
        Ok(self.read_u8()? != 0)
    }

    pub fn read_i16(&mut self) -> Result<i16> {
        let mut b = [0u8; 2];
        self.fill(&mut b)?;
        Ok(i16::from_be_bytes(b))
    }

    pub fn read_i32(&mut self) -> Result<i32> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(i32::from_be_bytes(b))
    }

    pub fn read_i64(&mut self) -> Result<i64> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(i64::from_be_bytes(b))
    }

    pub fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.read_i64()? as u64))
    }

    /// A length prefix, checked against `limit` before anything is allocated.
    fn read_len(&mut self, limit: usize, what: &str) -> Result<usize> {
        let n = self.read_i32()?;
        if n < 0 {
            return Err(Error::protocol(format!("negative {what} length {n}")));
        }
        let n = n as usize;
        if n > limit {
            return Err(Error::protocol(format!("{what} of {n} exceeds the limit of {limit}")));
        }
        Ok(n)
    }

    pub fn read_binary(&mut self) -> Result<Vec<u8>> {
        let n = self.read_len(self.limits.string, "string")?;
        self.read_exact_vec(n)
    }

    fn read_exact_vec(&mut self, n: usize) -> Result<Vec<u8>> {
        self.take(n as u64)?;
        let mut buf = Vec::with_capacity(n.min(CHUNK));
        // Grows with what arrives: a peer claiming 16 MiB and sending 10
        // bytes costs one chunk.
        let got = (&mut self.inner).take(n as u64).read_to_end(&mut buf)?;
        if got < n {
            return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(buf)
    }

    pub fn read_string(&mut self) -> Result<String> {
        String::from_utf8(self.read_binary()?).map_err(|_| Error::protocol("string is not UTF-8"))
    }

    /// Starts a new message: the byte budget restarts.
    pub fn read_message_begin(&mut self) -> Result<MessageHeader> {
        self.used = 0;
        self.depth = 0;
        let first = self.read_i32()?;
        let (name, kind) = if first < 0 {
            let v = first as u32;
            if v & VERSION_MASK != VERSION_1 {
                return Err(Error::protocol(format!("bad protocol version {v:#x}")));
            }
            let name = self.read_string()?;
            (name, (v & 0xff) as u8)
        } else {
            // Old, non-strict: the name's length comes first.
            let n = first as usize;
            if n > self.limits.string {
                return Err(Error::protocol(format!("method name of {n} bytes")));
            }
            let name =
                String::from_utf8(self.read_exact_vec(n)?).map_err(|_| Error::protocol("method name is not UTF-8"))?;
            (name, self.read_u8()?)
        };
        let kind = match kind {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            k => return Err(Error::protocol(format!("bad message type {k}"))),
        };
        let seq = self.read_i32()?;
        Ok(MessageHeader { name, kind, seq })
    }

    /// Reads a struct, handing each field (id, type) to `field`, which must
    /// read its value or [`Reader::skip`] it.
    pub fn read_struct(&mut self, mut field: impl FnMut(&mut Self, i16, u8) -> Result<()>) -> Result<()> {
        self.enter()?;
        loop {
            let ty = self.read_u8()?;
            if ty == ttype::STOP {
                break;
            }
            let id = self.read_i16()?;
            field(self, id, ty)?;
        }
        self.depth -= 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.limits.depth {
            return Err(Error::protocol(format!("nesting deeper than {}", self.limits.depth)));
        }
        Ok(())
    }

    /// A map header: key type, value type, count (bounded).
    pub fn read_map_begin(&mut self) -> Result<(u8, u8, usize)> {
        let k = self.read_u8()?;
        let v = self.read_u8()?;
        let n = self.read_len(self.limits.container, "map")?;
        Ok((k, v, n))
    }

    /// A list or set header: element type, count (bounded).
    pub fn read_list_begin(&mut self) -> Result<(u8, usize)> {
        let e = self.read_u8()?;
        let n = self.read_len(self.limits.container, "list")?;
        Ok((e, n))
    }

    /// Reads a `map<K, V>` with `entry` reading one key and value; the
    /// entry types must be the expected ones unless the map is empty (C++
    /// writes the declared types even then, others may write 0).
    pub fn read_map<T>(&mut self, want: (u8, u8), mut entry: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        self.enter()?;
        let (k, v, n) = self.read_map_begin()?;
        if n > 0 && (k, v) != want {
            return Err(Error::protocol(format!("map of ({k}, {v}), expected {want:?}")));
        }
        let mut out = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            out.push(entry(self)?);
        }
        self.depth -= 1;
        Ok(out)
    }

    pub fn read_list<T>(&mut self, want: u8, mut elem: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        self.enter()?;
        let (e, n) = self.read_list_begin()?;
        if n > 0 && e != want {
            return Err(Error::protocol(format!("list of {e}, expected {want}")));
        }
        let mut out = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            out.push(elem(self)?);
        }
        self.depth -= 1;
        Ok(out)
    }

    /// Reads and drops a value of type `ty` (an unknown field).
    pub fn skip(&mut self, ty: u8) -> Result<()> {
        match ty {
            ttype::BOOL | ttype::BYTE => drop(self.read_u8()?),
            ttype::I16 => drop(self.read_i16()?),
            ttype::I32 => drop(self.read_i32()?),
            ttype::DOUBLE | ttype::I64 => drop(self.read_i64()?),
            ttype::STRING => {
                // Read and dropped in chunks: never held whole.
                let n = self.read_len(self.limits.string, "string")?;
                self.take(n as u64)?;
                let copied = io::copy(&mut (&mut self.inner).take(n as u64), &mut io::sink())?;
                if copied < n as u64 {
                    return Err(Error::Io(io::ErrorKind::UnexpectedEof.into()));
                }
            }
            ttype::STRUCT => self.read_struct(|r, _, ty| r.skip(ty))?,
            ttype::MAP => {
                self.enter()?;
                let (k, v, n) = self.read_map_begin()?;
                for _ in 0..n {
                    self.skip(k)?;
                    self.skip(v)?;
                }
                self.depth -= 1;
            }
            ttype::SET | ttype::LIST => {
                self.enter()?;
                let (e, n) = self.read_list_begin()?;
                for _ in 0..n {
                    self.skip(e)?;
                }
                self.depth -= 1;
            }
            t => return Err(Error::protocol(format!("unknown field type {t}"))),
        }
        Ok(())
    }

    /// A string field, or an error if the field has another type.
    pub fn expect_string(&mut self, ty: u8) -> Result<String> {
        expect(ty, ttype::STRING)?;
        self.read_string()
    }
}

fn expect(got: u8, want: u8) -> Result<()> {
    if got != want {
        return Err(Error::protocol(format!("field of type {got}, expected {want}")));
    }
    Ok(())
}

/// Checks a field's type before its value is read.
pub fn expect_type(got: u8, want: u8) -> Result<()> {
    expect(got, want)
}

/// Writes messages (strict binary protocol) to a buffered stream; the
/// caller flushes once per message.
pub struct Writer<W> {
    inner: W,
}

impl<W: Write> Writer<W> {
    pub fn new(inner: W) -> Self {
        Writer { inner }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    pub fn write_u8(&mut self, b: u8) -> io::Result<()> {
        self.inner.write_all(&[b])
    }

    pub fn write_i16(&mut self, v: i16) -> io::Result<()> {
        self.inner.write_all(&v.to_be_bytes())
    }

    pub fn write_i32(&mut self, v: i32) -> io::Result<()> {
        self.inner.write_all(&v.to_be_bytes())
    }

    pub fn write_i64(&mut self, v: i64) -> io::Result<()> {
        self.inner.write_all(&v.to_be_bytes())
    }

    /// A string; one longer than i32::MAX cannot be said on the wire.
    pub fn write_string(&mut self, s: &str) -> io::Result<()> {
        let n = i32::try_from(s.len()).map_err(|_| io::Error::other("string too long for Thrift"))?;
        self.write_i32(n)?;
        self.inner.write_all(s.as_bytes())
    }

    pub fn write_message_begin(&mut self, name: &str, kind: MessageType, seq: i32) -> io::Result<()> {
        self.write_i32((VERSION_1 | kind as u32) as i32)?;
        self.write_string(name)?;
        self.write_i32(seq)
    }

    pub fn write_field_begin(&mut self, ty: u8, id: i16) -> io::Result<()> {
        self.write_u8(ty)?;
        self.write_i16(id)
    }

    pub fn write_field_stop(&mut self) -> io::Result<()> {
        self.write_u8(ttype::STOP)
    }

    pub fn write_map_begin(&mut self, k: u8, v: u8, n: usize) -> io::Result<()> {
        let n = i32::try_from(n).map_err(|_| io::Error::other("map too long for Thrift"))?;
        self.write_u8(k)?;
        self.write_u8(v)?;
        self.write_i32(n)
    }

    pub fn write_list_begin(&mut self, e: u8, n: usize) -> io::Result<()> {
        let n = i32::try_from(n).map_err(|_| io::Error::other("list too long for Thrift"))?;
        self.write_u8(e)?;
        self.write_i32(n)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> Reader<&[u8]> {
        Reader::new(bytes, Limits::default())
    }

    #[test]
    fn values_round_trip() {
        let mut w = Writer::new(Vec::new());
        w.write_message_begin("call", MessageType::Call, 77).unwrap();
        w.write_field_begin(ttype::STRING, 1).unwrap();
        w.write_string("tablé").unwrap();
        w.write_field_begin(ttype::I64, 2).unwrap();
        w.write_i64(-5).unwrap();
        w.write_field_begin(ttype::LIST, 3).unwrap();
        w.write_list_begin(ttype::I32, 2).unwrap();
        w.write_i32(1).unwrap();
        w.write_i32(i32::MIN).unwrap();
        w.write_field_stop().unwrap();
        let bytes = w.into_inner();
        // The strict header: version 1, type CALL.
        assert_eq!(&bytes[..4], &[0x80, 0x01, 0x00, 0x01]);
        let mut r = reader(&bytes);
        assert_eq!(
            r.read_message_begin().unwrap(),
            MessageHeader { name: "call".into(), kind: MessageType::Call, seq: 77 }
        );
        let mut got = (String::new(), 0, Vec::new());
        r.read_struct(|r, id, ty| {
            match id {
                1 => got.0 = r.expect_string(ty)?,
                2 => got.1 = r.read_i64()?,
                3 => got.2 = r.read_list(ttype::I32, |r| r.read_i32())?,
                _ => r.skip(ty)?,
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(got, ("tablé".to_string(), -5, vec![1, i32::MIN]));
    }

    #[test]
    fn old_unversioned_headers_are_read() {
        let mut b = Vec::new();
        b.extend_from_slice(&4i32.to_be_bytes());
        b.extend_from_slice(b"ping");
        b.push(1);
        b.extend_from_slice(&9i32.to_be_bytes());
        assert_eq!(
            reader(&b).read_message_begin().unwrap(),
            MessageHeader { name: "ping".into(), kind: MessageType::Call, seq: 9 }
        );
    }

    /// A string claiming 2^31 - 1 bytes is refused from its length alone.
    #[test]
    fn a_huge_string_length_is_refused_before_allocation() {
        let mut b = Vec::new();
        b.extend_from_slice(&i32::MAX.to_be_bytes());
        b.extend_from_slice(b"abc");
        let err = reader(&b).read_string().unwrap_err();
        assert!(matches!(&err, Error::Protocol(m) if m.contains("exceeds the limit")), "{err}");
        // Negative, too.
        let err = reader(&(-1i32).to_be_bytes()).read_string().unwrap_err();
        assert!(matches!(&err, Error::Protocol(m) if m.contains("negative")), "{err}");
    }

    /// Within the limit, memory follows the bytes that come: 10 MiB
    /// claimed, 3 bytes sent, an EOF after one small chunk.
    #[test]
    fn a_length_beyond_the_data_ends_at_the_data() {
        let mut b = Vec::new();
        b.extend_from_slice(&(10i32 << 20).to_be_bytes());
        b.extend_from_slice(b"abc");
        let err = reader(&b).read_string().unwrap_err();
        assert!(err.is_disconnect(), "{err}");
    }

    #[test]
    fn container_counts_and_nesting_are_bounded() {
        let limits = Limits { container: 10, depth: 3, ..Limits::default() };
        let mut b = vec![ttype::STRING, ttype::STRING];
        b.extend_from_slice(&11i32.to_be_bytes());
        let err =
            Reader::new(&b[..], limits).read_map((ttype::STRING, ttype::STRING), |r| r.read_string()).unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
        // A list of lists of lists of lists, skipped: too deep.
        let mut b = Vec::new();
        for _ in 0..5 {
            b.push(ttype::LIST);
            b.extend_from_slice(&1i32.to_be_bytes());
        }
        let err = Reader::new(&b[..], limits).skip(ttype::LIST).unwrap_err();
        assert!(err.to_string().contains("nesting"), "{err}");
        // Nor can a struct of structs recurse without end.
        let b = [ttype::STRUCT, 0, 1].repeat(1000);
        let err = Reader::new(&b[..], limits).skip(ttype::STRUCT).unwrap_err();
        assert!(err.to_string().contains("nesting"), "{err}");
    }

    #[test]
    fn a_message_has_a_byte_budget() {
        let limits = Limits { message: 100, ..Limits::default() };
        let mut w = Writer::new(Vec::new());
        w.write_message_begin("call", MessageType::Call, 1).unwrap();
        for i in 0..20 {
            w.write_field_begin(ttype::I64, i).unwrap();
            w.write_i64(0).unwrap();
        }
        w.write_field_stop().unwrap();
        let bytes = w.into_inner();
        let mut r = Reader::new(&bytes[..], limits);
        r.read_message_begin().unwrap();
        let err = r.read_struct(|r, _, ty| r.skip(ty)).unwrap_err();
        assert!(err.to_string().contains("message longer"), "{err}");
    }

    #[test]
    fn unknown_types_and_bad_versions_are_errors() {
        assert!(reader(&[99]).skip(99).is_err());
        let err = reader(&0x8002_0001u32.to_be_bytes()).read_message_begin().unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
    }
}
