//! Times the running_processes and browser_extensions generators.
//! `cargo run --release -p embargo-tables --example procs_bench`

use std::time::Instant;

use embargo_tables::{Query, Root, Scan, tables};

fn time(label: &str, root: &Root, table: &str, runs: u32) {
    let t = tables::find(table).unwrap();
    let mut rows = 0;
    let start = Instant::now();
    for _ in 0..runs {
        // A fresh scan each time: nothing cached between runs.
        let scan = Scan::new(root.clone());
        rows = scan.rows(t, &Query::all()).len();
    }
    let per = start.elapsed() / runs;
    println!("{label}: {rows} rows, {per:?} per run ({runs} runs)");
}

/// 20 users, each with Chrome (2 profiles) and Edge (1 profile) holding 25
/// extensions with localized names, and a Firefox profile with 25 add-ons.
fn browser_root(dir: &std::path::Path) {
    let put = |rel: String, body: String| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    for u in 0..20 {
        for (data, profiles) in
            [(".config/google-chrome", &["Default", "Profile 1"][..]), (".config/microsoft-edge", &["Default"][..])]
        {
            for profile in profiles {
                let pdir = format!("home/user{u}/{data}/{profile}");
                let mut settings = Vec::new();
                for e in 0..25 {
                    let id: String = format!("{e:032}").bytes().map(|b| (b - b'0' + b'a') as char).collect();
                    let vdir = format!("{pdir}/Extensions/{id}/1.{e}.0_0");
                    put(
                        format!("{vdir}/manifest.json"),
                        format!(
                            r#"{{"manifest_version": 3, "name": "__MSG_appName__", "description": "__MSG_appDesc__", "default_locale": "en", "version": "1.{e}.0", "permissions": ["tabs", "storage", "scripting"], "host_permissions": ["<all_urls>"], "background": {{"service_worker": "bg.js"}}, "action": {{"default_popup": "popup.html"}}}}"#
                        ),
                    );
                    put(
                        format!("{vdir}/_locales/en/messages.json"),
                        format!(
                            r#"{{"appName": {{"message": "Extension {e}"}}, "appDesc": {{"message": "Does thing {e}."}}, "other": {{"message": "{}"}}}}"#,
                            "x".repeat(2000)
                        ),
                    );
                    settings.push(format!(r#""{id}": {{"state": 1, "location": 1, "install_time": "13350000000000000", "manifest": {{"name": "x", "permissions": ["tabs"]}}}}"#));
                }
                // Real Preferences files are large; pad with unrelated settings.
                put(
                    format!("{pdir}/Preferences"),
                    format!(
                        r#"{{"browser": {{"pad": "{}"}}, "extensions": {{"settings": {{{}}}}}}}"#,
                        "p".repeat(200_000),
                        settings.join(",")
                    ),
                );
            }
        }
        let addons: Vec<String> = (0..25).map(|a| format!(
            r#"{{"id": "addon{a}@example.org", "type": "extension", "version": "1.{a}", "active": true, "location": "app-profile", "defaultLocale": {{"name": "Addon {a}", "description": "{}"}}, "userPermissions": {{"permissions": ["tabs"], "origins": ["<all_urls>"]}}}}"#, "d".repeat(300))).collect();
        put(
            format!("home/user{u}/.mozilla/firefox/p{u}.default-release/extensions.json"),
            format!(r#"{{"schemaVersion": 36, "addons": [{}]}}"#, addons.join(",")),
        );
    }
}

fn main() {
    time("running_processes (live /)", &Root::new("/").unwrap(), "running_processes", 20);
    let dir = tempfile::tempdir().unwrap();
    browser_root(dir.path());
    time("browser_extensions (20 users, 2000 rows)", &Root::new(dir.path()).unwrap(), "browser_extensions", 10);
}
