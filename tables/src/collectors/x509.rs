//! X.509 certificates: PEM and DER decoding, and the fields every certificate
//! store's rows share. Store collectors (bundles, NSS, and later the Windows
//! and macOS stores) hand DER bytes here.
//!
//! Fingerprints are always taken over the certificate's ORIGINAL DER bytes as
//! they were stored, never over a re-encoding (re-encoding changes some real
//! roots' bytes, and so their fingerprints).

use sha1::Digest;
use x509_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// What a row needs from one certificate, named like osquery's `certificates`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub common_name: Option<String>,
    /// One line in OpenSSL's `X509_NAME_oneline` style, `/C=US/O=Org/CN=Name`,
    /// with separators inside values escaped ([`oneline`]).
    pub subject: String,
    pub issuer: String,
    pub organization: Option<String>,
    /// Lowercase hex of the serial's content bytes, leading zero bytes dropped
    /// (what `openssl x509 -serial` prints, in lowercase).
    pub serial: String,
    pub not_valid_before: i64,
    pub not_valid_after: i64,
    pub sha1: String,
    pub sha256: String,
    /// OpenSSL's name of the public-key algorithm (`rsaEncryption`, `id-ecPublicKey`), else the dotted OID.
    pub key_algorithm: String,
    /// Key size in bits, as OpenSSL's `EVP_PKEY_bits` gives it; `None` when unknown.
    pub key_strength: Option<i64>,
    /// OpenSSL's name of the signature algorithm (`sha256WithRSAEncryption`), else the dotted OID.
    pub signing_algorithm: String,
    pub ca: bool,
    pub self_signed: bool,
}

/// Parses one DER certificate at the start of `input`. Returns its fields and
/// the bytes after it (OpenSSL's trust data in a `TRUSTED CERTIFICATE`).
pub fn parse_der(input: &[u8]) -> Result<(CertInfo, &[u8]), String> {
    let (rest, cert) = X509Certificate::from_der(input).map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
    let der = &input[..input.len() - rest.len()];
    Ok((info(&cert, der), rest))
}

/// Fields by SHA-256 of the DER. One root usually holds each certificate in
/// several stores (the bundle, the directory, NSS), and it is parsed once.
#[derive(Default)]
pub struct CertCache {
    seen: std::collections::HashMap<[u8; 32], CertInfo>,
}

impl CertCache {
    /// [`parse_der`], answered from the cache when these DER bytes were seen.
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Result<(CertInfo, &'a [u8]), String> {
        let rest = match Any::from_der(input) {
            Ok((rest, any)) if any.header.class() == Class::Universal && any.header.tag() == Tag::Sequence => rest,
            _ => return parse_der(input),
        };
        let der = &input[..input.len() - rest.len()];
        let digest: [u8; 32] = sha2::Sha256::digest(der).into();
        if let Some(info) = self.seen.get(&digest) {
            return Ok((info.clone(), rest));
        }
        let (info, parsed_rest) = parse_der(input)?;
        if parsed_rest.len() == rest.len() {
            self.seen.insert(digest, info.clone());
        }
        Ok((info, parsed_rest))
    }
}

fn info(cert: &X509Certificate<'_>, der: &[u8]) -> CertInfo {
    let subject = cert.subject();
    let issuer = cert.issuer();
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
    CertInfo {
        common_name: first_value(subject, OID_CN),
        subject: oneline(subject),
        issuer: oneline(issuer),
        organization: first_value(subject, OID_O),
        serial: serial_hex(cert.raw_serial()),
        not_valid_before: cert.validity().not_before.timestamp(),
        not_valid_after: cert.validity().not_after.timestamp(),
        sha1: hex(&sha1::Sha1::digest(der)),
        sha256: hex(&sha2::Sha256::digest(der)),
        key_strength: key_bits(cert, &key_oid, curve.as_deref()),
        key_algorithm: openssl_name(&key_oid).map(str::to_string).unwrap_or(key_oid),
        signing_algorithm: {
            let oid = cert.signature_algorithm.algorithm.to_id_string();
            openssl_name(&oid).map(str::to_string).unwrap_or(oid)
        },
        ca: cert.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca),
        self_signed: issued_by_itself(cert),
    }
}

/// OpenSSL's `X509_check_issued(cert, cert)`, which osquery uses for
/// `self_signed`: the names match, the authority key identifier (when both it
/// and the subject key identifier are present) names this key, and a key usage
/// extension, if any, allows certificate signing. Like osquery, the signature
/// itself is not verified.
fn issued_by_itself(cert: &X509Certificate<'_>) -> bool {
    let (s, i) = (cert.subject(), cert.issuer());
    if s.as_raw() != i.as_raw() && oneline(s) != oneline(i) {
        return false;
    }
    let mut ski: Option<&[u8]> = None;
    let mut aki_keyid: Option<&[u8]> = None;
    let mut aki_serial: Option<&[u8]> = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki_keyid = a.key_identifier.as_ref().map(|k| k.0);
                aki_serial = a.authority_cert_serial;
            }
            _ => {}
        }
    }
    if let (Some(ski), Some(aki)) = (ski, aki_keyid)
        && ski != aki
    {
        return false;
    }
    if let Some(serial) = aki_serial
        && strip_zeros(serial) != strip_zeros(cert.raw_serial())
    {
        return false;
    }
    match cert.key_usage() {
        Ok(Some(ku)) => ku.value.key_cert_sign(),
        _ => true,
    }
}

fn key_bits(cert: &X509Certificate<'_>, key_oid: &str, curve: Option<&str>) -> Option<i64> {
    match key_oid {
        "1.3.101.112" => return Some(253), // Ed25519, as EVP_PKEY_bits says
        "1.3.101.113" => return Some(456), // Ed448
        "1.2.840.10045.2.1" => {
            if let Some(bits) = curve.and_then(curve_bits) {
                return Some(bits);
            }
        }
        _ => {}
    }
    match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            let m = strip_zeros(rsa.modulus);
            let first = *m.first()?;
            Some(((m.len() - 1) * 8 + (8 - first.leading_zeros() as usize)) as i64)
        }
        Ok(k) => Some(k.key_size() as i64).filter(|&b| b > 0),
        Err(_) => None,
    }
}

/// Order sizes of the named curves OpenSSL reports through `EVP_PKEY_bits`.
fn curve_bits(oid: &str) -> Option<i64> {
    Some(match oid {
        "1.2.840.10045.3.1.7" | "1.3.132.0.10" | "1.3.36.3.3.2.8.1.1.7" => 256,
        "1.3.132.0.34" | "1.3.36.3.3.2.8.1.1.11" => 384,
        "1.3.132.0.35" => 521,
        "1.3.132.0.33" => 224,
        "1.2.840.10045.3.1.1" => 192,
        "1.3.36.3.3.2.8.1.1.13" => 512,
        _ => return None,
    })
}

/// OpenSSL's long names (`OBJ_nid2ln`, what osquery prints) of the key and
/// signature algorithms met in trust stores.
fn openssl_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.2.643.7.1.1.1.1" => "GOST R 34.10-2012 with 256 bit modulus",
        "1.2.643.7.1.1.1.2" => "GOST R 34.10-2012 with 512 bit modulus",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa_with_SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.2.643.7.1.1.3.2" => "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
        "1.2.643.7.1.1.3.3" => "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
        _ => return None,
    })
}

/// OpenSSL's short names of attribute types, as `X509_NAME_oneline` writes them.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// `/C=US/O=Org/CN=Name`, in the certificate's own attribute order. Unlike
/// `X509_NAME_oneline`, non-ASCII text is kept as UTF-8 rather than escaped,
/// and a value never holds a separator: see [`push_escaped_value`].
pub fn oneline(name: &X509Name<'_>) -> String {
    let mut s = String::with_capacity(96);
    for attr in name.iter_attributes() {
        s.push('/');
        match short_name_of(attr.attr_type().as_bytes()) {
            Some(n) => s.push_str(n),
            None => s.push_str(&attr.attr_type().to_id_string()),
        }
        s.push('=');
        push_escaped_value(&mut s, &attr_text(attr.attr_value()));
    }
    s
}

/// Appends an attribute value with `/ , + = \` and control characters as
/// RFC 4514 hex pairs (`\2F`). Matching reads the one-line name by its
/// separators (the catalog's `(^|[,/+]) *cn *= *…` regexes), so a value
/// written as-is could forge an attribute: an O of `Acme/CN=Kaspersky …`
/// would read as a CN. A hex pair rather than OpenSSL's `\/` keeps the
/// separator character itself out of the value, and escaping `\` keeps the
/// rendering reversible.
fn push_escaped_value(out: &mut String, value: &str) {
    use std::fmt::Write as _;
    for c in value.chars() {
        if matches!(c, '/' | ',' | '+' | '=' | '\\') || c.is_control() {
            // Hex pairs are of the UTF-8 bytes, as RFC 4514 has them (C1 controls take two).
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(out, "\\{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];

fn first_value(name: &X509Name<'_>, oid: &[u8]) -> Option<String> {
    name.iter_attributes().find(|a| a.attr_type().as_bytes() == oid).map(|a| attr_text(a.attr_value()))
}

/// [`attribute_short_name`] looked up by the OID's encoded bytes, without
/// formatting the OID for every attribute of every certificate.
fn short_name_of(encoded: &[u8]) -> Option<&'static str> {
    static TABLE: std::sync::OnceLock<Vec<(Vec<u8>, &'static str)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        ATTRIBUTE_OIDS.iter().filter_map(|dotted| Some((encode_oid(dotted)?, attribute_short_name(dotted)?))).collect()
    });
    table.iter().find(|(e, _)| e == encoded).map(|(_, n)| *n)
}

const ATTRIBUTE_OIDS: &[&str] = &[
    "2.5.4.3",
    "2.5.4.6",
    "2.5.4.10",
    "2.5.4.11",
    "2.5.4.8",
    "2.5.4.7",
    "2.5.4.5",
    "2.5.4.4",
    "2.5.4.9",
    "2.5.4.12",
    "2.5.4.15",
    "2.5.4.17",
    "2.5.4.42",
    "2.5.4.43",
    "2.5.4.44",
    "2.5.4.46",
    "2.5.4.65",
    "2.5.4.97",
    "1.2.840.113549.1.9.1",
    "0.9.2342.19200300.100.1.1",
    "0.9.2342.19200300.100.1.25",
    "1.3.6.1.4.1.311.60.2.1.1",
    "1.3.6.1.4.1.311.60.2.1.2",
    "1.3.6.1.4.1.311.60.2.1.3",
];

/// The DER content bytes of a dotted OID.
fn encode_oid(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().ok()).collect::<Option<_>>()?;
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    let mut out = Vec::new();
    for arc in std::iter::once(first * 40 + second).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            groups.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// The text of a directory string, whatever its ASN.1 string type.
fn attr_text(v: &x509_parser::der_parser::asn1_rs::Any<'_>) -> String {
    let data: &[u8] = v.data;
    match v.header.tag().0 {
        // BMPString: UTF-16BE.
        30 => {
            let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        // UniversalString: UTF-32BE.
        28 => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}'))
            .collect(),
        // T61String is in practice Latin-1.
        20 => match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => data.iter().map(|&b| b as char).collect(),
        },
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&x| x == 0).count().min(b.len().saturating_sub(1));
    &b[n..]
}

fn serial_hex(raw: &[u8]) -> String {
    hex(strip_zeros(raw))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// OpenSSL's trust settings after the certificate in a `TRUSTED CERTIFICATE`
/// block (`X509_CERT_AUX`): purposes trusted, purposes rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuxTrust {
    pub trusted: Vec<&'static str>,
    pub rejected: Vec<&'static str>,
}

impl AuxTrust {
    /// Purposes trusted and not also rejected.
    pub fn effective(&self) -> Vec<&'static str> {
        self.trusted.iter().copied().filter(|p| !self.rejected.contains(p) && !self.rejected.contains(&"any")).collect()
    }
}

/// Parses `X509_CERT_AUX ::= SEQUENCE { trust SEQUENCE OF OID OPTIONAL,
/// reject [0] IMPLICIT SEQUENCE OF OID OPTIONAL, alias UTF8String OPTIONAL, … }`.
/// Empty input means the block carried no trust settings.
pub fn parse_openssl_aux(aux: &[u8]) -> Result<AuxTrust, String> {
    let mut out = AuxTrust::default();
    if aux.is_empty() {
        return Ok(out);
    }
    let (_, outer) = Any::from_der(aux).map_err(|_| "trust data after the certificate is not DER")?;
    if outer.header.class() != Class::Universal || outer.header.tag() != Tag::Sequence {
        return Err(format!(
            "trust data starts with {} tag {}, not a SEQUENCE",
            outer.header.class(),
            outer.header.tag()
        ));
    }
    let mut rest = outer.data;
    while !rest.is_empty() {
        let (next, field) = Any::from_der(rest).map_err(|_| "truncated trust data")?;
        rest = next;
        let list = match (field.header.class(), field.header.tag()) {
            (Class::Universal, Tag::Sequence) => &mut out.trusted,
            (Class::ContextSpecific, Tag(0)) => &mut out.rejected,
            _ => continue, // alias, keyid, other: not trust
        };
        purposes_into(field.data, list)?;
    }
    Ok(out)
}

/// The contract's purposes among the DER OIDs in `oids`, appended to `list`.
fn purposes_into(mut oids: &[u8], list: &mut Vec<&'static str>) -> Result<(), String> {
    while !oids.is_empty() {
        let (next, oid) = Any::from_der(oids).map_err(|_| "truncated purpose list")?;
        oids = next;
        if oid.header.class() != Class::Universal || oid.header.tag() != Tag::Oid {
            return Err("a purpose that is not an OID".into());
        }
        if let Some(p) = purpose_of_eku(oid.data) {
            list.push(p);
        }
    }
    Ok(())
}

/// The purposes of an `ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId`, as
/// Windows stores a certificate's enabled purposes (property 9 of a
/// registry Blob). Purposes outside the contract's list are left out.
pub fn parse_eku_sequence(der: &[u8]) -> Result<Vec<&'static str>, String> {
    let (_, seq) = Any::from_der(der).map_err(|_| "purpose list is not DER")?;
    if seq.header.class() != Class::Universal || seq.header.tag() != Tag::Sequence {
        return Err("purpose list is not a SEQUENCE".into());
    }
    let mut out = Vec::new();
    purposes_into(seq.data, &mut out)?;
    let mut seen = Vec::with_capacity(out.len());
    out.retain(|p| {
        !seen.contains(p) && {
            seen.push(*p);
            true
        }
    });
    Ok(out)
}

/// Encoded OID contents of the extended key usages stores talk about.
fn purpose_of_eku(oid: &[u8]) -> Option<&'static str> {
    const KP: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03];
    if oid == [0x55, 0x1d, 0x25, 0x00] {
        return Some("any");
    }
    let last = oid.strip_prefix(KP)?;
    match last {
        [1] => Some("server_auth"),
        [2] => Some("client_auth"),
        [3] => Some("code_signing"),
        [4] => Some("email"),
        _ => None,
    }
}

/// One `-----BEGIN label-----` … `-----END label-----` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
    /// 1-based line of the BEGIN line, for messages.
    pub line: usize,
}

/// The longest PEM block read, BEGIN line to END line: a 1 MiB block holds
/// a 750 KiB certificate, where real ones are a few KiB.
pub const PEM_BLOCK_LIMIT: usize = 1 << 20;

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";

/// What [`next_pem_step`] found at the start of its input.
#[derive(Debug)]
pub enum PemStep {
    /// The input may hold a block that runs past its end: read more.
    NeedMore,
    /// This many bytes hold no block (text between blocks).
    Skip(usize),
    /// A block, or the reason it is bad, and how many bytes it took.
    Block(usize, Result<(String, Vec<u8>), String>),
}

/// One step of PEM splitting over `buf`, the unread part of a file (`eof`:
/// all of it). Each call is linear in at most [`PEM_BLOCK_LIMIT`] bytes past
/// the block it finds, and text between blocks is skipped in one pass, so a
/// file of any size is split in linear time with bounded memory.
pub fn next_pem_step(buf: &[u8], eof: bool) -> PemStep {
    use memchr::memmem;
    let Some(start) = memmem::find(buf, BEGIN) else {
        // A BEGIN marker may straddle the end of what has been read.
        let keep = if eof { 0 } else { BEGIN.len() - 1 };
        return match buf.len().saturating_sub(keep) {
            0 if !eof => PemStep::NeedMore,
            n => PemStep::Skip(n),
        };
    };
    if start > 0 {
        return PemStep::Skip(start);
    }
    // Everything a block is looked for in; a block reaching past it is bad.
    let window = &buf[..buf.len().min(PEM_BLOCK_LIMIT)];
    let complete = eof && buf.len() <= PEM_BLOCK_LIMIT;
    let too_long = || format!("block is longer than {PEM_BLOCK_LIMIT} bytes, or has no END line");
    let line_end = |from: usize| match memchr::memchr(b'\n', &window[from..]) {
        Some(i) => Some(from + i),
        None if complete => Some(window.len()),
        None => None,
    };
    let Some(eol) = line_end(0) else {
        return if window.len() < PEM_BLOCK_LIMIT {
            PemStep::NeedMore
        } else {
            PemStep::Block(BEGIN.len(), Err(too_long()))
        };
    };
    let pos = (eol + 1).min(window.len());
    let header = trim_ascii(&window[BEGIN.len()..eol]);
    let Some(label) = header.strip_suffix(b"-----") else {
        return PemStep::Block(pos, Err("malformed BEGIN line".into()));
    };
    let label = String::from_utf8_lossy(label).into_owned();
    let next_begin = memmem::find(&window[pos..], BEGIN).map(|j| pos + j);
    let end_at = memmem::find(&window[pos..next_begin.unwrap_or(window.len())], END).map(|j| pos + j);
    let Some(end_at) = end_at else {
        return match (next_begin, complete, window.len() < PEM_BLOCK_LIMIT) {
            (Some(_), _, _) | (None, true, _) => PemStep::Block(pos, Err(format!("{label} block has no END line"))),
            (None, false, true) => PemStep::NeedMore,
            (None, false, false) => PemStep::Block(pos, Err(too_long())),
        };
    };
    let Some(end_eol) = line_end(end_at) else {
        return if window.len() < PEM_BLOCK_LIMIT { PemStep::NeedMore } else { PemStep::Block(pos, Err(too_long())) };
    };
    let end_label = trim_ascii(&window[end_at + END.len()..end_eol]);
    let end_label = end_label.strip_suffix(b"-----").unwrap_or(end_label);
    let body = skip_pem_headers(&window[pos..end_at]);
    let consumed = (end_eol + 1).min(buf.len());
    if end_label != label.as_bytes() {
        return PemStep::Block(
            consumed,
            Err(format!("BEGIN {label} ends with END {}", String::from_utf8_lossy(end_label))),
        );
    }
    PemStep::Block(
        consumed,
        match base64_decode(body) {
            Ok(der) => Ok((label, der)),
            Err(e) => Err(format!("{label} block: {e}")),
        },
    )
}

/// Splits a stream into PEM blocks with [`next_pem_step`], reading it in
/// chunks; memory stays within a block's limit plus a chunk.
pub struct PemReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    at: usize,
    eof: bool,
    /// 1-based line of `buf[at]`.
    line: usize,
    /// Bytes taken from `src`.
    pub bytes_read: u64,
    /// Bytes asked of `src` at a time.
    chunk: usize,
}

impl<R: std::io::Read> PemReader<R> {
    /// `prefix` is what was already read from `src`.
    pub fn new(src: R, prefix: Vec<u8>) -> Self {
        let bytes_read = prefix.len() as u64;
        PemReader { src, buf: prefix, at: 0, eof: false, line: 1, bytes_read, chunk: 256 << 10 }
    }

    /// Reads `chunk` bytes at a time (tests cut markers with small ones).
    pub fn with_chunk(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    fn advance(&mut self, n: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.at..self.at + n]).count();
        self.at += n;
    }

    /// The next block, with the line its BEGIN is on; `None` at the end.
    pub fn next_block(&mut self) -> Option<std::io::Result<Result<PemBlock, String>>> {
        use std::io::Read as _;
        loop {
            match next_pem_step(&self.buf[self.at..], self.eof) {
                PemStep::Skip(n) => {
                    self.advance(n);
                    if self.eof && self.at == self.buf.len() {
                        return None;
                    }
                }
                PemStep::Block(n, result) => {
                    let line = self.line;
                    self.advance(n);
                    return Some(Ok(match result {
                        Ok((label, der)) => Ok(PemBlock { label, der, line }),
                        Err(e) => Err(format!("line {line}: {e}")),
                    }));
                }
                PemStep::NeedMore if self.eof => return None,
                PemStep::NeedMore => {
                    self.buf.drain(..self.at);
                    self.at = 0;
                    // read_to_end fills spare capacity without zeroing it on every call.
                    let n = match (&mut self.src).take(self.chunk as u64).read_to_end(&mut self.buf) {
                        Ok(n) => n,
                        Err(e) => return Some(Err(e)),
                    };
                    self.bytes_read += n as u64;
                    self.eof = n == 0;
                }
            }
        }
    }
}

/// The PEM blocks of `data`, in order; a bad block is an `Err` with its line
/// and the reason, and scanning goes on after it. Text outside blocks
/// (comments, p11-kit's attribute sections) is skipped.
pub fn pem_blocks(data: &[u8]) -> Vec<Result<PemBlock, String>> {
    pem_block_iter(data).collect()
}

/// [`pem_blocks`], one at a time.
pub fn pem_block_iter(data: &[u8]) -> impl Iterator<Item = Result<PemBlock, String>> + '_ {
    let (mut at, mut line) = (0usize, 1usize);
    std::iter::from_fn(move || {
        while at < data.len() {
            let (n, result) = match next_pem_step(&data[at..], true) {
                PemStep::Skip(n) => (n, None),
                PemStep::Block(n, r) => (n, Some(r)),
                PemStep::NeedMore => return None, // not given at the end of the input
            };
            let block_line = line;
            line += memchr::memchr_iter(b'\n', &data[at..at + n]).count();
            at += n;
            if let Some(r) = result {
                return Some(match r {
                    Ok((label, der)) => Ok(PemBlock { label, der, line: block_line }),
                    Err(e) => Err(format!("line {block_line}: {e}")),
                });
            }
        }
        None
    })
}

/// Drops RFC 1421 headers (`Proc-Type: …` lines, then a blank line) before the base64 text.
fn skip_pem_headers(mut body: &[u8]) -> &[u8] {
    let first_line = |b: &[u8]| memchr::memchr(b'\n', b).map_or(b.len(), |i| i + 1);
    let mut skipped = false;
    while !body.is_empty() {
        let n = first_line(body);
        if memchr::memchr(b':', &body[..n]).is_none() {
            break;
        }
        body = &body[n..];
        skipped = true;
    }
    if skipped && !body.is_empty() {
        let n = first_line(body);
        if trim_ascii(&body[..n]).is_empty() {
            body = &body[n..];
        }
    }
    body
}

fn trim_ascii(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s
        && last.is_ascii_whitespace()
    {
        s = rest;
    }
    while let [first, rest @ ..] = s
        && first.is_ascii_whitespace()
    {
        s = rest;
    }
    s
}

/// Standard base64 with padding; line breaks and other whitespace inside
/// the PEM body are dropped first, as PEM allows.
fn base64_decode(text: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let compact: Vec<u8> = text.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(&compact).map_err(|e| format!("bad base64: {e}"))
}

/// Whether a certificate file's bytes are PEM text (otherwise they may be DER).
pub fn looks_like_pem(data: &[u8]) -> bool {
    memchr::memmem::find(data, b"-----BEGIN").is_some()
}

/// Labels whose blocks hold a certificate.
pub fn is_certificate_label(label: &str) -> bool {
    matches!(label, "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        assert_eq!(base64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVsbG8h").unwrap(), b"hello!");
        assert!(base64_decode(b"aGV*bG8=").is_err());
        assert!(base64_decode(b"aGVsb").is_err());
    }

    #[test]
    fn pem_blocks_report_bad_blocks_and_go_on() {
        let text = b"junk\n-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n\
            -----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n\
            -----BEGIN PUBLIC KEY-----\r\naGk=\r\n-----END PUBLIC KEY-----\r\n-----BEGIN CERTIFICATE-----\nAAAA\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0].as_ref().unwrap().der, b"hello");
        assert_eq!(blocks[0].as_ref().unwrap().line, 2);
        assert!(blocks[1].as_ref().unwrap_err().contains("line 5"));
        assert_eq!(blocks[2].as_ref().unwrap().label, "PUBLIC KEY");
        assert!(blocks[3].as_ref().unwrap_err().contains("no END line"));
    }

    #[test]
    fn aux_trust_lists_are_read() {
        // SEQUENCE { SEQUENCE { serverAuth, emailProtection }, [0] { codeSigning }, UTF8String "x" }
        let aux = [
            0x30, 0x1c, 0x30, 0x14, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 1, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 4, 0xa0,
            0x0a, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 3, 0x0c, 0x01, b'x',
        ];
        let mut aux = aux.to_vec();
        aux[1] = (aux.len() - 2) as u8;
        let t = parse_openssl_aux(&aux).unwrap();
        assert_eq!(t.trusted, vec!["server_auth", "email"]);
        assert_eq!(t.rejected, vec!["code_signing"]);
        assert!(parse_openssl_aux(&[0x30, 0x05, 0x30]).is_err());
        assert!(parse_openssl_aux(&[0x31, 0x00]).unwrap_err().contains("not a SEQUENCE"));
        assert_eq!(
            parse_openssl_aux(&[0x30, 0x04, 0x30, 0x02, 0x05, 0x00]).unwrap_err(),
            "a purpose that is not an OID"
        );
        assert!(parse_openssl_aux(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_openssl_aux(&[0x30, 0x80, 0x00, 0x00]).is_err(), "indefinite length is not DER");
        assert_eq!(parse_openssl_aux(&[0x30, 0x00]).unwrap(), AuxTrust::default());
    }

    #[test]
    fn oids_encode_as_der_does() {
        assert_eq!(encode_oid("2.5.4.3").unwrap(), OID_CN);
        assert_eq!(encode_oid("1.2.840.113549.1.9.1").unwrap(), [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]);
        assert_eq!(
            ATTRIBUTE_OIDS.iter().filter_map(|o| encode_oid(o)).filter_map(|e| short_name_of(&e)).count(),
            ATTRIBUTE_OIDS.len()
        );
    }

    #[test]
    fn truncated_der_is_an_error() {
        assert!(parse_der(&[0x30, 0x82, 0x05, 0x00, 0x30]).is_err());
        assert!(parse_der(&[]).is_err());
    }
}
