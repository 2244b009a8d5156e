//! `installed_services`: services and other units the scanned system would
//! start: systemd unit files and SysV init scripts on Linux; launchd jobs,
//! kernel extensions and system extensions on macOS; services and drivers of
//! the SYSTEM hive's current control set on Windows.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::collectors::{kext, launchd, services_reg, systemd, sysv};
use crate::pool;
use crate::query::Query;
use crate::root::Root;
use crate::table::Ctx;
use crate::tables::running_processes::LiveProcesses;

crate::declare_table! {
    /// One row per unit file or init script.
    pub struct InstalledService {
        /// The unit file name with its suffix (`ssh.service`), the init script's name, a launchd job's Label, a kext's or system extension's bundle identifier, a Windows service's key name.
        name: Text [index],
        /// systemd's `Description=`, the init script's LSB `Short-Description:`, a kext's CFBundleName, a Windows service's DisplayName verbatim (often an indirect `@dll,-id` string).
        display_name: Text,
        /// The kind of service, one word per source
        kind: Text [index],
        /// For systemd exactly what `systemctl list-unit-files` prints (enabled, static, masked, …); for SysV enabled or disabled; for launchd run_at_load, on_demand or disabled (the override databases win over the job's Disabled key); for a system extension sysextd's state (activated_enabled, activated_disabled, terminated_waiting_to_uninstall_on_reboot, …); NULL for a kext, whose loading no file on the root records; for Windows boot, system, automatic, manual or disabled (Start 0–4; NULL for any other value).
        start_type: Text,
        /// The program alone: ExecStart's first word without systemd's `-@:+!` prefixes; launchd's Program, else the first of ProgramArguments; a kext's `Contents/MacOS/<CFBundleExecutable>`; a system extension's staged bundle; the program a Windows ImagePath runs as a root-relative path (`%SystemRoot%`, `\SystemRoot\`, `System32\`, `\??\` and drive-letter forms resolved; a driver without ImagePath gets the kernel's default `<SystemRoot>/System32/drivers/<name>.sys`; a bare program name stays NULL).
        exec_path: Text,
        /// The command as stored: the first `ExecStart=` left after drop-ins, verbatim; launchd's ProgramArguments joined by spaces (else Program); ImagePath verbatim.
        command: Text,
        /// A Windows service's `Parameters\ServiceDll` (else ServiceDll on its key), verbatim; NULL elsewhere.
        module_path: Text,
        /// `User=` of the service; a launchd daemon's UserName, or the owner of the home a user agent is in; a Windows service's ObjectName.
        user: Text,
        /// running or stopped on the live system (a process runs `exec_path`); unknown on any other root.
        state: Text,
        /// The unit file (fragment) or script, the job's plist, the kext's Info.plist or sysextd's db.plist, root-relative; a Windows service's registry key (`HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\<name>`).
        path: Text,
    }

    table installed_services {
        description: "Services on the scanned root: systemd unit files of every type with the state `systemctl list-unit-files` gives them, and SysV init scripts (Linux); launchd daemons and agents (system and per-user, with the override databases applied), kernel extensions and the system extensions sysextd records (macOS); every subkey with a Type of the SYSTEM hive's current control set's Services key, as windows_service or windows_driver by its Type bits (Windows). Kexts, system extensions and Windows drivers are drivers to the evidence model.",
        class: Evidence,
        prefetch: First,
        sources: kind as ReadServices {
            "systemd" [Linux] => from_systemd,
            "sysv" [Linux] => from_sysv,
            "launchd" [Macos] => from_launchd,
            "macos_kext" [Macos] => from_kexts,
            "macos_system_extension" [Macos] => from_system_extensions,
            "windows_service" [Windows] => from_windows_services,
            "windows_driver" [Windows] => from_windows_drivers,
        },
        examples: [
            "SELECT name, start_type, exec_path FROM installed_services WHERE kind = 'systemd' AND name LIKE '%.service'",
            "SELECT * FROM installed_services WHERE start_type = 'enabled'",
        ],
        generate: generate,
    }
}

/// A source's rows, each with its program's canonical path when the
/// resolver is there (on the live root), for the `state` column.
type ReadServices = for<'a> fn(&Ctx<'a>, &Query, Option<&ExecResolver<'a>>) -> Vec<(InstalledService, Option<String>)>;

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledService> {
    let root = ctx.root();
    // Per row, the executable with links resolved (live root only), to
    // compare with `/proc/PID/exe`.
    let resolver = root.is_live().then(|| ExecResolver { root, memo: Mutex::default() });
    let wanted: Vec<_> = SOURCES.iter().filter(|s| s.wanted(ctx, q)).collect();
    let (first, rest) = wanted.split_first().map_or((None, &[][..]), |(f, r)| (Some(f), r));
    std::thread::scope(|s| {
        // The first source (systemd) is the big one and runs its own
        // workers; the others (SysV scripts) and the live processes'
        // executables do not depend on it, so a second thread reads them
        // meanwhile. Warm, this changes nothing; right after a busy peer
        // such as systemctl it saves ~1.3 ms of 14 on this VM (cold caches,
        // more time in syscalls).
        let side = s.spawn(|| {
            let rows: Vec<_> = rest.iter().flat_map(|s| (s.read)(ctx, q, resolver.as_ref())).collect();
            let exes = root.is_live().then(|| running_executables(ctx));
            (rows, exes)
        });
        let mut rows = first.map(|s| (s.read)(ctx, q, resolver.as_ref())).unwrap_or_default();
        let (others, exes) = side.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        rows.extend(others);
        rows.into_iter()
            .map(|(mut row, canonical)| {
                let state = match &exes {
                    Some(exes) => process_state(canonical.as_deref(), exes),
                    None => "unknown",
                };
                row.state = Some(state.into());
                row
            })
            .collect()
    })
}

/// Unit files, as `systemctl --root` finds them.
fn from_systemd<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    let scanner = systemd::Scanner::new(ctx.root());
    let names: Vec<String> = scanner.names().into_iter().map(|(n, _)| n).filter(|n| q.admits("name", n)).collect();
    let workers = if names.len() < PARALLEL_FROM { 1 } else { 2 };
    let rows = pool::map(&names, workers, |name| {
        let row = systemd_row(scanner.unit(name));
        let canonical = resolver.zip(row.exec_path.as_deref()).map(|(r, p)| r.canonical(p));
        (row, canonical)
    });
    for e in scanner.take_errors() {
        ctx.report(e);
    }
    rows
}

/// SysV init scripts.
fn from_sysv<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    let scripts = sysv::read(ctx.root(), |e| ctx.report(e));
    scripts
        .into_iter()
        .filter(|s| q.admits("name", &s.name))
        .map(|script| {
            let canonical = resolver.map(|r| r.canonical(&script.path));
            (sysv_row(script), canonical)
        })
        .collect()
}

/// launchd jobs, by Label.
fn from_launchd<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    let homes = super::mac_homes(ctx);
    launchd::read_with_homes(ctx.root(), &homes.0, &mut |e| ctx.report(e))
        .into_iter()
        .filter(|j| q.admits("name", &j.label))
        .map(|j| {
            let exec_path = j.exec_path();
            let canonical = resolver.zip(exec_path.as_deref()).map(|(r, p)| r.canonical(p));
            let row = InstalledService {
                name: Some(j.label.clone()),
                display_name: None,
                kind: Some("launchd".into()),
                start_type: Some(j.start_type().into()),
                command: j.command(),
                exec_path,
                module_path: None,
                user: j.user_name.or(j.user),
                state: None,
                path: Some(j.path),
            };
            (row, canonical)
        })
        .collect()
}

/// Kernel extensions, by bundle identifier (what `kextstat` lists); a kext
/// whose Info.plist names none goes by its bundle's file name.
fn from_kexts<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    _resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    kext::read_kexts(ctx.root(), &mut |e| ctx.report(e))
        .into_iter()
        .filter_map(|k| {
            let name = k
                .info
                .identifier
                .clone()
                .unwrap_or_else(|| k.bundle_path.rsplit('/').next().unwrap_or(&k.bundle_path).to_string());
            if !q.admits("name", &name) {
                return None;
            }
            let row = InstalledService {
                exec_path: k.executable_path(),
                display_name: k.info.name.clone(),
                name: Some(name),
                kind: Some("macos_kext".into()),
                start_type: None,
                command: None,
                module_path: None,
                user: None,
                state: None,
                path: Some(k.path),
            };
            // A kext is loaded into the kernel, never a process of its own.
            Some((row, None))
        })
        .collect()
}

/// System extensions, by bundle identifier, as sysextd records them.
fn from_system_extensions<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    _resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    kext::read_system_extensions(ctx.root(), &mut |e| ctx.report(e))
        .into_iter()
        .filter(|x| q.admits("name", &x.identifier))
        .map(|x| {
            let row = InstalledService {
                name: Some(x.identifier),
                display_name: None,
                kind: Some("macos_system_extension".into()),
                start_type: x.state,
                exec_path: x.staged_path,
                command: None,
                module_path: None,
                user: None,
                state: None,
                path: Some(kext::SYSTEM_EXTENSIONS_DB.into()),
            };
            (row, None)
        })
        .collect()
}

/// The Services key holds both kinds; it is read once per scan for both.
struct WindowsServices(Vec<services_reg::ServiceEntry>);

fn windows_services(ctx: &Ctx<'_>) -> std::sync::Arc<WindowsServices> {
    let hives = super::windows_hives(ctx);
    ctx.shared(|| {
        let mut all = Vec::new();
        services_reg::read_all(&hives, |s| all.push(s), |e| ctx.report(e));
        WindowsServices(all)
    })
}

fn from_windows_services<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    _resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    windows_rows(ctx, q, services_reg::ServiceKind::Service)
}

fn from_windows_drivers<'a>(
    ctx: &Ctx<'a>,
    q: &Query,
    _resolver: Option<&ExecResolver<'a>>,
) -> Vec<(InstalledService, Option<String>)> {
    windows_rows(ctx, q, services_reg::ServiceKind::Driver)
}

/// No state: a Windows root is never the live one here.
fn windows_rows(ctx: &Ctx<'_>, q: &Query, kind: services_reg::ServiceKind) -> Vec<(InstalledService, Option<String>)> {
    windows_services(ctx)
        .0
        .iter()
        .filter(|s| s.kind == kind && q.admits("name", &s.name))
        .map(|s| {
            let row = InstalledService {
                name: Some(s.name.clone()),
                display_name: s.display_name.clone(),
                kind: Some(kind.as_str().into()),
                start_type: s.start.and_then(services_reg::start_type).map(Into::into),
                exec_path: s.exec_path.clone(),
                command: s.command.clone(),
                module_path: s.module_path.clone(),
                user: s.user.clone(),
                state: None,
                path: Some(s.path.clone()),
            };
            (row, None)
        })
        .collect()
}

fn systemd_row(u: systemd::UnitFile) -> InstalledService {
    InstalledService {
        exec_path: u.exec_start.as_deref().and_then(systemd::exec_program),
        command: u.exec_start,
        name: Some(u.name),
        display_name: u.description,
        kind: Some("systemd".into()),
        start_type: Some(u.state.as_str().into()),
        module_path: None,
        user: u.user,
        state: None,
        path: u.fragment,
    }
}

fn sysv_row(s: sysv::InitScript) -> InstalledService {
    InstalledService {
        name: Some(s.name),
        display_name: s.description,
        kind: Some("sysv".into()),
        start_type: Some(if s.enabled { "enabled" } else { "disabled" }.into()),
        exec_path: Some(s.path.clone()),
        command: Some(s.path.clone()),
        module_path: None,
        user: None,
        state: None,
        path: Some(s.path),
    }
}

/// [`canonical_exec`] once per program: many units run the same few
/// (`systemctl`, `agetty`). Shared by the unit threads.
struct ExecResolver<'a> {
    root: &'a Root,
    memo: Mutex<HashMap<String, String>>,
}

impl ExecResolver<'_> {
    fn canonical(&self, exec: &str) -> String {
        if let Some(c) = self.memo.lock().ok().and_then(|m| m.get(exec).cloned()) {
            return c;
        }
        let c = canonical_exec(self.root, exec);
        if let Ok(mut m) = self.memo.lock() {
            m.insert(exec.to_string(), c.clone());
        }
        c
    }
}

/// Fewer units than this are not worth a second thread.
const PARALLEL_FROM: usize = 64;

/// `running` when some process's executable is `exec_path`, else `stopped`.
/// `exec_path` must be canonical (links resolved), as `/proc/PID/exe` is.
pub fn process_state(exec_path: Option<&str>, running_exes: &HashSet<String>) -> &'static str {
    match exec_path {
        Some(p) if running_exes.contains(p) => "running",
        _ => "stopped",
    }
}

/// systemd accepts a bare program name and looks it up in a fixed path; links
/// such as `/bin → usr/bin` are resolved so that the name compares with
/// `/proc/PID/exe`.
fn canonical_exec(root: &Root, exec: &str) -> String {
    if exec.starts_with('/') {
        return root.resolve(exec).map(|r| r.path).unwrap_or_else(|_| exec.to_string());
    }
    for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        if let Ok(r) = root.resolve(&format!("{dir}/{exec}"))
            && r.metadata.is_file()
        {
            return r.path;
        }
    }
    exec.to_string()
}

/// Executables of live processes: from the process table running_processes
/// already read in this statement, or else from a read of `exe` links only,
/// which is much cheaper than the full table.
fn running_executables(ctx: &Ctx<'_>) -> HashSet<String> {
    let strip = |e: &str| e.strip_suffix(" (deleted)").unwrap_or(e).to_string();
    if let Some(list) = ctx.scan.shared_if_made::<LiveProcesses>() {
        let Ok(list) = &list.0 else { return HashSet::new() };
        return list.iter().filter_map(|p| p.exe.as_deref()).map(strip).collect();
    }
    live_exe_links().unwrap_or_else(|| {
        use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System, UpdateKind};
        let kind = ProcessRefreshKind::nothing().with_exe(UpdateKind::OnlyIfNotSet).without_tasks();
        let Ok(mut sys) = System::new_with_specifics(RefreshKind::nothing()) else { return HashSet::new() };
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        sys.processes().values().filter_map(|p| p.exe()).map(|e| strip(&e.to_string_lossy())).collect()
    })
}

/// On Linux only the `/proc/PID/exe` links are needed; sysinfo would also
/// read each process's stat and status files, three times the system calls.
#[cfg(target_os = "linux")]
fn live_exe_links() -> Option<HashSet<String>> {
    let mut out = HashSet::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        if let Ok(exe) = std::fs::read_link(entry.path().join("exe")) {
            let exe = exe.to_string_lossy();
            out.insert(exe.strip_suffix(" (deleted)").unwrap_or(&exe).to_string());
        }
    }
    Some(out)
}

#[cfg(not(target_os = "linux"))]
fn live_exe_links() -> Option<HashSet<String>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_matches_the_executable_exactly() {
        let exes: HashSet<String> = ["/usr/sbin/sshd".to_string(), "/usr/bin/dbus-daemon".to_string()].into();
        assert_eq!(process_state(Some("/usr/sbin/sshd"), &exes), "running");
        assert_eq!(process_state(Some("/usr/sbin/ssh"), &exes), "stopped");
        assert_eq!(process_state(Some("/usr/sbin/sshd2"), &exes), "stopped");
        assert_eq!(process_state(None, &exes), "stopped");
    }
}
