//! Chromium-family browser profiles (Chrome, Chromium, Edge, Brave, Vivaldi,
//! Opera): installed extensions and their enabled state.
//!
//! Layout of a profile directory:
//! - `Extensions/<id>/<version>/manifest.json`: one directory per installed
//!   version (Chrome keeps the old one until the browser restarts).
//! - `Preferences` and `Secure Preferences`: JSON; `extensions.settings.<id>`
//!   holds the per-extension state (`state`, `disable_reasons`, `location`,
//!   install times).

use std::collections::HashMap;
use std::ffi::OsStr;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::json::{self, Object};
use crate::error::{ErrorKind, FsError};
use crate::root::{EntryType, Root, join, lossy};

/// Manifests and message catalogs larger than this are not read. Chrome
/// reads one of any size, and a manifest is where an extension's row comes
/// from, so this is the generous limit of a split (not parsed) document.
pub const MANIFEST_LIMIT: u64 = json::DOC_LIMIT;

/// One installed version of an extension, from its manifest.json.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extension {
    pub id: String,
    /// Root-relative path of the version directory (lossy).
    pub dir: String,
    /// Root-relative path of manifest.json (lossy).
    pub manifest_path: String,
    /// Localized from `_locales/<default_locale>/messages.json` when the
    /// manifest says `__MSG_key__`; the raw text when it cannot be.
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub homepage_url: Option<String>,
    pub update_url: Option<String>,
    pub manifest_version: Option<i64>,
    /// `permissions` then `host_permissions`, the string entries only.
    pub permissions: Vec<String>,
    /// The manifest declares a theme (no code, only colors and images).
    pub is_theme: bool,
}

/// What a profile's preferences say about one extension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setting {
    /// `None` when the entry says neither way (an unknown `state` value).
    pub enabled: Option<bool>,
    /// Chromium's `ManifestLocation`, as a name.
    pub location: Option<String>,
    /// `first_install_time`, else `install_time`; Unix seconds.
    pub install_time: Option<i64>,
}

/// Whether `name` has the shape of a Chromium extension id: 32 letters a–p
/// (the hex digits of a SHA-256 prefix, shifted).
pub fn is_extension_id(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// Reads every `Extensions/<id>/<version>/manifest.json` under `profile`.
/// `ids`, when given, limits which extension directories are opened.
/// A broken manifest is one error through `bad`; the others are still read.
pub fn read_extensions(
    root: &Root,
    profile: &(impl AsRef<OsStr> + ?Sized),
    ids: Option<&[String]>,
    mut each: impl FnMut(Extension),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let ext_dir = join(profile, "Extensions");
    for id_entry in root.read_dir(&ext_dir)? {
        if !is_dir_like(&id_entry) || !is_extension_id(&id_entry.name) {
            continue;
        }
        if ids.is_some_and(|ids| !ids.iter().any(|i| i == &id_entry.name)) {
            continue;
        }
        let id_dir = id_entry.path_in(&ext_dir);
        let versions = match root.read_dir(&id_dir) {
            Ok(v) => v,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        for v in versions.iter().filter(|v| is_dir_like(v)) {
            let dir = v.path_in(&id_dir);
            match read_manifest(root, &dir, &id_entry.name, &mut bad) {
                Ok(Some(ext)) => each(ext),
                Ok(None) => {}
                Err(e) => bad(e),
            }
        }
    }
    Ok(())
}

fn is_dir_like(e: &crate::root::DirEntry) -> bool {
    matches!(e.entry_type, EntryType::Dir | EntryType::Symlink)
}

/// Reads `<dir>/manifest.json`; `Ok(None)` when there is none (a version
/// directory being written or removed), an error when it is a link that
/// leads nowhere inside the root.
pub fn read_manifest(
    root: &Root,
    dir: &(impl AsRef<OsStr> + ?Sized),
    id: &str,
    bad: &mut impl FnMut(FsError),
) -> Result<Option<Extension>, FsError> {
    let dir = dir.as_ref();
    let exact = join(dir, "manifest.json");
    let bytes = match root.read_limited(&exact, MANIFEST_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::NotFound => return root.dangling(&exact).map_or(Ok(None), Err),
        Err(e) => return Err(e),
    };
    let manifest_path = lossy(&exact);
    let source = lenient_source(&bytes).map_err(|m| FsError::parse(&manifest_path, m))?;
    // Split unparsed: a member nested too deep for serde_json (Chrome's own
    // parser allows 200 levels) fails alone instead of hiding the extension.
    let m = Object::parse(&source).map_err(|_| FsError::parse(&manifest_path, "manifest is not a JSON object"))?;
    let text = |key: &str| m.str(key);

    let mut ext = Extension {
        id: id.to_string(),
        dir: lossy(dir),
        manifest_path,
        name: text("name"),
        version: text("version"),
        description: text("description"),
        author: text("author").or_else(|| m.object("author").and_then(|o| o.str("email"))),
        homepage_url: text("homepage_url"),
        update_url: text("update_url"),
        manifest_version: m.i64("manifest_version"),
        permissions: ["permissions", "host_permissions"].iter().flat_map(|k| json::strings(m.raw(k))).collect(),
        is_theme: m.raw("theme").is_some(),
    };

    let needs_messages =
        [&ext.name, &ext.description, &ext.author].iter().any(|f| f.as_deref().is_some_and(|s| s.contains("__MSG_")));
    if needs_messages && let Some(locale) = text("default_locale") {
        match read_messages(root, dir, &locale) {
            Ok(Some(messages)) => {
                if let Some(why) = localize_fields([&mut ext.name, &mut ext.description, &mut ext.author], &messages) {
                    bad(FsError::new(ErrorKind::TooLarge, &ext.manifest_path, why));
                }
            }
            Ok(None) => {}
            Err(e) => bad(e),
        }
    }
    Ok(Some(ext))
}

/// Message catalog keys, lowercased (Chrome matches them without regard to case).
pub type Messages = HashMap<String, String>;

/// Reads `<dir>/_locales/<locale>/messages.json`; `Ok(None)` when missing.
pub fn read_messages(
    root: &Root,
    dir: &(impl AsRef<OsStr> + ?Sized),
    locale: &str,
) -> Result<Option<Messages>, FsError> {
    if locale.is_empty() || locale.contains(['/', '\\']) || locale == ".." {
        return Ok(None);
    }
    let exact = join(dir, format!("_locales/{locale}/messages.json"));
    let path = lossy(&exact);
    let bytes = match root.read_limited(&exact, MANIFEST_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::NotFound => return root.dangling(&exact).map_or(Ok(None), Err),
        Err(e) => return Err(e),
    };
    let source = lenient_source(&bytes).map_err(|m| FsError::parse(&path, m))?;
    let entries = Object::parse(&source).map_err(|_| FsError::parse(&path, "messages.json is not a JSON object"))?;
    let mut out = Messages::new();
    for (key, entry) in entries.entries() {
        if let Some(msg) = Object::of(entry).ok().and_then(|e| e.str("message")) {
            out.entry(key.to_lowercase()).or_insert(msg);
        }
    }
    Ok(Some(out))
}

/// Message text that `__MSG_key__` references may add to one field, and to
/// all of one manifest's fields together. Chrome replaces every reference
/// in a string, without limit, so a manifest and its messages.json can
/// multiply: a name of a million references to one 64 MiB message. The Web
/// Store allows names of 75 characters and descriptions of 132; these are far
/// beyond any real extension.
pub const FIELD_EXPANSION: usize = 64 << 10;
pub const MANIFEST_EXPANSION: usize = 256 << 10;
/// Small files must not make large rows either: the added text is at most
/// this multiple of the text it comes from (the fields as written and the
/// catalog's messages).
pub const EXPANSION_FACTOR: usize = 4;

/// Localizes `fields` of one manifest within the limits above. Where a limit
/// is reached the field keeps what fits (the start of the message that did
/// not) and the rest of its text as written, and the reason is returned.
fn localize_fields(fields: [&mut Option<String>; 3], messages: &Messages) -> Option<String> {
    let written: usize = fields.iter().filter_map(|f| f.as_deref()).map(str::len).sum();
    let catalog: usize = messages.values().map(String::len).sum();
    let limit = MANIFEST_EXPANSION.min(EXPANSION_FACTOR.saturating_mul(written.saturating_add(catalog)));
    let mut left = limit;
    let mut capped = false;
    for s in fields.into_iter().flatten() {
        let mut budget = left.min(FIELD_EXPANSION);
        let before = budget;
        let (text, complete) = localize(s, messages, &mut budget);
        left -= before - budget;
        capped |= !complete;
        *s = text;
    }
    capped.then(|| {
        format!(
            "__MSG_ references in name, description or author expand past {FIELD_EXPANSION} bytes in \
             one or {limit} in all; past that point the text is kept as written"
        )
    })
}

/// Replaces every `__MSG_key__` in `s` by its message, as Chrome does;
/// unknown keys stay as written. At most `*budget` bytes of messages go in
/// (`*budget` is what is left): when one does not fit, its start fills the
/// budget and the rest of `s` stays as written. Returns the text and whether
/// every known reference was replaced in full.
pub fn localize(s: &str, messages: &Messages, budget: &mut usize) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("__MSG_") {
        let after = &rest[start + 6..];
        let Some(end) = after.find("__") else { break };
        let key = &after[..end];
        match messages.get(&key.to_lowercase()) {
            Some(msg) if !key.is_empty() => {
                out.push_str(&rest[..start]);
                if msg.len() > *budget {
                    // floor_char_boundary is newer than the crate's rust-version.
                    let cut = (0..=*budget).rev().find(|&i| msg.is_char_boundary(i)).unwrap_or(0);
                    out.push_str(&msg[..cut]);
                    *budget = 0;
                    out.push_str(&after[end + 2..]);
                    return (out, false);
                }
                out.push_str(msg);
                *budget -= msg.len();
            }
            _ => out.push_str(&rest[..start + 6 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, true)
}

/// Reads `extensions.settings` of `Preferences` and `Secure Preferences`
/// (the latter wins for an id in both: where it exists, Chrome keeps these
/// settings there, under a MAC). Missing files are normal; a broken one is
/// reported through `bad` and contributes nothing. Entries are parsed one by
/// one, so one nested too deep is reported and the others still count.
pub fn read_settings(
    root: &Root,
    profile: &(impl AsRef<OsStr> + ?Sized),
    mut bad: impl FnMut(FsError),
) -> HashMap<String, Setting> {
    let mut out = HashMap::new();
    for file in ["Preferences", "Secure Preferences"] {
        let exact = join(profile, file);
        let path = lossy(&exact);
        let bytes = match root.read_limited(&exact, json::DOC_LIMIT) {
            Ok(b) => b,
            Err(e) if e.kind == ErrorKind::NotFound => {
                root.dangling(&exact).into_iter().for_each(&mut bad);
                continue;
            }
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let prefs = std::str::from_utf8(strip_bom(&bytes)).map_err(|e| e.to_string()).and_then(Object::parse);
        let prefs = match prefs {
            Ok(p) => p,
            Err(e) => {
                bad(FsError::parse(&path, format!("not valid JSON preferences: {e}")));
                continue;
            }
        };
        let settings = match prefs.raw("extensions").filter(|r| r.get() != "null").map(Object::of) {
            None => continue,
            Some(Ok(ext)) => match ext.raw("settings").filter(|r| r.get() != "null").map(Object::of) {
                None => continue,
                Some(Ok(settings)) => settings,
                Some(Err(e)) => {
                    bad(FsError::parse(&path, format!("extensions.settings: {e}")));
                    continue;
                }
            },
            Some(Err(e)) => {
                bad(FsError::parse(&path, format!("extensions: {e}")));
                continue;
            }
        };
        let mut capped = Capped::new(&path, BAD_RECORD_ROWS, "bad settings", &mut bad);
        for (id, raw) in settings.entries() {
            let mut problem =
                |what: String| capped.push(FsError::parse(&path, format!("extensions.settings.{id}{what}")));
            if let Some(s) = setting_of(raw, &mut problem) {
                out.insert(id.to_string(), s);
            }
        }
        capped.finish();
    }
    out
}

/// The members [`setting`] reads.
const SETTING_KEYS: [&str; 5] = ["disable_reasons", "state", "location", "first_install_time", "install_time"];

/// [`setting`] of an unparsed entry. Of an object, only the members it
/// reads are parsed, each on its own: a deep member it does not read costs
/// nothing, and one it reads is left out (and reported) alone. `None` for
/// an entry too deep to parse at all.
fn setting_of(raw: &RawValue, problem: &mut impl FnMut(String)) -> Option<Setting> {
    let Ok(entry) = Object::of(raw) else {
        return match json::value(raw) {
            Ok(v) => Some(setting(&v)),
            Err(e) => {
                problem(format!(" is skipped: {e}"));
                None
            }
        };
    };
    let mut picked = serde_json::Map::new();
    for key in SETTING_KEYS {
        match entry.value(key) {
            Some(Ok(v)) => {
                picked.insert(key.to_string(), v);
            }
            Some(Err(e)) => problem(format!(".{key} is left out: {e}")),
            None => {}
        }
    }
    Some(setting(&Value::Object(picked)))
}

/// Interprets one `extensions.settings.<id>` entry.
pub fn setting(entry: &Value) -> Setting {
    // Current Chromium: disabled exactly when `disable_reasons` is non-empty
    // (a list; older versions wrote a bit mask). Older Chromium also wrote
    // `state`: 0 disabled, 1 enabled, 2 an uninstalled external extension.
    let has_reasons = match entry.get("disable_reasons") {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        _ => false,
    };
    let enabled = if has_reasons {
        Some(false)
    } else {
        match entry.get("state").map(Value::as_i64) {
            None => Some(true),
            Some(Some(1)) => Some(true),
            Some(Some(0)) | Some(Some(2)) => Some(false),
            Some(_) => None,
        }
    };
    Setting {
        enabled,
        location: entry.get("location").and_then(Value::as_i64).map(location_name),
        install_time: ["first_install_time", "install_time"].iter().find_map(|k| entry.get(*k).and_then(chrome_time)),
    }
}

/// Chromium's `mojom::ManifestLocation` numbers.
pub fn location_name(n: i64) -> String {
    match n {
        1 => "internal",
        2 => "external_pref",
        3 => "external_registry",
        4 => "unpacked",
        5 => "component",
        6 => "external_pref_download",
        7 => "external_policy_download",
        8 => "command_line",
        9 => "external_policy",
        10 => "external_component",
        _ => return n.to_string(),
    }
    .to_string()
}

/// A `base::Time` pref value (microseconds since 1601-01-01 UTC, as a
/// decimal string) as Unix seconds.
pub fn chrome_time(v: &Value) -> Option<i64> {
    let micros: i64 = match v {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    const SECONDS_1601_TO_1970: i64 = 11_644_473_600;
    let unix = micros.div_euclid(1_000_000) - SECONDS_1601_TO_1970;
    (unix > 0).then_some(unix)
}

pub fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// Parses JSON as Chrome's extension loader does: a UTF-8 BOM, `//` and
/// `/* */` comments and trailing commas are accepted.
pub fn parse_lenient(bytes: &[u8]) -> Result<Value, String> {
    let source = lenient_source(bytes)?;
    serde_json::from_str(&source).map_err(|e| format!("not valid JSON: {e}"))
}

/// The text of a JSON document as Chrome's loader accepts it, made strict
/// JSON (BOM, comments and trailing commas removed). Only checked, not
/// parsed: checking has no depth limit.
pub fn lenient_source(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    use serde::de::IgnoredAny;
    let bytes = strip_bom(bytes);
    let strict = match serde_json::from_slice::<IgnoredAny>(bytes) {
        Ok(_) => return std::str::from_utf8(bytes).map(Into::into).map_err(|e| format!("not valid JSON: {e}")),
        Err(e) => e,
    };
    let relaxed = relax(bytes);
    if serde_json::from_slice::<IgnoredAny>(&relaxed).is_err() {
        return Err(format!("not valid JSON: {strict}"));
    }
    String::from_utf8(relaxed).map(Into::into).map_err(|e| format!("not valid JSON: {e}"))
}

/// Removes comments and trailing commas outside strings.
fn relax(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    let mut in_string = false;
    while i < src.len() {
        let c = src[i];
        if in_string {
            out.push(c);
            if c == b'\\' && i + 1 < src.len() {
                out.push(src[i + 1]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (c, src.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                out.push(c);
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                i += 2;
                while i < src.len() && !(src[i] == b'*' && src.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                out.push(b' ');
            }
            (b',', _) => {
                // Dropped when only blanks and comments separate it from a closing bracket.
                let mut j = i + 1;
                loop {
                    while j < src.len() && src[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if src.get(j) == Some(&b'/') && src.get(j + 1) == Some(&b'/') {
                        while j < src.len() && src[j] != b'\n' {
                            j += 1;
                        }
                    } else if src.get(j) == Some(&b'/') && src.get(j + 1) == Some(&b'*') {
                        j += 2;
                        while j < src.len() && !(src[j] == b'*' && src.get(j + 1) == Some(&b'/')) {
                            j += 1;
                        }
                        j += 2;
                    } else {
                        break;
                    }
                }
                if !matches!(src.get(j), Some(b'}') | Some(b']')) {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_have_chromium_shape() {
        assert!(is_extension_id("ahkjpbeeocnddjkakilopmfdlnjdpcdm"));
        assert!(!is_extension_id("Temp"));
        assert!(!is_extension_id("ahkjpbeeocnddjkakilopmfdlnjdpcdz"));
        assert!(!is_extension_id("ahkjpbeeocnddjkakilopmfdlnjdpcd"));
    }

    #[test]
    fn messages_are_replaced_case_insensitively() {
        let m: Messages = [("appname".to_string(), "Shop Helper".to_string())].into();
        let localize = |s| localize(s, &m, &mut { usize::MAX }).0;
        assert_eq!(localize("__MSG_appName__"), "Shop Helper");
        assert_eq!(localize("__MSG_APPNAME__ (beta)"), "Shop Helper (beta)");
        assert_eq!(localize("__MSG_missing__"), "__MSG_missing__");
        assert_eq!(localize("x __MSG_ y"), "x __MSG_ y");
        assert_eq!(localize("__MSG_____"), "__MSG_____");
        assert_eq!(localize("plain"), "plain");
    }

    #[test]
    fn settings_follow_chromium_semantics() {
        assert_eq!(setting(&json!({"state": 1})).enabled, Some(true));
        assert_eq!(setting(&json!({"state": 0, "disable_reasons": 1})).enabled, Some(false));
        assert_eq!(setting(&json!({"disable_reasons": [1]})).enabled, Some(false));
        assert_eq!(setting(&json!({"disable_reasons": []})).enabled, Some(true));
        assert_eq!(setting(&json!({"state": 7})).enabled, None);
        assert_eq!(setting(&json!({"state": "x"})).enabled, None);
        assert_eq!(setting(&json!({})).enabled, Some(true));
        let s = setting(&json!({"location": 7, "install_time": "13350000000000000"}));
        assert_eq!(s.location.as_deref(), Some("external_policy_download"));
        assert_eq!(s.install_time, Some(13_350_000_000 - 11_644_473_600));
        assert_eq!(setting(&json!({"location": 99})).location.as_deref(), Some("99"));
        assert_eq!(chrome_time(&json!("garbage")), None);
        assert_eq!(chrome_time(&json!("0")), None);
    }

    #[test]
    fn lenient_json_accepts_what_chrome_accepts() {
        let v =
            parse_lenient(b"\xEF\xBB\xBF{ // c\n \"a\": \"x // not a comment\", /* b */ \"b\": [1, 2,], }").unwrap();
        assert_eq!(v, json!({"a": "x // not a comment", "b": [1, 2]}));
        assert_eq!(parse_lenient(br#"{"s": "a\"b,}"}"#).unwrap(), json!({"s": "a\"b,}"}));
        assert!(parse_lenient(b"{\"a\": ").is_err());
        assert!(parse_lenient(b"\xff\xfe{}").is_err());
        assert!(parse_lenient(b"/* unterminated").is_err());
    }

    /// Found in the security review: one extension's settings nested deeper
    /// than serde_json's 128 levels failed the whole Preferences file, and a
    /// manifest with one deep member no row needs hid its extension (Chrome
    /// itself parses 200 levels). Now only the deep entry is lost.
    #[test]
    fn deep_members_lose_only_their_own_record() {
        let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
        let kp = "ahkjpbeeocnddjkakilopmfdlnjdpcdm";
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("Default");
        let version_dir = profile.join(format!("Extensions/{kp}/1.0_0"));
        std::fs::create_dir_all(&version_dir).unwrap();
        std::fs::write(
            version_dir.join("manifest.json"),
            format!(r#"{{"name": "Kaspersky Protection", "version": "1.0", "content_scripts": {deep}, "permissions": ["tabs", {deep}],}}"#),
        )
        .unwrap();
        std::fs::write(
            profile.join("Preferences"),
            format!(
                r#"{{"other": {deep}, "extensions": {{"settings": {{
                    "{kp}": {{"state": 0, "x-junk": {deep}, "location": 1}},
                    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": {deep},
                    "cccccccccccccccccccccccccccccccc": {{"state": 1, "install_time": {deep}}},
                    "dddddddddddddddddddddddddddddddd": {{"disable_reasons": [1]}}
                }}}}}}"#
            ),
        )
        .unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut errors = Vec::new();
        let mut found = Vec::new();
        read_extensions(&root, "/Default", None, |e| found.push(e), |e| errors.push(e)).unwrap();
        assert_eq!(found.len(), 1, "{errors:?}");
        assert_eq!(
            (found[0].name.as_deref(), found[0].permissions.as_slice()),
            (Some("Kaspersky Protection"), &["tabs".to_string()][..])
        );
        let settings = read_settings(&root, "/Default", |e| errors.push(e));
        assert_eq!(settings[kp].enabled, Some(false));
        assert_eq!(settings[kp].location.as_deref(), Some("internal"));
        assert_eq!(settings["dddddddddddddddddddddddddddddddd"].enabled, Some(false));
        let c = &settings["cccccccccccccccccccccccccccccccc"];
        assert_eq!((c.enabled, c.install_time), (Some(true), None));
        assert_eq!(settings.len(), 3, "{settings:?}");
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.starts_with("extensions.settings.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb is skipped"))
        );
        assert!(messages.iter().any(|m| m.starts_with("extensions.settings.cccccccccccccccccccccccccccccccc.install_time is left out")));
    }

    /// A manifest padded past the old 4 MiB limit hid its extension.
    #[test]
    fn a_padded_manifest_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let version_dir = dir.path().join("Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/1.0_0");
        std::fs::create_dir_all(&version_dir).unwrap();
        let mut manifest = br#"{"name": "Kaspersky Protection", "description": ""#.to_vec();
        manifest.resize(manifest.len() + (5 << 20), b'x');
        manifest.extend_from_slice(br#"", "version": "1.0"}"#);
        std::fs::write(version_dir.join("manifest.json"), manifest).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut found = Vec::new();
        read_extensions(&root, "/Default", None, |e| found.push(e), |e| panic!("{e}")).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_deref(), Some("Kaspersky Protection"));
    }

    /// Writes one extension version directory (manifest, and `messages` as
    /// `_locales/en/messages.json` when given) and reads it.
    fn read_one(manifest: &[u8], messages: Option<&[u8]>) -> (Extension, Vec<FsError>) {
        let dir = tempfile::tempdir().unwrap();
        let version = "/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/1.0_0";
        let on_disk = dir.path().join(&version[1..]);
        std::fs::create_dir_all(on_disk.join("_locales/en")).unwrap();
        std::fs::write(on_disk.join("manifest.json"), manifest).unwrap();
        if let Some(m) = messages {
            std::fs::write(on_disk.join("_locales/en/messages.json"), m).unwrap();
        }
        let mut errors = Vec::new();
        let root = Root::new(dir.path()).unwrap();
        let ext = read_manifest(&root, version, "ahkjpbeeocnddjkakilopmfdlnjdpcdm", &mut |e| errors.push(e)).unwrap();
        (ext.unwrap(), errors)
    }

    fn text_len(e: &Extension) -> usize {
        [&e.name, &e.version, &e.description, &e.author].iter().filter_map(|f| f.as_deref()).map(str::len).sum()
    }

    /// Found by the chromium_manifest fuzz target: every reference to one
    /// long message was replaced in full, so 2000 references to a 32 KiB
    /// message made a 64 MB name from 50 KB of files (1.4 MB of files asked
    /// for 3.7 GB). Now the name keeps the start of its expansion, the rest
    /// of the row is intact and a too_large row says why.
    #[test]
    fn msg_references_cannot_multiply_a_row() {
        let message = format!("Kaspersky Protection {}", "x".repeat(32 << 10));
        let messages = format!(r#"{{"appName": {{"message": "{message}"}}}}"#);
        let manifest = format!(
            r#"{{"name": "{} tail", "description": "__MSG_appName__", "version": "1.0",
                "default_locale": "en", "permissions": ["tabs"]}}"#,
            "__MSG_appName__".repeat(2000)
        );
        let (ext, errors) = read_one(manifest.as_bytes(), Some(messages.as_bytes()));
        let files = manifest.len() + messages.len();
        assert!(text_len(&ext) <= 8 * files, "{} bytes of fields from {files} bytes of files", text_len(&ext));
        let name = ext.name.as_deref().unwrap();
        assert!(name.starts_with(&format!("{message}Kaspersky Protection x")), "{}", &name[..64]);
        assert!(name.ends_with("__MSG_appName__ tail"));
        assert_eq!(ext.description.as_deref(), Some(message.as_str()));
        assert_eq!((ext.version.as_deref(), ext.permissions.as_slice()), (Some("1.0"), &["tabs".to_string()][..]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].kind, errors[0].path.as_str()), (ErrorKind::TooLarge, ext.manifest_path.as_str()));
    }

    /// The fuzzer's own reproducer, held to the target's bound.
    #[test]
    fn the_amplification_reproducer_stays_within_the_fuzz_bound() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/chromium_manifest/msg-amplification");
        let data = std::fs::read(path).unwrap();
        let nul = data.iter().position(|&b| b == 0).unwrap();
        let (ext, errors) = read_one(&data[..nul], Some(&data[nul + 1..]));
        assert!(text_len(&ext) <= 8 * data.len() + 64, "{} bytes from {}", text_len(&ext), data.len());
        assert_eq!(errors.iter().map(|e| e.kind).collect::<Vec<_>>(), [ErrorKind::TooLarge]);
    }

    #[test]
    fn real_sized_messages_expand_in_full() {
        let messages = br#"{"n": {"message": "Kaspersky Protection"}, "d": {"message": "Blocks ads"}}"#;
        let manifest = br#"{"name": "__MSG_n__", "description": "__MSG_n__: __MSG_d__, by __MSG_n__",
            "author": "__MSG_n__", "default_locale": "en"}"#;
        let (ext, errors) = read_one(manifest, Some(messages));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(ext.name.as_deref(), Some("Kaspersky Protection"));
        assert_eq!(ext.description.as_deref(), Some("Kaspersky Protection: Blocks ads, by Kaspersky Protection"));
        assert_eq!(ext.author.as_deref(), Some("Kaspersky Protection"));
    }

    #[test]
    fn a_cut_message_ends_on_a_character() {
        let m: Messages = [("m".to_string(), "ééé".to_string())].into();
        let mut budget = 3;
        assert_eq!(localize("a__MSG_m__b__MSG_m__", &m, &mut budget), ("aéb__MSG_m__".to_string(), false));
        assert_eq!(budget, 0);
        let mut budget = 7;
        assert_eq!(localize("__MSG_m__|__MSG_x__", &m, &mut budget), ("ééé|__MSG_x__".to_string(), true));
        assert_eq!(budget, 1);
    }
}
