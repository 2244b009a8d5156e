//! embargo's tables: what each table is ([`spec`]), how a query restricts it
//! ([`query`]), where files come from ([`root`]), one collector per data
//! source ([`collectors`]), and the entry point surfaces call ([`engine`]).
//! Nothing here knows SQLite's virtual-table API or osquery's Thrift
//! protocol; the surfaces in `extension/` adapt these tables.

pub mod budget;
pub mod collectors;
pub mod docs;
pub mod engine;
pub mod error;
pub mod limits;
pub mod pool;
pub mod query;
pub mod root;
pub mod spec;
pub mod table;
pub mod tables;
#[doc(hidden)]
pub mod testing;
pub mod version;

pub use embargo_catalog;

pub use engine::{Engine, EngineOptions};
pub use error::{ErrorKind, FsError, ScanError};
pub use query::Query;
pub use root::Root;
pub use spec::{Column, ColumnType, Row, RowSet, TableSpec, Value, ValueRef};
pub use table::{Ctx, Scan, Table};
