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
    /// In the order the docs list them.
    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::Windows, Platform::Macos];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Windows => "windows",
            Platform::Macos => "darwin",
        }
    }
}

/// What kind of rows a table holds; surfaces and `embargo scan` decide by it,
/// never by a table's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// What is installed or running on the root: the evidence findings come
    /// from, so a problem reading it may hide a finding.
    Evidence,
    /// Rows from the banned-vendor catalog, not from the root.
    Catalog,
    /// The scanned system itself (`scan_host`).
    Host,
    /// The problems the other tables met (`scan_errors`); reading it runs
    /// every table not yet read in full.
    Problems,
}

/// Whether a statement that reads a table whole (`embargo scan`) may have
/// it generated ahead, on another core, while SQLite prepares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefetch {
    /// Never: it needs constraints (a required column) or reads the others.
    No,
    Yes,
    /// Yes, and before the others: among the slowest collectors, which
    /// should start first so that all finish together.
    First,
}

/// Declared properties of a table beyond its columns (as osquery's
/// `attributes(...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub class: Class,
    pub prefetch: Prefetch,
}

/// One place a table's rows come from.
#[derive(Debug)]
pub struct SourceInfo {
    /// The value of the table's source column in its rows (`deb`).
    pub name: &'static str,
    /// The OS families whose roots it reads.
    pub families: &'static [Platform],
}

/// A table's sources, in the order it reads them.
#[derive(Debug)]
pub struct Sources {
    /// The column that names the source of each row (`source`, `kind`); a
    /// constraint on it skips the sources it excludes.
    pub column: &'static str,
    pub list: &'static [SourceInfo],
}

/// Everything a surface needs to know about a table.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
    /// For a table without [`TableSpec::sources`], the OS families whose
    /// roots it reads (not where embargo runs: a Linux host can scan a
    /// mounted Windows image). See [`TableSpec::platforms`].
    pub reads: &'static [Platform],
    /// Where the rows come from, for tables made of several sources: the
    /// platforms and the source column's documented values follow from it,
    /// so the docs cannot name a source that has no code.
    pub sources: Option<&'static Sources>,
    pub attributes: Attributes,
    pub examples: &'static [&'static str],
}

impl TableSpec {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The OS families whose roots this table reads: its sources' families,
    /// or what it declares.
    pub fn platforms(&self) -> Vec<Platform> {
        let declared: Vec<Platform> = match self.sources {
            Some(s) => s.list.iter().flat_map(|s| s.families.iter().copied()).collect(),
            None => self.reads.to_vec(),
        };
        Platform::ALL.into_iter().filter(|p| declared.contains(p)).collect()
    }

    /// A column's documentation; the source column's ends with the names of
    /// the sources.
    pub fn column_doc(&self, column: usize) -> std::borrow::Cow<'static, str> {
        let doc = self.columns[column].doc.trim();
        match self.sources {
            Some(s) if s.column == self.columns[column].name => {
                let names: Vec<&str> = s.list.iter().map(|s| s.name).collect();
                format!("{}: {}.", doc.trim_end_matches('.'), names.join(", ")).into()
            }
            _ => doc.into(),
        }
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

#[doc(hidden)]
#[macro_export]
macro_rules! __prefetch {
    () => {
        $crate::spec::Prefetch::Yes
    };
    ($p:ident) => {
        $crate::spec::Prefetch::$p
    };
}

/// Declares a table in one place: its row struct and column list, and (with
/// a `table` section) its [`TableSpec`] and the `pub static TABLE` every
/// surface registers.
///
/// ```
/// use embargo_tables::{Ctx, Query};
/// embargo_tables::declare_table! {
///     /// One row per greeting.
///     pub struct Greeting {
///         /// Who is greeted.
///         name: Text [index],
///         /// How many times.
///         count: Integer,
///     }
///
///     table greetings {
///         description: "Greetings.",
///         class: Host,
///         reads: [Linux, Windows, Macos],
///         examples: ["SELECT * FROM greetings WHERE name = 'world'"],
///         generate: greet,
///     }
/// }
/// fn greet(_ctx: &Ctx<'_>, q: &Query) -> Vec<Greeting> {
///     ["world", "moon"].iter().filter(|n| q.admits("name", n))
///         .map(|n| Greeting { name: Some(n.to_string()), count: Some(2) }).collect()
/// }
/// use embargo_tables::{Row, Table};
/// let g = Greeting { name: Some("world".into()), count: Some(2) };
/// assert_eq!(Greeting::COLUMNS[0].name, "name");
/// assert_eq!(g.cell(1), embargo_tables::spec::ValueRef::Integer(2));
/// assert_eq!(TABLE.spec().name, "greetings");
/// ```
///
/// A table made of several sources lists them instead of `reads`; each is
/// the value of the named column in its rows, the OS families whose roots it
/// reads, and its read function (of the type after `as`). The macro makes a
/// private `static SOURCES` for the generator to go through
/// ([`crate::table::from_sources`]), and the platforms and the column's
/// documented values come from the same list:
///
/// ```ignore
/// sources: source as ReadInto<InstalledSoftware> {
///     "deb" [Linux] => from_dpkg,
///     "rpm" [Linux] => from_rpmdb,
/// },
/// ```
///
/// Optional, after `class`: `prefetch: No | Yes | First` (default `Yes`).
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
        $($table:tt)*
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

        $crate::__table_statics! { $row $($table)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __table_statics {
    ($row:ident) => {};
    (
        $row:ident table $name:ident {
            description: $description:expr,
            class: $class:ident,
            $(prefetch: $prefetch:ident,)?
            reads: [$($platform:ident),* $(,)?],
            examples: [$($example:expr),* $(,)?],
            generate: $generate:expr $(,)?
        }
    ) => {
        $crate::__table_statics! { @table $row $name $description, $class, [$($prefetch)?],
            &[$($crate::spec::Platform::$platform),*], None, [$($example),*], $generate }
    };
    (
        $row:ident table $name:ident {
            description: $description:expr,
            class: $class:ident,
            $(prefetch: $prefetch:ident,)?
            sources: $column:ident as $read:ty {
                $($source:literal [$($family:ident),* $(,)?] => $reader:expr),+ $(,)?
            },
            examples: [$($example:expr),* $(,)?],
            generate: $generate:expr $(,)?
        }
    ) => {
        /// This table's sources with their read functions, in the order read.
        static SOURCES: &[$crate::table::Source<$read>] = &[
            $($crate::table::Source {
                column: stringify!($column),
                name: $source,
                families: &[$($crate::spec::Platform::$family),*],
                read: $reader,
            },)+
        ];
        $crate::__table_statics! { @table $row $name $description, $class, [$($prefetch)?], &[],
            Some(&$crate::spec::Sources {
                column: stringify!($column),
                list: &[$($crate::spec::SourceInfo {
                    name: $source,
                    families: &[$($crate::spec::Platform::$family),*],
                },)+],
            }),
            [$($example),*], $generate }
    };
    (@table $row:ident $name:ident $description:expr, $class:ident, [$($prefetch:ident)?], $reads:expr, $sources:expr,
        [$($example:expr),*], $generate:expr) => {
        /// The table as every surface registers it.
        pub static TABLE: $crate::table::Declared<$row> = $crate::table::Declared {
            spec: {
                static SPEC: $crate::spec::TableSpec = $crate::spec::TableSpec {
                    name: stringify!($name),
                    description: $description,
                    columns: <$row as $crate::spec::Row>::COLUMNS,
                    reads: $reads,
                    sources: $sources,
                    attributes: $crate::spec::Attributes {
                        class: $crate::spec::Class::$class,
                        prefetch: $crate::__prefetch!($($prefetch)?),
                    },
                    examples: &[$($example),*],
                };
                &SPEC
            },
            generate: $generate,
        };
    };
}
