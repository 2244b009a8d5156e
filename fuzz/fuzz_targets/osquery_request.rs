//! Bytes from a client of the osquery extension's socket through
//! `protocol::read_request` (one message after another, as a connection
//! reads them), and the manager's replies through `read_reply` with the
//! registry, extension-list and response decoders, all under tight limits.
#![no_main]

use embargo_osquery::protocol::{self, Request};
use embargo_osquery::thrift::{Limits, Reader, ttype};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits { string: 4096, container: 256, depth: 8, message: 16384 };

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data, LIMITS);
    // A connection reads requests until the first error.
    for _ in 0..64 {
        let Ok((req, _seq)) = protocol::read_request(&mut r) else { break };
        if let Request::Call { registry, item, request } = &req {
            // Decoded text is copied from the input, never invented.
            let text: usize =
                registry.len() + item.len() + request.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
            assert!(text <= data.len(), "{text} bytes of strings from {} bytes", data.len());
            assert!(request.len() <= data.len() / 8, "each entry takes at least 8 bytes of lengths");
        }
    }
    // The client side: what a manager or an extension may answer.
    let _ = protocol::read_reply(&mut Reader::new(data, LIMITS), "registerExtension", |r, ty| {
        ttype_is(ty, ttype::STRUCT)?;
        protocol::read_status(r)
    });
    let _ = protocol::read_reply(&mut Reader::new(data, LIMITS), "extensions", |r, ty| {
        ttype_is(ty, ttype::MAP)?;
        protocol::read_extension_list(r)
    });
    if let Ok(Some(resp)) = protocol::read_reply(&mut Reader::new(data, LIMITS), "call", |r, ty| {
        ttype_is(ty, ttype::STRUCT)?;
        protocol::read_response(r)
    }) {
        assert!(resp.response.len() <= data.len());
    }
    let _ = protocol::read_registry(&mut Reader::new(data, LIMITS));
});

fn ttype_is(got: u8, want: u8) -> embargo_osquery::thrift::Result<()> {
    embargo_osquery::thrift::expect_type(got, want)
}
