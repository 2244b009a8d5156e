//! The table plugin: every embargo table as osquery sees it. The route info
//! sent at registration and the answer to `{"action":"columns"}` are the
//! same rows, made once from the declarations; `generate` turns the context
//! into a query ([`crate::context`]) and reads the rows from a scan
//! ([`crate::scans`]). Every failure is a status with code 1, never a
//! Thrift exception: osquery turns it into the query's error message.

use std::collections::HashMap;
use std::io::Write;

use embargo_tables::spec::ValueRef;
use embargo_tables::table::SharedRows;
use embargo_tables::{Column, Table, TableSpec};

use crate::protocol::{ExtensionStatus, Registry, StringMap};
use crate::scans::Scans;
use crate::thrift::{Writer, ttype};

/// osquery's ColumnOptions bits (`osquery/core/sql/column.h`).
pub const INDEX: u32 = 1;
pub const REQUIRED: u32 = 2;
pub const HIDDEN: u32 = 16;

/// The registry our plugins live in.
pub const REGISTRY: &str = "table";

/// osquery's op bits for a column.
pub fn op_bits(c: &Column) -> u32 {
    let o = c.options;
    (if o.index { INDEX } else { 0 }) | (if o.required { REQUIRED } else { 0 }) | (if o.hidden { HIDDEN } else { 0 })
}

/// A table's route info: one `column` row per column, in declaration order.
pub fn routes(spec: &TableSpec) -> Vec<StringMap> {
    spec.columns
        .iter()
        .map(|c| {
            vec![
                ("id".to_string(), "column".to_string()),
                ("name".to_string(), c.name.to_string()),
                ("type".to_string(), c.ty.sql().to_string()),
                ("op".to_string(), op_bits(c).to_string()),
            ]
        })
        .collect()
}

/// What a `call` answers.
pub enum Answer<'a> {
    /// A status and no rows.
    Status(ExtensionStatus),
    /// The table's route rows.
    Columns(&'a [StringMap]),
    /// Generated rows of the table.
    Rows(&'static TableSpec, SharedRows),
}

impl Answer<'_> {
    fn failed(message: impl Into<String>) -> Self {
        Answer::Status(ExtensionStatus::failed(message))
    }

    /// The status every answer carries (osquery treats a missing one as success).
    pub fn status(&self) -> ExtensionStatus {
        match self {
            Answer::Status(s) => s.clone(),
            Answer::Columns(_) | Answer::Rows(..) => ExtensionStatus::ok("OK"),
        }
    }

    /// Writes the `ExtensionResponse` struct.
    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> std::io::Result<()> {
        let status = self.status();
        match self {
            Answer::Status(_) => crate::protocol::write_response(w, &status, 0, |_, _| Ok(())),
            Answer::Columns(rows) => crate::protocol::write_response(w, &status, rows.len(), |w, i| {
                crate::protocol::write_string_map(w, &rows[i])
            }),
            Answer::Rows(spec, rows) => {
                let mut text = String::new();
                crate::protocol::write_response(w, &status, rows.len(), |w, i| {
                    write_row(w, spec, &**rows, i, &mut text)
                })
            }
        }
    }
}

/// One row as osquery reads it: every value a string, integers in decimal,
/// NULL an absent key.
fn write_row<W: Write>(
    w: &mut Writer<W>,
    spec: &TableSpec,
    rows: &(dyn embargo_tables::RowSet + Sync),
    i: usize,
    text: &mut String,
) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let n = spec.columns.len();
    let present = (0..n).filter(|&c| rows.cell(i, c) != ValueRef::Null).count();
    w.write_map_begin(ttype::STRING, ttype::STRING, present)?;
    for (c, col) in spec.columns.iter().enumerate() {
        let value = match rows.cell(i, c) {
            ValueRef::Null => continue,
            ValueRef::Text(s) => s,
            ValueRef::Integer(v) => {
                text.clear();
                let _ = write!(text, "{v}");
                text.as_str()
            }
            ValueRef::Double(v) => {
                text.clear();
                let _ = write!(text, "{v}");
                text.as_str()
            }
        };
        w.write_string(col.name)?;
        w.write_string(value)?;
    }
    Ok(())
}

/// The bytes the rows take in an `ExtensionResponse` (each map's header,
/// each key and value with its length), or the row at which they pass
/// `limit`: counted before anything is sent, so that osqueryd, which holds
/// the whole response and then its rows again, never gets one that big.
fn response_bytes(spec: &TableSpec, rows: &(dyn embargo_tables::RowSet + Sync), limit: usize) -> Result<usize, usize> {
    use std::fmt::Write as _;
    let mut total = 0usize;
    let mut text = String::new();
    for i in 0..rows.len() {
        // The map header: key type, value type, count.
        total += 6;
        for (c, col) in spec.columns.iter().enumerate() {
            let value = match rows.cell(i, c) {
                ValueRef::Null => continue,
                ValueRef::Text(s) => s.len(),
                ValueRef::Integer(v) => {
                    text.clear();
                    let _ = write!(text, "{v}");
                    text.len()
                }
                ValueRef::Double(v) => {
                    text.clear();
                    let _ = write!(text, "{v}");
                    text.len()
                }
            };
            total = total.saturating_add(8 + col.name.len() + value);
        }
        if total > limit {
            return Err(i + 1);
        }
    }
    Ok(total)
}

/// Every table, with its route rows.
pub struct Plugin {
    tables: Vec<(&'static dyn Table, Vec<StringMap>)>,
    by_name: HashMap<&'static str, usize>,
    scans: Scans,
    max_response: usize,
}

impl Plugin {
    pub fn new(tables: &[&'static dyn Table], scans: Scans) -> Self {
        let tables: Vec<_> = tables.iter().map(|&t| (t, routes(t.spec()))).collect();
        let by_name = tables.iter().enumerate().map(|(i, (t, _))| (t.spec().name, i)).collect();
        Plugin { tables, by_name, scans, max_response: crate::args::DEFAULT_MAX_RESPONSE }
    }

    /// Answers a `generate` whose rows would take more than `bytes` on the
    /// wire with an error status instead.
    pub fn with_max_response(mut self, bytes: usize) -> Self {
        self.max_response = bytes;
        self
    }

    pub fn scans(&self) -> &Scans {
        &self.scans
    }

    /// The registry broadcast in `registerExtension`.
    pub fn registry(&self) -> Registry {
        let plugins = self.tables.iter().map(|(t, routes)| (t.spec().name.to_string(), routes.clone())).collect();
        vec![(REGISTRY.to_string(), plugins)]
    }

    /// Answers `call(registry, item, request)`.
    pub fn call(&self, registry: &str, item: &str, request: &StringMap) -> Answer<'_> {
        if registry != REGISTRY {
            return Answer::failed(format!("unknown registry {registry:?}: this extension has only table plugins"));
        }
        let Some(&i) = self.by_name.get(item) else {
            return Answer::failed(format!("unknown table {item:?}: this extension has no such table"));
        };
        let (table, routes) = &self.tables[i];
        let get = |k: &str| request.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        match get("action") {
            None => Answer::failed("Table plugins must include a request action"),
            Some("columns") => Answer::Columns(routes),
            Some("generate") => {
                let spec = table.spec();
                let query = match crate::context::query(spec, get("context")) {
                    Ok(q) => q,
                    Err(e) => return Answer::failed(e.to_string()),
                };
                match self.scans.rows(*table, query) {
                    Ok(rows) => match response_bytes(spec, &*rows, self.max_response) {
                        Ok(_) => Answer::Rows(spec, rows),
                        Err(at) => Answer::failed(format!(
                            "{item}: the response would be over the limit of {} bytes (passed at row {at} of {}; see --max-response-bytes); ask for fewer rows with a WHERE constraint",
                            self.max_response,
                            rows.len(),
                        )),
                    },
                    Err(e) => Answer::failed(e),
                }
            }
            Some(other) => Answer::failed(format!(
                "unknown action {other:?} for table {item}: embargo's tables are read-only (columns, generate)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count is what the writer then sends: the encoded rows part of
    /// the response, byte for byte.
    #[test]
    fn response_bytes_are_the_encoded_rows() {
        let table = embargo_tables::tables::find("banned_vendor_indicators").unwrap();
        let rows = embargo_tables::Scan::new(embargo_tables::Root::new("/").unwrap()).rows(table, &Default::default());
        assert!(rows.len() > 10);
        let spec = table.spec();
        let encoded = |rows: SharedRows| {
            let mut w = Writer::new(Vec::new());
            Answer::Rows(spec, rows).write(&mut w).unwrap();
            w.into_inner().len()
        };
        let none: SharedRows =
            std::sync::Arc::new(Vec::<embargo_tables::tables::banned_vendor_indicators::BannedVendorIndicator>::new());
        let n = response_bytes(spec, &*rows, usize::MAX).unwrap();
        assert_eq!(n, encoded(rows.clone()) - encoded(none));
        assert_eq!(response_bytes(spec, &*rows, n), Ok(n));
        let at = response_bytes(spec, &*rows, n - 1).unwrap_err();
        assert_eq!(at, rows.len());
        assert_eq!(response_bytes(spec, &*rows, 10), Err(1));
    }
}
