//! Windows services and drivers, from the SYSTEM hive: each direct subkey
//! of `<current control set>\Services` that has a Type value. Offline there
//! is no `CurrentControlSet` link; `Select\Current` names the set
//! (`ControlSet001`). Nested keys (`Parameters`, `Instances`, `Enum`) and
//! keys without a Type (performance-counter entries) are not services.

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::hive::{RegError, Registry, Value};
use crate::collectors::windows_hives::{HKLM_SYSTEM, WindowsHives, key_path};
use crate::error::FsError;

/// What the Service Control Manager does with the entry, from the Type bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// Win32 services (own or shared process, per-user templates).
    Service,
    /// Kernel and file-system drivers, adapters, recognizers (bits 0x0F).
    Driver,
}

impl ServiceKind {
    pub fn of(type_bits: u32) -> ServiceKind {
        if type_bits & 0x0F != 0 { ServiceKind::Driver } else { ServiceKind::Service }
    }

    /// The contract's `installed_services.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Service => "windows_service",
            ServiceKind::Driver => "windows_driver",
        }
    }
}

/// The contract's Windows `start_type` for a Start value.
pub fn start_type(start: u32) -> Option<&'static str> {
    Some(match start {
        0 => "boot",
        1 => "system",
        2 => "automatic",
        3 => "manual",
        4 => "disabled",
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The key's name (the service name).
    pub name: String,
    /// DisplayName, verbatim (often an indirect `@dll,-id` string).
    pub display_name: Option<String>,
    pub kind: ServiceKind,
    pub type_bits: u32,
    /// Start, as stored.
    pub start: Option<u32>,
    /// ImagePath, verbatim.
    pub command: Option<String>,
    /// The program ImagePath runs (or the kernel's default for a driver
    /// without one), as a root-relative path: see [`program_path`].
    pub exec_path: Option<String>,
    /// `Parameters\ServiceDll` (or ServiceDll on the key), verbatim.
    pub module_path: Option<String>,
    /// ServiceDll as a root-relative path.
    pub module_file: Option<String>,
    /// ObjectName: the account it runs as.
    pub user: Option<String>,
    pub description: Option<String>,
    /// The key, `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\<name>`.
    pub path: String,
}

/// The values read of each service key, in the order [`read_set`] takes them.
const FIELDS: [&str; 7] = ["Type", "Start", "ImagePath", "DisplayName", "ObjectName", "Description", "ServiceDll"];

/// The control set Windows boots with: `Select\Current` → `ControlSetNNN`.
pub fn current_control_set<R: Registry>(reg: &R) -> Result<Option<(String, R::Key)>, RegError> {
    let Some(select) = reg.open("Select")? else { return Ok(None) };
    let Some(n) = reg.value(&select, "Current")?.and_then(|v| v.number()) else {
        return Err(RegError("Select has no numeric Current value".into()));
    };
    let name = format!("ControlSet{n:03}");
    match reg.open(&name)? {
        Some(k) => Ok(Some((name, k))),
        None => Err(RegError(format!("Select\\Current names {name}, which does not exist"))),
    }
}

/// Environment variables Windows sets for every service, with their default
/// values; `%SystemRoot%` is the hive's own SystemRoot.
fn expand_env(s: &str, system_root: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let var = &after[..end];
        let value = match var.to_ascii_lowercase().as_str() {
            "systemroot" | "windir" => Some(system_root.to_string()),
            "systemdrive" => Some(drive_of(system_root).to_string()),
            "programfiles" | "programw6432" => Some(format!("{}\\Program Files", drive_of(system_root))),
            "programfiles(x86)" => Some(format!("{}\\Program Files (x86)", drive_of(system_root))),
            "programdata" | "allusersprofile" => Some(format!("{}\\ProgramData", drive_of(system_root))),
            "commonprogramfiles" => Some(format!("{}\\Program Files\\Common Files", drive_of(system_root))),
            "commonprogramfiles(x86)" => Some(format!("{}\\Program Files (x86)\\Common Files", drive_of(system_root))),
            _ => None,
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &after[end + 1..];
            }
            None => {
                // Not a variable we know: keep it and go on after it.
                out.push('%');
                out.push_str(var);
                rest = &after[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn drive_of(system_root: &str) -> &str {
    match system_root.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &system_root[..2],
        _ => "C:",
    }
}

/// The program of a command line: the quoted part, else up to the first
/// `.exe`/`.sys`/`.dll` followed by a blank (as CreateProcess resolves an
/// unquoted path with spaces), else up to the first blank.
fn program_of(command: &str) -> &str {
    let s = command.trim_start();
    if let Some(q) = s.strip_prefix('"') {
        return q.split('"').next().unwrap_or(q);
    }
    let lower = s.to_ascii_lowercase();
    for (i, _) in lower.match_indices('.') {
        let ext = &lower[i..];
        for e in [".exe", ".sys", ".dll", ".com"] {
            if ext.starts_with(e) && ext[e.len()..].chars().next().is_none_or(char::is_whitespace) {
                return &s[..i + e.len()];
            }
        }
    }
    s.split_whitespace().next().unwrap_or("")
}

/// The file a service's ImagePath (or a ServiceDll) names, as a
/// root-relative path with forward slashes: `%SystemRoot%` and friends are
/// expanded, the NT forms `\SystemRoot\…`, `\??\C:\…` and a bare
/// `System32\…` (relative to the Windows folder, as the kernel loads drivers)
/// resolved, and the drive letter dropped. `system_root` is the hive's
/// SystemRoot (`C:\Windows`).
pub fn program_path(command: &str, system_root: &str) -> Option<String> {
    let expanded = expand_env(command, system_root);
    let program = program_of(&expanded);
    if program.is_empty() {
        return None;
    }
    let root_dir = strip_drive(system_root);
    let lower = program.to_ascii_lowercase();
    let windows = if let Some(rest) = lower.strip_prefix("\\systemroot\\") {
        format!("{root_dir}\\{}", &program[program.len() - rest.len()..])
    } else if lower.starts_with("\\??\\") || lower.starts_with("\\\\?\\") {
        program[4..].to_string()
    } else if program.starts_with('\\') || has_drive(program) {
        program.to_string()
    } else if lower.starts_with("system32\\") || lower.starts_with("syswow64\\") {
        format!("{root_dir}\\{program}")
    } else {
        // A bare name: the SCM searches the path; nothing to resolve offline.
        return None;
    };
    let posix = strip_drive(&windows).replace('\\', "/");
    let mut out = String::with_capacity(posix.len() + 1);
    for part in posix.split('/').filter(|p| !p.is_empty()) {
        out.push('/');
        out.push_str(part);
    }
    (!out.is_empty()).then_some(out)
}

fn has_drive(s: &str) -> bool {
    matches!(s.as_bytes(), [d, b':', ..] if d.is_ascii_alphabetic())
}

fn strip_drive(s: &str) -> &str {
    if has_drive(s) { &s[2..] } else { s }
}

/// Reads the services of the control set `set` (a key of `reg`) whose name
/// is `set_name`.
pub fn read_set<R: Registry>(
    reg: &R,
    set: &R::Key,
    set_name: &str,
    system_root: &str,
    each: &mut dyn FnMut(ServiceEntry),
    bad: &mut dyn FnMut(String, RegError),
) {
    let shown = key_path(HKLM_SYSTEM, &[set_name, "Services"]);
    for (name, key) in reg.subkeys_under(set, "Services", &mut |e| bad(shown.clone(), e)) {
        let path = key_path(&shown, &[&name]);
        let mut first_error = None;
        let mut keep = |r: Result<Option<Value>, RegError>| {
            r.unwrap_or_else(|e| {
                first_error.get_or_insert(e);
                None
            })
        };
        let [ty, start, image, display, object, description, dll] =
            reg.values_named(&key, &FIELDS).try_into().unwrap_or_else(|_| unreachable!("one result per name"));
        let Some(type_bits) = keep(ty).and_then(|v| v.number()) else {
            if let Some(e) = first_error {
                bad(path, e);
            }
            continue;
        };
        let type_bits = type_bits as u32;
        let kind = ServiceKind::of(type_bits);
        let start = keep(start).and_then(|v| v.number()).map(|n| n as u32);
        let text = |v: Option<Value>| v.and_then(|v| v.text()).filter(|s| !s.is_empty());
        let command = text(keep(image));
        let display_name = text(keep(display));
        let user = text(keep(object));
        let description = text(keep(description));
        // svchost reads Parameters\ServiceDll, then ServiceDll on the key.
        let own_dll = text(keep(dll));
        let params_dll = match reg.subkey(&key, "Parameters") {
            Ok(Some(p)) => text(keep(reg.value(&p, "ServiceDll"))),
            Ok(None) => None,
            Err(e) => text(keep(Err(e))),
        };
        let module_path = params_dll.or(own_dll);
        if let Some(e) = first_error {
            bad(path.clone(), e);
        }
        let exec_path = match &command {
            Some(c) => program_path(c, system_root),
            // The kernel loads a driver without ImagePath from here.
            None if kind == ServiceKind::Driver => {
                Some(format!("{}/System32/drivers/{name}.sys", strip_drive(system_root).replace('\\', "/")))
            }
            None => None,
        };
        each(ServiceEntry {
            module_file: module_path.as_deref().and_then(|m| program_path(m, system_root)),
            name,
            display_name,
            kind,
            type_bits,
            start,
            command,
            exec_path,
            module_path,
            user,
            description,
            path,
        });
    }
}

/// The Windows folder as the SOFTWARE hive names it (`C:\Windows` when it
/// does not say).
pub fn system_root(hives: &WindowsHives) -> String {
    hives
        .software()
        .hive
        .as_ref()
        .and_then(|h| {
            let k = h.open("Microsoft\\Windows NT\\CurrentVersion").ok().flatten()?;
            h.value(&k, "SystemRoot").ok().flatten()?.text()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "C:\\Windows".to_string())
}

/// Every service and driver of the current control set of a Windows root.
pub fn read_all(hives: &WindowsHives, mut each: impl FnMut(ServiceEntry), mut bad: impl FnMut(FsError)) {
    let loaded = hives.system();
    for p in &loaded.problems {
        bad(p.clone());
    }
    let Some(hive) = &loaded.hive else { return };
    let root = system_root(hives);
    let (set_name, set) = match current_control_set(hive) {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => return bad(loaded.error(&key_path(HKLM_SYSTEM, &["Select"]), e)),
    };
    let mut capped = Capped::new(&loaded.path, BAD_RECORD_ROWS, "damaged registry keys", &mut bad);
    read_set(hive, &set, &set_name, &root, &mut each, &mut |key, e| capped.push(loaded.error(&key, e)));
    capped.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> (Vec<ServiceEntry>, Vec<FsError>) {
        crate::collectors::windows_hives::tests::collect(|h, each, bad| read_all(h, each, bad))
    }

    fn find<'a>(rows: &'a [ServiceEntry], name: &str) -> &'a ServiceEntry {
        rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn services_come_out_as_the_recipe_wrote_them() {
        let (rows, errors) = services();
        assert_eq!(errors, vec![]);
        let klif = find(&rows, "klif");
        assert_eq!(
            klif,
            &ServiceEntry {
                name: "klif".into(),
                display_name: Some("Kaspersky Lab Driver".into()),
                kind: ServiceKind::Driver,
                type_bits: 1,
                start: Some(0),
                command: Some("\\SystemRoot\\System32\\DRIVERS\\klif.sys".into()),
                // SystemRoot is "C:\WINDOWS" in the fixture's SOFTWARE.
                exec_path: Some("/WINDOWS/System32/DRIVERS/klif.sys".into()),
                module_path: None,
                module_file: None,
                user: None,
                description: None,
                path: "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\klif".into(),
            }
        );
        assert_eq!(start_type(klif.start.unwrap()), Some("boot"));
        let avp = find(&rows, "AVP");
        assert_eq!(avp.kind.as_str(), "windows_service");
        assert_eq!(avp.command.as_deref(), Some("\"C:\\Program Files\\Kaspersky Lab\\KES.12.3.0\\avp.exe\" -r"));
        assert_eq!(avp.exec_path.as_deref(), Some("/Program Files/Kaspersky Lab/KES.12.3.0/avp.exe"));
        assert_eq!(avp.user.as_deref(), Some("LocalSystem"));
        let dns = find(&rows, "Dnscache");
        assert_eq!(dns.exec_path.as_deref(), Some("/WINDOWS/system32/svchost.exe"));
        assert_eq!(dns.module_path.as_deref(), Some("%SystemRoot%\\System32\\dnsrslvr.dll"));
        assert_eq!(dns.module_file.as_deref(), Some("/WINDOWS/System32/dnsrslvr.dll"));
        assert_eq!(dns.user.as_deref(), Some("NT AUTHORITY\\NetworkService"));
        assert_eq!(find(&rows, "W32Time").module_path.as_deref(), Some("%systemroot%\\system32\\w32time.dll"));
        assert_eq!(find(&rows, "disk").exec_path.as_deref(), Some("/WINDOWS/System32/drivers/disk.sys"));
        assert_eq!(find(&rows, "npcap").exec_path.as_deref(), Some("/Windows/system32/drivers/npcap.sys"));
        assert_eq!(find(&rows, "Beep").exec_path.as_deref(), Some("/WINDOWS/System32/drivers/Beep.sys"));
        assert_eq!(find(&rows, "Ntfs").kind, ServiceKind::Driver);
        assert_eq!(find(&rows, "VendorSvc").exec_path.as_deref(), Some("/Program Files/Vendor App/svc.exe"));
        assert_eq!(find(&rows, "CDPUserSvc").kind, ServiceKind::Service);
        assert_eq!(start_type(find(&rows, "Spooler").start.unwrap()), Some("disabled"));
        assert_eq!(start_type(find(&rows, "W32Time").start.unwrap()), Some("manual"));
        // Not services: no Type, nested keys, the unselected control set.
        let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        names.sort_by_key(|n| n.to_ascii_lowercase());
        assert_eq!(
            names,
            [
                "AVP",
                "Beep",
                "CDPUserSvc",
                "disk",
                "Dnscache",
                "klif",
                "klnagent",
                "npcap",
                "Ntfs",
                "Spooler",
                "VendorSvc",
                "W32Time"
            ]
        );
    }

    #[test]
    fn image_paths_resolve_to_root_relative_files() {
        let r = "C:\\Windows";
        let cases = [
            ("\\SystemRoot\\system32\\drivers\\x.sys", Some("/Windows/system32/drivers/x.sys")),
            ("system32\\DRIVERS\\x.sys", Some("/Windows/system32/DRIVERS/x.sys")),
            ("SysWOW64\\x.exe", Some("/Windows/SysWOW64/x.exe")),
            ("\\??\\D:\\Tools\\x.sys", Some("/Tools/x.sys")),
            ("%windir%\\x.exe -k", Some("/Windows/x.exe")),
            ("%ProgramFiles(x86)%\\App\\a b.exe /s", Some("/Program Files (x86)/App/a b.exe")),
            ("\"C:\\Program Files\\A\\b.exe\"", Some("/Program Files/A/b.exe")),
            ("\"C:\\unterminated", Some("/unterminated")),
            ("C:\\Program Files\\A B\\svc.exe -x", Some("/Program Files/A B/svc.exe")),
            ("%UNKNOWN%\\x.exe", None),
            ("svchost.exe", None),
            ("", None),
            ("   ", None),
            ("%", None),
        ];
        for (cmd, want) in cases {
            assert_eq!(program_path(cmd, r).as_deref(), want, "{cmd:?}");
        }
    }

    #[test]
    fn the_control_set_is_the_one_select_names() {
        use crate::collectors::hive::mem::{MemRegistry, dword, sz};
        let mut reg = MemRegistry::new();
        reg.set("Select", "Current", dword(2));
        reg.set("ControlSet001\\Services\\Old", "Type", dword(0x10));
        reg.set("ControlSet002\\Services\\New", "Type", dword(0x10));
        reg.set("ControlSet002\\Services\\New", "ImagePath", sz("%SystemRoot%\\new.exe"));
        let (name, set) = current_control_set(&reg).unwrap().unwrap();
        assert_eq!(name, "ControlSet002");
        let mut rows = Vec::new();
        read_set(&reg, &set, &name, "D:\\WinNT", &mut |e| rows.push(e), &mut |k, e| panic!("{k}: {e}"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].exec_path.as_deref(), Some("/WinNT/new.exe"));
        assert_eq!(rows[0].path, "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\New");

        reg.set("Select", "Current", dword(9));
        let mut reg2 = MemRegistry::new();
        reg2.set("Select", "Current", dword(9));
        assert!(current_control_set(&reg2).unwrap_err().0.contains("ControlSet009"));
        let mut reg3 = MemRegistry::new();
        reg3.set("Select", "Current", sz("1"));
        assert!(current_control_set(&reg3).is_err());
        assert_eq!(current_control_set(&MemRegistry::new()).unwrap(), None);
    }

    #[test]
    fn a_damaged_value_fails_that_service_field_only() {
        use crate::collectors::hive::mem::{MemRegistry, dword, sz};
        let mut reg = MemRegistry::new();
        reg.set("CS\\Services\\A", "Type", dword(1));
        reg.set("CS\\Services\\A", "ImagePath", Err("data cell out of range".into()));
        reg.set("CS\\Services\\B", "Type", Err("bad".into()));
        reg.set("CS\\Services\\C", "Type", dword(0x20));
        reg.set("CS\\Services\\C", "ImagePath", sz("x.exe"));
        let set = reg.open("CS").unwrap().unwrap();
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        read_set(&reg, &set, "CS", "C:\\Windows", &mut |e| rows.push(e), &mut |k, e| errors.push((k, e.0)));
        let names: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.exec_path.as_deref())).collect();
        // A's ImagePath is unreadable: the driver's default path stands.
        assert_eq!(names, [("A", Some("/Windows/System32/drivers/A.sys")), ("C", None)]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].0.ends_with("Services\\A") && errors[1].0.ends_with("Services\\B"));
    }
}
