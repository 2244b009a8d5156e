//! One module per data source, named for the source. Each parses its format
//! into its own plain structs; the table modules map those onto rows.

pub mod chromium;
pub mod dpkg;
pub mod firefox;
pub mod os_release;
pub mod procs;
pub mod systemd;
pub mod sysv;
