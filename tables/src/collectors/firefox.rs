//! Firefox profiles: `extensions.json`, the add-ons database the browser
//! writes (a JSON object whose `addons` array has one entry per add-on, with
//! its `defaultLocale` strings, `active` state and install `location`).

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::json::{self, Object};
use crate::error::FsError;
use crate::root::Root;

/// One entry of `addons`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addon {
    pub id: String,
    /// `type`: extension, theme, dictionary, locale (older versions: webextension, …).
    pub addon_type: Option<String>,
    pub version: Option<String>,
    /// `defaultLocale.name` (or a top-level `name`, as very old databases have).
    pub name: Option<String>,
    pub description: Option<String>,
    /// `defaultLocale.creator`.
    pub creator: Option<String>,
    pub homepage_url: Option<String>,
    pub update_url: Option<String>,
    pub manifest_version: Option<i64>,
    /// `location`: app-profile, app-system-share, app-builtin, …
    pub location: Option<String>,
    /// `active`.
    pub active: Option<bool>,
    /// `path` of the .xpi or directory, verbatim (a path of the scanned system).
    pub path: Option<String>,
    /// `installDate`, Unix seconds.
    pub install_time: Option<i64>,
    /// `userPermissions.permissions` then `userPermissions.origins`.
    pub permissions: Vec<String>,
}

/// Reads `path` (an extensions.json). Entries without an `id` are skipped;
/// an entry that is not an object (one nested too deep to parse is not) is
/// reported through `bad`, and the others are still read.
pub fn read_extensions_json(
    root: &Root,
    path: &(impl AsRef<std::ffi::OsStr> + ?Sized),
    mut bad: impl FnMut(FsError),
) -> Result<Vec<Addon>, FsError> {
    let bytes = root.read_limited(path, json::DOC_LIMIT)?;
    let path = &crate::root::lossy(path.as_ref());
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FsError::parse(path, format!("not valid JSON: {e}")))?;
    let doc = Object::parse(text).map_err(|e| FsError::parse(path, format!("not valid JSON: {e}")))?;
    let Some(addons) = doc.array("addons") else {
        return Err(FsError::parse(path, "no `addons` array"));
    };
    let mut out = Vec::with_capacity(addons.len());
    let mut bad = Capped::new(path, BAD_RECORD_ROWS, "bad add-ons", &mut bad);
    for (i, raw) in addons.into_iter().enumerate() {
        match Object::of(raw) {
            Ok(a) => out.extend(addon(&a)),
            Err(e) => bad.push(FsError::parse(path, format!("addons[{i}] is skipped: not an object ({e})"))),
        }
    }
    bad.finish();
    Ok(out)
}

fn addon(a: &Object<'_>) -> Option<Addon> {
    let locale = a.object("defaultLocale");
    let localized = |key: &str| locale.as_ref().and_then(|l| l.str(key));
    let perms = a.object("userPermissions");
    Some(Addon {
        id: a.str("id")?,
        addon_type: a.str("type"),
        version: a.str("version"),
        name: localized("name").or_else(|| a.str("name")),
        description: localized("description"),
        creator: localized("creator"),
        homepage_url: localized("homepageURL"),
        update_url: a.str("updateURL"),
        manifest_version: a.i64("manifestVersion"),
        location: a.str("location"),
        active: a.bool("active"),
        path: a.str("path"),
        install_time: a.i64("installDate").filter(|&ms| ms > 0).map(|ms| ms.div_euclid(1000)),
        permissions: ["permissions", "origins"]
            .iter()
            .flat_map(|k| json::strings(perms.as_ref().and_then(|p| p.raw(k))))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn addon_of(v: serde_json::Value) -> Option<Addon> {
        let text = v.to_string();
        addon(&Object::parse(&text).unwrap())
    }

    #[test]
    fn entries_keep_firefox_fields() {
        let a = addon_of(json!({
            "id": "x@example.org", "type": "extension", "version": "1.0", "active": false,
            "location": "app-profile", "installDate": 1700000000123i64,
            "defaultLocale": {"name": "X", "creator": "Ex", "homepageURL": "https://example.org"},
            "userPermissions": {"permissions": ["storage"], "origins": ["<all_urls>"]}
        }))
        .unwrap();
        assert_eq!(a.name.as_deref(), Some("X"));
        assert_eq!(a.active, Some(false));
        assert_eq!(a.install_time, Some(1_700_000_000));
        assert_eq!(a.permissions, vec!["storage", "<all_urls>"]);
        assert!(addon_of(json!({"version": "1"})).is_none());
        let odd = addon_of(json!({"id": "y", "active": "yes", "defaultLocale": 5, "userPermissions": []})).unwrap();
        assert_eq!((odd.active, odd.name, odd.permissions.len()), (None, None, 0));
    }

    /// Found in the security review: serde_json's 128-level limit failed the
    /// whole extensions.json for one add-on nested 129 arrays deep, and every
    /// add-on of the profile was lost. Now that add-on alone is (with a row),
    /// and a deep member no row needs costs nothing.
    #[test]
    fn one_deep_addon_loses_only_itself() {
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        let doc = format!(
            r#"{{"schemaVersion": 36, "addons": [
                {{"id": "a@example.org", "type": "extension", "active": true}},
                {deep},
                {{"id": "kaspersky@example.org", "type": "extension", "x-junk": {deep}, "defaultLocale": {{"name": "KP", "x": {deep}}}}},
                {{"id": "b@example.org", "type": "extension", "userPermissions": {{"permissions": ["tabs", {deep}]}}}}
            ], "other": {deep}}}"#
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("extensions.json"), doc).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut errors = Vec::new();
        let addons = read_extensions_json(&root, "/extensions.json", |e| errors.push(e)).unwrap();
        let ids: Vec<_> = addons.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a@example.org", "kaspersky@example.org", "b@example.org"]);
        assert_eq!(addons[1].name.as_deref(), Some("KP"));
        assert_eq!(addons[2].permissions, ["tabs"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.starts_with("addons[1] is skipped"), "{errors:?}");
    }

    /// Padding extensions.json past the default 64 MiB read limit made it
    /// too_large, and the profile's add-ons were gone.
    #[test]
    fn a_padded_database_is_still_read() {
        let mut doc = br#"{"schemaVersion": 36, "pad": ""#.to_vec();
        doc.resize(doc.len() + (crate::root::DEFAULT_READ_LIMIT as usize) + 10, b'x');
        doc.extend_from_slice(br#"", "addons": [{"id": "kaspersky@example.org", "type": "extension"}]}"#);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("extensions.json"), doc).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let addons = read_extensions_json(&root, "/extensions.json", |e| panic!("{e}")).unwrap();
        assert_eq!(addons.len(), 1);
    }

    #[test]
    fn bad_addon_rows_are_bounded() {
        let junk = vec!["1"; BAD_RECORD_ROWS + 7].join(",");
        let doc = format!(r#"{{"addons": [{junk}, {{"id": "kaspersky@example.org"}}]}}"#);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("extensions.json"), doc).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut errors = Vec::new();
        let addons = read_extensions_json(&root, "/extensions.json", |e| errors.push(e)).unwrap();
        assert_eq!(addons.len(), 1);
        assert_eq!(errors.len(), BAD_RECORD_ROWS + 1);
        assert!(errors[BAD_RECORD_ROWS].message.starts_with("7 more bad add-ons"), "{:?}", errors.last());
    }
}
