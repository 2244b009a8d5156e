//! Installed programs as Windows' "Apps & features" lists them: the
//! subkeys of `Microsoft\Windows\CurrentVersion\Uninstall` in SOFTWARE (and
//! its 32-bit view under `WOW6432Node`), and the same key in each user's
//! NTUSER.DAT for per-user installs (which osquery's `programs` misses).
//!
//! As Windows does, a key without a DisplayName is not a program. Entries
//! Windows hides from the list (SystemComponent=1, updates with a
//! ParentKeyName) are kept and marked, since a hidden Kaspersky component is
//! still Kaspersky.

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::hive::{RegError, Registry, Value};
use crate::collectors::windows_hives::{HKLM_SOFTWARE, LoadedHive, WindowsHives, key_path};
use crate::error::FsError;
use embargo_catalog::Date;

pub const UNINSTALL: &str = "Microsoft\\Windows\\CurrentVersion\\Uninstall";
pub const WOW64_UNINSTALL: &str = "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

/// One Uninstall subkey that has a DisplayName.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UninstallEntry {
    /// DisplayName.
    pub name: String,
    /// DisplayVersion.
    pub version: Option<String>,
    pub publisher: Option<String>,
    /// InstallLocation, verbatim.
    pub install_location: Option<String>,
    /// InstallDate as stored (`YYYYMMDD` by convention).
    pub install_date: Option<String>,
    /// InstallDate as Unix seconds at midnight UTC, when it is `YYYYMMDD`.
    pub install_time: Option<i64>,
    /// EstimatedSize (KiB) in bytes.
    pub size: Option<i64>,
    /// The key's name: a product code `{GUID}` or a name.
    pub identifier: String,
    /// The key, `HKEY_LOCAL_MACHINE\SOFTWARE\…\Uninstall\<name>`.
    pub path: String,
    /// The profile a per-user entry belongs to.
    pub user: Option<String>,
    /// From the 32-bit view (`WOW6432Node`).
    pub wow64: bool,
    /// SystemComponent=1: hidden from the list by Windows.
    pub system_component: bool,
    /// ParentKeyName: an update or part of another entry.
    pub parent_key_name: Option<String>,
    pub uninstall_string: Option<String>,
}

/// `YYYYMMDD` → Unix seconds at midnight UTC.
pub fn parse_install_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    Date::parse_iso(&format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])).ok().map(Date::unix_seconds)
}

/// The values read of each entry, in the order [`read_key`] takes them.
const FIELDS: [&str; 9] = [
    "DisplayName",
    "DisplayVersion",
    "Publisher",
    "InstallLocation",
    "InstallDate",
    "ParentKeyName",
    "UninstallString",
    "EstimatedSize",
    "SystemComponent",
];

/// Where one Uninstall key is and how its rows are labelled.
pub struct Source<'a> {
    /// The key below the hive's root.
    pub key: &'a str,
    /// Shown key path of the hive's root (`HKEY_LOCAL_MACHINE\SOFTWARE`).
    pub shown: &'a str,
    pub user: Option<&'a str>,
    pub wow64: bool,
}

/// Reads the entries of one Uninstall key of any registry. A missing key is
/// no entry and no error.
pub fn read_key<R: Registry>(
    reg: &R,
    src: &Source<'_>,
    each: &mut dyn FnMut(UninstallEntry),
    bad: &mut dyn FnMut(String, RegError),
) {
    let shown = key_path(src.shown, &[src.key]);
    for (name, key) in reg.subkeys_under(&reg.root_key(), src.key, &mut |e| bad(shown.clone(), e)) {
        let path = key_path(&shown, &[&name]);
        let mut first_error = None;
        let mut got = reg.values_named(&key, &FIELDS).into_iter().map(|r| {
            r.unwrap_or_else(|e| {
                first_error.get_or_insert(e);
                None
            })
        });
        let mut next = || got.next().flatten();
        let text = |v: Option<Value>| v.and_then(|v| v.text()).filter(|s| !s.is_empty());
        let display = text(next()).filter(|s| !s.trim().is_empty());
        let (version, publisher, install_location, install_date) =
            (text(next()), text(next()), text(next()), text(next()));
        let (parent_key_name, uninstall_string) = (text(next()), text(next()));
        let size = next().and_then(|v| v.number()).map(|kib| (kib as i64).saturating_mul(1024));
        let system_component = next().and_then(|v| v.number()).is_some_and(|n| n == 1);
        drop(got);
        if let Some(e) = first_error {
            bad(path.clone(), e);
        }
        let Some(display) = display else { continue };
        each(UninstallEntry {
            name: display,
            version,
            publisher,
            install_location,
            install_time: install_date.as_deref().and_then(parse_install_date),
            install_date,
            size,
            identifier: name,
            path,
            user: src.user.map(str::to_string),
            wow64: src.wow64,
            system_component,
            parent_key_name,
            uninstall_string,
        });
    }
}

fn read_hive(
    loaded: &LoadedHive,
    sources: &[Source<'_>],
    each: &mut dyn FnMut(UninstallEntry),
    bad: &mut dyn FnMut(FsError),
) {
    for p in &loaded.problems {
        bad(p.clone());
    }
    let Some(hive) = &loaded.hive else { return };
    let mut capped = Capped::new(&loaded.path, BAD_RECORD_ROWS, "damaged registry keys", &mut *bad);
    for src in sources {
        read_key(hive, src, each, &mut |key, e| capped.push(loaded.error(&key, e)));
    }
    capped.finish();
}

/// Every Uninstall entry of a Windows root: SOFTWARE's 64-bit and 32-bit
/// views, then each user's.
pub fn read_all(hives: &WindowsHives, mut each: impl FnMut(UninstallEntry), mut bad: impl FnMut(FsError)) {
    let machine = [
        Source { key: UNINSTALL, shown: HKLM_SOFTWARE, user: None, wow64: false },
        Source { key: WOW64_UNINSTALL, shown: HKLM_SOFTWARE, user: None, wow64: true },
    ];
    read_hive(hives.software(), &machine, &mut each, &mut bad);
    for p in hives.users_problems() {
        bad(p.clone());
    }
    for u in hives.users() {
        let prefix = u.key_prefix();
        let key = format!("Software\\{UNINSTALL}");
        let src = [Source { key: &key, shown: &prefix, user: Some(&u.user), wow64: false }];
        read_hive(&u.hive, &src, &mut each, &mut bad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::hive::Hive;

    fn entries() -> (Vec<UninstallEntry>, Vec<FsError>) {
        crate::collectors::windows_hives::tests::collect(|h, each, bad| read_all(h, each, bad))
    }

    fn find<'a>(rows: &'a [UninstallEntry], id: &str) -> &'a UninstallEntry {
        rows.iter().find(|r| r.identifier == id).unwrap_or_else(|| panic!("{id}"))
    }

    #[test]
    fn entries_come_out_as_the_recipe_wrote_them() {
        let (rows, errors) = entries();
        assert_eq!(errors, vec![]);
        let kes = find(&rows, "{8F7D3A52-6C1B-4E0B-9B8E-3A4C2F1D7E65}");
        assert_eq!(
            kes,
            &UninstallEntry {
                name: "Kaspersky Endpoint Security for Windows".into(),
                version: Some("12.3.0.493".into()),
                publisher: Some("AO Kaspersky Lab".into()),
                install_location: Some("C:\\Program Files\\Kaspersky Lab\\KES.12.3.0\\".into()),
                install_date: Some("20240115".into()),
                // 2024-01-15T00:00:00Z
                install_time: Some(1_705_276_800),
                size: Some(256_160 * 1024),
                identifier: "{8F7D3A52-6C1B-4E0B-9B8E-3A4C2F1D7E65}".into(),
                path: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{8F7D3A52-6C1B-4E0B-9B8E-3A4C2F1D7E65}".into(),
                user: None,
                wow64: false,
                system_component: false,
                parent_key_name: None,
                uninstall_string: Some("MsiExec.exe /X{8F7D3A52-6C1B-4E0B-9B8E-3A4C2F1D7E65}".into()),
            }
        );
        let agent = find(&rows, "{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}");
        assert_eq!(agent.name, "Kaspersky Security Center Network Agent");
        assert!(agent.wow64);
        assert_eq!(
            agent.path,
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}"
        );
        let npp = find(&rows, "Notepad++");
        assert!(npp.wow64);
        assert_eq!((npp.install_time, npp.size), (None, Some(14104 * 1024)));
        assert!(find(&rows, "{D4D6D3E9-7B4C-4B86-8CF5-1E2E2D6E1A10}").system_component);
        assert_eq!(find(&rows, "KB5002467").parent_key_name.as_deref(), Some("Office16.PROPLUS"));
        let u = find(&rows, "Ubersetzer");
        assert_eq!((u.name.as_str(), u.publisher.as_deref()), ("Übersetzer Ω 2.0", Some("Jürgen Müller GmbH")));
        // "15.01.2024" is not YYYYMMDD: kept as text, no time.
        assert_eq!((u.install_date.as_deref(), u.install_time), (Some("15.01.2024"), None));
        // Keys without DisplayName are not programs.
        assert!(!rows.iter().any(|r| r.identifier == "AddressBook" || r.identifier == "Connection Manager"));
        let onedrive = find(&rows, "OneDriveSetup.exe");
        assert_eq!(onedrive.user.as_deref(), Some("alice"));
        assert_eq!(
            onedrive.path,
            "HKEY_USERS\\alice\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\OneDriveSetup.exe"
        );
        assert_eq!(rows.len(), 8, "{:?}", rows.iter().map(|r| &r.identifier).collect::<Vec<_>>());
    }

    #[test]
    fn entries_agree_with_hivexget() {
        if !crate::testing::peer_available("hivexget") {
            return;
        }
        let (rows, _) = entries();
        let base = crate::collectors::hive::tests::fixture_dir().join("root");
        for r in rows {
            let (file, key) = match r.path.split_once("HKEY_LOCAL_MACHINE\\SOFTWARE\\") {
                Some((_, k)) => (base.join("Windows/System32/config/SOFTWARE"), k.to_string()),
                None => (base.join("Users/alice/NTUSER.DAT"), r.path.split_once("alice\\").unwrap().1.to_string()),
            };
            let get = |name: &str| {
                let out = std::process::Command::new("hivexget").arg(&file).arg(&key).arg(name).output().unwrap();
                out.status.success().then(|| String::from_utf8(out.stdout).unwrap().trim_end_matches('\n').to_string())
            };
            assert_eq!(get("DisplayName").as_deref(), Some(r.name.as_str()), "{key}");
            assert_eq!(get("DisplayVersion"), r.version, "{key}");
            assert_eq!(get("Publisher"), r.publisher, "{key}");
            assert_eq!(get("EstimatedSize").map(|s| s.parse::<i64>().unwrap() * 1024), r.size, "{key}");
        }
    }

    #[test]
    fn a_damaged_entry_is_an_error_and_the_others_still_come() {
        let path = crate::collectors::hive::tests::fixture_dir().join("root/Windows/System32/config/SOFTWARE");
        let hive = Hive::parse(std::fs::read(path).unwrap()).unwrap();
        let mut data = hive.bytes().to_vec();
        // 7-Zip's value list pointed outside the hive.
        let zip = hive.open(&format!("{UNINSTALL}\\7-Zip")).unwrap().unwrap();
        let at = crate::collectors::hive::BASE_BLOCK + zip as usize + 4 + 40;
        data[at..at + 4].copy_from_slice(&0x7FFF_0000u32.to_le_bytes());
        let bad = Hive::parse(data).unwrap();
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        let src = Source { key: UNINSTALL, shown: HKLM_SOFTWARE, user: None, wow64: false };
        read_key(&bad, &src, &mut |e| rows.push(e.identifier), &mut |k, e| errors.push((k, e)));
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(!rows.contains(&"7-Zip".to_string()));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].0.ends_with("Uninstall\\7-Zip"));
    }

    #[test]
    fn install_dates_are_midnight_utc_or_nothing() {
        assert_eq!(parse_install_date("19700101"), Some(0));
        assert_eq!(parse_install_date("20240229"), Some(1_709_164_800));
        assert_eq!(parse_install_date("20230229"), None);
        assert_eq!(parse_install_date("2024-01-15"), None);
        assert_eq!(parse_install_date("２０２４０１１５"), None);
    }
}
