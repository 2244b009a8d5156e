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

use crate::collectors::{chromium, firefox};
use crate::query::Query;
use crate::root::{EntryType, Root};
use crate::spec::{Platform, Row, TableSpec};
use crate::table::{Ctx, Declared, OsFamily};

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
}

pub static SPEC: TableSpec = TableSpec {
    name: "browser_extensions",
    description: "Extensions in every user's Chromium-family (Chrome, Chromium, Edge, Brave, Vivaldi, Opera) and Firefox profiles, read from the profile directories.",
    columns: <BrowserExtension as Row>::COLUMNS,
    platforms: &[Platform::Linux, Platform::Windows, Platform::Macos],
    examples: &[
        "SELECT browser, user, name, version, enabled FROM browser_extensions",
        "SELECT * FROM browser_extensions WHERE id = 'ahkjpbeeocnddjkakilopmfdlnjdpcdm'",
    ],
};

pub static TABLE: Declared<BrowserExtension> = Declared { spec: &SPEC, generate };

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
        for data in chromium_dirs.iter().filter(|d| q.admits("browser", d.browser)) {
            from_chromium(ctx, &root, &user, &format!("{home}/{}", data.dir), data, ids.as_deref(), &mut rows);
        }
        if q.admits("browser", "firefox") {
            for dir in firefox_dirs {
                from_firefox(ctx, &root, &user, &format!("{home}/{dir}"), ids.as_deref(), &mut rows);
            }
        }
    }
    rows
}

/// (user name, home path) for every home directory of the root.
fn homes(ctx: &Ctx<'_>, root: &Root, family: OsFamily) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let parent = match family {
        OsFamily::Linux => "/home",
        OsFamily::Macos | OsFamily::Windows => "/Users",
    };
    for e in ctx.ok_if_present(root.read_dir(parent)).unwrap_or_default() {
        if !matches!(e.entry_type, EntryType::Dir | EntryType::Symlink) || e.name.starts_with('.') {
            continue;
        }
        if family == OsFamily::Windows && WINDOWS_NON_USERS.iter().any(|n| n.eq_ignore_ascii_case(&e.name)) {
            continue;
        }
        out.push((e.name.clone(), format!("{parent}/{}", e.name)));
    }
    if family == OsFamily::Linux {
        out.push(("root".to_string(), "/root".to_string()));
    }
    out
}

fn from_chromium(
    ctx: &Ctx<'_>,
    root: &Root,
    user: &str,
    data_dir: &str,
    data: &ChromiumData,
    ids: Option<&[String]>,
    rows: &mut Vec<BrowserExtension>,
) {
    let profiles: Vec<(String, String)> = if data.single_profile {
        let name = data_dir.rsplit('/').next().unwrap_or_default().to_string();
        vec![(name, data_dir.to_string())]
    } else {
        let Some(entries) = ctx.ok_if_present(root.read_dir(data_dir)) else { return };
        entries
            .into_iter()
            .filter(|e| matches!(e.entry_type, EntryType::Dir | EntryType::Symlink))
            .map(|e| (e.name.clone(), format!("{data_dir}/{}", e.name)))
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
    profiles_dir: &str,
    ids: Option<&[String]>,
    rows: &mut Vec<BrowserExtension>,
) {
    let Some(entries) = ctx.ok_if_present(root.read_dir(profiles_dir)) else { return };
    for e in entries.iter().filter(|e| matches!(e.entry_type, EntryType::Dir | EntryType::Symlink)) {
        let path = format!("{profiles_dir}/{}/extensions.json", e.name);
        let Some(addons) = ctx.ok_if_present(firefox::read_extensions_json(root, &path)) else { continue };
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
