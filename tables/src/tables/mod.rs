//! Every table embargo has. Each module holds one declaration and its
//! generator; the collectors it draws on live in `crate::collectors`.

pub mod banned_vendor_indicators;
pub mod banned_vendors;
pub mod browser_extensions;
pub mod file_presence;
pub mod installed_certificates;
pub mod installed_services;
pub mod installed_software;
pub mod running_processes;
pub mod scan_errors;
pub mod scan_host;

use crate::table::Table;

/// All tables, in the order `embargo tables` lists them.
pub fn all() -> &'static [&'static dyn Table] {
    ALL
}

static ALL: &[&dyn Table] = &[
    &installed_software::TABLE,
    &installed_services::TABLE,
    &installed_certificates::TABLE,
    &running_processes::TABLE,
    &browser_extensions::TABLE,
    &banned_vendors::TABLE,
    &banned_vendor_indicators::TABLE,
    &file_presence::TABLE,
    &scan_host::TABLE,
    &scan_errors::TABLE,
];

pub fn find(name: &str) -> Option<&'static dyn Table> {
    all().iter().copied().find(|t| t.spec().name == name)
}

/// The tables whose generators read the root, and so can meet problems.
pub fn inventory() -> impl Iterator<Item = &'static dyn Table> {
    all().iter().copied().filter(|t| !matches!(t.spec().name, "scan_errors"))
}
