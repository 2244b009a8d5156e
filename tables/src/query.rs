//! The constraints a query hands to a generator.
//!
//! Only `=` and `IN` on `index` or `required` columns arrive here; every other
//! predicate stays with SQLite, which re-checks all of them anyway. A generator
//! may therefore treat constraints as a promise of what will be asked, and skip
//! whole sources that cannot match.

use crate::spec::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub column: &'static str,
    /// The values the column must equal one of: one for `=`, several for `IN`.
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub constraints: Vec<Constraint>,
}

impl Query {
    pub fn all() -> Self {
        Query::default()
    }

    pub fn with(mut self, column: &'static str, values: Vec<Value>) -> Self {
        self.constraints.push(Constraint { column, values });
        self
    }

    /// The text values `column` may take, or `None` when the query does not
    /// restrict it. Several constraints on one column intersect.
    pub fn texts(&self, column: &str) -> Option<Vec<String>> {
        let mut allowed: Option<Vec<String>> = None;
        for c in self.constraints.iter().filter(|c| c.column == column) {
            let vals: Vec<String> = c
                .values
                .iter()
                .filter_map(|v| match v {
                    Value::Text(s) => Some(s.clone()),
                    Value::Integer(i) => Some(i.to_string()),
                    _ => None,
                })
                .collect();
            allowed = Some(match allowed {
                None => vals,
                Some(prev) => prev.into_iter().filter(|p| vals.contains(p)).collect(),
            });
        }
        allowed
    }

    /// Whether rows whose `column` is `value` can be wanted.
    pub fn admits(&self, column: &str, value: &str) -> bool {
        self.texts(column).is_none_or(|vals| vals.iter().any(|v| v == value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_on_one_column_intersect() {
        let q = Query::all()
            .with("source", vec![Value::Text("deb".into()), Value::Text("rpm".into())])
            .with("source", vec![Value::Text("rpm".into())]);
        assert_eq!(q.texts("source"), Some(vec!["rpm".to_string()]));
        assert!(q.admits("source", "rpm"));
        assert!(!q.admits("source", "deb"));
        assert!(q.admits("name", "anything"));
    }
}
