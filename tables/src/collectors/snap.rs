//! Installed snaps.
//!
//! snapd's own record is `var/lib/snapd/state.json`: `data.snaps.<instance>`
//! holds `sequence` (the side-infos of the revisions kept on disk: `name`,
//! `snap-id`, `revision`, ...), `current` (the revision in use) and `active`.
//! Side-infos carry no version (that is in the snap's own `meta/snap.yaml`,
//! inside the squashfs, visible only where it is mounted) and, as snapd
//! writes them, no publisher (that lives in store assertions); a publisher
//! field is used if one is there, and NULL is the honest answer otherwise.
//!
//! Without state.json, the mounted snaps are listed from
//! `<mount dir>/<name>/current/meta/snap.yaml`.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::json::{self, Object};
use crate::error::{ErrorKind, FsError};
use crate::root::{EntryType, Root, file_name, join, lossy};

pub const STATE_PATH: &str = "/var/lib/snapd/state.json";

/// Where snaps are mounted: Debian/Ubuntu, and Fedora/Arch (which may also
/// link `/snap` to it).
pub const MOUNT_DIRS: [&str; 2] = ["/snap", "/var/lib/snapd/snap"];

/// state.json holds snapd's whole state (changes, tasks, warnings): a busy
/// system's can reach tens of megabytes.
pub const STATE_LIMIT: u64 = 256 << 20;
pub const SNAP_YAML_LIMIT: u64 = 1 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snap {
    /// The instance name (`name` or `name_key` for parallel installs).
    pub name: String,
    pub snap_id: Option<String>,
    pub revision: Option<String>,
    pub version: Option<String>,
    pub summary: Option<String>,
    pub publisher: Option<String>,
    /// `installed` for the active revision, `disabled` for a snap that is
    /// installed but disabled (`snap disable`).
    pub status: String,
    /// `<mount dir>/<instance>/<revision>` when that directory exists.
    pub install_location: Option<String>,
    /// The file the row was read from.
    pub path: String,
}

#[derive(Deserialize)]
struct SnapState {
    #[serde(default)]
    sequence: Vec<SideInfo>,
    #[serde(default)]
    active: bool,
    current: Option<Box<RawValue>>,
}

/// Values of any shape stay unparsed until read: a revision or publisher
/// nested too deep then fails alone, not the snap.
#[derive(Deserialize)]
struct SideInfo {
    #[serde(rename = "snap-id")]
    snap_id: Option<String>,
    revision: Option<Box<RawValue>>,
    summary: Option<String>,
    publisher: Option<Box<RawValue>>,
    #[serde(rename = "publisher-id")]
    publisher_id: Option<String>,
}

/// snapd writes revisions as strings (`"1380"`, `"x1"` for local installs).
fn revision_text(raw: &RawValue) -> Option<String> {
    match json::value(raw).ok()? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A publisher given either as a string or as the store's object form.
fn publisher_text(raw: &RawValue) -> Option<String> {
    if let Ok(s) = serde_json::from_str::<String>(raw.get()) {
        return Some(s);
    }
    let o = Object::of(raw).ok()?;
    ["display-name", "username", "id"].iter().find_map(|k| o.str(k))
}

/// Every installed snap of the root; problems go to `bad`.
pub fn read_all(root: &Root, mut each: impl FnMut(Snap), mut bad: impl FnMut(FsError)) {
    match root.read_limited(STATE_PATH, STATE_LIMIT) {
        Ok(bytes) => from_state(root, &bytes, &mut each, &mut bad),
        Err(e) if e.kind == ErrorKind::NotFound => from_mounts(root, &mut each, &mut bad),
        Err(e) => bad(e),
    }
}

fn from_state(root: &Root, bytes: &[u8], each: &mut impl FnMut(Snap), bad: &mut impl FnMut(FsError)) {
    let not_state = |e: &dyn std::fmt::Display| FsError::parse(STATE_PATH, format!("not snapd state JSON: {e}"));
    // snapd's state is one document of many records: the snaps are split
    // unparsed, so that one nested too deep is lost alone, with a row.
    let doc = match std::str::from_utf8(bytes) {
        Ok(text) => Object::parse(text),
        Err(e) => return bad(not_state(&e)),
    };
    let doc = match doc {
        Ok(d) => d,
        Err(e) => return bad(not_state(&e)),
    };
    let Some(data) = present(&doc, "data") else { return };
    let data = match Object::of(data) {
        Ok(d) => d,
        Err(e) => return bad(not_state(&format!("data: {e}"))),
    };
    let Some(snaps) = present(&data, "snaps") else { return };
    let snaps = match Object::of(snaps) {
        Ok(s) => s,
        Err(e) => return bad(not_state(&format!("data.snaps: {e}"))),
    };
    let mut capped = Capped::new(STATE_PATH, BAD_RECORD_ROWS, "bad snaps", &mut *bad);
    for (instance, value) in snaps.entries() {
        let instance = instance.to_string();
        let st: SnapState = match serde_json::from_str(value.get()) {
            Ok(s) => s,
            Err(e) => {
                capped.push(FsError::parse(STATE_PATH, format!("snap {instance}: {e}")));
                continue;
            }
        };
        let current = st.current.as_deref().and_then(revision_text);
        let side = st.sequence.iter().rev().find(|si| si.revision.as_deref().and_then(revision_text) == current);
        let Some((side, revision)) = side.zip(current) else {
            capped
                .push(FsError::parse(STATE_PATH, format!("snap {instance}: current revision is not in its sequence")));
            continue;
        };
        let (yaml, location) = mounted_revision(root, &instance, &revision, &mut |e| capped.push(e));
        let yaml = yaml.as_deref().map(parse_snap_yaml).unwrap_or_default();
        each(Snap {
            snap_id: side.snap_id.clone().filter(|s| !s.is_empty()),
            version: yaml.version,
            summary: side.summary.clone().filter(|s| !s.is_empty()).or(yaml.summary),
            publisher: side.publisher.as_deref().and_then(publisher_text).or_else(|| side.publisher_id.clone()),
            status: if st.active { "installed" } else { "disabled" }.into(),
            install_location: location,
            path: STATE_PATH.into(),
            revision: Some(revision),
            name: instance,
        });
    }
    capped.finish();
}

/// A member that is there and not `null`.
fn present<'a>(o: &Object<'a>, key: &str) -> Option<&'a RawValue> {
    o.raw(key).filter(|r| r.get() != "null")
}

/// The snap.yaml text and directory of a mounted revision, where present.
/// A snap.yaml that is there but cannot be read is reported.
fn mounted_revision(
    root: &Root,
    instance: &str,
    revision: &str,
    bad: &mut impl FnMut(FsError),
) -> (Option<String>, Option<String>) {
    for dir in MOUNT_DIRS {
        let location = format!("{dir}/{instance}/{revision}");
        let Ok(r) = root.resolve(&location) else { continue };
        if !r.metadata.is_dir() {
            continue;
        }
        let yaml = match root.read_limited(&format!("{location}/meta/snap.yaml"), SNAP_YAML_LIMIT) {
            Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => {
                bad(e);
                None
            }
        };
        return (yaml, Some(location));
    }
    (None, None)
}

fn from_mounts(root: &Root, each: &mut impl FnMut(Snap), bad: &mut impl FnMut(FsError)) {
    let mut seen_dirs: Vec<String> = Vec::new();
    for dir in MOUNT_DIRS {
        let Ok(r) = root.resolve(dir) else { continue };
        if seen_dirs.contains(&r.path) {
            continue;
        }
        seen_dirs.push(r.path);
        let entries = match root.read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        for entry in entries.iter().filter(|e| e.entry_type == EntryType::Dir) {
            // Exact names: a directory or link name need not be UTF-8.
            let snap_dir = entry.path_in(dir);
            let Ok(target) = root.read_link_os(&join(&snap_dir, "current")) else { continue };
            let revision_dir = join(&snap_dir, file_name(&target));
            let revision = lossy(file_name(&target));
            let exact = join(&revision_dir, "meta/snap.yaml");
            let path = lossy(&exact);
            let text = match root.read_limited(&exact, SNAP_YAML_LIMIT) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                Err(e) => {
                    bad(e);
                    continue;
                }
            };
            let yaml = parse_snap_yaml(&text);
            each(Snap {
                name: entry.name.clone(),
                snap_id: None,
                version: yaml.version,
                summary: yaml.summary,
                publisher: None,
                status: "installed".into(),
                install_location: Some(lossy(&revision_dir)),
                path,
                revision: Some(revision),
            });
        }
    }
}

/// The top-level `name`, `version` and `summary` of a snap.yaml.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapYaml {
    pub name: Option<String>,
    pub version: Option<String>,
    pub summary: Option<String>,
}

/// Reads only the three plain top-level scalars a row needs; block scalars
/// (`|`, `>`) and anything nested are left alone rather than half-parsed.
pub fn parse_snap_yaml(text: &str) -> SnapYaml {
    let mut y = SnapYaml::default();
    for line in text.lines() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else { continue };
        let slot = match key {
            "name" => &mut y.name,
            "version" => &mut y.version,
            "summary" => &mut y.summary,
            _ => continue,
        };
        if slot.is_none() {
            *slot = yaml_scalar(value);
        }
    }
    y
}

fn yaml_scalar(raw: &str) -> Option<String> {
    let v = raw.trim();
    if v.is_empty() || v.starts_with(['|', '>', '&', '*', '!', '[', '{']) {
        return None;
    }
    if let Some(inner) = v.strip_prefix('\'') {
        return inner.strip_suffix('\'').map(|s| s.replace("''", "'"));
    }
    if let Some(inner) = v.strip_prefix('"') {
        return inner.strip_suffix('"').map(|s| s.replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    // A plain scalar ends at a comment.
    let v = match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    };
    Some(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture(which: &str) -> Root {
        Root::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/snap").join(which)).unwrap()
    }

    fn collect(root: &Root) -> (Vec<Snap>, Vec<FsError>) {
        let mut snaps = Vec::new();
        let mut errs = Vec::new();
        read_all(root, |s| snaps.push(s), |e| errs.push(e));
        (snaps, errs)
    }

    #[test]
    fn state_json_as_the_recipe_wrote_it() {
        let (snaps, errs) = collect(&fixture("state"));
        assert!(errs.is_empty(), "{errs:?}");
        let short: Vec<_> = snaps
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.snap_id.as_deref(),
                    s.revision.as_deref(),
                    s.version.as_deref(),
                    s.status.as_str(),
                    s.install_location.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            short,
            [
                (
                    "core22",
                    Some("amcUKQILKXHHTlmSa7NMdnXSx02dNeeT"),
                    Some("1380"),
                    Some("20240408"),
                    "installed",
                    Some("/snap/core22/1380")
                ),
                (
                    "firefox",
                    Some("3wdHCAVyZEmYsCMFDE9qt92UV8rC8Wdk"),
                    Some("4173"),
                    Some("125.0.2-1"),
                    "installed",
                    Some("/snap/firefox/4173")
                ),
                ("hello-local", None, Some("x1"), None, "disabled", None),
            ]
        );
        assert!(snaps.iter().all(|s| s.publisher.is_none() && s.path == STATE_PATH));
        assert_eq!(snaps[1].summary.as_deref(), Some("Mozilla Firefox web browser"));
    }

    #[test]
    fn mounted_snaps_without_state_json() {
        let (snaps, errs) = collect(&fixture("mounted"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(snaps.len(), 1);
        let s = &snaps[0];
        assert_eq!(
            (s.name.as_str(), s.revision.as_deref(), s.version.as_deref()),
            ("firefox", Some("4173"), Some("125.0.2-1"))
        );
        assert_eq!(s.path, "/snap/firefox/4173/meta/snap.yaml");
        assert_eq!(s.snap_id, None);
    }

    #[test]
    fn publisher_is_taken_only_where_present() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/snapd")).unwrap();
        std::fs::write(
            dir.path().join("var/lib/snapd/state.json"),
            r#"{"data":{"snaps":{
                "a":{"active":true,"current":"5","sequence":[{"name":"a","snap-id":"ida","revision":"5","publisher":{"id":"p1","username":"acme","display-name":"Acme Inc."}}]},
                "b":{"active":true,"current":7,"sequence":[{"name":"b","snap-id":"idb","revision":7,"publisher-id":"canonical"}]},
                "c":{"active":true,"current":"2","sequence":[{"name":"c","revision":"1"}]},
                "d":{"active":true,"current":"1","sequence":"not a list"}
            }}}"#,
        )
        .unwrap();
        let (snaps, errs) = collect(&Root::new(dir.path()).unwrap());
        let pubs: Vec<_> = snaps.iter().map(|s| (s.name.as_str(), s.publisher.as_deref())).collect();
        assert_eq!(pubs, [("a", Some("Acme Inc.")), ("b", Some("canonical"))]);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().all(|e| e.kind == ErrorKind::ParseError));
    }

    #[test]
    fn garbage_state_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/snapd")).unwrap();
        let deep = "[".repeat(100_000);
        for body in [&b"\xff\xfe{"[..], deep.as_bytes(), b"{\"data\": 5}"] {
            std::fs::write(dir.path().join("var/lib/snapd/state.json"), body).unwrap();
            let (snaps, errs) = collect(&Root::new(dir.path()).unwrap());
            assert!(snaps.is_empty());
            assert_eq!(errs.len(), 1, "{errs:?}");
        }
    }

    #[test]
    fn snap_yaml_top_level_scalars_only() {
        let y = parse_snap_yaml(
            "name: 'it''s'\nversion: \"1.0\" \nsummary: plain text # comment\napps:\n  name: nested\n  version: 9\n",
        );
        assert_eq!(
            y,
            SnapYaml { name: Some("it's".into()), version: Some("1.0".into()), summary: Some("plain text".into()) }
        );
        let y = parse_snap_yaml("summary: >\n  folded\nversion: 'unterminated\n");
        assert_eq!(y, SnapYaml::default());
    }

    /// Found in the security review: one snap nested deeper than serde_json's
    /// 128 levels failed the whole state.json, and every snap was lost.
    #[test]
    fn one_deep_snap_loses_only_itself() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/snapd")).unwrap();
        std::fs::write(
            dir.path().join("var/lib/snapd/state.json"),
            format!(
                r#"{{"changes": {deep}, "data":{{"snaps":{{
                "a":{{"active":true,"current":"5","sequence":[{{"name":"a","revision":"5"}}]}},
                "b":{deep},
                "kesl":{{"active":true,"current":"1","x-junk":{deep},"sequence":[{{"name":"kesl","revision":"1","publisher":{deep},"x":{deep}}}]}},
                "z":{{"active":true,"current":"2","sequence":[{{"name":"z","revision":"2"}}]}}
            }}}}}}"#
            ),
        )
        .unwrap();
        let (snaps, errs) = collect(&Root::new(dir.path()).unwrap());
        let names: Vec<_> = snaps.iter().map(|s| (s.name.as_str(), s.revision.as_deref())).collect();
        assert_eq!(names, [("a", Some("5")), ("kesl", Some("1")), ("z", Some("2"))]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.starts_with("snap b:"), "{errs:?}");
    }
}
