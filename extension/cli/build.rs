//! Link the `embargo` binary with packed relative relocations where the
//! toolchain supports them (binutils >= 2.38, glibc >= 2.36).
//!
//! A PIE of this size carries about 18,000 relative relocations. Applying
//! them at every start costs ~100 page faults, which is most of the gap
//! between a one-table query and `/bin/true`. DT_RELR keeps ASLR and removes
//! that cost (installed_services on this host: 9.1 -> 7.3 ms). The flag is
//! probed, not assumed, so older toolchains still build.

use std::io::Write;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=extension/cli/build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !(target.contains("linux") && target.ends_with("-gnu")) {
        return;
    }
    if linker_accepts("-Wl,-z,pack-relative-relocs") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

fn linker_accepts(flag: &str) -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = std::env::temp_dir().join(format!("embargo-relr-probe-{}", std::process::id()));
    let child = Command::new(&cc)
        .args(["-x", "c", "-", "-pie", "-fPIE", flag, "-o"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"int main(void) { return 0; }\n");
    }
    let linked = child.wait().is_ok_and(|s| s.success());
    // The linker may accept the flag yet skip DT_RELR when glibc lacks
    // GLIBC_ABI_DT_RELR; running the probe proves the loader takes it.
    let runs = linked && Command::new(&out).status().is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(&out);
    runs
}
