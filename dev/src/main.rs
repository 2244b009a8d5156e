//! Developer commands. Not shipped; used by bench/ and to regenerate fixtures.

mod apk;
mod certs;
mod dpkg;
mod hive;
mod units;
mod windows;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "embargo-dev", about = "embargo's developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The variants are the subcommands' names (synth-root, synth-apk, …).
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand)]
enum Command {
    /// Write a synthetic root for benchmarks: a dpkg status file of
    /// realistic stanzas, and optionally unit files and certificates.
    SynthRoot {
        /// Directory to write (created; existing files are overwritten).
        #[arg(long)]
        out: PathBuf,
        /// dpkg packages, about 1 KB of status file each.
        #[arg(long, default_value_t = 1000)]
        packages: usize,
        /// systemd unit files.
        #[arg(long, default_value_t = 0)]
        units: usize,
        /// certificates.
        #[arg(long, default_value_t = 0)]
        certs: usize,
    },
    /// Write a synthetic Alpine root for benchmarks: `lib/apk/db/installed`
    /// with N records shaped like a real one (file lists included).
    SynthApk {
        /// Directory to write (created; an existing database is overwritten).
        #[arg(long)]
        out: PathBuf,
        /// apk packages, about 0.9 KB of database each.
        #[arg(long, default_value_t = 100_000)]
        packages: usize,
    },
    /// Write a synthetic Windows root for benchmarks: SOFTWARE with
    /// Uninstall entries and certificate stores, SYSTEM with services.
    SynthWindows {
        /// Directory to write (created; existing hives are overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Uninstall entries (a quarter under WOW6432Node).
        #[arg(long, default_value_t = 20000)]
        uninstall: usize,
        /// Certificates, spread over stores.
        #[arg(long, default_value_t = 5000)]
        certs: usize,
        /// Services and drivers in ControlSet001.
        #[arg(long, default_value_t = 5000)]
        services: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::SynthRoot { out, packages, units, certs } => {
            std::fs::create_dir_all(&out)?;
            dpkg::synth(&out, packages)?;
            if units > 0 {
                units::synth(&out, units)?;
            }
            if certs > 0 {
                certs::synth(&out, certs)?;
            }
        }
        Command::SynthApk { out, packages } => apk::synth(&out, packages)?,
        Command::SynthWindows { out, uninstall, certs, services } => windows::synth(&out, uninstall, certs, services)?,
    }
    Ok(())
}
