//! One module per data source, named for the source. Each parses its format
//! into its own plain structs; the table modules map those onto rows.

pub mod capped;
pub mod certstore;
pub mod chromium;
pub mod dpkg;
pub mod firefox;
pub mod flatpak;
pub mod hive;
pub mod homebrew;
pub mod json;
pub mod kext;
pub mod keychain;
pub mod launchd;
pub mod macos;
pub mod macos_apps;
pub mod macos_version;
pub mod nss;
pub mod os_release;
pub mod pem_stores;
pub mod plist;
pub mod procs;
pub mod read_at;
pub mod receipts;
pub mod rpm_bdb;
pub mod rpm_ndb;
pub mod rpmdb;
pub mod services_reg;
pub mod snap;
pub mod sqlite_file;
pub mod systemd;
pub mod sysv;
pub mod trust_settings;
pub mod uninstall;
pub mod windows_hives;
pub mod windows_host;
pub mod x509;
