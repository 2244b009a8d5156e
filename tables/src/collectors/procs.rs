//! Processes of the running system, through `sysinfo`.
//!
//! Processes only exist on a live system, so unlike every other collector this
//! one does not read the scan root: callers must check `Root::is_live` first.

use std::collections::HashMap;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, Uid, UpdateKind, Users};

/// One process, as the OS reports it at the time of the call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub parent: Option<u32>,
    /// The kernel's short name (Linux: `comm`, at most 15 bytes).
    pub name: String,
    /// The executable; `None` for kernel threads and when the OS refuses to say.
    pub exe: Option<String>,
    /// Arguments joined by single spaces; `None` when there are none to read.
    pub cmdline: Option<String>,
    /// The real user's name, or the uid as text when no account matches.
    pub user: Option<String>,
    /// Unix seconds UTC.
    pub start_time: Option<i64>,
}

/// The process table could not be read at all (on Linux: no /proc).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the process table: {0}")]
pub struct ListError(sysinfo::Error);

/// Lists processes: all of them, or only `pids` (each looked up directly,
/// without walking the whole process table).
pub fn list(pids: Option<&[u32]>) -> Result<Vec<Process>, ListError> {
    let mut system = System::new().map_err(ListError)?;
    let refresh = ProcessRefreshKind::nothing()
        .with_exe(UpdateKind::OnlyIfNotSet)
        .with_cmd(UpdateKind::OnlyIfNotSet)
        .with_user(UpdateKind::OnlyIfNotSet)
        // Threads would otherwise be listed as processes of their own.
        .without_tasks();
    let wanted: Vec<Pid>;
    let which = match pids {
        None => ProcessesToUpdate::All,
        Some(pids) => {
            wanted = pids.iter().map(|&p| Pid::from_u32(p)).collect();
            ProcessesToUpdate::Some(&wanted)
        }
    };
    system.refresh_processes_specifics(which, true, refresh);

    // A missing account database only costs the names, not the rows.
    let users = Users::new_with_refreshed_list().ok();
    let mut user_names: HashMap<Uid, &str> = HashMap::new();
    if let Some(users) = &users {
        for u in users.iter() {
            user_names.entry(u.id().clone()).or_insert(u.name());
        }
    }

    let mut out: Vec<Process> = system
        .processes()
        .values()
        .filter(|p| p.exists())
        .map(|p| {
            let cmd = p.cmd();
            let user = p.user_id().map(|uid| match user_names.get(uid) {
                Some(name) => name.to_string(),
                None => (**uid).to_string(),
            });
            Process {
                pid: p.pid().as_u32(),
                parent: p.parent().map(|pp| pp.as_u32()),
                name: p.name().to_string_lossy().into_owned(),
                exe: p.exe().map(|e| e.to_string_lossy().into_owned()),
                cmdline: if cmd.is_empty() {
                    None
                } else {
                    Some(cmd.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "))
                },
                user,
                start_time: match p.start_time() {
                    0 => None,
                    t => i64::try_from(t).ok(),
                },
            }
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan_errors message stays what it was as a string error.
    #[test]
    fn an_unreadable_process_table_says_so() {
        let e = ListError(sysinfo::Error::Unsupported);
        assert_eq!(e.to_string(), "cannot read the process table: unsupported");
    }

    #[test]
    fn this_process_is_listed() {
        let me = std::process::id();
        let list = list(Some(&[me])).unwrap();
        assert_eq!(list.iter().map(|p| p.pid).collect::<Vec<_>>(), [me]);
    }
}
