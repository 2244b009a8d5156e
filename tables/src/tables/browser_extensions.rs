use crate::query::Query;
use crate::spec::{Platform, Row, TableSpec};
use crate::table::{Ctx, Declared};
crate::declare_table! {
    /// x
    pub struct BrowserExtension {
        /// x
        browser: Text,
    }
}
pub static SPEC: TableSpec = TableSpec { name: "browser_extensions", description: "", columns: <BrowserExtension as Row>::COLUMNS, platforms: &[Platform::Linux], examples: &[] };
pub static TABLE: Declared<BrowserExtension> = Declared { spec: &SPEC, generate };
fn generate(_ctx: &Ctx<'_>, _q: &Query) -> Vec<BrowserExtension> { Vec::new() }
