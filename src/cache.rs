//! The parse cache: a SQL part's parsed statements and change IR, stored per file content,
//! range, dialect and rollsafe version, as ruff and eslint cache their per-file results.
//!
//! One JSON file per entry, named by a 128-bit hash of what the parse depends on, in
//! `<dir>/v1/`. Each entry repeats its key, so a corrupt, truncated or foreign file is
//! simply a miss (and is rewritten). Writes go to a temporary file that is renamed into
//! place, so concurrent runs see a whole entry or none. The directory is kept under a size
//! bound by deleting the oldest entries.
//!
//! The cache is off unless `enable` is called (the command line does, `--no-cache` aside):
//! library users and tests never write to the user's cache directory by accident.

use crate::dialect::Dialect;
use crate::sql::{self, SqlFile};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// Bumped whenever the entry format changes (the rollsafe version is part of every key too).
const FORMAT: &str = "v1";

/// The cache is trimmed to this size (the oldest entries go first)...
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// ...at most this often (a trim reads every entry's metadata).
const TRIM_EVERY: Duration = Duration::from_secs(600);

static CACHE: OnceLock<Cache> = OnceLock::new();

/// A cache directory in use.
#[derive(Debug)]
pub struct Cache {
    /// `<cache dir>/v1`.
    dir: PathBuf,
}

/// The cache directory when config names none: `$XDG_CACHE_HOME/rollsafe`, else
/// `~/.cache/rollsafe`; `None` when neither variable is set.
pub fn default_dir() -> Option<PathBuf> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("XDG_CACHE_HOME")
        .or_else(|| from("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("rollsafe"))
}

/// Turns the cache on for this process, in `dir`. A directory that cannot be created
/// leaves the cache off: it is an optimisation, never a reason to fail.
pub fn enable(dir: &Path) {
    let dir = dir.join(FORMAT);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let cache = CACHE.get_or_init(|| Cache { dir });
    cache.trim_if_due();
}

/// `sql::parse_sql`, answered from the cache when it is on and holds the part.
pub fn parse_sql(text: &str, range: Range<usize>, dialect: Dialect) -> SqlFile {
    let Some(cache) = CACHE.get() else {
        return sql::parse_sql(text, range, dialect);
    };
    let key = key(text, &range, dialect);
    if let Some(file) = cache.get(&key) {
        return file;
    }
    let file = sql::parse_sql(text, range, dialect);
    cache.put(&key, &file);
    file
}

/// What an entry holds: its own key (to tell a foreign or damaged file) and the parse.
#[derive(Serialize)]
struct EntryRef<'a> {
    key: &'a str,
    file: &'a SqlFile,
}

#[derive(Deserialize)]
struct Entry {
    key: String,
    file: SqlFile,
}

/// 128 bits of hash over everything a part's parse depends on: the whole file's text (a
/// message's line numbers count from the file's start), the range, the dialect, the
/// rollsafe version. Two SipHash runs with different salts: no dependency, and fast.
fn key(text: &str, range: &Range<usize>, dialect: Dialect) -> String {
    let half = |salt: u64| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut hasher);
        FORMAT.hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        dialect.hash(&mut hasher);
        range.start.hash(&mut hasher);
        range.end.hash(&mut hasher);
        text.hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0x5eed_0001), half(0x5eed_0002))
}

impl Cache {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The entry for `key`; `None` when missing, unreadable, corrupt or someone else's.
    fn get(&self, key: &str) -> Option<SqlFile> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        (entry.key == key).then_some(entry.file)
    }

    /// Writes the entry: a temporary file, renamed into place. Failures are ignored.
    fn put(&self, key: &str, file: &SqlFile) {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let Ok(bytes) = serde_json::to_vec(&EntryRef { key, file }) else {
            return;
        };
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = self
            .dir
            .join(format!(".{key}.{}.{unique}.tmp", std::process::id()));
        if std::fs::write(&temp, bytes).is_ok() && std::fs::rename(&temp, self.path(key)).is_err() {
            let _ = std::fs::remove_file(&temp);
        }
    }

    /// Trims the cache when the last trim is older than `TRIM_EVERY`.
    fn trim_if_due(&self) {
        let marker = self.dir.join(".trimmed");
        let due = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .is_none_or(|age| age >= TRIM_EVERY);
        if due {
            let _ = std::fs::write(&marker, b"");
            trim(&self.dir, MAX_BYTES);
        }
    }
}

/// Deletes the oldest entries of `dir` (by modification time) until the rest take at most
/// `max_bytes`. Leftover temporary files older than a minute go too (a run that was killed
/// between write and rename). Returns how many files were deleted.
pub fn trim(dir: &Path, max_bytes: u64) -> usize {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut entries = Vec::new();
    let mut deleted = 0;
    for item in listing.flatten() {
        let name = item.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if name.ends_with(".tmp") {
            let stale = now.duration_since(modified).unwrap_or_default() > Duration::from_secs(60);
            if stale && std::fs::remove_file(item.path()).is_ok() {
                deleted += 1;
            }
        } else if name.ends_with(".json") {
            entries.push((modified, meta.len(), item.path()));
        }
    }
    let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
    entries.sort();
    for (_, len, path) in entries {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            deleted += 1;
        }
        total = total.saturating_sub(len);
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_in(dir: &Path) -> Cache {
        let dir = dir.join(FORMAT);
        std::fs::create_dir_all(&dir).unwrap();
        Cache { dir }
    }

    #[test]
    fn an_entry_round_trips() {
        let temp = tempfile::tempdir().unwrap();
        let cache = cache_in(temp.path());
        let text =
            "CREATE TABLE a (id int);\n-- rollsafe:allow drop-table gone\nDROP TABLE b;\nFROB;";
        let file = sql::parse_sql(text, 0..text.len(), Dialect::Postgres);
        let key = key(text, &(0..text.len()), Dialect::Postgres);
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &file);
        assert_eq!(cache.get(&key), Some(file));
    }

    #[test]
    fn keys_depend_on_text_range_and_dialect() {
        let text = "SELECT 1;";
        let base = key(text, &(0..9), Dialect::Postgres);
        assert_ne!(base, key("SELECT 2;", &(0..9), Dialect::Postgres));
        assert_ne!(base, key(text, &(0..8), Dialect::Postgres));
        assert_ne!(base, key(text, &(0..9), Dialect::Mysql));
        assert_eq!(base, key(text, &(0..9), Dialect::Postgres));
    }

    #[test]
    fn corrupt_and_foreign_entries_are_misses() {
        let temp = tempfile::tempdir().unwrap();
        let cache = cache_in(temp.path());
        let text = "SELECT 1;";
        let file = sql::parse_sql(text, 0..text.len(), Dialect::Postgres);
        let key = key(text, &(0..text.len()), Dialect::Postgres);
        std::fs::write(cache.path(&key), b"{\"key\": \"trunc").unwrap();
        assert_eq!(cache.get(&key), None);
        // A whole entry, but for another key (copied, or a collision of file names).
        let other = "0".repeat(32);
        cache.put(&other, &file);
        std::fs::copy(cache.path(&other), cache.path(&key)).unwrap();
        assert_eq!(cache.get(&key), None);
        // Rewritten by the next put.
        cache.put(&key, &file);
        assert_eq!(cache.get(&key), Some(file));
    }

    #[test]
    fn trim_deletes_the_oldest_entries_first() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let old = SystemTime::now() - Duration::from_secs(3600);
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, vec![b'x'; 100]).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(old + Duration::from_secs(i as u64 * 60))
                .unwrap();
        }
        std::fs::write(dir.join(".x.1.1.tmp"), b"").unwrap();
        let stale = std::fs::File::options()
            .write(true)
            .open(dir.join(".x.1.1.tmp"))
            .unwrap();
        stale.set_modified(old).unwrap();
        assert_eq!(
            trim(dir, 250),
            3,
            "two oldest entries and the stale temp file"
        );
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["c.json", "d.json"]);
    }
}
