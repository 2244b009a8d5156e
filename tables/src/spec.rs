//! The table declaration: one place that says what a table is.
//!
//! Every surface (SQLite virtual tables, `embargo schema`, the generated docs,
//! the osquery extension) reads a [`TableSpec`]; none of them has its own list
//! of columns. Rows are plain Rust structs made by [`declare_table!`], so a
//! generator cannot produce a column the declaration does not have, nor a value
//! of the wrong type.

/// Column types, named as osquery names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    BigInt,
    Double,
}

impl ColumnType {
    /// The type as written in a `CREATE TABLE` statement and in osquery's specs.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Integer => "INTEGER",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Double => "DOUBLE",
        }
    }
}

/// osquery's column options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnOptions {
    /// `=` and `IN` on this column reach the generator, which uses them to skip work.
    pub index: bool,
    /// The table cannot be scanned without an `=` or `IN` on this column.
    pub required: bool,
    /// Not part of `SELECT *`.
    pub hidden: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub doc: &'static str,
    pub options: ColumnOptions,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Linux,
    Windows,
    Macos,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Windows => "windows",
            Platform::Macos => "darwin",
        }
    }
}

/// Everything a surface needs to know about a table.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
    /// The OS families whose roots this table reads (not where embargo runs:
    /// a Linux host can scan a mounted Windows image).
    pub platforms: &'static [Platform],
    pub examples: &'static [&'static str],
}

impl TableSpec {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The `CREATE TABLE` statement SQLite's `sqlite3_declare_vtab` is given,
    /// and that `embargo schema --as sql` prints.
    pub fn create_table_sql(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let hidden = if c.options.hidden { " HIDDEN" } else { "" };
                format!("  `{}` {}{}", c.name, c.ty.sql(), hidden)
            })
            .collect();
        format!("CREATE TABLE `{}` (\n{}\n)", self.name, cols.join(",\n"))
    }
}

/// A borrowed value of one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Double(f64),
    Text(&'a str),
}

/// An owned value, as found in a constraint.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Double(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Conversion of a row field to a cell value; implemented for the field types
/// [`declare_table!`] uses.
pub trait ToCell {
    fn cell(&self) -> ValueRef<'_>;
}

impl ToCell for Option<String> {
    fn cell(&self) -> ValueRef<'_> {
        match self {
            Some(s) => ValueRef::Text(s),
            None => ValueRef::Null,
        }
    }
}

impl ToCell for Option<i64> {
    fn cell(&self) -> ValueRef<'_> {
        match self {
            Some(i) => ValueRef::Integer(*i),
            None => ValueRef::Null,
        }
    }
}

impl ToCell for Option<f64> {
    fn cell(&self) -> ValueRef<'_> {
        match self {
            Some(d) => ValueRef::Double(*d),
            None => ValueRef::Null,
        }
    }
}

/// The column name of a row field: `r#type` declares the column `type`, so
/// that columns may be named with Rust keywords (`type`, `match`).
pub const fn column_name(field: &'static str) -> &'static str {
    match field.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(name) => name,
            Err(_) => field,
        },
        _ => field,
    }
}

/// A typed row: a struct made by [`declare_table!`].
pub trait Row: Send + Sync + 'static {
    const COLUMNS: &'static [Column];
    fn cell(&self, column: usize) -> ValueRef<'_>;
}

/// A type-erased batch of rows, for surfaces that only need cells.
pub trait RowSet: Send {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn cell(&self, row: usize, column: usize) -> ValueRef<'_>;
}

impl<R: Row> RowSet for Vec<R> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn cell(&self, row: usize, column: usize) -> ValueRef<'_> {
        self[row].cell(column)
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cell_type {
    (Text) => { ::std::option::Option<::std::string::String> };
    (Integer) => { ::std::option::Option<i64> };
    (BigInt) => { ::std::option::Option<i64> };
    (Double) => { ::std::option::Option<f64> };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_options {
    ($($opt:ident),*) => {{
        #[allow(unused_mut)]
        let mut o = $crate::spec::ColumnOptions { index: false, required: false, hidden: false };
        $( $crate::__column_options!(@set o $opt); )*
        o
    }};
    (@set $o:ident index) => { $o.index = true; };
    (@set $o:ident required) => { $o.index = true; $o.required = true; };
    (@set $o:ident hidden) => { $o.hidden = true; };
}

/// Declares a table's row struct and its column list in one place.
///
/// ```
/// embargo_tables::declare_table! {
///     /// One row per greeting.
///     pub struct Greeting {
///         /// Who is greeted.
///         name: Text [index],
///         /// How many times.
///         count: Integer,
///     }
/// }
/// use embargo_tables::spec::Row;
/// let g = Greeting { name: Some("world".into()), count: Some(2) };
/// assert_eq!(Greeting::COLUMNS[0].name, "name");
/// assert_eq!(g.cell(1), embargo_tables::spec::ValueRef::Integer(2));
/// ```
#[macro_export]
macro_rules! declare_table {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $row:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ident $([$($opt:ident),*])?
            ),* $(,)?
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $row {
            $( $(#[doc = $doc])+ pub $field: $crate::__cell_type!($ty), )*
        }

        impl $crate::spec::Row for $row {
            const COLUMNS: &'static [$crate::spec::Column] = &[
                $( $crate::spec::Column {
                    name: $crate::spec::column_name(stringify!($field)),
                    ty: $crate::spec::ColumnType::$ty,
                    doc: concat!($($doc),+),
                    options: $crate::__column_options!($($($opt),*)?),
                }, )*
            ];

            #[allow(unused_assignments)]
            fn cell(&self, column: usize) -> $crate::spec::ValueRef<'_> {
                let mut i = 0usize;
                $(
                    if column == i {
                        return $crate::spec::ToCell::cell(&self.$field);
                    }
                    i += 1;
                )*
                $crate::spec::ValueRef::Null
            }
        }
    };
}
