//! Installed flatpak applications.
//!
//! An installation (system `var/lib/flatpak`, or a user's
//! `~/.local/share/flatpak`) deploys each app ref `app/<id>/<arch>/<branch>`
//! into `app/<id>/<arch>/<branch>/<commit>/`, with `active` a symlink to the
//! deployed commit (and `app/<id>/current` a link to the `<arch>/<branch>`
//! that `flatpak run` picks). A deployment holds `metadata` (a keyfile:
//! `[Application] name=, runtime=`) and the app's AppStream file, which has
//! the version (first `<release>`) and the developer.
//!
//! Runtimes (`runtime/`) are not listed: they are shared platform pieces
//! (GNOME, KDE, freedesktop), not software a user chose to install.

use std::ffi::{OsStr, OsString};

use crate::error::{ErrorKind, FsError};
use crate::root::{DirEntry, EntryType, Root, join, lossy};

pub const SYSTEM_INSTALLATION: &str = "/var/lib/flatpak";
const USER_INSTALLATION: &str = ".local/share/flatpak";
pub const METADATA_LIMIT: u64 = 1 << 20;
pub const APPSTREAM_LIMIT: u64 = 8 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlatpakApp {
    /// The application id (`org.mozilla.firefox`).
    pub id: String,
    pub arch: String,
    pub branch: String,
    /// `[Application] runtime=` of the metadata file.
    pub runtime: Option<String>,
    /// The first `<release version=...>` of the AppStream file.
    pub version: Option<String>,
    /// `<developer_name>` or `<developer><name>` of the AppStream file.
    pub developer: Option<String>,
    /// The deployed commit directory `active` points to, root-relative.
    pub deployment: Option<String>,
    /// Set for a per-user installation.
    pub user: Option<String>,
    /// The metadata file the row was read from.
    pub path: String,
}

impl FlatpakApp {
    /// The flatpak ref: `app/<id>/<arch>/<branch>`.
    pub fn reference(&self) -> String {
        format!("app/{}/{}/{}", self.id, self.arch, self.branch)
    }
}

/// Every deployed app of the system installation and of each user's.
pub fn read_all(root: &Root, mut each: impl FnMut(FlatpakApp), mut bad: impl FnMut(FsError)) {
    read_installation(root, OsStr::new(SYSTEM_INSTALLATION), None, &mut each, &mut bad);
    let mut homes: Vec<(OsString, String)> = vec![("/root".into(), "root".into())];
    for e in subdirs(root, OsStr::new("/home"), &mut bad) {
        homes.push((e.path_in("/home"), e.name));
    }
    for (home, user) in homes {
        read_installation(root, &join(home, USER_INSTALLATION), Some(&user), &mut each, &mut bad);
    }
}

/// The subdirectories of `path`, with their exact names (a name need not be UTF-8).
fn subdirs(root: &Root, path: &OsStr, bad: &mut impl FnMut(FsError)) -> Vec<DirEntry> {
    match root.read_dir(path) {
        Ok(entries) => entries.into_iter().filter(|e| e.entry_type == EntryType::Dir).collect(),
        Err(e) if e.kind == ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            bad(e);
            Vec::new()
        }
    }
}

fn read_installation(
    root: &Root,
    installation: &OsStr,
    user: Option<&str>,
    each: &mut impl FnMut(FlatpakApp),
    bad: &mut impl FnMut(FsError),
) {
    let apps = join(installation, "app");
    for id_entry in subdirs(root, &apps, bad) {
        let id_dir = id_entry.path_in(&apps);
        let id = id_entry.name;
        // `current` is a symlink, so it is not among the subdirectories.
        for arch_entry in subdirs(root, &id_dir, bad) {
            let arch_dir = arch_entry.path_in(&id_dir);
            let arch = arch_entry.name;
            for branch_entry in subdirs(root, &arch_dir, bad) {
                let active = join(branch_entry.path_in(&arch_dir), "active");
                let branch = branch_entry.name;
                let deployment = match root.resolve(&active) {
                    Ok(r) if r.metadata.is_dir() => r.raw_path,
                    Ok(_) => {
                        bad(FsError::new(
                            ErrorKind::NotFound,
                            lossy(&active),
                            "the active deployment is not a directory",
                        ));
                        continue;
                    }
                    // An arch/branch directory without `active` is not deployed.
                    Err(e) if e.kind == ErrorKind::NotFound => continue,
                    Err(e) => {
                        bad(e);
                        continue;
                    }
                };
                let path = join(&deployment, "metadata");
                let shown = lossy(&path);
                let mut app =
                    FlatpakApp { arch: arch.clone(), branch, user: user.map(str::to_string), ..FlatpakApp::default() };
                match root.read_limited(&path, METADATA_LIMIT) {
                    Ok(bytes) => {
                        let meta = parse_metadata(&String::from_utf8_lossy(&bytes));
                        app.runtime = meta.runtime;
                        if let Some(name) = meta.name.filter(|n| n != &id) {
                            bad(FsError::parse(
                                &shown,
                                format!("[Application] name={name} differs from the directory name {id}"),
                            ));
                        }
                    }
                    Err(e) => bad(e),
                }
                if let Some((xml_path, xml)) = appstream(root, &deployment, &id_entry.file_name, bad) {
                    match parse_appstream(&xml) {
                        Ok(a) => {
                            app.version = a.version;
                            app.developer = a.developer;
                        }
                        Err(m) => bad(FsError::parse(xml_path, m)),
                    }
                }
                app.id = id.clone();
                app.path = shown;
                app.deployment = Some(lossy(&deployment));
                each(app);
            }
        }
    }
}

/// The app's AppStream file: today's `metainfo` name first, then the older
/// `appdata` names.
/// One that is there but cannot be read (too large, unreadable) is
/// reported, so that padding it hides the developer only with a row.
fn appstream(root: &Root, deployment: &OsStr, id: &OsStr, bad: &mut impl FnMut(FsError)) -> Option<(String, String)> {
    let candidates = [("metainfo", ".metainfo.xml"), ("metainfo", ".appdata.xml"), ("appdata", ".appdata.xml")];
    candidates.into_iter().find_map(|(dir, suffix)| {
        let mut name = id.to_os_string();
        name.push(suffix);
        let p = join(join(join(deployment, "files/share"), dir), name);
        match root.read_limited(&p, APPSTREAM_LIMIT) {
            Ok(bytes) => Some((lossy(&p), String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => {
                bad(e);
                None
            }
        }
    })
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub name: Option<String>,
    pub runtime: Option<String>,
}

/// The `[Application]` group of a flatpak metadata keyfile.
pub fn parse_metadata(text: &str) -> Metadata {
    let mut m = Metadata::default();
    let mut in_application = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_application = line == "[Application]";
            continue;
        }
        if !in_application || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        match key.trim() {
            "name" if m.name.is_none() => m.name = Some(value.trim().to_string()),
            "runtime" if m.runtime.is_none() => m.runtime = Some(value.trim().to_string()),
            _ => {}
        }
    }
    m
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppStream {
    pub version: Option<String>,
    pub developer: Option<String>,
}

fn children<'a, 'i>(n: roxmltree::Node<'a, 'i>, tag: &'static str) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(move |c| c.is_element() && c.has_tag_name(tag))
}

/// Version and developer of an AppStream `<component>`. Translated variants
/// (`xml:lang=`) are passed over for the untranslated text.
pub fn parse_appstream(xml: &str) -> Result<AppStream, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let component = doc.root_element();
    if !component.has_tag_name("component") {
        return Err(format!("root element is <{}>, not <component>", component.tag_name().name()));
    }
    let untranslated = |n: &roxmltree::Node| n.attribute((roxmltree::NS_XML_URI, "lang")).is_none();
    let text_of = |n: roxmltree::Node| n.text().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let developer = children(component, "developer_name").find(untranslated).and_then(text_of).or_else(|| {
        children(component, "developer").flat_map(|d| children(d, "name")).find(untranslated).and_then(text_of)
    });
    let version = children(component, "releases")
        .flat_map(|r| children(r, "release"))
        .find_map(|r| r.attribute("version").map(str::to_string));
    Ok(AppStream { version, developer })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn collect(root: &Root) -> (Vec<FlatpakApp>, Vec<FsError>) {
        let mut apps = Vec::new();
        let mut errs = Vec::new();
        read_all(root, |a| apps.push(a), |e| errs.push(e));
        (apps, errs)
    }

    #[test]
    fn fixture_as_the_recipe_wrote_it() {
        let root = Root::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/flatpak")).unwrap();
        let (apps, errs) = collect(&root);
        assert!(errs.is_empty(), "{errs:?}");
        let short: Vec<_> = apps
            .iter()
            .map(|a| {
                (
                    a.reference(),
                    a.version.as_deref(),
                    a.developer.as_deref(),
                    a.deployment.as_deref(),
                    a.user.as_deref(),
                    a.runtime.as_deref(),
                )
            })
            .collect();
        const C1: &str = "5b1a0e7c3d2f4a6b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";
        const C2: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        const C3: &str = "aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55";
        assert_eq!(
            short,
            [
                (
                    "app/org.example.Hello/x86_64/stable".to_string(),
                    Some("2.3.1"),
                    Some("Example Developers"),
                    Some(format!("/var/lib/flatpak/app/org.example.Hello/x86_64/stable/{C1}").as_str()),
                    None,
                    Some("org.freedesktop.Platform/x86_64/23.08"),
                ),
                (
                    "app/org.example.Legacy/aarch64/beta".to_string(),
                    Some("0.9"),
                    Some("Legacy Labs"),
                    Some(format!("/var/lib/flatpak/app/org.example.Legacy/aarch64/beta/{C2}").as_str()),
                    None,
                    Some("org.gnome.Platform/aarch64/45"),
                ),
                (
                    "app/org.example.Notes/x86_64/stable".to_string(),
                    Some("1.0"),
                    None,
                    Some(format!("/home/alice/.local/share/flatpak/app/org.example.Notes/x86_64/stable/{C3}").as_str()),
                    Some("alice"),
                    Some("org.kde.Platform/x86_64/6.6"),
                ),
            ]
        );
        assert_eq!(apps[0].path, format!("/var/lib/flatpak/app/org.example.Hello/x86_64/stable/{C1}/metadata"));
    }

    #[test]
    fn appstream_edge_cases() {
        let a = parse_appstream(
            r#"<?xml version="1.0"?><component type="desktop-application">
                <developer_name xml:lang="de">Beispiel</developer_name><developer_name>Example</developer_name>
                <releases><release date="2024-01-01"/><release version="3" /><release version="2"/></releases></component>"#,
        )
        .unwrap();
        assert_eq!(a, AppStream { version: Some("3".into()), developer: Some("Example".into()) });
        let b = parse_appstream("<component><developer id='x'><name>Dev Co</name></developer></component>").unwrap();
        assert_eq!(b.developer.as_deref(), Some("Dev Co"));
        assert!(parse_appstream("<component><unclosed></component>").is_err());
        assert!(parse_appstream("\u{0}\u{1}garbage").is_err());
        assert!(parse_appstream("<html/>").is_err());
        let bomb = format!(
            "<!DOCTYPE c [<!ENTITY a \"{}\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]><component><developer_name>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</developer_name></component>",
            "x".repeat(1000)
        );
        let _ = parse_appstream(&bomb); // must return, whatever it says
    }

    #[test]
    fn metadata_keyfile() {
        let m = parse_metadata(
            "[Application]\nname=org.x.Y\nruntime=org.gnome.Platform/x86_64/45\n\n[Context]\nname=other\n",
        );
        assert_eq!(m, Metadata { name: Some("org.x.Y".into()), runtime: Some("org.gnome.Platform/x86_64/45".into()) });
        assert_eq!(parse_metadata("\u{fffd}garbage=\n[Runtime]\nname=x"), Metadata::default());
    }

    #[cfg(unix)]
    #[test]
    fn broken_deployments_do_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("var/lib/flatpak/app");
        for id in ["a.A", "b.B", "c.C"] {
            std::fs::create_dir_all(base.join(id).join("x86_64/stable/c0/files")).unwrap();
        }
        std::fs::write(base.join("a.A/x86_64/stable/c0/metadata"), "[Application]\nname=a.A\n").unwrap();
        std::os::unix::fs::symlink("c0", base.join("a.A/x86_64/stable/active")).unwrap();
        // b.B: active loops; c.C: active points nowhere (not deployed).
        std::os::unix::fs::symlink("active", base.join("b.B/x86_64/stable/active")).unwrap();
        std::os::unix::fs::symlink("gone", base.join("c.C/x86_64/stable/active")).unwrap();
        let (apps, errs) = collect(&Root::new(dir.path()).unwrap());
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].id, "a.A");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, ErrorKind::SymlinkLoop);
    }

    /// Found in the security review: an AppStream file over its limit was
    /// passed over without a word, so padding it hid the developer.
    #[cfg(unix)]
    #[test]
    fn an_appstream_file_over_its_limit_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let deploy = dir.path().join("var/lib/flatpak/app/com.kaspersky.Kav/x86_64/stable/abc");
        std::fs::create_dir_all(deploy.join("files/share/metainfo")).unwrap();
        std::fs::write(deploy.join("metadata"), "[Application]\nname=com.kaspersky.Kav\n").unwrap();
        let xml = std::fs::File::create(deploy.join("files/share/metainfo/com.kaspersky.Kav.metainfo.xml")).unwrap();
        xml.set_len(APPSTREAM_LIMIT + 1).unwrap();
        std::os::unix::fs::symlink("abc", deploy.parent().unwrap().join("active")).unwrap();
        let (apps, errs) = collect(&Root::new(dir.path()).unwrap());
        assert_eq!(apps.len(), 1);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, ErrorKind::TooLarge);
    }
}
