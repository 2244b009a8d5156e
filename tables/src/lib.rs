//! embargo's tables: what each table is ([`spec`]), how a query restricts it
//! ([`query`]), where files come from ([`root`]), and one collector per data
//! source ([`collectors`]). Nothing here knows SQLite's virtual-table API or
//! osquery's Thrift protocol; the surfaces in `extension/` adapt these tables.

pub mod collectors;
pub mod docs;
pub mod error;
pub mod query;
pub mod root;
pub mod spec;
pub mod table;
pub mod tables;
#[doc(hidden)]
pub mod testing;
pub mod version;

pub use embargo_catalog;

pub use error::{ErrorKind, FsError, ScanError};
pub use query::Query;
pub use root::Root;
pub use spec::{Column, ColumnType, Row, RowSet, TableSpec, Value, ValueRef};
pub use table::{Ctx, Scan, Table};
