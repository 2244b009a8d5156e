//! `running_processes`: the processes of the live system.

use crate::collectors::procs;
use crate::error::{ErrorKind, FsError};
use crate::query::Query;
use crate::table::Ctx;

crate::declare_table! {
    /// One row per process running on the live system.
    pub struct RunningProcess {
        /// Process id.
        pid: BigInt [index],
        /// Parent process id; NULL for processes without a parent (pid 1, kernel roots).
        parent: BigInt,
        /// The kernel's short process name (Linux `comm`: at most 15 bytes).
        name: Text,
        /// Path of the executable; NULL for kernel threads and when the OS does not tell.
        path: Text,
        /// The arguments joined by single spaces; NULL when none can be read.
        cmdline: Text,
        /// Name of the process's real user, or the uid as text when no account matches.
        user: Text,
        /// When the process started, Unix seconds UTC.
        start_time: BigInt,
    }

    table running_processes {
        description: "Processes running on the live system. Only read when the root is `/` (the machine embargo runs on); any other root has no processes and says so in scan_errors.",
        class: Evidence,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT pid, name, path FROM running_processes WHERE path LIKE '%kaspersky%'",
            "SELECT pid, parent, cmdline, user FROM running_processes WHERE pid = 1",
        ],
        generate: generate,
    }
}

/// The live process table, read once per statement and shared through the
/// scan: running_processes and the state of installed_services both need it.
pub struct LiveProcesses(pub Result<Vec<procs::Process>, procs::ListError>);

fn live_processes(ctx: &Ctx<'_>) -> std::sync::Arc<LiveProcesses> {
    ctx.shared(|| LiveProcesses(procs::list(None)))
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<RunningProcess> {
    if !ctx.root().is_live() {
        ctx.report(FsError::new(
            ErrorKind::Unsupported,
            "/",
            format!(
                "processes are only read from the live system (--root /); {} is not it",
                ctx.root().base().display()
            ),
        ));
        return Vec::new();
    }
    // `pid = N` / `pid IN (...)`: look those pids up directly. A value that is
    // no pid can match no row.
    let pids: Option<Vec<u32>> =
        q.texts("pid").map(|vals| vals.iter().filter_map(|v| v.trim().parse::<u32>().ok()).collect());
    if pids.as_ref().is_some_and(|p| p.is_empty()) {
        return Vec::new();
    }
    let unreadable = |e: &procs::ListError| {
        ctx.report(FsError::new(ErrorKind::IoError, "/proc", e.to_string()));
        Vec::new()
    };
    let list = match pids {
        Some(pids) => match procs::list(Some(&pids)) {
            Ok(list) => list,
            Err(e) => return unreadable(&e),
        },
        None => match &live_processes(ctx).0 {
            Ok(list) => list.clone(),
            Err(e) => return unreadable(e),
        },
    };
    list.into_iter()
        .map(|p| RunningProcess {
            pid: Some(i64::from(p.pid)),
            parent: p.parent.map(i64::from),
            name: Some(p.name),
            path: p.exe,
            cmdline: p.cmdline,
            user: p.user,
            start_time: p.start_time,
        })
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::root::Root;
    use crate::spec::Value;
    use crate::table::Scan;

    /// Fields of /proc/self/stat after the `(comm)` field, which may hold spaces.
    fn self_stat_fields() -> Vec<String> {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn own_process_matches_proc_self() {
        let scan = Scan::new(Root::new("/").unwrap());
        let me = std::process::id();
        let rows = generate(&scan.ctx("running_processes"), &Query::all());
        let row = rows.iter().find(|r| r.pid == Some(i64::from(me))).expect("own pid is listed");

        // Independent source: the kernel's files for this very process.
        let fields = self_stat_fields();
        // After `(comm)`: state, ppid, ... ; starttime is field 22 of the whole line.
        let ppid: i64 = fields[1].parse().unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        let cmdline = std::fs::read("/proc/self/cmdline").unwrap();
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let uid = unsafe { libc::getuid() };
        let pw = unsafe { libc::getpwuid(uid) };
        let user = if pw.is_null() {
            uid.to_string()
        } else {
            unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) }.to_string_lossy().into_owned()
        };
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as i64;
        let start_ticks: i64 = fields[19].parse().unwrap();
        let btime: i64 = std::fs::read_to_string("/proc/stat")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("btime ").map(|v| v.trim().parse().unwrap()))
            .unwrap();

        assert_eq!(row.parent, Some(ppid));
        assert_eq!(row.path.as_deref(), Some(exe.to_str().unwrap()));
        assert_eq!(row.name.as_deref(), Some(comm.trim_end_matches('\n')));
        assert_eq!(row.cmdline.as_deref(), Some(args.join(" ").as_str()));
        assert_eq!(row.user.as_deref(), Some(user.as_str()));
        let start = row.start_time.unwrap();
        assert!((start - (btime + start_ticks / ticks)).abs() <= 1, "start_time {start}");
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
    }

    #[test]
    fn pid_constraint_reads_only_those_pids() {
        let scan = Scan::new(Root::new("/").unwrap());
        let me = i64::from(std::process::id());
        let q = Query::all().with("pid", vec![Value::Integer(me), Value::Integer(i64::from(u32::MAX))]);
        let rows = generate(&scan.ctx("running_processes"), &q);
        assert_eq!(rows.iter().map(|r| r.pid).collect::<Vec<_>>(), vec![Some(me)]);
        let q = Query::all().with("pid", vec![Value::Text("not a pid".into())]);
        assert!(generate(&scan.ctx("running_processes"), &q).is_empty());
    }

    #[test]
    fn other_roots_have_no_processes_and_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        let ctx = scan.ctx("running_processes");
        assert!(generate(&ctx, &Query::all()).is_empty());
        assert!(generate(&ctx, &Query::all()).is_empty());
        let errors = scan.errors.snapshot();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].kind, ErrorKind::Unsupported);
        assert_eq!(errors[0].table_name, "running_processes");
        assert!(errors[0].message.contains("--root /"));
    }
}
