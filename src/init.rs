//! `rollsafe init`: inspects a repository and proposes a commented `rollsafe.toml`.
//!
//! It finds the migrations directory (the directory holding the most migrations a layout
//! recognises), the layout, the dialect (declared by the layout, else guessed from
//! dialect-only syntax), whether the team writes downs, the remote's default branch and the
//! release tag pattern. It reads only; `write` creates the one file and refuses to replace
//! an existing one.

use crate::config::{self, Config};
use crate::dialect::Dialect;
use crate::git::GitRepo;
use crate::layout::{self, LayoutChoice, LayoutKind, LayoutOptions};
use crate::source::{self, Snapshot};
use anyhow::{bail, Context as _, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How deep below the project directory migrations are looked for.
const MAX_DEPTH: usize = 6;

/// What `init` found, and the config it proposes.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The `rollsafe.toml` text (comments included); `Config::parse` accepts it.
    pub config: String,
    /// One line per fact found or assumed, for the user.
    pub notes: Vec<String>,
}

/// The migration set found under the project directory.
struct Found {
    /// Relative to the project directory, with `/` (`.` for the directory itself).
    dir: String,
    layout: LayoutKind,
    dialect: Option<Dialect>,
    dialect_source: &'static str,
    migrations: usize,
    downs: usize,
}

/// Inspects `dir` (a repository or project root) and proposes its config.
pub fn inspect(dir: &Path) -> Result<Proposal> {
    if !dir.is_dir() {
        bail!(
            "{}: not a directory; give the project's root directory",
            dir.display()
        );
    }
    let found = find_migrations(dir)?;
    let repo = GitRepo::discover(dir)?;
    let branch = repo.as_ref().and_then(GitRepo::default_branch);
    let tags = match &repo {
        Some(repo) => repo.tag_names()?,
        None => Vec::new(),
    };
    let release_glob = release_pattern(&tags);
    let mut notes = Vec::new();
    let mut out = String::from(
        "# rollsafe.toml: written by `rollsafe init` from what it found in this repository.\n\
         # Every key is optional; remove a line to get the default back.\n\
         # Reference: https://github.com/rollsafe/rollsafe#configuration\n\n",
    );
    let _ = writeln!(
        out,
        "# The migrations directory, relative to this file ({} migrations found).\n\
         migrations = {}\n",
        found.migrations,
        quote(&found.dir)
    );
    notes.push(format!(
        "migrations: {} ({} migrations, {} layout)",
        found.dir,
        found.migrations,
        found.layout.name()
    ));
    let _ = writeln!(
        out,
        "# The migration tool's file layout (detected; \"auto\" detects it on every run).\n\
         layout = {}\n",
        quote(found.layout.name())
    );
    let dialect = found.dialect.unwrap_or_default();
    let _ = writeln!(
        out,
        "# The SQL dialect: postgres, mysql or sqlite ({}).\ndialect = {}\n",
        found.dialect_source,
        quote(dialect.name())
    );
    notes.push(format!("dialect: {dialect} ({})", found.dialect_source));
    if dialect == Dialect::Postgres {
        out.push_str(
            "# The PostgreSQL major version production runs: what rewrites a table depends on it.\n\
             # pg_version = 15\n\n",
        );
    }
    out.push_str(
        "# Exit 1 on findings at or above: error, warning or never.\nfail_on = \"error\"\n\n",
    );
    match &branch {
        Some(branch) => {
            let _ = writeln!(
                out,
                "# The revision N-1 runs when --base is not given. By default a local run \
                 compares with\n# the merge base of the upstream branch; CI passes --base itself.\n\
                 # base = {}\n",
                quote(branch)
            );
            notes.push(format!("default branch: {branch}"));
        }
        None => notes.push("default branch: none found (no remote)".to_string()),
    }
    if found.downs > 0 {
        let _ = writeln!(
            out,
            "# {} of {} migrations have a down script, so every migration needs one.\n\
             require_down = true\n",
            found.downs, found.migrations
        );
    } else {
        out.push_str(
            "# No migration has a down script: rollbacks are image-only, so the down rules \
             are off.\nrequire_down = false\n\n",
        );
    }
    notes.push(format!("downs: {} of {}", found.downs, found.migrations));
    match &release_glob {
        Some((glob, count)) => {
            let _ = writeln!(
                out,
                "# Releases are the tags matching `releases` ({count} found); an image-only \
                 rollback must\n# reach back `min_window` of them.\n[rollback]\n\
                 releases = {}\nwindow = 5\n# min_window = 1\n",
                quote(glob)
            );
            notes.push(format!("releases: tags matching {glob} ({count})"));
        }
        None => {
            out.push_str(
                "# No release tags found. Once releases are tagged, name them here so rollsafe \
                 checks\n# how far back an image-only rollback reaches:\n\
                 # [rollback]\n# releases = \"v*\"\n# window = 5\n\n",
            );
            notes.push("releases: no tags found".to_string());
        }
    }
    out.push_str(
        "# Change a rule's severity, or turn it off: error, warning, info or off.\n\
         # [rules]\n# missing-lock-timeout = \"off\"\n\n\
         # An object the shipped release no longer uses, so a later deploy may drop it:\n\
         # [[retire]]\n# object = \"users.legacy_email\"\n\
         # reason = \"replaced by users.email (#481)\"\n",
    );
    // What init writes must be a config rollsafe accepts.
    Config::parse(&out, Path::new(config::FILE_NAME))
        .context("the proposed rollsafe.toml does not parse (a bug in `rollsafe init`)")?;
    Ok(Proposal { config: out, notes })
}

/// Writes the proposal as `dir/rollsafe.toml`; an existing file is never replaced.
pub fn write(dir: &Path, proposal: &Proposal) -> Result<PathBuf> {
    let path = dir.join(config::FILE_NAME);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{}: already exists; rollsafe init never overwrites it (`rollsafe init --stdout` \
             prints the proposal)",
            path.display()
        ),
        Err(err) => return Err(err).with_context(|| format!("{}: cannot create", path.display())),
    };
    std::io::Write::write_all(&mut file, proposal.config.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(path)
}

/// The directory under `root` whose files a layout reads as the most migrations.
fn find_migrations(root: &Path) -> Result<Found> {
    let mut best: Option<Found> = None;
    for dir in candidate_dirs(root) {
        let Ok(snapshot) = source::read_dir(&dir) else {
            continue;
        };
        let Ok(discovered) =
            layout::discover(&snapshot, LayoutChoice::Auto, &LayoutOptions::default())
        else {
            continue;
        };
        let migrations = discovered.migrations.len();
        // A parent directory sees its child's migrations too; the nearest one wins a tie.
        if best.as_ref().is_some_and(|b| b.migrations >= migrations) {
            continue;
        }
        let (dialect, dialect_source) = match discovered.dialect {
            Some(dialect) => (Some(dialect), "declared by the layout's own files"),
            None => match guess_dialect(&snapshot) {
                Some(dialect) => (Some(dialect), "guessed from dialect-only syntax"),
                None => (None, "the default; nothing dialect-specific was found"),
            },
        };
        best = Some(Found {
            dir: match source::relative_path(root, &dir).as_str() {
                "" => ".".to_string(),
                relative => relative.to_string(),
            },
            layout: discovered.layout,
            dialect,
            dialect_source,
            migrations,
            downs: discovered
                .migrations
                .iter()
                .filter(|m| m.down.is_some())
                .count(),
        });
    }
    best.with_context(|| {
        format!(
            "{}: found no migrations below this directory (looked {MAX_DEPTH} levels deep for \
             .sql files a known layout reads); create rollsafe.toml by hand, see \
             https://github.com/rollsafe/rollsafe#configuration",
            root.display()
        )
    })
}

/// Directories that hold `.sql` files or a sqitch plan, and their parents (Diesel and Prisma
/// keep one directory per migration), nearest first.
fn candidate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
    for entry in walker.filter_map(|entry| entry.ok()) {
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || !(name.ends_with(".sql") || name == "sqitch.plan") {
            continue;
        }
        let Some(parent) = entry.path().parent() else {
            continue;
        };
        for dir in [Some(parent), parent.parent()].into_iter().flatten() {
            if dir.starts_with(root) && !dirs.iter().any(|known| known == dir) {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    dirs.sort_by_key(|dir| dir.components().count());
    dirs
}

/// A dialect that only one database's syntax shows (`AUTO_INCREMENT`, `AUTOINCREMENT`,
/// `PRAGMA`, backquoted names); `None` when nothing in the files tells them apart.
fn guess_dialect(snapshot: &Snapshot) -> Option<Dialect> {
    let (mut mysql, mut sqlite) = (0, 0);
    for path in snapshot.paths().filter(|path| path.ends_with(".sql")) {
        let Ok(text) = snapshot.text(path) else {
            continue;
        };
        let upper = text.to_ascii_uppercase();
        mysql += upper.matches("AUTO_INCREMENT").count()
            + upper.matches("ENGINE=").count()
            + upper.matches("ENGINE =").count()
            + text.matches('`').count() / 2;
        sqlite += upper.matches("AUTOINCREMENT").count() + upper.matches("PRAGMA ").count();
    }
    match (mysql, sqlite) {
        (0, 0) => None,
        (m, s) if m >= s => Some(Dialect::Mysql),
        _ => Some(Dialect::Sqlite),
    }
}

/// A glob for the release tags: the prefix most version-like tags share before their first
/// digit (`v1.2.0` → `v*`), with how many tags it matches.
fn release_pattern(tags: &[String]) -> Option<(String, usize)> {
    let mut prefixes: Vec<(String, usize)> = Vec::new();
    for tag in tags {
        let Some(digit) = tag.find(|c: char| c.is_ascii_digit()) else {
            continue;
        };
        let prefix = &tag[..digit];
        match prefixes.iter_mut().find(|(known, _)| known == prefix) {
            Some((_, count)) => *count += 1,
            None => prefixes.push((prefix.to_string(), 1)),
        }
    }
    let (prefix, count) = prefixes
        .into_iter()
        .max_by_key(|(prefix, count)| (*count, std::cmp::Reverse(prefix.len())))?;
    // Tags that start with their version (`1.2.0`) get `*`: the glob knows `*` and `?` only.
    let glob = format!("{prefix}*");
    let matched = tags
        .iter()
        .filter(|tag| crate::git::glob_matches(&glob, tag))
        .count();
    Some((glob, matched.max(count)))
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn the_release_pattern_is_the_prefix_most_tags_share() {
        let tags = strings(&["v1.0.0", "v1.1.0", "nightly", "release-2"]);
        assert_eq!(release_pattern(&tags), Some(("v*".to_string(), 2)));
        assert_eq!(release_pattern(&strings(&["nightly"])), None);
        assert_eq!(release_pattern(&[]), None);
    }

    #[test]
    fn backquotes_and_auto_increment_say_mysql() {
        let mut snapshot = Snapshot::new();
        snapshot.insert(
            "1_users.up.sql",
            "CREATE TABLE `users` (id int AUTO_INCREMENT PRIMARY KEY);",
        );
        assert_eq!(guess_dialect(&snapshot), Some(Dialect::Mysql));
        let mut plain = Snapshot::new();
        plain.insert("1_users.up.sql", "CREATE TABLE users (id int);");
        assert_eq!(guess_dialect(&plain), None);
    }
}
