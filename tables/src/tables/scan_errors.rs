//! `scan_errors`: every problem met while reading the root.

use crate::query::Query;
use crate::table::Ctx;

crate::declare_table! {
    /// One row per problem.
    pub struct ScanErrorRow {
        /// The table whose collector met the problem.
        table_name: Text [index],
        /// Root-relative path of the file concerned.
        path: Text,
        /// not_found, permission_denied, symlink_loop, not_regular_file, too_large, parse_error, unsupported, io_error.
        kind: Text,
        /// What went wrong, in words.
        message: Text,
    }

    table scan_errors {
        description: "Problems met while reading the scanned root: files that could not be read or parsed. Reading this table runs every other table's collectors that have not yet run in full.",
        class: Problems,
        prefetch: No,
        reads: [Linux, Windows, Macos],
        examples: ["SELECT table_name, kind, count(*) FROM scan_errors GROUP BY 1, 2"],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<ScanErrorRow> {
    for table in super::inventory() {
        let name = table.spec().name;
        if q.admits("table_name", name) && !ctx.scan.is_complete(name) {
            ctx.scan.rows(table, &Query::all());
        }
    }
    let mut errors = ctx.scan.errors.snapshot();
    errors.sort();
    errors
        .into_iter()
        .map(|e| ScanErrorRow {
            table_name: Some(e.table_name),
            path: Some(e.path),
            kind: Some(e.kind.as_str().into()),
            message: Some(e.message),
        })
        .collect()
}
