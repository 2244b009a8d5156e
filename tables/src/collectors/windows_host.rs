//! What `scan_host` says about a Windows root: that it is one, its product
//! name and version (SOFTWARE `Microsoft\Windows NT\CurrentVersion`) and its
//! computer name (SYSTEM `<current control set>\Control\ComputerName`).

use crate::collectors::hive::{RegError, Registry};
use crate::collectors::services_reg::current_control_set;
use crate::collectors::windows_hives::{HKLM_SOFTWARE, HKLM_SYSTEM, SOFTWARE, WindowsHives, key_path};
use crate::error::FsError;
use crate::root::Root;

pub const CURRENT_VERSION: &str = "Microsoft\\Windows NT\\CurrentVersion";

/// A root is Windows when it has a SOFTWARE hive where Windows keeps it
/// (names compared without case, as on NTFS).
pub fn is_windows_root(root: &Root) -> bool {
    root.clone().with_case_folding(true).resolve(SOFTWARE).is_ok_and(|r| r.metadata.is_file())
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowsHost {
    /// ProductName, verbatim (Windows 11 still writes "Windows 10 …" there;
    /// the build number tells them apart).
    pub product_name: Option<String>,
    /// `<major>.<minor>.<build>` from CurrentMajorVersionNumber,
    /// CurrentMinorVersionNumber and CurrentBuildNumber (or CurrentBuild);
    /// before Windows 10, `<CurrentVersion>.<build>`.
    pub version: Option<String>,
    /// DisplayVersion (`22H2`) or, before it existed, ReleaseId.
    pub display_version: Option<String>,
    pub computer_name: Option<String>,
}

/// The product facts of a SOFTWARE registry.
pub fn read_product<R: Registry>(reg: &R, host: &mut WindowsHost) -> Result<(), RegError> {
    let Some(k) = reg.open(CURRENT_VERSION)? else { return Ok(()) };
    let text = |name: &str| -> Result<Option<String>, RegError> {
        Ok(reg.value(&k, name)?.and_then(|v| v.text()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
    };
    let number = |name: &str| -> Result<Option<u64>, RegError> { Ok(reg.value(&k, name)?.and_then(|v| v.number())) };
    host.product_name = text("ProductName")?;
    let build = match text("CurrentBuildNumber")? {
        Some(b) => Some(b),
        None => text("CurrentBuild")?,
    };
    host.version = match (number("CurrentMajorVersionNumber")?, number("CurrentMinorVersionNumber")?) {
        (Some(major), Some(minor)) => Some(match &build {
            Some(b) => format!("{major}.{minor}.{b}"),
            None => format!("{major}.{minor}"),
        }),
        _ => text("CurrentVersion")?.map(|v| match &build {
            Some(b) => format!("{v}.{b}"),
            None => v,
        }),
    };
    host.display_version = match text("DisplayVersion")? {
        Some(d) => Some(d),
        None => text("ReleaseId")?,
    };
    Ok(())
}

/// The computer name of a SYSTEM registry, as Windows sets it at boot.
pub fn read_computer_name<R: Registry>(reg: &R) -> Result<Option<String>, RegError> {
    let Some((_, set)) = current_control_set(reg)? else { return Ok(None) };
    for (key, value) in
        [("Control\\ComputerName\\ComputerName", "ComputerName"), ("Services\\Tcpip\\Parameters", "Hostname")]
    {
        if let Some(k) = reg.open_from(&set, key)?
            && let Some(name) = reg.value(&k, value)?.and_then(|v| v.text()).filter(|s| !s.is_empty())
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The host facts of a Windows root; problems go to `bad`.
pub fn read(hives: &WindowsHives, mut bad: impl FnMut(FsError)) -> WindowsHost {
    let mut host = WindowsHost::default();
    let software = hives.software();
    software.problems.iter().for_each(|p| bad(p.clone()));
    if let Some(h) = &software.hive
        && let Err(e) = read_product(h, &mut host)
    {
        bad(software.error(&key_path(HKLM_SOFTWARE, &[CURRENT_VERSION]), e));
    }
    let system = hives.system();
    system.problems.iter().for_each(|p| bad(p.clone()));
    if let Some(h) = &system.hive {
        match read_computer_name(h) {
            Ok(n) => host.computer_name = n,
            Err(e) => bad(system.error(HKLM_SYSTEM, e)),
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::hive::mem::{MemRegistry, dword, sz};

    #[test]
    fn the_fixture_root_is_windows_10_22h2_named_win_kav01() {
        let root = Root::new(crate::collectors::hive::tests::fixture_dir().join("root")).unwrap();
        assert!(is_windows_root(&root));
        let mut errors = Vec::new();
        let host = read(&WindowsHives::new(&root), |e| errors.push(e));
        assert_eq!(errors, vec![]);
        assert_eq!(
            host,
            WindowsHost {
                product_name: Some("Windows 10 Pro".into()),
                version: Some("10.0.19045".into()),
                display_version: Some("22H2".into()),
                // ControlSet001's; ControlSet002 says OLD-NAME.
                computer_name: Some("WIN-KAV01".into()),
            }
        );
        let linux = Root::new(crate::collectors::hive::tests::fixture_dir().join("../certs/root")).unwrap();
        assert!(!is_windows_root(&linux));
    }

    #[test]
    fn windows_7_has_only_current_version() {
        let mut reg = MemRegistry::new();
        reg.set(CURRENT_VERSION, "ProductName", sz("Windows 7 Professional"));
        reg.set(CURRENT_VERSION, "CurrentVersion", sz("6.1"));
        reg.set(CURRENT_VERSION, "CurrentBuild", sz("7601"));
        let mut host = WindowsHost::default();
        read_product(&reg, &mut host).unwrap();
        assert_eq!(host.version.as_deref(), Some("6.1.7601"));
        reg.set(CURRENT_VERSION, "CurrentMajorVersionNumber", dword(10));
        reg.set(CURRENT_VERSION, "CurrentMinorVersionNumber", dword(0));
        reg.set(CURRENT_VERSION, "CurrentBuildNumber", sz("22631"));
        read_product(&reg, &mut host).unwrap();
        assert_eq!(host.version.as_deref(), Some("10.0.22631"));
    }

    #[test]
    fn the_host_name_falls_back_to_tcpip() {
        let mut reg = MemRegistry::new();
        reg.set("Select", "Current", dword(1));
        reg.set("ControlSet001\\Services\\Tcpip\\Parameters", "Hostname", sz("from-tcpip"));
        assert_eq!(read_computer_name(&reg).unwrap().as_deref(), Some("from-tcpip"));
    }
}
