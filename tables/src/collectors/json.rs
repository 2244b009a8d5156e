//! JSON documents made of many records (Firefox's add-ons database, snapd's
//! state, Chromium's preferences), read so that one bad record loses only
//! itself.
//!
//! serde_json stops at 128 levels of nesting and fails the whole document,
//! so one add-on nested 129 arrays deep used to hide every add-on of its
//! profile. Here an object's members are first split unparsed (skipping a
//! value is iterative in serde_json and has no depth limit), and each member
//! a collector asks for is parsed on its own, with its own depth budget: a
//! member too deep to parse is absent and reported, its siblings are not.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

/// How much of a browser's JSON document (extensions.json, Preferences) is
/// read: splitting is linear and builds no tree, so this can be well above
/// the default read limit that padding would otherwise push a profile past.
pub const DOC_LIMIT: u64 = 256 << 20;

/// One JSON object, its members still unparsed.
#[derive(Clone, Debug)]
pub struct Object<'a> {
    members: BTreeMap<String, &'a RawValue>,
}

/// Why a member could not be had.
pub type Problem = String;

impl<'a> Object<'a> {
    /// Splits `text`, which must be one JSON object. A repeated key keeps
    /// its last value, as JavaScript's `JSON.parse` and Go's decoder do.
    pub fn parse(text: &'a str) -> Result<Self, Problem> {
        serde_json::from_str::<BTreeMap<String, &'a RawValue>>(text)
            .map(|members| Object { members })
            .map_err(|e| e.to_string())
    }

    /// [`Object::parse`] of a member's raw text.
    pub fn of(raw: &'a RawValue) -> Result<Self, Problem> {
        Object::parse(raw.get())
    }

    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.members.get(key).copied()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.members.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// A member parsed as a value: `None` when absent, `Err` when nested
    /// too deep to parse.
    pub fn value(&self, key: &str) -> Option<Result<Value, Problem>> {
        self.raw(key).map(value)
    }

    /// A member that is an object, split in turn; `None` when absent or not an object.
    pub fn object(&self, key: &str) -> Option<Object<'a>> {
        let raw = self.raw(key)?;
        raw.get().starts_with('{').then(|| Object::of(raw).ok()).flatten()
    }

    /// A member that is an array, its elements unparsed; `None` when absent or not an array.
    pub fn array(&self, key: &str) -> Option<Vec<&'a RawValue>> {
        array(self.raw(key)?)
    }

    pub fn str(&self, key: &str) -> Option<String> {
        serde_json::from_str(self.raw(key)?.get()).ok()
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        serde_json::from_str(self.raw(key)?.get()).ok()
    }

    pub fn i64(&self, key: &str) -> Option<i64> {
        serde_json::from_str(self.raw(key)?.get()).ok()
    }
}

/// An unparsed value parsed, with a fresh depth budget.
pub fn value(raw: &RawValue) -> Result<Value, Problem> {
    serde_json::from_str(raw.get()).map_err(|e| e.to_string())
}

/// The elements of an array, unparsed; `None` when `raw` is not an array.
pub fn array(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// The string elements of an array member, others skipped.
pub fn strings(raw: Option<&RawValue>) -> Vec<String> {
    raw.and_then(array)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| serde_json::from_str::<String>(e.get()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[` repeated `n` times, then as many `]`.
    pub fn nested(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn a_member_too_deep_fails_alone() {
        let text =
            format!(r#"{{"a": "x", "deep": {}, "list": ["s", {}, 5, "t"], "a": "last"}}"#, nested(5000), nested(200));
        assert!(serde_json::from_str::<Value>(&text).is_err(), "serde_json refuses the whole document");
        let o = Object::parse(&text).unwrap();
        assert_eq!(o.str("a").as_deref(), Some("last"));
        assert!(o.value("deep").unwrap().is_err());
        assert_eq!(strings(o.raw("list")), ["s", "t"]);
        assert_eq!(o.array("list").unwrap().len(), 4);
        assert!(o.object("a").is_none() && o.array("a").is_none() && o.value("missing").is_none());
        assert!(Object::parse("[1]").is_err() && Object::parse("{").is_err());
    }
}
