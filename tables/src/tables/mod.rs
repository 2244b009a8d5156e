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

use std::sync::Arc;

use crate::collectors::macos;
use crate::collectors::windows_hives::WindowsHives;
use crate::spec::Class;
use crate::table::{Ctx, Table};

/// The users' homes of a macOS root, listed once per scan. A problem
/// listing them (`/Users` unreadable, a home linked out of the root) is a
/// row of every table that reads them, as each misses what it hides, and
/// so does not depend on which table came first.
pub(crate) fn mac_homes(ctx: &Ctx<'_>) -> Arc<macos::Homes> {
    let homes = ctx.shared(|| {
        let mut problems = Vec::new();
        let homes = macos::homes(ctx.root(), &mut |e| problems.push(e));
        macos::Homes(homes, problems)
    });
    homes.1.iter().for_each(|e| ctx.report(e.clone()));
    homes
}

/// The registry hives of a Windows root, each parsed at most once per scan
/// by whichever table reads it first.
pub(crate) fn windows_hives(ctx: &Ctx<'_>) -> Arc<WindowsHives> {
    ctx.shared(|| WindowsHives::new(ctx.root()))
}

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

/// The tables whose generators can meet problems: all but the one that
/// lists them.
pub fn inventory() -> impl Iterator<Item = &'static dyn Table> {
    all().iter().copied().filter(|t| t.spec().attributes.class != Class::Problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Prefetch;

    #[test]
    fn declarations_hang_together() {
        for t in all() {
            let spec = t.spec();
            assert!(!spec.platforms().is_empty(), "{}", spec.name);
            let required = spec.columns.iter().any(|c| c.options.required);
            // Read whole, a table with a required column is refused.
            assert!(!required || spec.attributes.prefetch == Prefetch::No, "{}", spec.name);
            if let Some(sources) = spec.sources {
                let column = spec.column_index(sources.column).map(|i| &spec.columns[i]);
                assert!(
                    column.is_some_and(|c| c.options.index),
                    "{}: {} is an index column",
                    spec.name,
                    sources.column
                );
                assert!(sources.list.iter().all(|s| !s.families.is_empty()), "{}", spec.name);
            }
        }
        assert_eq!(all().iter().filter(|t| t.spec().attributes.class == Class::Problems).count(), 1);
    }

    #[test]
    fn the_source_column_lists_exactly_the_sources_with_code() {
        let software = find("installed_software").unwrap().spec();
        let doc = software.column_doc(software.column_index("source").unwrap());
        assert!(doc.ends_with(": deb, rpm, apk, snap, flatpak, macos_app, macos_receipt, homebrew, windows."), "{doc}");
        let services = find("installed_services").unwrap().spec();
        let doc = services.column_doc(services.column_index("kind").unwrap());
        assert!(
            doc.ends_with(
                ": systemd, sysv, launchd, macos_kext, macos_system_extension, windows_service, windows_driver."
            ),
            "{doc}"
        );
        assert_eq!(
            software.platforms(),
            [crate::spec::Platform::Linux, crate::spec::Platform::Windows, crate::spec::Platform::Macos]
        );
    }
}
