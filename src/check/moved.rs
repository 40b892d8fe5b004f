//! A migrations directory that moved between the base and the head: the base's migrations
//! are read where the base kept them, never treated as all new (which would hide a real
//! narrowing behind a "safe" verdict).

use crate::config::Config;
use crate::git::GitRepo;
use crate::source::Snapshot;
use anyhow::Result;
use git2::Oid;
use std::collections::BTreeMap;
use std::path::Path;

/// Where the base revision `commit` kept the migrations that the head keeps in `dir` (both
/// relative to the repository root), when that is elsewhere and gone at the head (a copy
/// is a new set, not a move): the base config's `migrations` key, else the directory where
/// most of the head's files lie with the same contents and the same path below it.
/// `still_at_head` says whether a directory holds files at the head.
pub(super) fn base_dir(
    repo: &GitRepo,
    commit: Oid,
    dir: &str,
    head: &Snapshot,
    base_config: &Config,
    config_path: Option<&Path>,
    still_at_head: &dyn Fn(&str) -> Result<bool>,
) -> Result<Option<String>> {
    let dir = dir.trim_matches('/');
    if let Some(configured) = configured_dir(repo, base_config, config_path) {
        if configured != dir && !still_at_head(&configured)? {
            return Ok(Some(configured));
        }
    }
    let files: Vec<(&str, &[u8])> = head
        .paths()
        .filter_map(|path| Some((path, head.get(path)?)))
        .collect();
    let contents: Vec<&[u8]> = files.iter().map(|(_, bytes)| *bytes).collect();
    let mut votes: BTreeMap<String, usize> = BTreeMap::new();
    for (index, base_path) in repo.paths_of_contents(commit, &contents)? {
        let relative = files[index].0;
        let old_dir = match base_path.strip_suffix(relative) {
            Some("") => "",
            Some(prefix) => match prefix.strip_suffix('/') {
                Some(old_dir) => old_dir,
                None => continue,
            },
            None => continue,
        };
        if old_dir != dir {
            *votes.entry(old_dir.to_string()).or_default() += 1;
        }
    }
    let Some((old_dir, _)) = votes.into_iter().max_by_key(|(_, count)| *count) else {
        return Ok(None);
    };
    Ok((!still_at_head(&old_dir)?).then_some(old_dir))
}

/// The base config's `migrations` directory, relative to the repository root.
fn configured_dir(repo: &GitRepo, config: &Config, config_path: Option<&Path>) -> Option<String> {
    let migrations = config.migrations.as_deref()?;
    let config_path = repo.repo_path(config_path?).ok()?;
    let parent = Path::new(&config_path).parent().unwrap_or(Path::new(""));
    let joined = parent.join(migrations);
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.to_str()?.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}
