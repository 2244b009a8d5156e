//! A dpkg status file of N packages shaped like a real one.

use std::io::{BufWriter, Write};
use std::path::Path;

/// Stanza fields copied in shape from Debian 12's status file (libssl3,
/// openssh-client and friends): about 1 KB each, with a multi-line
/// description and conffiles, the parts a parser must skip.
pub fn synth(root: &Path, n: usize) -> anyhow::Result<()> {
    let dir = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dir)?;
    let mut out = BufWriter::new(std::fs::File::create(dir.join("status"))?);
    let states = [
        "install ok installed",
        "install ok installed",
        "install ok installed",
        "hold ok installed",
        "deinstall ok config-files",
    ];
    for i in 0..n {
        let state = states[i % states.len()];
        write!(
            out,
            "Package: synthpkg{i}-utils\n\
Status: {state}\n\
Priority: optional\n\
Section: utils\n\
Installed-Size: {size}\n\
Maintainer: Debian Synthetic Maintainers <pkg-synth-{m}@lists.alioth.debian.org>\n\
Architecture: amd64\n\
Multi-Arch: foreign\n\
Source: synthpkg{i}\n\
Version: 1:{major}.{minor}.{i}-{rev}+deb12u{u}\n\
Replaces: synthpkg{i}-common (<< 1:{major}.0)\n\
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0), libselinux1 (>= 3.1~), libgssapi-krb5-2 (>= 1.17), zlib1g (>= 1:1.1.4), adduser, passwd\n\
Recommends: xauth\n\
Suggests: keychain, libpam-ssh, monkeysphere, ssh-askpass\n\
Conffiles:\n /etc/synthpkg{i}/synth.conf 7f7d4b8ba3e4bd1a4ac8d9c06e4fe5a0\n /etc/synthpkg{i}/synth.d/defaults 2b8bd0a1e0c4a63ab7f1e0a2b4d6c8e0\n\
Description: synthetic package number {i} for embargo's benchmarks\n \
This package exists only in a synthetic root written by embargo-dev. Its\n \
stanza copies the shape of a real Debian status entry: dependencies,\n \
conffiles and a long description that a parser has to skip over quickly.\n \
.\n \
It provides nothing and is installed nowhere.\n\
Homepage: https://example.invalid/synthpkg{i}\n\n",
            size = 100 + (i * 37) % 9000,
            m = i % 17,
            major = 1 + i % 9,
            minor = i % 23,
            rev = 1 + i % 5,
            u = i % 4,
        )?;
    }
    out.flush()?;
    Ok(())
}
