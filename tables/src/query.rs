//! The constraints a query hands to a generator, and the one policy that
//! turns a surface's constraints into them.
//!
//! Every surface (the SQLite virtual tables, the osquery extension) gives
//! [`Builder`] what it was asked as (column, operator, values). Only `=` and
//! `IN` on `index` or `required` columns are kept; every other predicate stays
//! with the surface, which re-checks all of them on every row anyway. A
//! generator may therefore treat constraints as a promise of what will be
//! asked, and skip whole sources that cannot match, but a query can never be
//! made wrong by a generator that ignores them.
//!
//! Surfaces differ in what several constraints on one column mean, so they
//! say it ([`Folding`]): two SQLite `=` constraints on a column are both true
//! of a row (an intersection), where osquery hands an `IN` list as several `=`
//! entries (a union). Either way the generator sees one allowed set per
//! column, precomputed so that [`Query::admits`] costs no allocation.

use std::collections::HashSet;

use crate::spec::{TableSpec, Value};

/// A constraint's operator, as far as generators care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `column = value`.
    Eq,
    /// `column IN (values)`, handed over as one list.
    In,
    /// Anything else (`<`, `LIKE`, `GLOB`, `IS NULL`, …): never reaches a
    /// generator; the surface checks it.
    Other,
}

/// What several constraints on one column mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folding {
    /// Each is a condition of its own, all true of a wanted row (SQLite:
    /// `WHERE a = 1 AND a IN (1, 2)`): the allowed values intersect.
    Intersect,
    /// They are alternatives (osquery hands `a IN (1, 2)` as two `=`
    /// entries): the allowed values unite, as one `IN`.
    Union,
}

/// A column named by its position in the declaration or by its name.
#[derive(Clone, Copy, Debug)]
pub enum ColumnRef<'a> {
    Index(usize),
    Name(&'a str),
}

impl From<usize> for ColumnRef<'_> {
    fn from(i: usize) -> Self {
        ColumnRef::Index(i)
    }
}

impl<'a> From<&'a str> for ColumnRef<'a> {
    fn from(name: &'a str) -> Self {
        ColumnRef::Name(name)
    }
}

impl ColumnRef<'_> {
    fn index(self, spec: &TableSpec) -> Option<usize> {
        match self {
            ColumnRef::Index(i) => (i < spec.columns.len()).then_some(i),
            ColumnRef::Name(name) => spec.column_index(name),
        }
    }
}

/// Whether a constraint on `column` with `op` reaches the generator.
pub fn pushable(spec: &TableSpec, column: usize, op: Op) -> bool {
    matches!(op, Op::Eq | Op::In) && spec.columns.get(column).is_some_and(|c| c.options.index || c.options.required)
}

/// A table read without a constraint that one of its required columns needs.
/// The text is what every surface shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{table} needs a constraint `{column} = ...` or `{column} IN (...)` (a required column), e.g. {example}")]
pub struct MissingRequired {
    pub table: &'static str,
    pub column: &'static str,
    /// The table's first example, which shows such a constraint.
    pub example: &'static str,
}

impl MissingRequired {
    fn of(spec: &TableSpec, column: usize) -> Self {
        MissingRequired {
            table: spec.name,
            column: spec.columns[column].name,
            example: spec.examples.first().copied().unwrap_or(""),
        }
    }
}

/// One constraint a planner is offered before its value is known (SQLite's
/// `xBestIndex`).
#[derive(Clone, Copy, Debug)]
pub struct Offer {
    pub column: usize,
    pub op: Op,
    /// Whether the surface can hand its value over (SQLite: not for a join
    /// column whose table comes later in this plan).
    pub usable: bool,
}

/// Which offered constraints to hand to the generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Positions in the offers, in order.
    pub pushed: Vec<usize>,
    /// A required column no pushed constraint covers: the plan cannot be run
    /// ([`Builder::build`] would refuse it), so a planner should price it out.
    pub missing_required: Option<usize>,
}

/// Chooses the offers to push: the usable `=`/`IN` on index columns. When
/// constraints intersect, one per column is enough (any one of them allows
/// a superset of the rows wanted, and the surface re-checks the others); when
/// they unite, each adds values and all are kept.
pub fn plan(spec: &TableSpec, folding: Folding, offers: &[Offer]) -> Plan {
    let mut pushed: Vec<usize> = Vec::new();
    for (i, o) in offers.iter().enumerate() {
        if !o.usable || !pushable(spec, o.column, o.op) {
            continue;
        }
        if folding == Folding::Intersect && pushed.iter().any(|&p| offers[p].column == o.column) {
            continue;
        }
        pushed.push(i);
    }
    let missing_required = spec
        .columns
        .iter()
        .enumerate()
        .position(|(c, col)| col.options.required && !pushed.iter().any(|&p| offers[p].column == c));
    Plan { pushed, missing_required }
}

/// Turns a surface's constraints into a [`Query`] for one table.
pub struct Builder<'s> {
    spec: &'s TableSpec,
    folding: Folding,
    /// Per column of the declaration, the allowed texts once constrained.
    allowed: Vec<Option<Vec<String>>>,
}

impl<'s> Builder<'s> {
    pub fn new(spec: &'s TableSpec, folding: Folding) -> Self {
        Builder { spec, folding, allowed: vec![None; spec.columns.len()] }
    }

    /// Adds one constraint: for [`Op::Eq`] its one value, for [`Op::In`] the
    /// list. Returns whether it reaches the generator; one that does not
    /// (another operator, a column that is not `index`, an unknown column)
    /// is the surface's alone to check.
    pub fn push<'c>(
        &mut self,
        column: impl Into<ColumnRef<'c>>,
        op: Op,
        values: impl IntoIterator<Item = Value>,
    ) -> bool {
        let Some(column) = column.into().index(self.spec) else { return false };
        if !pushable(self.spec, column, op) {
            return false;
        }
        let slot = &mut self.allowed[column];
        *slot = Some(fold(slot.take(), texts_of(values), self.folding));
        true
    }

    /// The query, or the error every surface reports when a required column
    /// has no `=` or `IN`.
    pub fn build(self) -> Result<Query, MissingRequired> {
        let spec = self.spec;
        if let Some(c) =
            spec.columns.iter().enumerate().position(|(i, c)| c.options.required && self.allowed[i].is_none())
        {
            return Err(MissingRequired::of(spec, c));
        }
        let mut q = Query::all();
        for (i, allowed) in self.allowed.into_iter().enumerate() {
            if let Some(texts) = allowed {
                q.insert(Constraint::new(spec.columns[i].name, texts));
            }
        }
        Ok(q)
    }
}

/// What a column may take after one more constraint on it.
fn fold(prev: Option<Vec<String>>, texts: Vec<String>, folding: Folding) -> Vec<String> {
    match (prev, folding) {
        (None, _) => texts,
        (Some(mut prev), Folding::Intersect) => {
            let texts: HashSet<&str> = texts.iter().map(String::as_str).collect();
            prev.retain(|p| texts.contains(p.as_str()));
            prev
        }
        (Some(mut prev), Folding::Union) => {
            let mut seen: HashSet<String> = prev.iter().cloned().collect();
            prev.extend(texts.into_iter().filter(|t| seen.insert(t.clone())));
            prev
        }
    }
}

/// The values as text, each once, in order: integers written out; NULL,
/// reals and blobs dropped, as no text equals them.
fn texts_of(values: impl IntoIterator<Item = Value>) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .into_iter()
        .filter_map(|v| match v {
            Value::Text(s) => Some(s),
            Value::Integer(i) => Some(i.to_string()),
            _ => None,
        })
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// The values one column may take.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Constraint {
    pub column: &'static str,
    /// In the order the surface gave them, each once.
    texts: Vec<String>,
    /// Positions in `texts`, sorted by text, for [`Query::admits`].
    sorted: Vec<u32>,
}

impl Constraint {
    fn new(column: &'static str, texts: Vec<String>) -> Self {
        let mut sorted: Vec<u32> = (0..texts.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| texts[a as usize].cmp(&texts[b as usize]));
        Constraint { column, texts, sorted }
    }

    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    fn contains(&self, value: &str) -> bool {
        self.sorted.binary_search_by(|&i| self.texts[i as usize].as_str().cmp(value)).is_ok()
    }
}

/// What a generator is asked: at most one [`Constraint`] per column, kept in
/// column-name order so that equal queries compare (and hash) equal, which
/// the row cache relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Query {
    constraints: Vec<Constraint>,
}

impl Query {
    pub fn all() -> Self {
        Query::default()
    }

    /// Whether no column is constrained: the generator makes every row.
    pub fn is_all(&self) -> bool {
        self.constraints.is_empty()
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Adds `column IN (values)` to what the query already asks (an
    /// intersection, as `AND`). For tests and for tables that read other
    /// tables; surfaces use [`Builder`].
    pub fn with(mut self, column: &'static str, values: Vec<Value>) -> Self {
        let prev = self.get(column).map(|c| c.texts.clone());
        self.insert(Constraint::new(column, fold(prev, texts_of(values), Folding::Intersect)));
        self
    }

    fn insert(&mut self, c: Constraint) {
        match self.constraints.binary_search_by(|x| x.column.cmp(c.column)) {
            Ok(i) => self.constraints[i] = c,
            Err(i) => self.constraints.insert(i, c),
        }
    }

    fn get(&self, column: &str) -> Option<&Constraint> {
        self.constraints.iter().find(|c| c.column == column)
    }

    /// The text values `column` may take, or `None` when the query does not
    /// restrict it.
    pub fn texts(&self, column: &str) -> Option<&[String]> {
        self.get(column).map(Constraint::texts)
    }

    /// Whether the query restricts `column` at all.
    pub fn restricts(&self, column: &str) -> bool {
        self.get(column).is_some()
    }

    /// Whether rows whose `column` is `value` can be wanted.
    pub fn admits(&self, column: &str, value: &str) -> bool {
        self.get(column).is_none_or(|c| c.contains(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn constraints_on_one_column_intersect() {
        let q = Query::all().with("source", vec![text("deb"), text("rpm")]).with("source", vec![text("rpm")]);
        assert_eq!(q.texts("source"), Some(&["rpm".to_string()][..]));
        assert!(q.admits("source", "rpm"));
        assert!(!q.admits("source", "deb"));
        assert!(q.admits("name", "anything"));
    }

    #[test]
    fn admits_finds_every_value_of_a_long_list() {
        let values: Vec<Value> = (0..1000).rev().map(|i| text(&format!("v{i}"))).collect();
        let q = Query::all().with("name", values);
        assert!((0..1000).all(|i| q.admits("name", &format!("v{i}"))));
        assert!(!q.admits("name", "v1000") && !q.admits("name", "") && !q.admits("name", "v"));
        // The order given is kept.
        assert_eq!(q.texts("name").unwrap()[0], "v999");
    }

    #[test]
    fn equal_queries_are_equal_whatever_the_order_of_columns() {
        let a = Query::all().with("name", vec![text("x")]).with("source", vec![text("deb")]);
        let b = Query::all().with("source", vec![text("deb")]).with("name", vec![text("x")]);
        assert_eq!(a, b);
        let hash = |q: &Query| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(q)
        };
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(a, Query::all().with("name", vec![text("y")]).with("source", vec![text("deb")]));
    }

    #[test]
    fn values_become_text_and_the_rest_can_match_nothing() {
        let q = Query::all().with("pid", vec![Value::Integer(7), Value::Null, Value::Double(1.5)]);
        assert_eq!(q.texts("pid"), Some(&["7".to_string()][..]));
        let q = Query::all().with("pid", vec![Value::Null]);
        assert_eq!(q.texts("pid"), Some(&[][..]));
        assert!(!q.admits("pid", "7"));
    }
}
