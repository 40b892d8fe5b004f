//! The parse cache: a SQL part's parsed statements and change IR, stored per file content,
//! range, dialect and rollsafe build, as ruff and eslint cache their per-file results.
//!
//! One pack file per migrations directory, in `<cache dir>/v1/`: a line per SQL part, its
//! key (a 128-bit hash of what the parse depends on) and the parse as JSON. A run reads the
//! pack once and, when it parsed anything new, writes it once: the parts it used and the
//! new ones (so a pack holds what the project needs now, not every file it ever had). A
//! line that does not parse, or whose key no part has, is a miss; writes go to a temporary
//! file renamed into place, so concurrent runs each see a whole pack, and the last writer
//! wins. The directory is kept under a size bound by deleting the oldest packs.
//!
//! One file per run rather than one per part: creating and renaming a file costs about a
//! millisecond on common disks, more than parsing the part it would hold.
//!
//! The cache is off unless `enable` is called (the command line does, `--no-cache` aside):
//! library users and tests never write to the user's cache directory by accident.

use crate::dialect::Dialect;
use crate::sql::{self, SqlFile};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Bumped whenever the pack format changes (the rollsafe version is part of every key too).
const FORMAT: &str = "v1";
/// A pack's first line: the format, the rollsafe version and the build (the executable's
/// size and modification time), so that a rebuilt rollsafe, whose parser or lowering may
/// differ under the same version number, never reads what another build wrote.
fn header() -> &'static str {
    static HEADER: OnceLock<String> = OnceLock::new();
    HEADER.get_or_init(|| {
        let build = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|meta| {
                let modified = meta.modified().ok();
                let since = modified.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
                format!("{}-{}", meta.len(), since.unwrap_or_default().as_nanos())
            })
            .unwrap_or_default();
        format!(
            "rollsafe parse cache {FORMAT} {} {build}",
            env!("CARGO_PKG_VERSION")
        )
    })
}

/// The cache is trimmed to this size (the oldest packs go first)...
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// ...at most this often (a trim reads every pack's metadata).
const TRIM_EVERY: Duration = Duration::from_secs(600);

static CACHE: OnceLock<Cache> = OnceLock::new();

/// The pack of one migrations directory, in use.
#[derive(Debug)]
struct Cache {
    /// `<cache dir>/v1`.
    dir: PathBuf,
    /// `<cache dir>/v1/<hash of the migrations directory>.pack`.
    pack: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The pack as read, and where each key's JSON lies in it.
    text: Arc<str>,
    lines: HashMap<String, Range<usize>>,
    /// Keys read from the pack during this run.
    used: HashSet<String>,
    /// Entries parsed during this run: key and JSON.
    new: Vec<(String, String)>,
    /// How many of `new` the pack on disk holds already.
    saved: usize,
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

/// Turns the cache on for this process: `cache_dir` holds the packs, `project` (the
/// migrations directory) names the pack. A directory that cannot be created leaves the
/// cache off: it is an optimisation, never a reason to fail.
pub fn enable(cache_dir: &Path, project: &Path) {
    let dir = cache_dir.join(FORMAT);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let project = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    let pack = dir.join(format!("{}.pack", hash_hex(|h| project.hash(h))));
    let state = Mutex::new(read_pack(&pack));
    let cache = CACHE.get_or_init(|| Cache { dir, pack, state });
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
    cache.put(key, &file);
    file
}

/// Writes the pack when this run parsed anything new since the last save. Failures are
/// ignored (the next run parses again).
pub fn save() {
    if let Some(cache) = CACHE.get() {
        cache.save();
    }
}

/// 128 bits of hash over everything a part's parse depends on: the whole file's text (a
/// message's line numbers count from the file's start), the range, the dialect, the
/// rollsafe version.
fn key(text: &str, range: &Range<usize>, dialect: Dialect) -> String {
    hash_hex(|hasher| {
        header().hash(hasher);
        dialect.hash(hasher);
        range.start.hash(hasher);
        range.end.hash(hasher);
        text.hash(hasher);
    })
}

/// Two SipHash runs with different salts, as 32 hex digits: no dependency, fast, and far
/// from any accidental collision.
fn hash_hex(feed: impl Fn(&mut std::collections::hash_map::DefaultHasher)) -> String {
    let half = |salt: u64| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut hasher);
        feed(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0x5eed_0001), half(0x5eed_0002))
}

/// Writes the entries of `state` this run used, and its new ones, as a pack to `path`.
fn write_pack(path: &Path, state: &State) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{}", header())?;
    let mut used: Vec<&String> = state.used.iter().collect();
    used.sort();
    let kept = used
        .into_iter()
        .map(|key| (key, &state.text[state.lines[key].clone()]));
    let new = state.new.iter().map(|(key, json)| (key, json.as_str()));
    for (key, json) in kept.chain(new) {
        writeln!(out, "{key} {json}")?;
    }
    // No fsync: a pack lost or cut short by a crash is only a miss for the next run.
    out.into_inner().map(drop).map_err(|e| e.into_error())
}

/// The pack at `path`; an empty state when it is missing or unreadable.
fn read_pack(path: &Path) -> State {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_pack(Arc::from(text)),
        Err(_) => State::default(),
    }
}

/// Where each key's JSON lies in `text`: lines of `<32 hex digits> <json>`, after the
/// header. A pack of another version is empty; a malformed line (a truncated last one) is
/// left out.
fn parse_pack(text: Arc<str>) -> State {
    let Some(body) = text
        .strip_prefix(header())
        .and_then(|rest| rest.strip_prefix('\n'))
    else {
        return State::default();
    };
    let mut lines = HashMap::new();
    let mut offset = text.len() - body.len();
    for row in body.split_inclusive('\n') {
        let start = offset;
        offset += row.len();
        let Some((key, json)) = row.strip_suffix('\n').and_then(|r| r.split_once(' ')) else {
            continue;
        };
        if key.len() == 32 {
            let json_start = start + key.len() + 1;
            lines.insert(key.to_string(), json_start..json_start + json.len());
        }
    }
    State {
        text,
        lines,
        ..State::default()
    }
}

impl Cache {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The parse stored under `key`; `None` when missing or damaged.
    fn get(&self, key: &str) -> Option<SqlFile> {
        let (text, range) = {
            let state = self.lock();
            (Arc::clone(&state.text), state.lines.get(key)?.clone())
        };
        let file = serde_json::from_str(&text[range]).ok()?;
        self.lock().used.insert(key.to_string());
        Some(file)
    }

    fn put(&self, key: String, file: &SqlFile) {
        if let Ok(json) = serde_json::to_string(file) {
            self.lock().new.push((key, json));
        }
    }

    fn save(&self) {
        let mut state = self.lock();
        if state.new.len() == state.saved {
            return;
        }
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let unique = SAVES.fetch_add(1, Ordering::Relaxed);
        let temp = (self.pack).with_extension(format!("{}.{unique}.tmp", std::process::id()));
        let written = write_pack(&temp, &state).and_then(|()| std::fs::rename(&temp, &self.pack));
        if written.is_ok() {
            state.saved = state.new.len();
        } else {
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

/// Deletes the oldest packs of `dir` (by modification time) until the rest take at most
/// `max_bytes`. Leftover temporary files older than a minute go too (a run killed between
/// write and rename). Returns how many files were deleted.
pub fn trim(dir: &Path, max_bytes: u64) -> usize {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut packs = Vec::new();
    let mut deleted = 0;
    for item in listing.flatten() {
        let name = item.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if name.ends_with(".tmp") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age > Duration::from_secs(60) && std::fs::remove_file(item.path()).is_ok() {
                deleted += 1;
            }
        } else if name.ends_with(".pack") {
            packs.push((modified, meta.len(), item.path()));
        }
    }
    let mut total: u64 = packs.iter().map(|(_, len, _)| len).sum();
    packs.sort();
    for (_, len, path) in packs {
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
        let pack = dir.join("p.pack");
        Cache {
            dir: dir.to_path_buf(),
            state: Mutex::new(read_pack(&pack)),
            pack,
        }
    }

    fn parse(text: &str) -> (String, SqlFile) {
        let range = 0..text.len();
        let key = key(text, &range, Dialect::Postgres);
        (key, sql::parse_sql(text, range, Dialect::Postgres))
    }

    #[test]
    fn entries_round_trip_through_the_pack() {
        let temp = tempfile::tempdir().unwrap();
        let text =
            "CREATE TABLE a (id int);\n-- rollsafe:allow drop-table gone\nDROP TABLE b;\nFROB;";
        let (key, file) = parse(text);
        let (other_key, other) = parse("SELECT 1;");
        let cache = cache_in(temp.path());
        assert_eq!(cache.get(&key), None);
        cache.put(key.clone(), &file);
        cache.put(other_key.clone(), &other);
        cache.save();
        let reread = cache_in(temp.path());
        assert_eq!(reread.get(&key), Some(file));
        // Saved again with one new entry: only the entries used, and the new one, stay.
        let (third_key, third) = parse("SELECT 3;");
        reread.put(third_key.clone(), &third);
        reread.save();
        let last = cache_in(temp.path());
        assert!(last.get(&key).is_some());
        assert!(last.get(&third_key).is_some());
        assert_eq!(last.get(&other_key), None);
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
    fn damaged_or_foreign_packs_are_misses() {
        let temp = tempfile::tempdir().unwrap();
        let (key, file) = parse("SELECT 1;");
        let cache = cache_in(temp.path());
        cache.put(key.clone(), &file);
        cache.save();
        let pack = temp.path().join("p.pack");
        let good = std::fs::read_to_string(&pack).unwrap();
        let damaged = [
            good.replace("\"statements\"", "\"statement\""),
            good[..good.len() - 5].to_string(),
            good.replace(header(), "rollsafe parse cache v1 0.0.0 1-2"),
            "\u{0}\u{ff} not a pack".to_string(),
        ];
        for text in damaged {
            std::fs::write(&pack, text).unwrap();
            assert_eq!(cache_in(temp.path()).get(&key), None);
        }
    }

    #[test]
    fn trim_deletes_the_oldest_packs_first() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let old = SystemTime::now() - Duration::from_secs(3600);
        let touch = |name: &str, len: usize, at: SystemTime| {
            let path = dir.join(name);
            std::fs::write(&path, vec![b'x'; len]).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(at).unwrap();
        };
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            touch(
                &format!("{name}.pack"),
                100,
                old + Duration::from_secs(i as u64 * 60),
            );
        }
        touch("x.1.tmp", 10, old);
        assert_eq!(
            trim(dir, 250),
            3,
            "the two oldest packs and the stale temp file"
        );
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["c.pack", "d.pack"]);
    }
}
