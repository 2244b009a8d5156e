//! Reading one vendor file: TOML into raw structs that keep spans, then
//! checked field by field into the typed model.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::error::{CatalogError, Problem};
use crate::pattern::Matcher;
use crate::vocab::{Confidence, Kind, MatchKind, Platform, Scope};
use crate::{Authority, Entity, Indicator, Vendor};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVendor {
    id: Spanned<String>,
    name: Spanned<String>,
    banned: bool,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    entities: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    authorities: Vec<Spanned<RawAuthority>>,
    #[serde(default)]
    indicators: Vec<Spanned<RawIndicator>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    name: Spanned<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    role: Option<String>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthority {
    name: Spanned<String>,
    citation: String,
    scope: Spanned<String>,
    #[serde(default)]
    effective_date: Option<Spanned<String>>,
    #[serde(default)]
    updates_end_date: Option<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
    source: Spanned<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    kind: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(rename = "match")]
    match_kind: Spanned<String>,
    platform: Spanned<String>,
    confidence: Spanned<String>,
    source: Spanned<String>,
    #[serde(default)]
    note: Option<String>,
}

/// Parses and checks one vendor file. `file` names it in errors.
pub(crate) fn vendor_from_str(file: &str, text: &str) -> Result<Vendor, CatalogError> {
    let at = Locator { file, text };
    let raw: RawVendor = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| at.line(s.start));
        CatalogError::new(file, Problem::Syntax { message: e.message().trim().to_string() }).at(line, None)
    })?;

    let id = raw.id.get_ref();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(at.error(
            &raw.id,
            "id",
            Problem::BadValue {
                what: "vendor id",
                value: id.clone(),
                reason: "use lowercase letters, digits and `_`".into(),
            },
        ));
    }
    non_empty(&at, &raw.name, "name")?;

    let mut entities = Vec::new();
    for (i, e) in raw.entities.iter().enumerate() {
        let e = e.get_ref();
        non_empty(&at, &e.name, &format!("entities[{i}].name"))?;
        non_empty(&at, &e.source, &format!("entities[{i}].source"))?;
        entities.push(Entity {
            name: e.name.get_ref().clone(),
            country: e.country.clone(),
            role: e.role.clone(),
            source: e.source.get_ref().clone(),
        });
    }

    let mut authorities = Vec::new();
    for (i, a) in raw.authorities.iter().enumerate() {
        let a = a.get_ref();
        let field = |f: &str| format!("authorities[{i}].{f}");
        non_empty(&at, &a.name, &field("name"))?;
        non_empty(&at, &a.source, &field("source"))?;
        let scope = word(&at, &a.scope, &field("scope"), "scope", Scope::parse, Scope::expected)?;
        let effective_date = date(&at, a.effective_date.as_ref(), &field("effective_date"))?;
        let updates_end_date = date(&at, a.updates_end_date.as_ref(), &field("updates_end_date"))?;
        if let Some(url) = &a.url {
            let u = url.get_ref();
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(char::is_whitespace) {
                return Err(at.error(
                    url,
                    &field("url"),
                    Problem::BadValue { what: "url", value: u.clone(), reason: "one http(s) address".into() },
                ));
            }
        }
        authorities.push(Authority {
            name: a.name.get_ref().clone(),
            citation: a.citation.clone(),
            scope,
            effective_date,
            updates_end_date,
            url: a.url.as_ref().map(|u| u.get_ref().clone()),
            source: a.source.get_ref().clone(),
            note: a.note.clone(),
        });
    }

    let mut indicators: Vec<Indicator> = Vec::with_capacity(raw.indicators.len());
    // Each indicator's identity, for the duplicate check: a scan over the
    // ones before made loading quadratic (300k indicators took minutes).
    let mut seen: HashMap<(Kind, MatchKind, Platform, String), usize> = HashMap::with_capacity(raw.indicators.len());
    for (i, spanned) in raw.indicators.iter().enumerate() {
        let r = spanned.get_ref();
        let field = |f: &str| format!("indicators[{i}].{f}");
        let kind = word(&at, &r.kind, &field("kind"), "kind", Kind::parse, Kind::expected)?;
        let match_kind = word(&at, &r.match_kind, &field("match"), "match", MatchKind::parse, MatchKind::expected)?;
        let platform = word(&at, &r.platform, &field("platform"), "platform", Platform::parse, Platform::expected)?;
        let confidence =
            word(&at, &r.confidence, &field("confidence"), "confidence", Confidence::parse, Confidence::expected)?;
        non_empty(&at, &r.source, &field("source"))?;
        let pattern = r.pattern.get_ref();
        let matcher = Matcher::compile(match_kind, pattern).map_err(|p| at.error(&r.pattern, &field("pattern"), p))?;
        if kind == Kind::Path {
            check_path(pattern, match_kind).map_err(|p| at.error(&r.pattern, &field("pattern"), p))?;
        }
        match seen.entry((kind, match_kind, platform, pattern.to_ascii_lowercase())) {
            Entry::Occupied(first) => {
                let first = *first.get();
                return Err(at.error(spanned, &format!("indicators[{i}]"), Problem::DuplicateIndicator { first }));
            }
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
        indicators.push(Indicator {
            kind,
            pattern: pattern.clone(),
            match_kind,
            platform,
            confidence,
            source: r.source.get_ref().clone(),
            note: r.note.clone(),
            matcher,
        });
    }

    Ok(Vendor {
        id: id.clone(),
        name: raw.name.get_ref().clone(),
        banned: raw.banned,
        note: raw.note,
        entities,
        authorities,
        indicators,
        file: file.to_string(),
        id_line: at.line(raw.id.span().start),
    })
}

/// `path` indicators are looked up one by one in `file_presence`, so each
/// must be one concrete path in the contract's form.
fn check_path(pattern: &str, match_kind: MatchKind) -> Result<(), Problem> {
    let bad = |reason: &str| Problem::BadValue { what: "path indicator", value: pattern.into(), reason: reason.into() };
    if match_kind != MatchKind::Exact {
        return Err(bad("path indicators use match = \"exact\" (file_presence looks each one up)"));
    }
    if !pattern.starts_with('/') || pattern.contains('\\') {
        return Err(bad("write root-relative POSIX form: `/ProgramData/Kaspersky Lab`, not `C:\\ProgramData\\…`"));
    }
    if pattern.len() > 1 && pattern.ends_with('/') {
        return Err(bad("drop the trailing `/`"));
    }
    Ok(())
}

struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn error<T>(&self, at: &Spanned<T>, field: &str, problem: Problem) -> CatalogError {
        CatalogError::new(self.file, problem).at(Some(self.line(at.span().start)), Some(field.to_string()))
    }
}

fn non_empty(at: &Locator<'_>, value: &Spanned<String>, field: &str) -> Result<(), CatalogError> {
    if value.get_ref().trim().is_empty() {
        return Err(at.error(value, field, Problem::EmptyField));
    }
    Ok(())
}

fn word<T>(
    at: &Locator<'_>,
    value: &Spanned<String>,
    field: &str,
    what: &'static str,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
) -> Result<T, CatalogError> {
    parse(value.get_ref()).ok_or_else(|| {
        at.error(value, field, Problem::UnknownWord { what, value: value.get_ref().clone(), expected: expected() })
    })
}

fn date(at: &Locator<'_>, value: Option<&Spanned<String>>, field: &str) -> Result<Option<Date>, CatalogError> {
    let Some(value) = value else { return Ok(None) };
    Date::parse_iso(value.get_ref()).map(Some).map_err(|message| at.error(value, field, Problem::BadDate { message }))
}
