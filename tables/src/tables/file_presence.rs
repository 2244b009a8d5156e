//! `file_presence`: whether given paths exist on the scanned root. It looks
//! up exactly the paths a query asks for (the `path` column is required) and
//! never lists a directory, so that `JOIN file_presence f ON f.path =
//! i.pattern` costs one lookup per indicator.

use std::time::UNIX_EPOCH;

use crate::error::ErrorKind;
use crate::query::Query;
use crate::root::{Resolved, Root};
use crate::table::{Ctx, OsFamily};

crate::declare_table! {
    /// One row per asked path, also when it does not exist.
    pub struct FilePresence {
        /// The path asked for, exactly as asked. On a Windows root `C:\ProgramData\Kaspersky Lab\` is accepted as well as `/ProgramData/Kaspersky Lab`, looked up without regard to case.
        path: Text [required],
        /// 1 when the path names an entry (a dangling symlink counts), 0 when it does not, NULL when it could not be checked (see scan_errors). EXISTS is an SQL keyword: write `f."exists"`.
        exists: Integer,
        /// What the path names, not following a final symlink: file, directory, symlink or other (FIFO, socket, device).
        r#type: Text,
        /// Size in bytes, for a regular file.
        size: BigInt,
        /// Modification time of the entry itself, Unix seconds UTC.
        mtime: BigInt,
        /// The root-relative path with every symlink resolved (on a Windows root, with the case found on disk); NULL for a dangling symlink.
        resolved_path: Text,
    }

    table file_presence {
        description: "Whether given files or directories exist on the scanned root. Needs `path = …`, `path IN (…)` or a join on path; lists nothing by itself.",
        class: Evidence,
        prefetch: No,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT * FROM file_presence WHERE path IN ('/opt/kaspersky', '/ProgramData/Kaspersky Lab')",
            "SELECT f.path FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern WHERE i.kind = 'path' AND f.\"exists\" = 1",
        ],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<FilePresence> {
    let Some(asked) = q.texts("path") else {
        return Vec::new();
    };
    let windows = ctx.scan.os_family() == OsFamily::Windows;
    let folding;
    let root = if windows {
        folding = ctx.root().clone().with_case_folding(true);
        &folding
    } else {
        ctx.root()
    };
    // Each path once: a query holds each value once.
    asked.iter().map(|p| presence(ctx, root, windows, p.clone())).collect()
}

fn presence(ctx: &Ctx<'_>, root: &Root, windows: bool, asked: String) -> FilePresence {
    let mut row = FilePresence { exists: Some(0), ..Default::default() };
    if let Some(lookup) = lookup_path(&asked, windows) {
        match root.resolve_nofollow(&lookup) {
            Ok(entry) => describe(ctx, root, &lookup, entry, &mut row),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => {
                row.exists = None;
                ctx.report(e);
            }
        }
    }
    row.path = Some(asked);
    row
}

fn describe(ctx: &Ctx<'_>, root: &Root, lookup: &str, entry: Resolved, row: &mut FilePresence) {
    let ft = entry.metadata.file_type();
    row.exists = Some(1);
    row.r#type = Some(
        if ft.is_symlink() {
            "symlink"
        } else if ft.is_dir() {
            "directory"
        } else if ft.is_file() {
            "file"
        } else {
            "other"
        }
        .to_string(),
    );
    row.size = ft.is_file().then_some(entry.metadata.len() as i64);
    row.mtime = entry.metadata.modified().ok().map(|t| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    });
    row.resolved_path = if ft.is_symlink() {
        match root.resolve(lookup) {
            Ok(target) => Some(target.path),
            // A dangling link is an answer, not a problem.
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => {
                ctx.report(e);
                None
            }
        }
    } else {
        Some(entry.path)
    };
}

/// The root-relative path to look up for `asked`, or `None` when it cannot
/// name a path of the root. On a Windows root a drive letter is dropped and
/// backslashes are separators (the root folds case itself); trailing
/// separators never matter to the root's walk.
fn lookup_path(asked: &str, windows: bool) -> Option<String> {
    let mut p = asked;
    if windows {
        let b = p.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            p = &p[2..];
        }
    }
    let p = if windows { p.replace('\\', "/") } else { p.to_string() };
    // Relative paths have no meaning here, and `//server/share` is not on this disk.
    if !p.starts_with('/') || (windows && p.starts_with("//")) {
        return None;
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Value;
    use crate::table::Scan;

    fn ask(root: &std::path::Path, paths: &[&str]) -> (Vec<FilePresence>, Scan) {
        let scan = Scan::new(Root::new(root).unwrap());
        let q = Query::all().with("path", paths.iter().map(|p| Value::Text(p.to_string())).collect());
        let rows = generate(&scan.ctx("file_presence"), &q);
        (rows, scan)
    }

    #[test]
    fn hostile_paths_stay_inside_the_root_and_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("/{}", "x".repeat(5000));
        let asked = ["/../../../../etc/passwd", "/etc/passwd", "/nul\0byte", long.as_str(), "", "relative/path"];
        let (rows, scan) = ask(dir.path(), &asked);
        assert_eq!(rows.len(), asked.len());
        for (row, p) in rows.iter().zip(&asked) {
            assert_eq!(row.path.as_deref(), Some(*p));
            // The analyst's own /etc/passwd is outside the (empty) root.
            assert_ne!(row.exists, Some(1), "{p}");
        }
        // Problems other than absence are reported, not raised.
        assert!(scan.errors.snapshot().iter().all(|e| e.table_name == "file_presence"));
    }

    #[test]
    fn windows_forms_become_root_paths() {
        assert_eq!(lookup_path(r"C:\ProgramData\Kaspersky Lab\", true).as_deref(), Some("/ProgramData/Kaspersky Lab/"));
        assert_eq!(lookup_path("c:/ProgramData", true).as_deref(), Some("/ProgramData"));
        assert_eq!(lookup_path("/ProgramData/Kaspersky Lab", true).as_deref(), Some("/ProgramData/Kaspersky Lab"));
        assert_eq!(lookup_path(r"\\server\share\x", true), None);
        assert_eq!(lookup_path(r"ProgramData\Kaspersky Lab", true), None);
        assert_eq!(lookup_path("C:", true), None);
        assert_eq!(lookup_path(r"C:\", true).as_deref(), Some("/"));
        // A Linux root keeps names as they are: `C:` could be a directory name.
        assert_eq!(lookup_path("C:/x", false), None);
        assert_eq!(lookup_path("/opt/kaspersky", false).as_deref(), Some("/opt/kaspersky"));
        assert_eq!(lookup_path("", false), None);
    }
}
