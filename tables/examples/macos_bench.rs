//! Times the macOS collectors on a synthetic root of 2,000 app bundles and
//! 1,000 launchd jobs: `macos_bench [RUNS]`.
//!
//! The records are make.py's `shaped/` ones varied (in the shapes of
//! osquery's and plaso's test data): every Info.plist is the Snapshot Booth
//! Info.plist (XML, with document types)
//! with its own identifier, name and version, half written as XML and half
//! as binary, as a real /Applications mixes both; every job is the
//! full launchd job (most keys of launchd.plist(5)) with its own label. Each run reads
//! through a fresh Root.

use std::path::Path;
use std::time::Instant;

use embargo_tables::Root;
use embargo_tables::collectors::plist::{self, Value};
use embargo_tables::collectors::{launchd, macos_apps};

fn template(rel: &str) -> plist::Dictionary {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/macos/shaped").join(rel);
    plist::into_dict(plist::parse(&std::fs::read(p).unwrap()).unwrap()).unwrap()
}

fn write(path: &Path, d: &plist::Dictionary, binary: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let v = Value::Dictionary(d.clone());
    if binary { v.to_file_binary(path).unwrap() } else { v.to_file_xml(path).unwrap() }
}

fn build(base: &Path) {
    let info = template("Applications/Snapshot Booth.app/Contents/Info.plist");
    for i in 0..2000 {
        // 1,500 in /Applications, 300 in vendor folders, 200 in a user's.
        let dir = match i {
            0..1500 => format!("Applications/App {i}.app"),
            1500..1800 => format!("Applications/Vendor {}/App {i}.app", i % 30),
            _ => format!("Users/user{}/Applications/App {i}.app", i % 4),
        };
        let mut d = info.clone();
        d.insert("CFBundleIdentifier".into(), Value::String(format!("com.example.app{i}")));
        d.insert("CFBundleName".into(), Value::String(format!("App {i}")));
        d.insert("CFBundleShortVersionString".into(), Value::String(format!("{}.{}", i % 17, i % 5)));
        write(&base.join(dir).join("Contents/Info.plist"), &d, i % 2 == 1);
    }
    let job = template("Library/LaunchDaemons/com.example.full.plist");
    for i in 0..1000 {
        let dir = match i {
            0..400 => "Library/LaunchDaemons",
            400..700 => "Library/LaunchAgents",
            _ => "System/Library/LaunchDaemons",
        };
        let mut d = job.clone();
        d.insert("Label".into(), Value::String(format!("com.example.job{i}")));
        write(&base.join(dir).join(format!("com.example.job{i}.plist")), &d, i % 2 == 1);
    }
}

/// This process's user + system CPU time in ms: on a shared machine the
/// wall time also counts other processes' turns.
#[cfg(unix)]
fn cpu_ms() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(u.ru_utime) + ms(u.ru_stime)
}

#[cfg(not(unix))]
fn cpu_ms() -> f64 {
    f64::NAN
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(9);
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let (mut apps, mut jobs) = (0, 0);
    for _ in 0..runs {
        let root = Root::new(dir.path()).unwrap();
        let mut errors = 0;
        let (t, c) = (Instant::now(), cpu_ms());
        apps = macos_apps::read(&root, &mut |_| errors += 1).len();
        jobs = launchd::read(&root, &mut |_| errors += 1).len();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push(cpu_ms() - c);
        assert_eq!((apps, jobs, errors), (2000, 1000, 0));
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{apps} apps + {jobs} launchd jobs: median {:.1} ms (best {:.1}, worst {:.1}), CPU median {:.1} ms, over {runs} runs",
        times[runs / 2],
        times[0],
        times[runs - 1],
        cpu[runs / 2]
    );
}
