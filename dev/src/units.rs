//! Synthetic systemd roots for benchmarking `installed_services` (wired into a
//! dev command later).
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// Writes `n` unit files under `root`: about 60 % services (every other one
/// enabled through a `multi-user.target.wants` link, some with a drop-in),
/// 20 % sockets enabled in `sockets.target.wants`, 20 % timers enabled in
/// `timers.target.wants`. Shapes follow Debian's units (Description,
/// Documentation, ordering, hardening lines, an [Install] section).
pub fn synth(root: &Path, n: usize) -> anyhow::Result<()> {
    let vendor = root.join("usr/lib/systemd/system");
    let etc = root.join("etc/systemd/system");
    for d in ["multi-user.target.wants", "sockets.target.wants", "timers.target.wants"] {
        fs::create_dir_all(etc.join(d))?;
    }
    fs::create_dir_all(&vendor)?;
    for t in ["multi-user", "sockets", "timers"] {
        fs::write(vendor.join(format!("{t}.target")), format!("[Unit]\nDescription={t} target\n"))?;
    }
    for i in 0..n {
        let (name, body, wants) = match i % 10 {
            0 | 1 => {
                let name = format!("synth{i:05}.socket");
                (name, socket(i), Some("sockets.target.wants"))
            }
            2 | 3 => {
                let name = format!("synth{i:05}.timer");
                (name, timer(i), Some("timers.target.wants"))
            }
            k => {
                let name = format!("synth{i:05}.service");
                (name, service(i), (k % 2 == 0).then_some("multi-user.target.wants"))
            }
        };
        fs::write(vendor.join(&name), body)?;
        if let Some(w) = wants {
            symlink(format!("/usr/lib/systemd/system/{name}"), etc.join(w).join(&name))?;
        }
        if i % 25 == 4 {
            let d = etc.join(format!("{name}.d"));
            fs::create_dir_all(&d)?;
            fs::write(d.join("override.conf"), "[Service]\nEnvironment=SYNTH_OVERRIDE=1\nLimitNOFILE=65536\n")?;
        }
    }
    Ok(())
}

fn service(i: usize) -> String {
    let mut s = String::with_capacity(900);
    let _ = write!(
        s,
        "[Unit]\n\
         Description=Synthetic daemon number {i}\n\
         Documentation=man:synthd(8) https://example.org/synthd/{i}\n\
         After=network-online.target remote-fs.target nss-lookup.target\n\
         Wants=network-online.target\n\
         ConditionPathExists=!/etc/synthd/{i}/disabled\n\
         \n\
         [Service]\n\
         Type=notify\n\
         EnvironmentFile=-/etc/default/synthd{i}\n\
         ExecStartPre=/usr/sbin/synthd{i} -t\n\
         ExecStart=/usr/sbin/synthd{i} --foreground $SYNTHD_OPTS\n\
         ExecReload=/bin/kill -HUP $MAINPID\n\
         User=synth{u}\n\
         Restart=on-failure\n\
         RestartSec=5s\n\
         ProtectSystem=strict\n\
         ProtectHome=yes\n\
         PrivateTmp=yes\n\
         NoNewPrivileges=yes\n\
         ReadWritePaths=/var/lib/synthd{i}\n\
         RuntimeDirectory=synthd{i}\n\
         RuntimeDirectoryMode=0755\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n\
         Alias=synth-alias{i}.service\n",
        u = i % 7
    );
    s
}

fn socket(i: usize) -> String {
    format!(
        "[Unit]\nDescription=Synthetic socket {i}\nDocumentation=man:synthd(8)\nBefore=sockets.target\n\n\
         [Socket]\nListenStream=/run/synthd{i}.sock\nSocketMode=0660\nSocketUser=root\nSocketGroup=synth\nAccept=no\n\n\
         [Install]\nWantedBy=sockets.target\n"
    )
}

fn timer(i: usize) -> String {
    format!(
        "[Unit]\nDescription=Synthetic daily job {i}\nDocumentation=man:synthjob(8)\n\n\
         [Timer]\nOnCalendar=*-*-* 0{h}:{m:02}:00\nRandomizedDelaySec=1h\nPersistent=true\n\n\
         [Install]\nWantedBy=timers.target\n",
        h = i % 10,
        m = i % 60
    )
}
