//! Documentation rendered from the declarations: the Markdown table reference
//! (docs/tables.md) and osquery's table-spec JSON.

use crate::spec::TableSpec;

/// The table reference, as committed in docs/tables.md.
pub fn markdown(specs: &[&TableSpec]) -> String {
    let mut s = String::from(
        "# embargo tables\n\nGenerated from the table declarations by `embargo schema --as markdown`; \
a test keeps this file current.\n\nColumn options: *index*: `=` and `IN` reach the collector, which skips \
work it need not do; *required*: the table cannot be read without `=` or `IN` on it.\n",
    );
    for spec in specs {
        s.push_str(&format!("\n## `{}`\n\n{}\n\n", spec.name, spec.description));
        let platforms: Vec<&str> = spec.platforms().iter().map(|p| p.name()).collect();
        s.push_str(&format!("Platforms: {}\n\n", platforms.join(", ")));
        s.push_str("| column | type | options | description |\n|---|---|---|---|\n");
        for (i, c) in spec.columns.iter().enumerate() {
            let mut opts = Vec::new();
            if c.options.required {
                opts.push("required");
            } else if c.options.index {
                opts.push("index");
            }
            if c.options.hidden {
                opts.push("hidden");
            }
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name,
                c.ty.sql(),
                opts.join(", "),
                spec.column_doc(i).replace('|', "\\|")
            ));
        }
        if !spec.examples.is_empty() {
            s.push_str("\nExamples:\n\n```sql\n");
            for e in spec.examples {
                s.push_str(e);
                s.push_str(";\n");
            }
            s.push_str("```\n");
        }
    }
    s
}

/// osquery's schema format (`{"tables": [...]}` with osquery's column flags),
/// as `check_pack.py --schema` and Fleet read it.
pub fn osquery_json(specs: &[&TableSpec]) -> serde_json::Value {
    let tables: Vec<serde_json::Value> = specs
        .iter()
        .map(|spec| {
            let columns: Vec<serde_json::Value> = spec
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    serde_json::json!({
                        "name": c.name,
                        "type": c.ty.sql().to_ascii_lowercase(),
                        "description": spec.column_doc(i),
                        "notes": "",
                        "hidden": c.options.hidden,
                        "required": c.options.required,
                        "index": c.options.index,
                        "additional": false,
                        "optimized": false,
                    })
                })
                .collect();
            serde_json::json!({
                "name": spec.name,
                "description": spec.description,
                "platforms": spec.platforms().iter().map(|p| p.name()).collect::<Vec<_>>(),
                "aliases": [],
                "evented": false,
                "cacheable": false,
                "notes": "Provided by the embargo osquery extension.",
                "examples": spec.examples,
                "columns": columns,
            })
        })
        .collect();
    serde_json::json!({ "generated_by": "embargo schema --as osquery-json", "tables": tables })
}
