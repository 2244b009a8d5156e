//! Synthetic certificate stores for benchmarks.
//!
//! Real certificates are more realistic than generated ones (sizes, key types,
//! extensions), so the host's CA bundle is repeated: half of the `n`
//! certificates go into one bundle, the rest into single-certificate files of
//! `/etc/ssl/certs`, each with a distinct name.

use std::fs;
use std::path::Path;

use anyhow::{Context, bail};

const HOST_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub fn synth(root: &Path, n: usize) -> anyhow::Result<()> {
    let text = fs::read_to_string(HOST_BUNDLE).with_context(|| format!("reading {HOST_BUNDLE}"))?;
    let blocks: Vec<&str> = text
        .split_inclusive("-----END CERTIFICATE-----\n")
        .filter_map(|b| b.find("-----BEGIN CERTIFICATE-----").map(|i| &b[i..]))
        .collect();
    if blocks.is_empty() {
        bail!("{HOST_BUNDLE} holds no certificate");
    }
    let dir = root.join("etc/ssl/certs");
    fs::create_dir_all(&dir)?;
    let in_bundle = n / 2;
    let mut bundle = String::with_capacity(in_bundle * 2048);
    for i in 0..in_bundle {
        bundle.push_str(blocks[i % blocks.len()]);
    }
    fs::write(dir.join("ca-certificates.crt"), bundle)?;
    for i in in_bundle..n {
        fs::write(dir.join(format!("synth-{i:06}.pem")), blocks[i % blocks.len()])?;
    }
    Ok(())
}
