//! A snapshot of files at one revision: the working tree or (later) a git commit.
//! Everything downstream takes a `Snapshot` and never knows where the files came from.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files keyed by their path relative to the snapshot's root, with `/` separators.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    files: BTreeMap<String, Vec<u8>>,
}

impl Snapshot {
    pub fn new() -> Self {
        Snapshot::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), contents.into());
    }

    /// Every path in the snapshot, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// A file's text, or an error naming the file when it is not UTF-8.
    pub fn text(&self, path: &str) -> Result<&str> {
        let bytes = self
            .get(path)
            .with_context(|| format!("{path}: no such file in the snapshot"))?;
        std::str::from_utf8(bytes).map_err(|err| {
            let line = bytes[..err.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            anyhow::anyhow!(
                "{path}:{line}: not UTF-8 text (invalid byte at offset {}); is this a binary file?",
                err.valid_up_to()
            )
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Reads every regular file below `dir` into a snapshot whose paths are relative to `dir`.
/// Hidden directories (`.git`, `.idea`) and `target`/`node_modules` are skipped.
pub fn read_dir(dir: &Path) -> Result<Snapshot> {
    let meta = std::fs::metadata(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{}: not a directory", dir.display());
    }
    let mut snapshot = Snapshot::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry));
    for entry in walker {
        let entry = entry.with_context(|| format!("{}: cannot walk", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = relative_path(dir, entry.path());
        let contents = std::fs::read(entry.path())
            .with_context(|| format!("{}: cannot read", entry.path().display()))?;
        snapshot.insert(relative, contents);
    }
    Ok(snapshot)
}

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    if !entry.file_type().is_dir() {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    name.starts_with('.') || name == "target" || name == "node_modules"
}

/// `path` relative to `root`, with `/` separators.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let relative: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Line starts of a file, to turn byte offsets into the 1-based line and column (counted in
/// characters) without rescanning the file for every position.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let newlines = text.match_indices('\n').map(|(i, _)| i + 1);
        LineIndex {
            text,
            starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// The 1-based line and column of byte `offset` (clamped to the text, and moved back to
    /// a character boundary).
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let line_start = self.starts[line - 1];
        (line, self.text[line_start..offset].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\nçd;\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(0), (1, 1));
        assert_eq!(index.line_column(3), (2, 1));
        // `ç` is two bytes but one column; an offset inside it moves back to its start.
        assert_eq!(index.line_column(5), (2, 2));
        assert_eq!(index.line_column(4), (2, 1));
        assert_eq!(index.line_column(text.len()), (3, 1));
        assert_eq!(index.line_column(text.len() + 10), (3, 1));
    }
}
