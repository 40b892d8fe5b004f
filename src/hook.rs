//! `rollsafe check --hook`: what a pre-commit framework run compares.
//!
//! - pre-commit gave refs (`--from-ref/--to-ref`, the pre-push stage): the base is the
//!   from-ref, the head the to-ref.
//! - A commit (files passed are the staged ones): the head is the index, what the commit
//!   will hold; the base is the usual default (config `base`, else the merge base with the
//!   upstream or the remote's default branch, else `HEAD`); the migrations of the files
//!   pre-commit passes are the deploy (`check FILE...`), so `files`/`exclude` in the user's
//!   config narrow it, and an earlier unpushed commit does not block this one. When the commit changes nothing
//!   under the migrations directory the hook exits at once: it runs on every commit
//!   (`always_run`) so a commit that only deletes a migration is still checked.
//! - `--all-files` (files passed that the commit does not change): the index against the
//!   upstream, or, with nothing to compare against, the whole history.
//!
//! Each case is said in a note, so a passing hook says what it checked.

use crate::check::{load_config, migrations_dir, CheckOptions};
use crate::git::GitRepo;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// What the hook does, and the notes that say so.
#[derive(Debug, Default)]
pub struct Plan {
    /// Nothing to check: the commit leaves the migrations alone.
    pub skip: bool,
    pub notes: Vec<String>,
}

/// The environment variables pre-commit sets for `--from-ref/--to-ref` and pre-push (the
/// second name of each pair is what pre-commit before 2.0 set).
const FROM_REFS: [&str; 2] = ["PRE_COMMIT_FROM_REF", "PRE_COMMIT_SOURCE"];
const TO_REFS: [&str; 2] = ["PRE_COMMIT_TO_REF", "PRE_COMMIT_ORIGIN"];

/// Sets `options` for a hook run. `files` are the paths pre-commit passed; `env` reads an
/// environment variable (empty values count as unset).
pub fn plan(
    options: &mut CheckOptions,
    files: &[PathBuf],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan> {
    options.files.clear();
    let first = |names: [&str; 2]| names.iter().find_map(|name| env(name));
    if let (Some(from), Some(to)) = (first(FROM_REFS), first(TO_REFS)) {
        let base = options.base.get_or_insert(from).clone();
        let head = options.head.get_or_insert(to).clone();
        return Ok(Plan {
            skip: false,
            notes: vec![format!(
                "pre-commit hook: the migrations at {head} against the merge base of {base} \
                 (the refs pre-commit passed)"
            )],
        });
    }
    let (config, config_path) = load_config(options)?;
    let dir = migrations_dir(options, &config, config_path.as_deref());
    let Some(repo) = GitRepo::discover(&dir)? else {
        options.all = true;
        return Ok(Plan {
            skip: false,
            notes: vec![
                "pre-commit hook outside a git repository: auditing the whole history".into(),
            ],
        });
    };
    let all_files = files.iter().any(|file| {
        repo.repo_path(file)
            .is_ok_and(|path| repo.unchanged_in_index(&path))
    });
    if !all_files {
        let mut watched = vec![repo.checked_dir().to_string()];
        if let Some(path) = &config_path {
            watched.extend(repo.repo_path(path).ok());
        }
        let mut changed = false;
        for path in &watched {
            changed |= repo.staged_changes(path)?;
        }
        if !changed {
            return Ok(Plan {
                skip: true,
                notes: vec![format!(
                    "pre-commit hook: nothing staged under {} or in rollsafe.toml; nothing to \
                     check",
                    match repo.checked_dir() {
                        "" => ".",
                        dir => dir,
                    }
                )],
            });
        }
        options.head.get_or_insert_with(|| "index".to_string());
        // The files pre-commit passes are the commit's: its migrations are the deploy, so
        // an earlier commit's finding does not block this one.
        options.files = inside(&dir, files);
        return Ok(Plan {
            skip: false,
            notes: vec![format!(
                "pre-commit hook: the staged migrations against {}",
                base_description(options, &config, &repo)
            )],
        });
    }
    // `--all-files`: compare with the upstream when there is one with something to compare,
    // else audit every migration.
    let base = options
        .base
        .clone()
        .or_else(|| config.base.clone())
        .or_else(|| repo.default_base());
    match base {
        Some(base) if !repo.nothing_since(&base) => {
            options.head.get_or_insert_with(|| "index".to_string());
            let note = format!(
                "pre-commit --all-files: the staged migrations against the merge base of {base}"
            );
            options.base = Some(base);
            Ok(Plan {
                skip: false,
                notes: vec![note],
            })
        }
        _ => {
            options.all = true;
            options.base = None;
            options.head = None;
            Ok(Plan {
                skip: false,
                notes: vec![
                    "pre-commit --all-files with no upstream changes to compare: auditing the \
                     whole history (every migration against the ones before it)"
                        .into(),
                ],
            })
        }
    }
}

/// The files that lie inside `dir`, relative to it with `/` (pre-commit also passes SQL
/// files that belong to no migration set).
fn inside(dir: &Path, files: &[PathBuf]) -> Vec<String> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    files
        .iter()
        .filter_map(|file| file.canonicalize().ok())
        .filter(|file| file.starts_with(&dir))
        .map(|file| crate::source::relative_path(&dir, &file))
        .collect()
}

/// "the merge base of origin/main", "HEAD (no upstream branch)", for the note.
fn base_description(
    options: &CheckOptions,
    config: &crate::config::Config,
    repo: &GitRepo,
) -> String {
    match options.base.clone().or_else(|| config.base.clone()) {
        Some(base) => format!("the merge base of {base}"),
        None => match repo.default_base() {
            Some(upstream) => format!("the merge base of {upstream} (what was pushed)"),
            None => "HEAD (no upstream branch)".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn the_refs_pre_commit_passes_are_the_base_and_the_head() {
        let mut options = CheckOptions {
            files: vec!["1_users.up.sql".into()],
            ..CheckOptions::default()
        };
        let env = env_of(&[("PRE_COMMIT_FROM_REF", "abc"), ("PRE_COMMIT_TO_REF", "def")]);
        let plan = plan(&mut options, &[], &env).unwrap();
        assert!(!plan.skip);
        assert_eq!(options.base.as_deref(), Some("abc"));
        assert_eq!(options.head.as_deref(), Some("def"));
        assert!(
            options.files.is_empty(),
            "the range is the deploy, not the files"
        );
        assert!(plan.notes[0].contains("the refs pre-commit passed"));
    }

    #[test]
    fn pre_commit_before_2_names_them_source_and_origin() {
        let mut options = CheckOptions::default();
        let env = env_of(&[("PRE_COMMIT_SOURCE", "abc"), ("PRE_COMMIT_ORIGIN", "def")]);
        plan(&mut options, &[], &env).unwrap();
        assert_eq!(options.base.as_deref(), Some("abc"));
        assert_eq!(options.head.as_deref(), Some("def"));
    }

    #[test]
    fn outside_git_the_hook_audits_the_history() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1_users.up.sql"), "SELECT 1;").unwrap();
        let mut options = CheckOptions {
            dir: dir.path().to_path_buf(),
            ..CheckOptions::default()
        };
        let plan = plan(&mut options, &[], &|_: &str| None).unwrap();
        assert!(options.all);
        assert!(plan.notes[0].contains("auditing the whole history"));
    }
}
