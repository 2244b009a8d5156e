//! Positioned reads from a database file, or from bytes in memory (tests,
//! fuzzing). rpm's Berkeley DB and NDB readers fetch one page or one blob at
//! a time into a buffer they reuse: reading a 50 MB `Packages` whole cost
//! more in page faults on the fresh buffer than parsing it did.

use std::fs::File;

/// Something of a known length that can be read at any offset.
pub trait ReadAt {
    fn len(&self) -> u64;

    /// Fills `buf` from `offset`; a short read (a file that shrank while
    /// being read) is an error.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), String>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReadAt for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), String> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|at| self.get(at..at.checked_add(buf.len())?))
            .ok_or_else(|| format!("{} bytes at offset {offset} are past the end", buf.len()))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A regular file opened through [`crate::root::Root`], with the length its
/// metadata had when it was opened.
pub struct FileAt {
    pub file: File,
    pub len: u64,
}

impl ReadAt for FileAt {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), String> {
        let want = buf.len();
        let fail = |e: std::io::Error| format!("reading {want} bytes at offset {offset}: {e}");
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset).map_err(fail)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                match std::os::windows::fs::FileExt::seek_read(&self.file, &mut buf[done..], offset + done as u64) {
                    Ok(0) => return Err(fail(std::io::ErrorKind::UnexpectedEof.into())),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(fail(e)),
                }
            }
            Ok(())
        }
    }
}

/// Streams `reader` to `feed` in pieces of `chunk` bytes, for the line
/// parsers (dpkg status, apk's installed) that keep only what a record needs
/// and so never hold the whole file.
pub fn read_chunks(reader: &mut impl std::io::Read, chunk: usize, mut feed: impl FnMut(&[u8])) -> std::io::Result<()> {
    let mut buf = vec![0u8; chunk];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
