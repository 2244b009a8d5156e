//! Who a macOS root is: `SystemVersion.plist` (its presence is what makes a
//! root macOS) and the host names in the SystemConfiguration preferences.

use crate::collectors::plist;
use crate::error::FsError;
use crate::root::Root;

pub const SYSTEM_VERSION: &str = "/System/Library/CoreServices/SystemVersion.plist";
pub const PREFERENCES: &str = "/Library/Preferences/SystemConfiguration/preferences.plist";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemVersion {
    /// `macOS` (or `Mac OS X` on old releases).
    pub product_name: Option<String>,
    pub product_version: Option<String>,
    pub build: Option<String>,
}

/// Whether `root` looks like a macOS system.
pub fn is_macos(root: &Root) -> bool {
    root.exists(SYSTEM_VERSION)
}

pub fn read_version(root: &Root) -> Result<Option<SystemVersion>, FsError> {
    let Some(d) = plist::read_dict_if_present(root, SYSTEM_VERSION)? else {
        return Ok(None);
    };
    Ok(Some(SystemVersion {
        product_name: plist::string(&d, "ProductName"),
        product_version: plist::string(&d, "ProductVersion"),
        build: plist::string(&d, "ProductBuildVersion"),
    }))
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostNames {
    /// `System/System/HostName`: set by `scutil --set HostName`; what
    /// `hostname` prints when set.
    pub host_name: Option<String>,
    /// `System/System/ComputerName`: the name in Sharing settings, set on
    /// every Mac by Setup Assistant.
    pub computer_name: Option<String>,
    /// `System/Network/HostNames/LocalHostName`: the Bonjour name (`.local`).
    pub local_host_name: Option<String>,
}

impl HostNames {
    /// HostName, else ComputerName, else LocalHostName; empty ones skipped.
    pub fn hostname(&self) -> Option<String> {
        [&self.host_name, &self.computer_name, &self.local_host_name]
            .into_iter()
            .find_map(|n| n.as_ref().filter(|s| !s.trim().is_empty()).cloned())
    }
}

pub fn read_host_names(root: &Root) -> Result<Option<HostNames>, FsError> {
    let Some(d) = plist::read_dict_if_present(root, PREFERENCES)? else {
        return Ok(None);
    };
    let system = plist::dict(&d, "System");
    let names = system.and_then(|s| plist::dict(s, "System"));
    Ok(Some(HostNames {
        host_name: names.and_then(|n| plist::string(n, "HostName")),
        computer_name: names.and_then(|n| plist::string(n, "ComputerName")),
        local_host_name: system
            .and_then(|s| plist::dict(s, "Network"))
            .and_then(|n| plist::dict(n, "HostNames"))
            .and_then(|h| plist::string(h, "LocalHostName")),
    }))
}

#[cfg(test)]
mod tests {
    use super::HostNames;

    #[test]
    fn host_name_wins_then_computer_name_then_local_host_name() {
        let s = |v: &str| Some(v.to_string());
        let all =
            HostNames { host_name: s("build-7"), computer_name: s("Alice’s Mac"), local_host_name: s("Alices-Mac") };
        assert_eq!(all.hostname(), s("build-7"));
        let no_host = HostNames { host_name: s(" "), ..all.clone() };
        assert_eq!(no_host.hostname(), s("Alice’s Mac"));
        assert_eq!(HostNames { local_host_name: s("Alices-Mac"), ..Default::default() }.hostname(), s("Alices-Mac"));
        assert_eq!(HostNames::default().hostname(), None);
    }
}
