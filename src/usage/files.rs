//! The files the usage stage reads: selected by path from a git tree (read-only, no
//! checkout) or a directory, and the globs and defaults that select them.

use crate::config::UsageConfig;
use crate::git::{GitRepo, TreeFiles};
use crate::source::relative_path;
use anyhow::{Context as _, Result};
use regex::Regex;
use std::path::Path;

/// A file larger than this is not read (generated bundles, data dumps): it is reported, and
/// since it may name anything, no object can be shown unreferenced.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Extensions of source files the mention scan reads by default.
const SCAN_EXTENSIONS: &[&str] = &[
    "rs", "go", "ts", "tsx", "js", "jsx", "mjs", "cjs", "py", "rb", "java", "kt", "kts", "ex",
    "exs", "cs", "php", "sql",
];

/// Directory names whose files are not N-1's running code: tests, docs, vendored and
/// generated code.
const EXCLUDED_DIRS: &[&str] = &[
    "test",
    "tests",
    "spec",
    "specs",
    "__tests__",
    "testdata",
    "fixtures",
    "doc",
    "docs",
    "examples",
    "vendor",
    "third_party",
    "node_modules",
    "target",
    "dist",
    "build",
    "generated",
    "gen",
    ".git",
];

/// A glob over repository paths: `**` any run of directories, `*` any run of characters
/// within one path component, `?` one character.
#[derive(Debug, Clone)]
pub struct Glob {
    pub pattern: String,
    regex: Regex,
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob> {
        let mut out = String::from("^");
        let mut chars = pattern.trim_start_matches("./").chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next();
                        out.push_str("(?:.*/)?");
                    } else {
                        out.push_str(".*");
                    }
                }
                '*' => out.push_str("[^/]*"),
                '?' => out.push_str("[^/]"),
                c => out.push_str(&regex::escape(&c.to_string())),
            }
        }
        out.push('$');
        let regex =
            Regex::new(&out).with_context(|| format!("invalid glob `{pattern}` in [usage]"))?;
        Ok(Glob {
            pattern: pattern.to_string(),
            regex,
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }
}

/// Which files of a revision the usage stage reads and how it classifies them.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The migrations directory (relative to the root): its SQL is not N-1's code.
    pub migrations_dir: String,
    pub scan: Option<Vec<Glob>>,
    pub queries: Vec<Glob>,
    pub exclude: Vec<Glob>,
}

impl Selection {
    pub fn new(config: &UsageConfig, migrations_dir: &str) -> Result<Selection> {
        let globs = |patterns: &[String]| -> Result<Vec<Glob>> {
            patterns.iter().map(|p| Glob::new(p)).collect()
        };
        Ok(Selection {
            migrations_dir: migrations_dir.trim_matches('/').to_string(),
            scan: config.scan.as_deref().map(globs).transpose()?,
            queries: globs(&config.queries)?,
            exclude: globs(&config.exclude)?,
        })
    }

    /// True for a path inside the migrations directory.
    pub fn is_migration(&self, path: &str) -> bool {
        !self.migrations_dir.is_empty()
            && path
                .strip_prefix(&self.migrations_dir)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// True for code N-1 runs: not a test, doc, vendored or generated file, nor excluded
    /// by config.
    pub fn is_code(&self, path: &str) -> bool {
        let mut dirs: Vec<&str> = path.split('/').collect();
        let file = dirs.pop().unwrap_or_default();
        let test_file = file.contains("_test.")
            || file.contains(".test.")
            || file.contains(".spec.")
            || file.starts_with("test_");
        !test_file
            && !dirs.iter().any(|d| EXCLUDED_DIRS.contains(d))
            && !self.exclude.iter().any(|g| g.matches(path))
    }

    /// True for a file the mention scan reads.
    pub fn is_scanned(&self, path: &str) -> bool {
        if self.is_migration(path) {
            return false;
        }
        match &self.scan {
            Some(globs) => globs.iter().any(|g| g.matches(path)),
            None => self.is_code(path) && has_extension(path, SCAN_EXTENSIONS),
        }
    }

    /// True for a file some usage source may read.
    pub fn wanted(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "diesel.toml"
            || matches!(name, "sqlc.yaml" | "sqlc.yml" | "sqlc.json")
            || has_extension(path, &["prisma"])
            || (path.contains(".sqlx/") && name.starts_with("query-") && name.ends_with(".json"))
            || self.queries.iter().any(|g| g.matches(path))
            || (has_extension(path, &["rs", "sql"]) && !self.is_migration(path))
            || self.is_scanned(path)
    }
}

pub fn has_extension(path: &str, extensions: &[&str]) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| extensions.contains(&ext))
}

/// The selected files of `commit`.
pub fn read_commit(repo: &GitRepo, commit: git2::Oid, selection: &Selection) -> Result<TreeFiles> {
    repo.files_where(commit, MAX_FILE_BYTES, |path| selection.wanted(path))
}

/// The selected files below `root` (outside any git repository), paths relative to it.
pub fn read_dir(root: &Path, selection: &Selection) -> Result<TreeFiles> {
    let mut files = TreeFiles::default();
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && matches!(
                        e.file_name().to_str(),
                        Some(".git" | "target" | "node_modules")
                    ))
        });
    for entry in walker {
        let entry = entry.with_context(|| format!("{}: cannot walk", root.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        files.total += 1;
        let path = relative_path(root, entry.path());
        if !selection.wanted(&path) {
            continue;
        }
        let size = entry.metadata().map(|m| m.len() as usize).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            files.too_large.push((path, size));
            continue;
        }
        let contents =
            std::fs::read(entry.path()).with_context(|| format!("{path}: cannot read"))?;
        files.files.push((path, contents));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_cross_directories_only_with_double_stars() {
        let glob = Glob::new("db/queries/**/*.sql").unwrap();
        assert!(glob.matches("db/queries/users.sql"));
        assert!(glob.matches("db/queries/a/b/users.sql"));
        assert!(!glob.matches("db/other/users.sql"));
        let single = Glob::new("src/*.rs").unwrap();
        assert!(single.matches("src/main.rs"));
        assert!(!single.matches("src/db/models.rs"));
    }

    #[test]
    fn the_default_scan_reads_code_but_not_tests_docs_or_migrations() {
        let selection = Selection::new(&UsageConfig::default(), "migrations").unwrap();
        assert!(selection.is_scanned("src/models.rs"));
        assert!(selection.is_scanned("app/queries/report.sql"));
        assert!(!selection.is_scanned("migrations/001_init.sql"));
        assert!(!selection.is_scanned("tests/api.rs"));
        assert!(!selection.is_scanned("src/users_test.go"));
        assert!(!selection.is_scanned("docs/guide.md"));
        assert!(!selection.is_scanned("vendor/lib/x.go"));
        assert!(!selection.is_scanned("README.md"));
    }
}
