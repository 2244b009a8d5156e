//! One module per data source, named for the source. Each parses its format
//! into its own plain structs; the table modules map those onto rows.

pub mod dpkg;
pub mod os_release;
pub mod rpmdb;
pub mod flatpak;
pub mod snap;
