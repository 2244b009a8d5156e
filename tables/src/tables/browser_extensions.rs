//! `browser_extensions`: extensions installed in every user's browser
//! profiles, Chromium family and Firefox.
//!
//! Decisions:
//! - Chromium: one row per version directory under `Extensions/<id>/` (Chrome
//!   keeps an old version until it restarts; each is real code on disk).
//!   Themes (a manifest with a `theme` key) are left out: they run no code.
//!   Names are localized with the extension's `default_locale`, not the
//!   user's UI language.
//! - Firefox: only add-ons of type `extension` (or the older `webextension`);
//!   themes, dictionaries and language packs are left out. Add-ons Mozilla
//!   ships with the browser (`app-builtin`, `app-system-defaults`,
//!   `app-system-addons`) are left out too: they come with Firefox itself.
//! - Profiles are found by directory layout; profiles that `profiles.ini`
//!   places outside the usual directory are not read.

use std::ffi::{OsStr, OsString};

use crate::collectors::{chromium, firefox};
use crate::query::Query;
use crate::root::{EntryType, Root, join, lossy};
use crate::table::{Ctx, OsFamily};

crate::declare_table! {
    /// One row per installed browser extension (per profile, per installed version).
    pub struct BrowserExtension {
        /// chrome, chromium, edge, brave, vivaldi, opera or firefox.
        browser: Text [index],
        /// The user whose home holds the profile (the home directory's name).
        user: Text,
        /// The profile directory's name (`Default`, `Profile 1`, `abcd1234.default-release`).
        profile: Text,
        /// Extension id: the 32-letter Chromium id, or the Firefox add-on id.
        id: Text [index],
        /// Display name; Chromium `__MSG_x__` names are resolved with the extension's default locale.
        name: Text,
        /// Version as the manifest (Chromium) or extensions.json (Firefox) gives it.
        version: Text,
        /// 1 enabled, 0 disabled; NULL when the browser's records do not say (Chromium `Preferences`, Firefox `active`).
        enabled: Integer,
        /// The file the row was read from: the extension's manifest.json (Chromium) or the profile's extensions.json (Firefox).
        path: Text,
        /// Description, localized like `name`.
        description: Text,
        /// Author (Chromium manifest `author`, Firefox `creator`).
        author: Text,
        /// Home page the extension names.
        homepage_url: Text,
        /// Where the browser looks for updates (Chromium manifest `update_url`, Firefox `updateURL`).
        update_url: Text,
        /// Manifest version (2 or 3) when recorded.
        manifest_version: Integer,
        /// Requested permissions and host patterns, joined by `, `.
        permissions: Text,
        /// How it was installed: Chromium's ManifestLocation (`internal`, `external_policy_download`, …) from Preferences; Firefox's `location` (`app-profile`, …) verbatim.
        location: Text,
        /// When it was installed, Unix seconds UTC (Chromium `first_install_time`, else `install_time`; Firefox `installDate`).
        install_time: BigInt,
        /// Where the code is: the Chromium version directory (root-relative), or the Firefox add-on's `path` verbatim.
        install_path: Text,
    }

    table browser_extensions {
        description: "Extensions in every user's Chromium-family (Chrome, Chromium, Edge, Brave, Vivaldi, Opera) and Firefox profiles, read from the profile directories: one row per Chromium version directory and per Firefox add-on of type extension (themes, dictionaries and Firefox's own built-in add-ons are left out).",
        class: Evidence,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT browser, user, name, version, enabled FROM browser_extensions",
            "SELECT * FROM browser_extensions WHERE id = 'ahkjpbeeocnddjkakilopmfdlnjdpcdm'",
        ],
        generate: generate,
    }
}

/// Where a Chromium-family browser keeps its profiles, relative to a home.
struct ChromiumData {
    browser: &'static str,
    dir: &'static str,
    /// The directory is itself the one profile (Opera), not a parent of profiles.
    single_profile: bool,
}

const fn multi(browser: &'static str, dir: &'static str) -> ChromiumData {
    ChromiumData { browser, dir, single_profile: false }
}

const fn single(browser: &'static str, dir: &'static str) -> ChromiumData {
    ChromiumData { browser, dir, single_profile: true }
}

const CHROMIUM_LINUX: &[ChromiumData] = &[
    multi("chrome", ".config/google-chrome"),
    multi("chrome", ".config/google-chrome-beta"),
    multi("chrome", ".config/google-chrome-unstable"),
    multi("chrome", ".var/app/com.google.Chrome/config/google-chrome"),
    multi("chromium", ".config/chromium"),
    multi("chromium", "snap/chromium/common/chromium"),
    multi("chromium", ".var/app/org.chromium.Chromium/config/chromium"),
    multi("edge", ".config/microsoft-edge"),
    multi("edge", ".config/microsoft-edge-beta"),
    multi("edge", ".config/microsoft-edge-dev"),
    multi("edge", ".var/app/com.microsoft.Edge/config/microsoft-edge"),
    multi("brave", ".config/BraveSoftware/Brave-Browser"),
    multi("brave", "snap/brave/current/.config/BraveSoftware/Brave-Browser"),
    multi("brave", ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"),
    multi("vivaldi", ".config/vivaldi"),
    single("opera", ".config/opera"),
];

const CHROMIUM_MACOS: &[ChromiumData] = &[
    multi("chrome", "Library/Application Support/Google/Chrome"),
    multi("chrome", "Library/Application Support/Google/Chrome Beta"),
    multi("chrome", "Library/Application Support/Google/Chrome Canary"),
    multi("chromium", "Library/Application Support/Chromium"),
    multi("edge", "Library/Application Support/Microsoft Edge"),
    multi("brave", "Library/Application Support/BraveSoftware/Brave-Browser"),
    multi("vivaldi", "Library/Application Support/Vivaldi"),
    single("opera", "Library/Application Support/com.operasoftware.Opera"),
];

const CHROMIUM_WINDOWS: &[ChromiumData] = &[
    multi("chrome", "AppData/Local/Google/Chrome/User Data"),
    multi("chrome", "AppData/Local/Google/Chrome Beta/User Data"),
    multi("chrome", "AppData/Local/Google/Chrome SxS/User Data"),
    multi("chromium", "AppData/Local/Chromium/User Data"),
    multi("edge", "AppData/Local/Microsoft/Edge/User Data"),
    multi("brave", "AppData/Local/BraveSoftware/Brave-Browser/User Data"),
    multi("vivaldi", "AppData/Local/Vivaldi/User Data"),
    single("opera", "AppData/Roaming/Opera Software/Opera Stable"),
];

const FIREFOX_LINUX: &[&str] =
    &[".mozilla/firefox", "snap/firefox/common/.mozilla/firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"];
const FIREFOX_MACOS: &[&str] = &["Library/Application Support/Firefox/Profiles"];
const FIREFOX_WINDOWS: &[&str] = &["AppData/Roaming/Mozilla/Firefox/Profiles"];

/// Firefox locations whose add-ons ship inside Firefox itself.
const FIREFOX_BUILTIN_LOCATIONS: &[&str] = &["app-builtin", "app-system-defaults", "app-system-addons"];

/// Home directories that belong to no person on Windows.
const WINDOWS_NON_USERS: &[&str] = &["Public", "Default", "Default User", "All Users"];
const MACOS_NON_USERS: &[&str] = &["Shared"];

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<BrowserExtension> {
    let family = ctx.scan.os_family();
    // Windows and macOS volumes are usually case-insensitive.
    let root = ctx.root().clone().with_case_folding(family != OsFamily::Linux);
    let (chromium_dirs, firefox_dirs) = match family {
        OsFamily::Linux => (CHROMIUM_LINUX, FIREFOX_LINUX),
        OsFamily::Macos => (CHROMIUM_MACOS, FIREFOX_MACOS),
        OsFamily::Windows => (CHROMIUM_WINDOWS, FIREFOX_WINDOWS),
    };
    let ids = q.texts("id");
    let mut rows = Vec::new();
    for (user, home) in homes(ctx, &root, family) {
        // An unreadable home (another user's, when not run as root) is one
        // error, not one per browser directory inside it.
        if ctx.ok_if_present(root.read_dir(&home)).is_none() {
            continue;
        }
        for data in chromium_dirs.iter().filter(|d| q.admits("browser", d.browser)) {
            from_chromium(ctx, &root, &user, &join(&home, data.dir), data, ids, &mut rows);
        }
        if q.admits("browser", "firefox") {
            for dir in firefox_dirs {
                from_firefox(ctx, &root, &user, &join(&home, dir), ids, &mut rows);
            }
        }
    }
    rows
}

/// (user name, home path) for every home directory of the root; the path is
/// exact (a name need not be UTF-8), the user name lossy.
fn homes(ctx: &Ctx<'_>, root: &Root, family: OsFamily) -> Vec<(String, OsString)> {
    let mut out = Vec::new();
    let parent = match family {
        OsFamily::Linux => "/home",
        OsFamily::Macos | OsFamily::Windows => "/Users",
    };
    for e in ctx.ok_if_present(root.read_dir(parent)).unwrap_or_default() {
        if !matches!(e.entry_type, EntryType::Dir | EntryType::Symlink) || e.name.starts_with('.') {
            continue;
        }
        let not_a_person = match family {
            OsFamily::Windows => WINDOWS_NON_USERS,
            OsFamily::Macos => MACOS_NON_USERS,
            OsFamily::Linux => &[],
        };
        if not_a_person.iter().any(|n| n.eq_ignore_ascii_case(&e.name)) {
            continue;
        }
        out.push((e.name.clone(), e.path_in(parent)));
    }
    if family == OsFamily::Linux {
        out.push(("root".to_string(), "/root".into()));
    }
    out
}

fn from_chromium(
    ctx: &Ctx<'_>,
    root: &Root,
    user: &str,
    data_dir: &OsStr,
    data: &ChromiumData,
    ids: Option<&[String]>,
    rows: &mut Vec<BrowserExtension>,
) {
    let profiles: Vec<(String, OsString)> = if data.single_profile {
        let name = data.dir.rsplit('/').next().unwrap_or_default().to_string();
        vec![(name, data_dir.to_os_string())]
    } else {
        let Some(entries) = ctx.ok_if_present(root.read_dir(data_dir)) else { return };
        entries
            .into_iter()
            .filter(|e| matches!(e.entry_type, EntryType::Dir | EntryType::Symlink))
            .map(|e| (e.name.clone(), e.path_in(data_dir)))
            .collect()
    };
    for (profile, dir) in profiles {
        // A profile is a directory with extensions; Preferences is only read then.
        let mut found = Vec::new();
        let listed = chromium::read_extensions(root, &dir, ids, |e| found.push(e), |e| ctx.report(e));
        if ctx.ok_if_present(listed).is_none() || found.is_empty() {
            continue;
        }
        let settings = chromium::read_settings(root, &dir, |e| ctx.report(e));
        for ext in found.into_iter().filter(|e| !e.is_theme) {
            let setting = settings.get(&ext.id);
            rows.push(BrowserExtension {
                browser: Some(data.browser.to_string()),
                user: Some(user.to_string()),
                profile: Some(profile.clone()),
                enabled: setting.and_then(|s| s.enabled).map(i64::from),
                location: setting.and_then(|s| s.location.clone()),
                install_time: setting.and_then(|s| s.install_time),
                permissions: joined(&ext.permissions),
                id: Some(ext.id),
                name: ext.name,
                version: ext.version,
                path: Some(ext.manifest_path),
                description: ext.description,
                author: ext.author,
                homepage_url: ext.homepage_url,
                update_url: ext.update_url,
                manifest_version: ext.manifest_version,
                install_path: Some(ext.dir),
            });
        }
    }
}

fn from_firefox(
    ctx: &Ctx<'_>,
    root: &Root,
    user: &str,
    profiles_dir: &OsStr,
    ids: Option<&[String]>,
    rows: &mut Vec<BrowserExtension>,
) {
    let Some(entries) = ctx.ok_if_present(root.read_dir(profiles_dir)) else { return };
    for e in entries.iter().filter(|e| matches!(e.entry_type, EntryType::Dir | EntryType::Symlink)) {
        let exact = join(e.path_in(profiles_dir), "extensions.json");
        let Some(addons) = ctx.ok_if_present(firefox::read_extensions_json(root, &exact, |e| ctx.report(e))) else {
            continue;
        };
        let path = lossy(&exact);
        for a in addons {
            if !matches!(a.addon_type.as_deref(), Some("extension" | "webextension"))
                || a.location.as_deref().is_some_and(|l| FIREFOX_BUILTIN_LOCATIONS.contains(&l))
                || ids.is_some_and(|ids| !ids.contains(&a.id))
            {
                continue;
            }
            rows.push(BrowserExtension {
                browser: Some("firefox".into()),
                user: Some(user.to_string()),
                profile: Some(e.name.clone()),
                enabled: a.active.map(i64::from),
                path: Some(path.clone()),
                permissions: joined(&a.permissions),
                id: Some(a.id),
                name: a.name,
                version: a.version,
                description: a.description,
                author: a.creator,
                homepage_url: a.homepage_url,
                update_url: a.update_url,
                manifest_version: a.manifest_version,
                location: a.location,
                install_time: a.install_time,
                install_path: a.path,
            });
        }
    }
}

fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::spec::Value;
    use crate::table::Scan;

    fn fixture() -> Scan {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/browsers/root");
        Scan::new(Root::new(dir).unwrap())
    }

    type Brief<'a> =
        (&'a str, &'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<i64>, Option<&'a str>);

    fn brief(r: &BrowserExtension) -> Brief<'_> {
        (
            r.browser.as_deref().unwrap(),
            r.user.as_deref().unwrap(),
            r.profile.as_deref().unwrap(),
            r.id.as_deref().unwrap(),
            r.name.as_deref(),
            r.version.as_deref(),
            r.enabled,
            r.location.as_deref(),
        )
    }

    const CHROME: &str = "/home/alice/.config/google-chrome";
    const KP: &str = "ahkjpbeeocnddjkakilopmfdlnjdpcdm";
    const UBLOCK: &str = "cjpalhdlnbpafiamejdnhcphjbkeiagm";
    const HELPER: &str = "gafhcnnpkpmhlebjoaiaeapdmjkijlle";
    const DOCS: &str = "ghbmnnjooekpmoecnnnilnnbdlolhkhi";

    /// Expected values come from make.py's recipe.
    #[test]
    fn fixture_rows_match_the_recipe() {
        let scan = fixture();
        let rows = generate(&scan.ctx("browser_extensions"), &Query::all());
        let got: Vec<Brief<'_>> = rows.iter().map(brief).collect();
        let helper = "Kaspersky Password Manager Helper (unofficial)";
        let expected: Vec<Brief<'_>> = vec![
            (
                "chrome",
                "alice",
                "Default",
                KP,
                Some("Kaspersky Protection"),
                Some("21.15.8.493"),
                Some(1),
                Some("internal"),
            ),
            ("chrome", "alice", "Default", UBLOCK, Some("uBlock Origin"), Some("1.57.0"), Some(0), Some("internal")),
            ("chrome", "alice", "Default", UBLOCK, Some("uBlock Origin"), Some("1.58.0"), Some(0), Some("internal")),
            ("chrome", "alice", "Default", HELPER, Some(helper), Some("1.0.2"), Some(1), Some("unpacked")),
            ("chrome", "alice", "Default", DOCS, Some("Google Docs Offline"), Some("1.81.1"), None, None),
            ("chrome", "alice", "Profile 1", UBLOCK, Some("uBlock Origin"), Some("1.58.0"), None, None),
            (
                "firefox",
                "alice",
                "abcd1234.default-release",
                "uBlock0@raymondhill.net",
                Some("uBlock Origin"),
                Some("1.58.0"),
                Some(1),
                Some("app-profile"),
            ),
            (
                "firefox",
                "alice",
                "abcd1234.default-release",
                "{6f0d7a28-0a1c-4f3e-9f44-3c1d2b1f0c5e}",
                Some("Password Helper"),
                Some("0.9"),
                Some(0),
                Some("app-profile"),
            ),
            (
                "firefox",
                "bob",
                "x1y2z3.default",
                "kaspersky-unofficial@example.org",
                Some(helper),
                Some("2.0"),
                Some(1),
                Some("app-profile"),
            ),
            (
                "chromium",
                "root",
                "Default",
                "mmnpcpaoiiaiabhenpnaifomogjidjal",
                Some("Root Tool"),
                Some("2.1"),
                Some(0),
                Some("external_policy_download"),
            ),
        ];
        assert_eq!(got, expected);

        let kp = &rows[0];
        let kp_dir = format!("{CHROME}/Default/Extensions/{KP}/21.15.8.493_0");
        assert_eq!(kp.path.as_deref(), Some(format!("{kp_dir}/manifest.json").as_str()));
        assert_eq!(kp.install_path.as_deref(), Some(kp_dir.as_str()));
        assert_eq!(kp.description.as_deref(), Some("Protects you while you browse."));
        assert_eq!(kp.author.as_deref(), Some("AO Kaspersky Lab"));
        assert_eq!(kp.homepage_url.as_deref(), Some("https://www.kaspersky.com/"));
        assert_eq!(kp.update_url.as_deref(), Some("https://clients2.google.com/service/update2/crx"));
        assert_eq!(kp.manifest_version, Some(3));
        assert_eq!(kp.permissions.as_deref(), Some("tabs, webRequest, nativeMessaging, <all_urls>"));
        // first_install_time wins over install_time.
        assert_eq!(kp.install_time, Some(1_700_000_000));
        assert_eq!(rows[1].install_time, Some(1_690_000_000));
        assert_eq!(rows[3].author.as_deref(), Some("dev@example.org"));
        assert_eq!(rows[3].permissions.as_deref(), Some("storage, https://*.example.org/*"));

        let ff = &rows[6];
        assert_eq!(ff.path.as_deref(), Some("/home/alice/.mozilla/firefox/abcd1234.default-release/extensions.json"));
        assert_eq!(
            ff.install_path.as_deref(),
            Some("/home/alice/.mozilla/firefox/abcd1234.default-release/extensions/uBlock0@raymondhill.net.xpi")
        );
        assert_eq!(ff.author.as_deref(), Some("Raymond Hill & contributors"));
        assert_eq!(ff.install_time, Some(1_700_000_000));
        assert_eq!(ff.manifest_version, Some(2));
        assert_eq!(ff.permissions.as_deref(), Some("storage, tabs, <all_urls>"));
        assert_eq!(
            rows[8].path.as_deref(),
            Some("/home/bob/snap/firefox/common/.mozilla/firefox/x1y2z3.default/extensions.json")
        );

        let mut errors: Vec<(String, ErrorKind)> =
            scan.errors.snapshot().into_iter().map(|e| (e.path, e.kind)).collect();
        errors.sort();
        assert_eq!(
            errors,
            vec![
                ("/home/alice/.config/google-chrome/Profile 1/Extensions/ghbmnnjooekpmoecnnnilnnbdlolhkhi/1.81.1_0/manifest.json".to_string(), ErrorKind::ParseError),
                ("/home/alice/.config/google-chrome/Profile 1/Preferences".to_string(), ErrorKind::ParseError),
                ("/home/bob/.mozilla/firefox/broken.default/extensions.json".to_string(), ErrorKind::ParseError),
            ]
        );
    }

    #[test]
    fn constraints_skip_other_browsers_and_ids() {
        let scan = fixture();
        let q = Query::all().with("id", vec![Value::Text(KP.into())]);
        let rows = generate(&scan.ctx("browser_extensions"), &q);
        assert_eq!(rows.iter().map(|r| r.id.as_deref().unwrap()).collect::<Vec<_>>(), vec![KP]);
        // The broken manifest is another id's, so it is not even opened.
        assert!(!scan.errors.snapshot().iter().any(|e| e.path.ends_with("manifest.json")));

        let scan = fixture();
        let q = Query::all().with("browser", vec![Value::Text("firefox".into())]);
        let rows = generate(&scan.ctx("browser_extensions"), &q);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.browser.as_deref() == Some("firefox")));
        assert_eq!(scan.errors.len(), 1);
    }

    /// A Windows root built at run time: Edge under AppData, case-insensitive
    /// lookups, and the homes that belong to nobody skipped.
    #[test]
    fn windows_homes_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str, body: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        put("Windows/System32/config/SOFTWARE", "regf");
        let edge = "appdata/local/Microsoft/Edge/User Data";
        let manifest = r#"{"name": "Kaspersky Protection", "version": "1.0", "manifest_version": 3}"#;
        put(&format!("Users/Carol/{edge}/Default/Extensions/{KP}/1.0_0/manifest.json"), manifest);
        put(&format!("Users/Carol/{edge}/Default/Preferences"), r#"{"extensions":{"settings":{}}}"#);
        put(&format!("Users/Public/{edge}/Default/Extensions/{KP}/1.0_0/manifest.json"), manifest);
        put(&format!("Users/Default/{edge}/Default/Extensions/{KP}/1.0_0/manifest.json"), manifest);
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        let rows = generate(&scan.ctx("browser_extensions"), &Query::all());
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            brief(&rows[0]),
            ("edge", "Carol", "Default", KP, Some("Kaspersky Protection"), Some("1.0"), None, None)
        );
        assert_eq!(
            rows[0].path.as_deref(),
            Some(
                format!(
                    "/Users/Carol/AppData/Local/Microsoft/Edge/User Data/Default/Extensions/{KP}/1.0_0/manifest.json"
                )
                .as_str()
            )
        );
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
    }

    /// Chrome and Firefox on a Windows root, beside a real hive (the
    /// hivex-made SOFTWARE of the Windows fixture), so that the root is
    /// judged Windows by its registry and the other tables' reading of the
    /// hives changes nothing here.
    #[test]
    fn windows_chrome_and_firefox() {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str, body: &[u8]| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        let hive =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/windows/root/Windows/System32/config/SOFTWARE");
        put("Windows/System32/config/SOFTWARE", &std::fs::read(hive).unwrap());
        let chrome = "AppData/Local/Google/Chrome/User Data";
        let manifest = br#"{"name": "Kaspersky Protection", "version": "2.0", "manifest_version": 3}"#;
        put(&format!("Users/alice/{chrome}/Profile 1/Extensions/{KP}/2.0_0/manifest.json"), manifest);
        let addons = br#"{"addons": [{"id": "light_plugin_ACF0E80077C511E59DED005056C00008@kaspersky.com", "type": "extension", "version": "4.0", "active": true}]}"#;
        put("Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/x1.default-release/extensions.json", addons);
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        assert_eq!(scan.os_family(), OsFamily::Windows);
        let rows = generate(&scan.ctx("browser_extensions"), &Query::all());
        let mut got: Vec<_> = rows
            .iter()
            .map(|r| {
                (r.browser.as_deref(), r.user.as_deref(), r.profile.as_deref(), r.id.as_deref(), r.version.as_deref())
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                (Some("chrome"), Some("alice"), Some("Profile 1"), Some(KP), Some("2.0")),
                (
                    Some("firefox"),
                    Some("alice"),
                    Some("x1.default-release"),
                    Some("light_plugin_ACF0E80077C511E59DED005056C00008@kaspersky.com"),
                    Some("4.0")
                ),
            ]
        );
    }

    #[test]
    fn macos_homes_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str, body: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        put(
            "System/Library/CoreServices/SystemVersion.plist",
            "<?xml version=\"1.0\"?>\n<plist version=\"1.0\"><dict/></plist>\n",
        );
        let addons = r#"{"addons": [{"id": "a@example.org", "type": "extension", "version": "1", "active": true}]}"#;
        put("Users/dave/Library/Application Support/Firefox/Profiles/k.default/extensions.json", addons);
        put("Users/Shared/Library/Application Support/Firefox/Profiles/k.default/extensions.json", addons);
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        let rows = generate(&scan.ctx("browser_extensions"), &Query::all());
        let got: Vec<_> = rows.iter().map(brief).collect();
        assert_eq!(got, vec![("firefox", "dave", "k.default", "a@example.org", None, Some("1"), Some(1), None)]);
    }

    #[test]
    fn hostile_profiles_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str, body: &[u8]| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        let ext = format!("home/eve/.config/chromium/Default/Extensions/{KP}");
        put(&format!("{ext}/1_0/manifest.json"), b"[1, 2, 3]");
        put(&format!("{ext}/2_0/manifest.json"), b"\xff\xfe\x00garbage");
        put(
            &format!("{ext}/3_0/manifest.json"),
            br#"{"name": "__MSG_x__", "default_locale": "../../..", "version": 3}"#,
        );
        put(&format!("{ext}/4_0/manifest.json"), br#"{"name": "__MSG_x__", "default_locale": "en"}"#);
        put(&format!("{ext}/4_0/_locales/en/messages.json"), b"{\"x\": 5}");
        put("home/eve/.config/chromium/Default/Preferences", br#"{"extensions": {"settings": {"x": 1}}}"#);
        put("home/eve/.mozilla/firefox/p/extensions.json", br#"{"addons": {"not": "a list"}}"#);
        #[cfg(unix)]
        {
            let fifo = dir.path().join("home/eve/.mozilla/firefox/q");
            std::fs::create_dir_all(&fifo).unwrap();
            let c = std::ffi::CString::new(fifo.join("extensions.json").to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        let rows = generate(&scan.ctx("browser_extensions"), &Query::all());
        let names: Vec<_> = rows.iter().map(|r| (r.name.as_deref(), r.version.as_deref())).collect();
        assert_eq!(names, vec![(Some("__MSG_x__"), None), (Some("__MSG_x__"), None)]);
        let kinds: Vec<_> = scan.errors.snapshot().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == ErrorKind::ParseError).count(), 3, "{:?}", scan.errors.snapshot());
        #[cfg(unix)]
        assert!(kinds.contains(&ErrorKind::NotRegularFile));
    }
}
