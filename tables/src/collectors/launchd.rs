//! launchd jobs: the property lists in the LaunchDaemons and LaunchAgents
//! folders, and the databases where `launchctl enable/disable` records
//! overrides of their `Disabled` key.
//!
//! Overrides: macOS 10.10+ keeps them in `var/db/com.apple.xpc.launchd/`
//! (`disabled.plist` for the system domain, `disabled.<uid>.plist` per user:
//! label → true when disabled); 10.6–10.9 in
//! `var/db/launchd.db/com.apple.launchd/overrides.plist` (label →
//! `{Disabled = bool}`) and `com.apple.launchd.peruser.<uid>/`. An override
//! wins over the job's own key; the newer database wins over the older.
//! Agents in `/Library/LaunchAgents` load into every user's session, so their
//! per-user overrides are not attributed here: only the system database applies.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use crate::collectors::{macos, plist};
use crate::error::FsError;
use crate::root::{Root, join, lossy};

/// System-wide job folders: (folder, whether its jobs are agents).
pub const SYSTEM_DIRS: [(&str, bool); 4] = [
    ("/Library/LaunchDaemons", false),
    ("/Library/LaunchAgents", true),
    ("/System/Library/LaunchDaemons", false),
    ("/System/Library/LaunchAgents", true),
];

pub const OVERRIDES_DIR: &str = "/var/db/com.apple.xpc.launchd";
pub const LEGACY_OVERRIDES_DIR: &str = "/var/db/launchd.db";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepAlive {
    Always(bool),
    /// A dictionary of conditions (SuccessfulExit, PathState, ...): kept
    /// alive when they hold, so started on demand.
    Conditional,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub label: String,
    pub program: Option<String>,
    pub program_arguments: Vec<String>,
    pub run_at_load: Option<bool>,
    pub keep_alive: Option<KeepAlive>,
    /// The job's own `Disabled` key.
    pub disabled: Option<bool>,
    /// What an override database says, when it names this job.
    pub override_disabled: Option<bool>,
    /// `UserName`: whom a daemon runs as.
    pub user_name: Option<String>,
    pub agent: bool,
    /// The plist's path.
    pub path: String,
    /// Set for jobs in a user's `~/Library/LaunchAgents`.
    pub user: Option<String>,
}

impl Job {
    /// `Program`, else the first of `ProgramArguments` (what launchd runs).
    pub fn exec_path(&self) -> Option<String> {
        self.program.clone().or_else(|| self.program_arguments.first().cloned())
    }

    /// `ProgramArguments` joined by spaces, else `Program`.
    pub fn command(&self) -> Option<String> {
        if self.program_arguments.is_empty() { self.program.clone() } else { Some(self.program_arguments.join(" ")) }
    }

    pub fn is_disabled(&self) -> bool {
        self.override_disabled.or(self.disabled).unwrap_or(false)
    }

    /// The contract's launchd start types: `disabled`; `run_at_load` when
    /// launchd starts it as soon as it is loaded (RunAtLoad, or KeepAlive
    /// true, which keeps it running from load on); else `on_demand`.
    pub fn start_type(&self) -> &'static str {
        if self.is_disabled() {
            "disabled"
        } else if self.run_at_load == Some(true) || self.keep_alive == Some(KeepAlive::Always(true)) {
            "run_at_load"
        } else {
            "on_demand"
        }
    }
}

/// Parses one job plist. No Label is an error: launchd refuses such a job.
pub fn parse_job(d: &plist::Dictionary) -> Result<Job, String> {
    let label = plist::string(d, "Label").filter(|l| !l.is_empty()).ok_or("no Label")?;
    let keep_alive = match d.get("KeepAlive") {
        Some(plist::Value::Dictionary(_)) => Some(KeepAlive::Conditional),
        Some(_) => plist::boolean(d, "KeepAlive").map(KeepAlive::Always),
        // OnDemand, from 10.4, is the inverse of the KeepAlive that replaced it.
        None => plist::boolean(d, "OnDemand").map(|on_demand| KeepAlive::Always(!on_demand)),
    };
    Ok(Job {
        label,
        program: plist::string(d, "Program"),
        program_arguments: plist::strings(d, "ProgramArguments"),
        run_at_load: plist::boolean(d, "RunAtLoad"),
        keep_alive,
        disabled: plist::boolean(d, "Disabled"),
        override_disabled: None,
        user_name: plist::string(d, "UserName"),
        agent: false,
        path: String::new(),
        user: None,
    })
}

/// Override databases: label → disabled, for the system domain and per uid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub system: HashMap<String, bool>,
    pub users: HashMap<u32, HashMap<String, bool>>,
}

impl Overrides {
    pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Overrides {
        let mut o = Overrides::default();
        // Older first, so the newer database overwrites it.
        let legacy = format!("{LEGACY_OVERRIDES_DIR}/com.apple.launchd");
        read_db(root, &format!("{legacy}/overrides.plist"), true, &mut o.system, report);
        for e in macos::list(root, LEGACY_OVERRIDES_DIR, report) {
            if let Some(uid) = e.name.strip_prefix("com.apple.launchd.peruser.").and_then(|u| u.parse().ok()) {
                let path = format!("{LEGACY_OVERRIDES_DIR}/{}/overrides.plist", e.name);
                read_db(root, &path, true, o.users.entry(uid).or_default(), report);
            }
        }
        for e in macos::list(root, OVERRIDES_DIR, report) {
            let path = format!("{OVERRIDES_DIR}/{}", e.name);
            let Some(rest) = e.name.strip_prefix("disabled.").and_then(|r| r.strip_suffix(".plist")) else {
                if e.name == "disabled.plist" {
                    read_db(root, &path, false, &mut o.system, report);
                }
                continue;
            };
            if let Ok(uid) = rest.parse::<u32>() {
                read_db(root, &path, false, o.users.entry(uid).or_default(), report);
            }
        }
        o
    }
}

fn read_db(root: &Root, path: &str, legacy: bool, into: &mut HashMap<String, bool>, report: &mut dyn FnMut(FsError)) {
    let d = match plist::read_dict_if_present(root, path) {
        Ok(None) => return,
        Ok(Some(d)) => d,
        Err(e) => return report(e),
    };
    for (label, v) in d.iter() {
        let disabled =
            if legacy { v.as_dictionary().and_then(|d| plist::boolean(d, "Disabled")) } else { v.as_boolean() };
        if let Some(b) = disabled {
            into.insert(label.clone(), b);
        }
    }
}

/// Every job in the system folders and the users' `~/Library/LaunchAgents`,
/// with the overrides applied.
pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<Job> {
    let homes = macos::homes(root, report);
    read_with_homes(root, &homes, report)
}

/// [`read`] with the homes (from [`macos::homes`]) already listed.
pub fn read_with_homes(root: &Root, homes: &[(String, OsString)], report: &mut dyn FnMut(FsError)) -> Vec<Job> {
    let overrides = Overrides::read(root, report);
    let mut out = Vec::new();
    for (dir, agent) in SYSTEM_DIRS {
        read_dir(root, OsStr::new(dir), agent, None, &overrides.system, &mut out, report);
    }
    let uids = if homes.is_empty() { HashMap::new() } else { macos::uids(root, report) };
    let none = HashMap::new();
    for (user, home) in homes {
        let per_user = uids.get(user).and_then(|uid| overrides.users.get(uid)).unwrap_or(&none);
        read_dir(root, &join(home, "Library/LaunchAgents"), true, Some(user), per_user, &mut out, report);
    }
    out
}

fn read_dir(
    root: &Root,
    dir: &OsStr,
    agent: bool,
    user: Option<&str>,
    overrides: &HashMap<String, bool>,
    out: &mut Vec<Job>,
    report: &mut dyn FnMut(FsError),
) {
    for e in macos::list(root, dir, report) {
        if !e.name.ends_with(".plist") || e.name.starts_with('.') {
            continue;
        }
        // Opened by its exact name: one that is not UTF-8 is shown with
        // U+FFFD, and that name opens nothing.
        let exact = e.path_in(dir);
        let path = lossy(&exact);
        let job = plist::read_dict(root, &exact).and_then(|d| parse_job(&d).map_err(|m| FsError::parse(&path, m)));
        match job {
            Ok(mut job) => {
                job.override_disabled = overrides.get(&job.label).copied();
                job.agent = agent;
                job.user = user.map(str::to_string);
                job.path = path;
                out.push(job);
            }
            Err(err) => report(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(xml: &str) -> Job {
        let v = plist::parse(format!("<plist><dict><key>Label</key><string>j</string>{xml}</dict></plist>").as_bytes());
        parse_job(&plist::into_dict(v.unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn start_types_follow_launchd_plist_5() {
        assert_eq!(job("").start_type(), "on_demand");
        assert_eq!(job("<key>RunAtLoad</key><true/>").start_type(), "run_at_load");
        assert_eq!(job("<key>KeepAlive</key><true/>").start_type(), "run_at_load");
        assert_eq!(job("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>").start_type(), "on_demand");
        assert_eq!(job("<key>OnDemand</key><false/>").start_type(), "run_at_load");
        assert_eq!(job("<key>RunAtLoad</key><true/><key>Disabled</key><true/>").start_type(), "disabled");
        let mut j = job("<key>Disabled</key><true/><key>RunAtLoad</key><true/>");
        j.override_disabled = Some(false);
        assert_eq!(j.start_type(), "run_at_load");
        let j = job(
            "<key>Program</key><string>/bin/p</string><key>ProgramArguments</key><array><string>p</string><string>-x</string></array>",
        );
        assert_eq!((j.exec_path().as_deref(), j.command().as_deref()), (Some("/bin/p"), Some("p -x")));
        let bad = plist::parse(b"<plist><dict><key>Program</key><string>/bin/p</string></dict></plist>").unwrap();
        assert_eq!(parse_job(&plist::into_dict(bad).unwrap()).unwrap_err(), "no Label");
    }

    /// A job plist, or a home, whose name is not UTF-8 was looked up by its
    /// shown (U+FFFD) name: the job became a not_found row, the user's
    /// agents were never listed. The user's uid record is named in such
    /// bytes too, so its per-user override applies only if it is read.
    #[test]
    fn jobs_named_in_bytes_that_are_not_utf8_are_listed() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let d = tempfile::tempdir().unwrap();
        let job = |label: &str| format!("<plist><dict><key>Label</key><string>{label}</string></dict></plist>");
        let write = |rel: &[u8], text: String| {
            let p = d.path().join(OsStr::from_bytes(rel));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(b"Library/LaunchDaemons/com.kaspersky.\xff.plist", job("com.kaspersky.kav"));
        write(b"Users/k\xffuser/Library/LaunchAgents/com.kaspersky.\xfe.plist", job("com.kaspersky.agent"));
        write(
            b"var/db/dslocal/nodes/Default/users/k\xffuser.plist",
            "<plist><dict><key>name</key><array><string>k\u{fffd}user</string></array>\
             <key>uid</key><array><string>501</string></array></dict></plist>"
                .into(),
        );
        write(
            b"var/db/com.apple.xpc.launchd/disabled.501.plist",
            "<plist><dict><key>com.kaspersky.agent</key><true/></dict></plist>".into(),
        );
        let root = crate::Root::new(d.path()).unwrap();
        let mut errors = Vec::new();
        let jobs = read(&root, &mut |e| errors.push(e));
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = jobs
            .iter()
            .map(|j| (j.label.as_str(), j.path.as_str(), j.user.as_deref(), j.agent, j.override_disabled))
            .collect();
        assert_eq!(
            got,
            [
                ("com.kaspersky.kav", "/Library/LaunchDaemons/com.kaspersky.\u{fffd}.plist", None, false, None),
                (
                    "com.kaspersky.agent",
                    "/Users/k\u{fffd}user/Library/LaunchAgents/com.kaspersky.\u{fffd}.plist",
                    Some("k\u{fffd}user"),
                    true,
                    Some(true)
                ),
            ]
        );
    }
}
