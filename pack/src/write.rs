//! Putting generated files into an output directory: every file is written
//! in full to a temporary file beside its destination first, and only when
//! all of them are written are they renamed into place, so that an error
//! leaves no partial file (and, before the renames, no file at all).

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::PackFile;

/// Why the files could not be written; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("--out {0}: exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("--out {path}: cannot create the directory: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("--out {dir}: cannot write {path}: {source}")]
    Write { dir: PathBuf, path: PathBuf, source: std::io::Error },
    #[error("--out {dir}: refusing the file name {name:?} (not a plain relative path)")]
    BadName { dir: PathBuf, name: String },
}

/// Writes `files` under `dir`, creating `dir` and the files' folders as
/// needed. Returns the paths written.
pub fn write_files(dir: &Path, files: &[PackFile]) -> Result<Vec<PathBuf>, WriteError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(WriteError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {}
        Err(_) => {
            std::fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir { path: dir.to_path_buf(), source })?
        }
    }
    let mut staged = Vec::with_capacity(files.len());
    for f in files {
        let rel = Path::new(&f.path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(WriteError::BadName { dir: dir.to_path_buf(), name: f.path.clone() });
        }
        let dest = dir.join(rel);
        let parent = dest.parent().unwrap_or(dir);
        let werr = |source| WriteError::Write { dir: dir.to_path_buf(), path: dest.clone(), source };
        if let Ok(m) = std::fs::metadata(&dest)
            && m.is_dir()
        {
            return Err(werr(std::io::Error::other("a directory is in the way")));
        }
        std::fs::create_dir_all(parent).map_err(werr)?;
        let mut tmp = tempfile::Builder::new().prefix(".embargo-pack-").tempfile_in(parent).map_err(werr)?;
        tmp.write_all(f.contents.as_bytes()).map_err(werr)?;
        // A temporary file is private (0600); a pack is read by osqueryd and
        // others, as any file a command writes.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(werr)?;
        }
        tmp.as_file().sync_all().map_err(werr)?;
        staged.push((tmp, dest));
    }
    // Dropping the staged files on an error above removed them.
    let mut written = Vec::with_capacity(staged.len());
    for (tmp, dest) in staged {
        tmp.persist(&dest).map_err(|e| WriteError::Write {
            dir: dir.to_path_buf(),
            path: dest.clone(),
            source: e.error,
        })?;
        written.push(dest);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> PackFile {
        PackFile { path: path.into(), contents: text.into() }
    }

    #[test]
    fn files_land_in_their_folders() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("packs");
        write_files(&out, &[file("a.json", "{}\n"), file("lib/linux/q.yml", "- x\n")]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.json")).unwrap(), "{}\n");
        assert_eq!(std::fs::read_to_string(out.join("lib/linux/q.yml")).unwrap(), "- x\n");
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    }

    #[test]
    fn a_file_for_a_directory_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plain");
        std::fs::write(&f, "x").unwrap();
        let e = write_files(&f, &[file("a.json", "{}")]).unwrap_err();
        assert!(e.to_string().contains(&f.display().to_string()), "{e}");
        assert!(matches!(e, WriteError::NotADirectory(_)));
    }

    #[test]
    fn a_failure_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The second file's destination is a directory: the first must not appear.
        std::fs::create_dir_all(dir.path().join("b.json")).unwrap();
        let e = write_files(dir.path(), &[file("a.json", "{}"), file("b.json", "{}")]).unwrap_err();
        assert!(e.to_string().contains("b.json"), "{e}");
        let mut names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["b.json"]);
        assert!(write_files(dir.path(), &[file("../x", "")]).is_err());
    }
}
