//! The state file: read once at start, rewritten whole and atomically after every change.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{Store, STATE_VERSION};
use crate::Error;

/// Reads the state file; a missing file is an empty store.
pub fn load(path: &Path) -> Result<Store, Error> {
    let fail = |message: String| Error::State {
        path: path.display().to_string(),
        message,
    };
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Store {
                version: STATE_VERSION,
                ..Store::default()
            })
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    let store: Store = serde_json::from_slice(&bytes).map_err(|e| {
        fail(format!(
            "not a state file this emulator wrote ({e}); move it away or pass another --state"
        ))
    })?;
    if store.version > STATE_VERSION {
        return Err(fail(format!(
            "written by a newer emulator (format {}, this one reads up to {STATE_VERSION})",
            store.version
        )));
    }
    Ok(Store {
        version: STATE_VERSION,
        ..store
    })
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one,
/// never a mix: a temporary file in the same directory, flushed to disk, then renamed over
/// the old one, then the directory entry flushed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temporary file must not linger, but the write error is the news.
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("gie-persist-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("gie-persist-fail-{}", std::process::id()));
        fs::create_dir_all(dir.join("state.json")).unwrap();
        // Renaming a file over a directory fails; the temporary file must be gone.
        assert!(write_atomic(&dir.join("state.json"), b"x").is_err());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_a_broken_file() {
        let dir = std::env::temp_dir().join(format!("gie-persist-load-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().workspaces.is_empty());
        fs::write(&path, "{\"version\": 1, \"workspaces\": {").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
