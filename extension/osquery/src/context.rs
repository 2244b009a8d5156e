//! osquery's query context (the `context` JSON of a `generate` request)
//! into the typed query every surface builds.
//!
//! The shape is `TablePlugin::setRequestFromContext`'s:
//! `{"constraints":[{"name":C,"list":[{"op":2,"expr":"v"}],"affinity":T}],"colsUsed":[…]}`,
//! every column listed, `list` empty where unconstrained, an `IN (a, b)` as
//! several op-2 entries (hence [`Folding::Union`]). Parsed leniently, as
//! osquery-go does: osquery before 3.0 sent `op` as a string and an empty
//! `list` as `""`. Only `=` (op 2) reaches the generator, and only on index
//! columns ([`Builder`] decides); every other operator is a hint osquery
//! re-checks on the rows anyway.

use embargo_tables::query::{Builder, Folding, MissingRequired, Op};
use embargo_tables::{Query, TableSpec, Value};
use serde_json::Value as Json;

/// osquery's `EQUALS` operator code.
const EQUALS: i64 = 2;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("the query context is not JSON: {0}")]
    NotJson(String),
    #[error("the query context is not osquery's: {0}")]
    Shape(String),
    #[error("{table} has no column {column:?} (named in the query context)")]
    UnknownColumn { table: &'static str, column: String },
    #[error(transparent)]
    MissingRequired(#[from] MissingRequired),
}

/// The query `context` asks of the table `spec`; no context at all asks
/// for every row.
pub fn query(spec: &'static TableSpec, context: Option<&str>) -> Result<Query, ContextError> {
    let mut builder = Builder::new(spec, Folding::Union);
    let context = context.map(str::trim).filter(|c| !c.is_empty());
    if let Some(text) = context {
        let json: Json = serde_json::from_str(text).map_err(|e| ContextError::NotJson(e.to_string()))?;
        let Json::Object(top) = json else { return Err(ContextError::Shape("not an object".into())) };
        match top.get("constraints") {
            None | Some(Json::Null) => {}
            Some(Json::String(s)) if s.is_empty() => {}
            Some(Json::Array(list)) => {
                for c in list {
                    push_column(&mut builder, spec, c)?;
                }
            }
            Some(_) => return Err(ContextError::Shape("`constraints` is not a list".into())),
        }
    }
    Ok(builder.build()?)
}

fn push_column(builder: &mut Builder<'_>, spec: &'static TableSpec, c: &Json) -> Result<(), ContextError> {
    let Json::Object(c) = c else { return Err(ContextError::Shape("a constraint is not an object".into())) };
    let Some(Json::String(name)) = c.get("name") else {
        return Err(ContextError::Shape("a constraint has no `name`".into()));
    };
    let Some(column) = spec.column_index(name) else {
        return Err(ContextError::UnknownColumn { table: spec.name, column: name.clone() });
    };
    let entries = match c.get("list") {
        None | Some(Json::Null) => return Ok(()),
        Some(Json::String(s)) if s.is_empty() => return Ok(()),
        Some(Json::Array(entries)) => entries,
        Some(_) => return Err(ContextError::Shape(format!("the `list` of {name:?} is not a list"))),
    };
    for e in entries {
        let Json::Object(e) = e else {
            return Err(ContextError::Shape(format!("an entry of {name:?} is not an object")));
        };
        let op = match e.get("op") {
            Some(Json::Number(n)) => n.as_i64(),
            Some(Json::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(op) = op else { return Err(ContextError::Shape(format!("an entry of {name:?} has no numeric `op`"))) };
        if op != EQUALS {
            continue;
        }
        let value = match e.get("expr") {
            Some(Json::String(s)) => Value::Text(s.clone()),
            // osquery always sends a string; an integer is taken as its text.
            Some(Json::Number(n)) if n.is_i64() || n.is_u64() => Value::Text(n.to_string()),
            // `= NULL` matches nothing; handed on, it lets the generator skip all.
            Some(Json::Null) | None => Value::Null,
            Some(_) => return Err(ContextError::Shape(format!("an `expr` of {name:?} is not a string"))),
        };
        builder.push(column, Op::Eq, [value]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use embargo_tables::tables;

    fn spec(name: &str) -> &'static TableSpec {
        tables::find(name).unwrap().spec()
    }

    fn texts<'a>(q: &'a Query, column: &str) -> Option<Vec<&'a str>> {
        q.texts(column).map(|t| t.iter().map(String::as_str).collect())
    }

    #[test]
    fn equals_on_an_index_column_reaches_the_generator_and_others_are_hints() {
        let ctx = r#"{"constraints":[
            {"name":"source","list":[{"op":2,"expr":"deb"}],"affinity":"TEXT"},
            {"name":"size","list":[{"op":4,"expr":"0"}],"affinity":"BIGINT"},
            {"name":"name","list":[{"op":65,"expr":"kasp%"}],"affinity":"TEXT"},
            {"name":"version","list":[],"affinity":"TEXT"}],
            "colsUsed":["name","source"],"colsUsedBitset":9}"#;
        let q = query(spec("installed_software"), Some(ctx)).unwrap();
        assert_eq!(texts(&q, "source"), Some(vec!["deb"]));
        assert!(!q.restricts("size") && !q.restricts("name") && !q.restricts("version"));
    }

    /// osquery hands `IN ('deb', 'rpm')` as two op-2 entries: one IN.
    #[test]
    fn several_equals_on_a_column_are_one_in() {
        let ctx = r#"{"constraints":[{"name":"source","list":[{"op":2,"expr":"deb"},{"op":2,"expr":"rpm"},{"op":2,"expr":"deb"}],"affinity":"TEXT"}]}"#;
        let q = query(spec("installed_software"), Some(ctx)).unwrap();
        assert_eq!(texts(&q, "source"), Some(vec!["deb", "rpm"]));
    }

    /// osquery before 3.0: `op` as a string, an empty `list` as "".
    #[test]
    fn old_osquery_contexts_are_read() {
        let ctx = r#"{"constraints":[{"name":"source","list":[{"op":"2","expr":"rpm"}],"affinity":"TEXT"},
                                     {"name":"name","list":"","affinity":"TEXT"}]}"#;
        let q = query(spec("installed_software"), Some(ctx)).unwrap();
        assert_eq!(texts(&q, "source"), Some(vec!["rpm"]));
        assert!(!q.restricts("name"));
        assert!(query(spec("installed_software"), Some(r#"{"constraints":""}"#)).unwrap().is_all());
        assert!(query(spec("installed_software"), Some("{}")).unwrap().is_all());
        assert!(query(spec("installed_software"), None).unwrap().is_all());
        assert!(query(spec("installed_software"), Some("")).unwrap().is_all());
    }

    #[test]
    fn an_unknown_column_is_named() {
        let ctx = r#"{"constraints":[{"name":"colour","list":[{"op":2,"expr":"red"}],"affinity":"TEXT"}]}"#;
        let err = query(spec("installed_software"), Some(ctx)).unwrap_err();
        assert_eq!(err, ContextError::UnknownColumn { table: "installed_software", column: "colour".into() });
        assert!(err.to_string().contains("\"colour\""), "{err}");
    }

    #[test]
    fn what_is_not_osquerys_context_is_an_error() {
        let s = spec("installed_software");
        assert!(matches!(query(s, Some("{not json")), Err(ContextError::NotJson(_))));
        assert!(matches!(query(s, Some("[1,2]")), Err(ContextError::Shape(_))));
        assert!(matches!(query(s, Some(r#"{"constraints":7}"#)), Err(ContextError::Shape(_))));
        assert!(matches!(query(s, Some(r#"{"constraints":[{"list":[]}]}"#)), Err(ContextError::Shape(_))));
        assert!(matches!(
            query(s, Some(r#"{"constraints":[{"name":"name","list":[{"op":"eq","expr":"x"}]}]}"#)),
            Err(ContextError::Shape(_))
        ));
    }

    /// The same text as every other surface: the engine's MissingRequired.
    #[test]
    fn a_required_column_without_equals_is_the_engines_error() {
        let s = spec("file_presence");
        let expected = Builder::new(s, Folding::Union).build().unwrap_err();
        let ctx = r#"{"constraints":[{"name":"path","list":[{"op":65,"expr":"/opt/%"}],"affinity":"TEXT"}]}"#;
        assert_eq!(query(s, Some(ctx)).unwrap_err(), ContextError::MissingRequired(expected.clone()));
        assert_eq!(query(s, Some(ctx)).unwrap_err().to_string(), expected.to_string());
        let ok = r#"{"constraints":[{"name":"path","list":[{"op":2,"expr":"/opt/a"},{"op":2,"expr":"/opt/b"}],"affinity":"TEXT"}]}"#;
        assert_eq!(texts(&query(s, Some(ok)).unwrap(), "path"), Some(vec!["/opt/a", "/opt/b"]));
    }
}
