//! An Alpine `lib/apk/db/installed` of N packages shaped like a real one.

use std::io::{BufWriter, Write};
use std::path::Path;

/// Records copied in shape from Alpine 3.14's database (libcrypto1.1,
/// openrc): every field apk writes, dependencies, and a file list of
/// directories, files, modes and digests — most of a real record, and what
/// a parser must skip. About 0.9 KB each (90 MB for 100,000).
pub fn synth(root: &Path, n: usize) -> anyhow::Result<()> {
    let dir = root.join("lib/apk/db");
    std::fs::create_dir_all(&dir)?;
    let mut out = BufWriter::new(std::fs::File::create(dir.join("installed"))?);
    for i in 0..n {
        write!(
            out,
            "C:Q1etIoH9Bn//8ZAZJzjaLilk{c:08}=\n\
P:synthpkg{i}-libs\n\
V:{major}.{minor}.{i}-r{rev}\n\
A:x86_64\n\
S:{size}\n\
I:{isize}\n\
T:synthetic package number {i} for embargo's benchmarks\n\
U:https://example.invalid/synthpkg{i}\n\
L:MIT AND BSD-3-Clause\n\
o:synthpkg{i}\n\
m:Natanael Copa <ncopa@alpinelinux.org>\n\
t:{t}\n\
c:92ff3f34184c589fa4d811f96fa7f607b80{c:05}\n\
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.1.1 so:libz.so.1\n\
p:so:libsynth{i}.so.1=1.{minor} cmd:synth{i}\n\
r:libressl2.7-libcrypto\n\
F:etc\n\
F:etc/synth{i}\n\
R:synth.cnf\n\
Z:Q1olh8TpdAi2QnTl4FK3TjdUiSwTo=\n\
R:synth.cnf.dist\n\
Z:Q1olh8TpdAi2QnTl4FK3TjdUiSwTo=\n\
F:usr\n\
F:usr/lib\n\
R:libsynth{i}.so.1\n\
a:0:0:755\n\
Z:Q1x1H1VhQ1eMsslNVg+lFlTh92tIg=\n\
F:usr/lib/engines-1.1\n\
R:afalg.so\n\
a:0:0:755\n\
Z:Q1L7Hy+1nhzkABBft/G1PQfNVa6IE=\n\
R:capi.so\n\
a:0:0:755\n\
Z:Q1feMYyYc7Ie5BTjPH+sMwx6AeD6s=\n\
R:padlock.so\n\
a:0:0:755\n\
Z:Q19c/nRZ9F9WzcDI3FV/39vk32J0c=\n\
F:usr/bin\n\
R:synth{i}\n\
a:0:0:755\n\
Z:Q12SiIIdiElVh0kc9rJSxVlQWx/Fw=\n\n",
            c = i % 100_000,
            major = 1 + i % 9,
            minor = i % 23,
            rev = i % 5,
            size = 20_000 + (i * 37) % 900_000,
            isize = 4096 * (5 + (i * 13) % 400),
            t = 1_600_000_000 + i,
        )?;
    }
    out.flush()?;
    Ok(())
}
