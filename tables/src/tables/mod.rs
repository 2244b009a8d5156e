//! Every table embargo has. Each module holds one declaration and its
//! generator; the collectors it draws on live in `crate::collectors`.

pub mod installed_certificates;
pub mod installed_software;
pub mod scan_errors;
pub mod scan_host;

use crate::table::Table;

/// All tables, in the order `embargo tables` lists them.
pub fn all() -> &'static [&'static dyn Table] {
    ALL
}

static ALL: &[&dyn Table] = &[
    &installed_software::TABLE,
    &installed_certificates::TABLE,
    &scan_host::TABLE,
    &scan_errors::TABLE,
];

pub fn find(name: &str) -> Option<&'static dyn Table> {
    all().iter().copied().find(|t| t.spec().name == name)
}

/// The tables whose generators read the root, and so can meet problems.
pub fn inventory() -> impl Iterator<Item = &'static dyn Table> {
    all()
        .iter()
        .copied()
        .filter(|t| !matches!(t.spec().name, "scan_errors"))
}
