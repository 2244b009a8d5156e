//! Firefox profiles: `extensions.json`, the add-ons database the browser
//! writes (a JSON object whose `addons` array has one entry per add-on, with
//! its `defaultLocale` strings, `active` state and install `location`).

use serde_json::Value;

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

/// Reads `path` (an extensions.json). Entries without an `id` are skipped.
pub fn read_extensions_json(root: &Root, path: &str) -> Result<Vec<Addon>, FsError> {
    let bytes = root.read(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| FsError::parse(path, format!("not valid JSON: {e}")))?;
    let Some(addons) = doc.get("addons").and_then(Value::as_array) else {
        return Err(FsError::parse(path, "no `addons` array"));
    };
    Ok(addons.iter().filter_map(addon).collect())
}

fn addon(a: &Value) -> Option<Addon> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let locale = a.get("defaultLocale");
    let localized = |key: &str| text(locale.and_then(|l| l.get(key)));
    let perms = a.get("userPermissions");
    Some(Addon {
        id: text(a.get("id"))?,
        addon_type: text(a.get("type")),
        version: text(a.get("version")),
        name: localized("name").or_else(|| text(a.get("name"))),
        description: localized("description"),
        creator: localized("creator"),
        homepage_url: localized("homepageURL"),
        update_url: text(a.get("updateURL")),
        manifest_version: a.get("manifestVersion").and_then(Value::as_i64),
        location: text(a.get("location")),
        active: a.get("active").and_then(Value::as_bool),
        path: text(a.get("path")),
        install_time: a.get("installDate").and_then(Value::as_i64).filter(|&ms| ms > 0).map(|ms| ms.div_euclid(1000)),
        permissions: ["permissions", "origins"]
            .iter()
            .filter_map(|k| perms.and_then(|p| p.get(*k)).and_then(Value::as_array))
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_keep_firefox_fields() {
        let a = addon(&json!({
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
        assert!(addon(&json!({"version": "1"})).is_none());
        let odd = addon(&json!({"id": "y", "active": "yes", "defaultLocale": 5, "userPermissions": []})).unwrap();
        assert_eq!((odd.active, odd.name, odd.permissions.len()), (None, None, 0));
    }
}
