//! A strictly read-only view of a git repository, for `--base`/`--head` comparisons.
//!
//! Files at a commit are read from trees and blobs (no checkout); the working tree is read
//! from disk with git's own view of what is tracked, untracked and ignored. Nothing here
//! writes to `.git` or the working tree: no checkout, no index write, and status is asked
//! not to refresh the index on disk (`tests/git_source.rs` hashes both to prove it).

use crate::source::{relative_path, Snapshot};
use crate::spelling::edit_distance;
use anyhow::{anyhow, bail, Context as _, Result};
use git2::{
    ErrorCode, Index, ObjectType, Oid, Repository, RepositoryState, Status, StatusOptions, Tree,
    TreeWalkMode, TreeWalkResult,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Git's file mode of a symbolic link and of a submodule (a "gitlink" commit entry).
const MODE_SYMLINK: i32 = 0o120000;
const MODE_SUBMODULE: i32 = 0o160000;

/// What to tell a user whose clone lacks the history a comparison needs.
const SHALLOW_HELP: &str = "this clone's history is shallow (fetched with a depth limit), so \
older commits and other branches may be missing. Fetch the full history: \
`git fetch --unshallow` (and `git fetch origin <branch>` for the base branch); in CI, check out \
with full history, e.g. GitHub Actions `actions/checkout` with `fetch-depth: 0`, or GitLab \
`GIT_DEPTH: 0`";

/// A repository with a working tree, and the directory being checked inside it.
pub struct GitRepo {
    repo: Repository,
    root: PathBuf,
    checked_dir: String,
    /// Blobs already read: the head and the base (and release tags) share most files, and
    /// decompressing each once is a good part of a run's time on a long history.
    blobs: RefCell<HashMap<Oid, Vec<u8>>>,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("root", &self.root)
            .field("checked_dir", &self.checked_dir)
            .finish()
    }
}

/// A revision as the user wrote it and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRev {
    pub rev: String,
    pub commit: Oid,
}

impl ResolvedRev {
    /// The full commit hash.
    pub fn hex(&self) -> String {
        self.commit.to_string()
    }
}

/// How long one read of the object database may take before the run ends with an error.
/// libgit2 (1.9.7 and before) loops forever when it inflates a truncated loose object
/// (libgit2/libgit2#7342, fixed upstream after the newest release `git2` bundles); a read
/// that takes this long on objects of migration-sized files is that loop, not a slow disk.
const READ_LIMIT: std::time::Duration = Duration::from_secs(5);
/// The limit for calls that walk many objects with no progress to report between them: a
/// merge base on a long history, the working tree's status in a large repository.
const WALK_LIMIT: std::time::Duration = Duration::from_secs(60);

/// Why a path was left out of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A symbolic link: its target may lie outside the directory or the repository.
    Symlink,
    /// A submodule or a nested repository: its files belong to another repository.
    Submodule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPath {
    /// Relative to the repository root, with `/`.
    pub path: String,
    pub reason: SkipReason,
}

/// The files of a directory at one revision (keys relative to the directory, as
/// `source::read_dir` gives them), and what was left out.
#[derive(Debug, Clone, Default)]
pub struct GitSnapshot {
    pub files: Snapshot,
    pub skipped: Vec<SkippedPath>,
}

/// Files of a whole tree read by `GitRepo::files_where`.
#[derive(Debug, Clone, Default)]
pub struct TreeFiles {
    /// Path (relative to the root, with `/`) and contents, in tree order.
    pub files: Vec<(String, Vec<u8>)>,
    /// Selected files left unread because of their size: path and size in bytes.
    pub too_large: Vec<(String, usize)>,
    /// How many regular files the tree holds.
    pub total: usize,
}

/// A tag that points (after peeling) at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: Oid,
    /// The commit's time, in seconds since the Unix epoch.
    pub time: i64,
}

impl GitRepo {
    /// The repository containing `path`, or `None` when `path` is in no repository. A bare
    /// repository is refused: there is no working tree to check.
    pub fn discover(path: &Path) -> Result<Option<GitRepo>> {
        let checked = canonical(path)?;
        let repo = match Repository::discover(&checked) {
            Ok(repo) => repo,
            Err(err) if err.code() == ErrorCode::NotFound => {
                // libgit2 does not take a `.git` whose HEAD it cannot read for a repository
                // and looks further up: an error, not a directory outside git.
                return match broken_repository(&checked) {
                    Some(problem) => Err(problem),
                    None => Ok(None),
                };
            }
            Err(err) if err.code() == ErrorCode::Owner => {
                // Common in CI containers, where the checkout belongs to another user.
                bail!(
                    "{}: the git repository belongs to another user, so git refuses to read it \
                     ({}); if you trust it, run `git config --global --add safe.directory <repo>`",
                    path.display(),
                    err.message()
                )
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("{}: cannot open the git repository", path.display()))
            }
        };
        let Some(workdir) = repo.workdir() else {
            bail!(
                "{}: is inside a bare git repository ({}), which has no working tree to check; \
                 run rollsafe in a clone with a checkout",
                path.display(),
                repo.path().display()
            );
        };
        if let Err(err) = repo.head() {
            if !matches!(err.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) {
                bail!(
                    "{}: cannot read the current commit ({}); the repository's HEAD is corrupt",
                    repo.path().join("HEAD").display(),
                    err.message()
                );
            }
        }
        let root = canonical(workdir)?;
        let checked_dir = relative_path(&root, &checked);
        Ok(Some(GitRepo {
            repo,
            root,
            checked_dir,
            blobs: RefCell::default(),
        }))
    }

    /// The working tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory given to `discover`, relative to the root with `/` (`""` for the root).
    pub fn checked_dir(&self) -> &str {
        &self.checked_dir
    }

    /// `path` (an existing file or directory) relative to the root, with `/`: the form
    /// `snapshot_at`, `worktree_snapshot` and `file_at` take. An error outside the working
    /// tree.
    pub fn repo_path(&self, path: &Path) -> Result<String> {
        let full = canonical(path)?;
        if !full.starts_with(&self.root) {
            bail!(
                "{}: outside the git working tree {}",
                path.display(),
                self.root.display()
            );
        }
        Ok(relative_path(&self.root, &full))
    }

    /// False in a repository without any commit yet (an unborn `HEAD`).
    pub fn has_commits(&self) -> bool {
        self.repo.head().is_ok()
    }

    /// A warning to print when the repository is in the middle of an operation (merge,
    /// rebase, ...): the working tree is checked as it is, which may not be what will be
    /// committed.
    pub fn state_notice(&self) -> Option<String> {
        let operation = match self.repo.state() {
            RepositoryState::Clean => return None,
            RepositoryState::Merge => "merge",
            RepositoryState::Revert | RepositoryState::RevertSequence => "revert",
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "cherry-pick",
            RepositoryState::Bisect => "bisect",
            RepositoryState::Rebase
            | RepositoryState::RebaseInteractive
            | RepositoryState::RebaseMerge => "rebase",
            RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => "`git am`",
        };
        Some(format!(
            "the repository is in the middle of a {operation}; rollsafe checks the working tree \
             as it is now, which may differ from what will be committed"
        ))
    }

    /// The commit `rev` names: a branch, a tag (peeled), `origin/main`, `HEAD~2`, a short
    /// hash. The error says when a shallow clone is the likely cause.
    pub fn resolve(&self, rev: &str) -> Result<ResolvedRev> {
        let _bound = self.bound(READ_LIMIT, || format!("resolving `{rev}`"));
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|object| object.peel_to_commit())
            .map_err(|err| self.unresolved(rev, &err))?;
        Ok(ResolvedRev {
            rev: rev.to_string(),
            commit: commit.id(),
        })
    }

    fn unresolved(&self, rev: &str, err: &git2::Error) -> anyhow::Error {
        let mut message = format!(
            "revision `{rev}` does not resolve to a commit in {} ({})",
            self.root.display(),
            err.message()
        );
        if self.repo.is_shallow() {
            message.push_str(": ");
            message.push_str(SHALLOW_HELP);
        } else if !self.has_commits() {
            message.push_str(": the repository has no commits yet");
        }
        if let Some(hint) = self.revision_hint(rev) {
            message.push_str("; ");
            message.push_str(&hint);
        }
        anyhow!(message)
    }

    /// The best common ancestor of `a` and `b`: where a branch forked from its base.
    pub fn merge_base(&self, a: &ResolvedRev, b: &ResolvedRev) -> Result<Oid> {
        let _bound = self.bound(WALK_LIMIT, || {
            format!("finding the merge base of `{}` and `{}`", a.rev, b.rev)
        });
        self.repo.merge_base(a.commit, b.commit).map_err(|err| {
            let pair = format!("`{}` and `{}`", a.rev, b.rev);
            if self.repo.is_shallow() {
                anyhow!("cannot find the merge base of {pair}: {SHALLOW_HELP}")
            } else if err.code() == ErrorCode::NotFound {
                anyhow!(
                    "{pair} have no common ancestor (unrelated histories), so there is no merge \
                     base to compare against; pass a --base on this branch's history"
                )
            } else {
                anyhow!("cannot find the merge base of {pair}: {}", err.message())
            }
        })
    }

    /// The files under `dir` (relative to the root, `""` for the whole tree) at `commit`,
    /// keyed relative to `dir`. A `dir` that does not exist at that commit gives an empty
    /// snapshot: the migrations directory may be newer than the base revision.
    pub fn snapshot_at(&self, commit: Oid, dir: &str) -> Result<GitSnapshot> {
        let dir = dir.trim_matches('/');
        let bound = self.bound(READ_LIMIT, || format!("reading `{dir}` at commit {commit}"));
        let tree = self.tree_of(commit)?;
        let Some(tree) = self.subtree(&tree, dir, commit)? else {
            return Ok(GitSnapshot::default());
        };
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            bound.progress();
            let name = String::from_utf8_lossy(entry.name_bytes());
            if entry.kind() == Some(ObjectType::Tree) {
                return match is_skipped_dir_name(&name) {
                    true => TreeWalkResult::Skip,
                    false => TreeWalkResult::Ok,
                };
            }
            entries.push((format!("{parent}{name}"), entry.id(), entry.filemode()));
            TreeWalkResult::Ok
        })
        .with_context(|| format!("cannot list `{dir}` at commit {commit}"))?;

        let mut snapshot = GitSnapshot::default();
        for (relative, id, mode) in entries {
            let skip = match mode {
                MODE_SYMLINK => Some(SkipReason::Symlink),
                MODE_SUBMODULE => Some(SkipReason::Submodule),
                _ => None,
            };
            match skip {
                Some(reason) => snapshot.skipped.push(SkippedPath {
                    path: join(dir, &relative),
                    reason,
                }),
                None => {
                    bound.progress();
                    snapshot.files.insert(relative, self.blob(id)?)
                }
            }
        }
        Ok(snapshot)
    }

    /// The working tree's files under `dir` (relative to the root), keyed relative to `dir`:
    /// tracked and untracked files, not git-ignored ones (a tracked file stays even when an
    /// ignore pattern matches it, as in git). Read from disk, except that a file git sees as
    /// unchanged is read from the index, so line-ending conversion (`core.autocrlf`) does
    /// not make every migration look edited.
    pub fn worktree_snapshot(&self, dir: &str) -> Result<GitSnapshot> {
        let dir = dir.trim_matches('/');
        if !self.converts_line_endings() {
            return self.walk_worktree(dir);
        }
        // Status compares the working tree with the commit's objects.
        let _bound = self.bound(WALK_LIMIT, || format!("reading the working tree's `{dir}`"));
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_unmodified(true)
            .include_ignored(false)
            .exclude_submodules(true)
            // Never write refreshed stat data back to `.git/index`.
            .update_index(false);
        if !dir.is_empty() {
            options.pathspec(dir).disable_pathspec_match(true);
        }
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .context("cannot read the working tree's git status")?;
        let index = self.repo.index().context("cannot read the git index")?;
        let converts = self.converts_line_endings();

        let mut snapshot = GitSnapshot::default();
        for entry in statuses.iter() {
            let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
            let Some(relative) = strip_dir(dir, path.trim_end_matches('/')) else {
                continue;
            };
            if has_skipped_dir(relative) {
                continue;
            }
            let relative = relative.to_string();
            self.read_worktree_file(
                &index,
                converts,
                &path,
                relative,
                entry.status(),
                &mut snapshot,
            )?;
        }
        Ok(snapshot)
    }

    fn read_worktree_file(
        &self,
        index: &Index,
        converts: bool,
        path: &str,
        relative: String,
        status: Status,
        snapshot: &mut GitSnapshot,
    ) -> Result<()> {
        let on_disk = self.root.join(path.trim_end_matches('/'));
        let meta = match std::fs::symlink_metadata(&on_disk) {
            Ok(meta) => meta,
            // Deleted in the working tree: not part of it.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err).with_context(|| format!("{path}: cannot read")),
        };
        let skipped = |reason| SkippedPath {
            path: path.trim_end_matches('/').to_string(),
            reason,
        };
        if meta.file_type().is_symlink() {
            snapshot.skipped.push(skipped(SkipReason::Symlink));
        } else if meta.is_dir() {
            // Status lists a nested repository as one untracked directory.
            snapshot.skipped.push(skipped(SkipReason::Submodule));
        } else {
            let contents = match self.unchanged_index_blob(index, path, status, converts)? {
                Some(contents) => contents,
                None => std::fs::read(&on_disk).with_context(|| format!("{path}: cannot read"))?,
            };
            snapshot.files.insert(relative, contents);
        }
        Ok(())
    }

    /// The index's content of a file the working tree has not changed (by git's filtered
    /// comparison), or `None` when the disk must be read.
    /// The working tree's files under `dir` when checked-out files are their blobs (no
    /// line-ending conversion): a plain walk of the directory, asking git only whether an
    /// untracked file is ignored. Each file's blob id is computed from its contents and
    /// remembered, so reading the base revision finds the unchanged files already read.
    fn walk_worktree(&self, dir: &str) -> Result<GitSnapshot> {
        let index = self.repo.index().context("cannot read the git index")?;
        let start = self.root.join(dir);
        let mut snapshot = GitSnapshot::default();
        if !start.is_dir() {
            return Ok(snapshot);
        }
        let mut walker = walkdir::WalkDir::new(&start)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                entry.depth() == 0
                    || !(entry.file_type().is_dir()
                        && is_skipped_dir_name(&entry.file_name().to_string_lossy()))
            });
        while let Some(entry) = walker.next() {
            let entry = entry.with_context(|| format!("{}: cannot walk", start.display()))?;
            let relative = relative_path(&start, entry.path());
            let path = join(dir, &relative);
            let skip = |reason| SkippedPath {
                path: path.clone(),
                reason,
            };
            if entry.file_type().is_symlink() {
                snapshot.skipped.push(skip(SkipReason::Symlink));
                continue;
            }
            if entry.file_type().is_dir() {
                // A nested repository belongs to another repository.
                if entry.depth() > 0 && entry.path().join(".git").exists() {
                    snapshot.skipped.push(skip(SkipReason::Submodule));
                    walker.skip_current_dir();
                }
                continue;
            }
            let tracked = index.get_path(Path::new(&path), 0).is_some();
            if !tracked && self.repo.is_path_ignored(&path).unwrap_or(false) {
                continue;
            }
            let contents =
                std::fs::read(entry.path()).with_context(|| format!("{path}: cannot read"))?;
            if let Ok(id) = Oid::hash_object(ObjectType::Blob, &contents) {
                self.blobs.borrow_mut().insert(id, contents.clone());
            }
            snapshot.files.insert(relative, contents);
        }
        Ok(snapshot)
    }

    /// True when `core.autocrlf` (or `core.eol = crlf`) makes checked-out files differ from
    /// their blobs. (`.gitattributes` `eol`/`text` settings are not looked at: a repository
    /// that uses them without autocrlf reads files from disk.)
    fn converts_line_endings(&self) -> bool {
        let Ok(config) = self.repo.config() else {
            return true;
        };
        let autocrlf = config.get_string("core.autocrlf").unwrap_or_default();
        let eol = config.get_string("core.eol").unwrap_or_default();
        matches!(autocrlf.to_ascii_lowercase().as_str(), "true" | "input")
            || eol.eq_ignore_ascii_case("crlf")
    }

    fn unchanged_index_blob(
        &self,
        index: &Index,
        path: &str,
        status: Status,
        converts_line_endings: bool,
    ) -> Result<Option<Vec<u8>>> {
        let changed = Status::WT_NEW
            | Status::WT_MODIFIED
            | Status::WT_TYPECHANGE
            | Status::WT_RENAMED
            | Status::WT_UNREADABLE
            | Status::CONFLICTED;
        if status.intersects(changed) {
            return Ok(None);
        }
        let Some(entry) = index.get_path(Path::new(path), 0) else {
            return Ok(None);
        };
        if converts_line_endings {
            return self.blob(entry.id).map(Some);
        }
        // Without line-ending conversion the file on disk is the blob: reading it is cheaper
        // than inflating the object, and remembering it spares the base revision, which
        // shares most blobs with the index, from inflating it too.
        let contents =
            std::fs::read(self.root.join(path)).with_context(|| format!("{path}: cannot read"))?;
        self.blobs.borrow_mut().insert(entry.id, contents.clone());
        Ok(Some(contents))
    }

    /// Every regular file of the whole tree at `commit` that `keep` selects by its path
    /// (relative to the root), read from its blob. Unlike `snapshot_at`, hidden directories
    /// are walked (`.sqlx` holds sqlx's query data) and blobs are not remembered: the usage
    /// stage reads source files once. A file larger than `max_bytes` is listed by size in
    /// `too_large` and not read.
    pub fn files_where(
        &self,
        commit: Oid,
        max_bytes: usize,
        keep: impl Fn(&str) -> bool,
    ) -> Result<TreeFiles> {
        // Source files are many and large: skip libgit2's re-hash of every object read
        // (objects come from this repository's own store, and nothing here writes).
        git2::opts::strict_hash_verification(false);
        let tree = self.tree_of(commit)?;
        let mut selected = Vec::new();
        let mut total = 0;
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() == Some(ObjectType::Blob) && entry.filemode() != MODE_SYMLINK {
                total += 1;
                let path = format!("{parent}{}", String::from_utf8_lossy(entry.name_bytes()));
                if keep(&path) {
                    selected.push((path, entry.id()));
                }
            }
            TreeWalkResult::Ok
        })
        .with_context(|| format!("cannot list the tree of commit {commit}"))?;
        let mut files = TreeFiles {
            total,
            ..TreeFiles::default()
        };
        for (path, id) in selected {
            let blob = self
                .repo
                .find_blob(id)
                .with_context(|| format!("{path}: cannot read blob {id}"))?;
            if blob.size() > max_bytes {
                files.too_large.push((path, blob.size()));
                continue;
            }
            files.files.push((path, blob.content().to_vec()));
        }
        Ok(files)
    }

    /// Where files with exactly these contents lie at `commit`: `(index into contents, path
    /// relative to the root)` for each match. Only tree entries are listed, no blob is read,
    /// so this is cheap; it follows a directory that moved (git's exact-rename detection).
    pub fn paths_of_contents(
        &self,
        commit: Oid,
        contents: &[&[u8]],
    ) -> Result<Vec<(usize, String)>> {
        let mut wanted: HashMap<Oid, Vec<usize>> = HashMap::new();
        for (index, bytes) in contents.iter().enumerate() {
            let id = Oid::hash_object(ObjectType::Blob, bytes)
                .context("cannot hash a file's contents")?;
            wanted.entry(id).or_default().push(index);
        }
        let tree = self.tree_of(commit)?;
        let mut found = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if let Some(indexes) = wanted.get(&entry.id()) {
                let path = format!("{parent}{}", String::from_utf8_lossy(entry.name_bytes()));
                found.extend(indexes.iter().map(|&index| (index, path.clone())));
            }
            TreeWalkResult::Ok
        })
        .with_context(|| format!("cannot list commit {commit}"))?;
        Ok(found)
    }

    /// The content of the file at `path` (relative to the root) at `commit`, or `None` when
    /// there is no such file.
    pub fn file_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        let _bound = self.bound(READ_LIMIT, || {
            format!("reading `{path}` at commit {commit}")
        });
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(err) if err.code() == ErrorCode::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("{path} at commit {commit}")),
        };
        match (entry.kind(), entry.filemode()) {
            (Some(ObjectType::Blob), MODE_SYMLINK) => {
                bail!("{path} at commit {commit} is a symbolic link; rollsafe reads only regular files")
            }
            (Some(ObjectType::Blob), _) => self.blob(entry.id()).map(Some),
            _ => bail!("{path} at commit {commit} is not a file"),
        }
    }

    /// The tags whose name matches `glob` (`*` any run of characters, `?` one character)
    /// and that point at a commit, oldest commit first (ties by name).
    pub fn tags_matching(&self, glob: &str) -> Result<Vec<Tag>> {
        let bound = self.bound(READ_LIMIT, || "reading the release tags".to_string());
        let names = self.repo.tag_names(None).context("cannot list tags")?;
        let mut tags = Vec::new();
        // Tag names that are not UTF-8 cannot match a UTF-8 pattern: left out.
        for name in names.iter().filter_map(|name| name.ok().flatten()) {
            if !glob_matches(glob, name) {
                continue;
            }
            let reference = self
                .repo
                .find_reference(&format!("refs/tags/{name}"))
                .with_context(|| format!("tag `{name}`"))?;
            bound.progress();
            // A tag of a tree or a blob is no release: leave it out.
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            tags.push(Tag {
                name: name.to_string(),
                commit: commit.id(),
                time: commit.time().seconds(),
            });
        }
        tags.sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
        Ok(tags)
    }

    /// A bound on the libgit2 reads until the guard drops (see `READ_LIMIT`).
    fn bound(&self, limit: Duration, what: impl FnOnce() -> String) -> watchdog::Bound {
        let repo = self.repo.path().display();
        watchdog::Bound::new(limit, move || {
            format!(
                "{} did not finish within {} s: the repository {repo} is probably corrupt \
                 (a truncated object makes libgit2 loop); run `git fsck` there",
                what(),
                limit.as_secs()
            )
        })
    }

    fn tree_of(&self, commit: Oid) -> Result<Tree<'_>> {
        self.repo
            .find_commit(commit)
            .and_then(|commit| commit.tree())
            .with_context(|| format!("cannot read commit {commit}"))
    }

    /// The tree at `dir` inside `tree`, `None` when there is nothing at `dir`.
    fn subtree<'r>(&'r self, tree: &Tree<'r>, dir: &str, commit: Oid) -> Result<Option<Tree<'r>>> {
        if dir.is_empty() {
            return Ok(Some(tree.clone()));
        }
        let entry = match tree.get_path(Path::new(dir)) {
            Ok(entry) => entry,
            Err(err) if err.code() == ErrorCode::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("{dir} at commit {commit}")),
        };
        if entry.kind() != Some(ObjectType::Tree) {
            bail!("{dir} at commit {commit} is not a directory");
        }
        let tree = self
            .repo
            .find_tree(entry.id())
            .with_context(|| format!("{dir} at commit {commit}"))?;
        Ok(Some(tree))
    }

    fn blob(&self, id: Oid) -> Result<Vec<u8>> {
        if let Some(contents) = self.blobs.borrow().get(&id) {
            return Ok(contents.clone());
        }
        let blob = self
            .repo
            .find_blob(id)
            .with_context(|| format!("cannot read blob {id}"))?;
        let contents = blob.content().to_vec();
        self.blobs.borrow_mut().insert(id, contents.clone());
        Ok(contents)
    }
}

/// The problem with the nearest `.git` at or above `dir`, when there is one that libgit2
/// would not open: a HEAD that is neither `ref: <name>` nor a commit id, most often.
fn broken_repository(dir: &Path) -> Option<anyhow::Error> {
    let dot_git = dir
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|p| p.exists())?;
    // A linked worktree or submodule has a `.git` file naming its git directory.
    let git_dir = match std::fs::read_to_string(&dot_git) {
        Ok(link) => {
            let target = PathBuf::from(link.trim().strip_prefix("gitdir:")?.trim());
            dot_git.parent()?.join(target)
        }
        Err(_) => dot_git.clone(),
    };
    let head = git_dir.join("HEAD");
    let valid_head = match std::fs::read_to_string(&head) {
        Ok(text) => {
            let text = text.trim_end();
            text.strip_prefix("ref: ")
                .is_some_and(|r| r.starts_with("refs/"))
                || (matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit()))
        }
        Err(_) => false,
    };
    if !valid_head {
        return Some(anyhow!(
            "{}: not a valid git HEAD (expected `ref: refs/heads/<branch>` or a commit id); \
             the repository at {} is corrupt",
            head.display(),
            git_dir.display()
        ));
    }
    let err = Repository::open(&dot_git).err()?;
    Some(anyhow!(
        "{}: cannot open the git repository ({})",
        dot_git.display(),
        err.message()
    ))
}

/// Ends the process when a bounded read overruns: the thread stuck in libgit2 cannot be
/// interrupted, and a hung gate is worse than a failed one (exit code 2, as for any error).
mod watchdog {
    use std::collections::BTreeMap;
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    /// When a bound expires, and the message to print then.
    type Deadline = (Instant, String);

    /// The bounds in force (several threads may read repositories at once, in tests), by
    /// id: the deadline and the message to print when it passes.
    struct Bounds {
        active: Mutex<(u64, BTreeMap<u64, Deadline>)>,
        changed: Condvar,
    }

    fn bounds() -> &'static Bounds {
        static BOUNDS: OnceLock<Bounds> = OnceLock::new();
        BOUNDS.get_or_init(|| {
            std::thread::Builder::new()
                .name("git-watchdog".into())
                .spawn(watch)
                .expect("cannot start the git watchdog thread");
            Bounds {
                active: Mutex::default(),
                changed: Condvar::new(),
            }
        })
    }

    fn watch() {
        let bounds = bounds();
        let mut active = bounds.active.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let earliest = active
                .1
                .values()
                .min_by_key(|(deadline, _)| *deadline)
                .cloned();
            active = match earliest {
                None => bounds
                    .changed
                    .wait(active)
                    .unwrap_or_else(|e| e.into_inner()),
                Some((deadline, message)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        eprintln!("rollsafe: error: {message}");
                        std::process::exit(2);
                    }
                    let wait = bounds.changed.wait_timeout(active, deadline - now);
                    wait.unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }

    /// A deadline in force until dropped; `progress` moves it forward.
    pub struct Bound {
        id: u64,
        limit: Duration,
    }

    impl Bound {
        pub fn new(limit: Duration, message: impl FnOnce() -> String) -> Bound {
            let bounds = bounds();
            let mut active = bounds.active.lock().unwrap_or_else(|e| e.into_inner());
            active.0 += 1;
            let id = active.0;
            active.1.insert(id, (Instant::now() + limit, message()));
            bounds.changed.notify_all();
            Bound { id, limit }
        }

        /// One more object read: the limit counts again from now.
        pub fn progress(&self) {
            let mut active = bounds().active.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((deadline, _)) = active.1.get_mut(&self.id) {
                *deadline = Instant::now() + self.limit;
            }
        }
    }

    impl Drop for Bound {
        fn drop(&mut self) {
            let bounds = bounds();
            let mut active = bounds.active.lock().unwrap_or_else(|e| e.into_inner());
            active.1.remove(&self.id);
            bounds.changed.notify_all();
        }
    }
}

/// `*` matches any run of characters (`/` included), `?` exactly one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            // Let the `*` swallow one more character and retry.
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("{}: cannot read", path.display()))
}

/// `path` relative to `dir` (both relative to the root), or `None` outside `dir`.
fn strip_dir<'p>(dir: &str, path: &'p str) -> Option<&'p str> {
    if dir.is_empty() {
        return Some(path);
    }
    path.strip_prefix(dir)?
        .strip_prefix('/')
        .filter(|rest| !rest.is_empty())
}

fn join(dir: &str, relative: &str) -> String {
    match dir {
        "" => relative.to_string(),
        _ => format!("{dir}/{relative}"),
    }
}

/// The directories `source::read_dir` skips, so a directory gives the same keys whether it
/// is read through git or not.
fn is_skipped_dir_name(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

fn has_skipped_dir(relative: &str) -> bool {
    let mut components: Vec<&str> = relative.split('/').collect();
    components.pop();
    components.into_iter().any(is_skipped_dir_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_and_question_marks() {
        assert!(glob_matches("v*", "v1.2.0"));
        assert!(glob_matches("v?.*", "v1.2"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("release/*-final", "release/1.0-rc-final"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("v?", "v10"));
        assert!(!glob_matches("v*", "x1"));
        assert!(!glob_matches("a*b", "a-b-c"));
        assert!(!glob_matches("", "a"));
    }

    #[test]
    fn paths_are_stripped_to_the_checked_dir() {
        assert_eq!(strip_dir("db", "db/1.sql"), Some("1.sql"));
        assert_eq!(strip_dir("db", "dbx/1.sql"), None);
        assert_eq!(strip_dir("db", "db"), None);
        assert_eq!(strip_dir("", "db/1.sql"), Some("db/1.sql"));
    }

    #[test]
    fn hidden_and_build_dirs_are_skipped_like_read_dir() {
        assert!(has_skipped_dir(".idea/x.sql"));
        assert!(has_skipped_dir("a/node_modules/x.sql"));
        assert!(!has_skipped_dir(".keep"));
        assert!(!has_skipped_dir("a/b.sql"));
    }
}

/// What `rollsafe init` and revision suggestions read: names, never contents.
impl GitRepo {
    /// The remote's default branch (`origin/main`, from `refs/remotes/origin/HEAD`), else a
    /// remote or local `main` or `master`.
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(head) = self.repo.find_reference("refs/remotes/origin/HEAD") {
            if let Ok(Some(target)) = head.symbolic_target() {
                return target.strip_prefix("refs/remotes/").map(str::to_string);
            }
        }
        let candidates = [
            ("refs/remotes/origin/main", "origin/main"),
            ("refs/remotes/origin/master", "origin/master"),
            ("refs/heads/main", "main"),
            ("refs/heads/master", "master"),
        ];
        candidates
            .into_iter()
            .find(|(reference, _)| self.repo.find_reference(reference).is_ok())
            .map(|(_, name)| name.to_string())
    }

    /// Every tag name (UTF-8 ones), sorted.
    pub fn tag_names(&self) -> Result<Vec<String>> {
        let names = self.repo.tag_names(None).context("cannot list tags")?;
        let mut names: Vec<String> = names
            .iter()
            .filter_map(|name| name.ok().flatten())
            .map(str::to_string)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The files under `dir` (relative to the root) as staged in the index: what the next
    /// commit will hold. Read from the index's blobs, never from disk, and never written.
    /// Conflicted entries (stage > 0) are left out: the commit cannot be made until they are
    /// resolved.
    pub fn index_snapshot(&self, dir: &str) -> Result<GitSnapshot> {
        let dir = dir.trim_matches('/');
        let index = self.repo.index().context("cannot read the git index")?;
        let mut snapshot = GitSnapshot::default();
        for entry in index.iter() {
            let stage = (entry.flags >> 12) & 0x3;
            if stage != 0 {
                continue;
            }
            let path = String::from_utf8_lossy(&entry.path).into_owned();
            let Some(relative) = strip_dir(dir, &path) else {
                continue;
            };
            if has_skipped_dir(relative) {
                continue;
            }
            let reason = match entry.mode as i32 {
                MODE_SYMLINK => Some(SkipReason::Symlink),
                MODE_SUBMODULE => Some(SkipReason::Submodule),
                _ => None,
            };
            match reason {
                Some(reason) => snapshot.skipped.push(SkippedPath {
                    path: path.clone(),
                    reason,
                }),
                None => snapshot.files.insert(relative, self.blob(entry.id)?),
            }
        }
        Ok(snapshot)
    }

    /// Whether the index (what the next commit holds) differs from `HEAD` under `dir`
    /// (relative to the root): a migration staged, changed or deleted. Without commits,
    /// whether anything under `dir` is staged.
    pub fn staged_changes(&self, dir: &str) -> Result<bool> {
        let dir = dir.trim_matches('/');
        let index = self.repo.index().context("cannot read the git index")?;
        let head_tree = match self.repo.head() {
            Ok(head) => Some(head.peel_to_tree().context("cannot read HEAD's tree")?),
            Err(_) => None,
        };
        let mut options = git2::DiffOptions::new();
        if !dir.is_empty() {
            options.pathspec(dir);
        }
        let diff = self
            .repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
            .context("cannot compare the index with HEAD")?;
        Ok(diff.deltas().len() > 0)
    }

    /// Whether the file at `path` (relative to the root) is staged exactly as `HEAD` has it:
    /// a file pre-commit passes although the commit does not change it (`--all-files`).
    pub fn unchanged_in_index(&self, path: &str) -> bool {
        let Ok(index) = self.repo.index() else {
            return false;
        };
        let Some(staged) = index.get_path(Path::new(path), 0) else {
            return false;
        };
        let committed = self
            .repo
            .head()
            .and_then(|head| head.peel_to_tree())
            .and_then(|tree| tree.get_path(Path::new(path)).map(|entry| entry.id()));
        committed.is_ok_and(|id| id == staged.id)
    }

    /// Whether `base`'s merge base with `HEAD` is `HEAD` itself: comparing would find
    /// nothing (a checkout of the default branch's tip). True also when either does not
    /// resolve.
    pub fn nothing_since(&self, base: &str) -> bool {
        let (Ok(base), Ok(head)) = (self.resolve(base), self.resolve("HEAD")) else {
            return true;
        };
        self.repo
            .merge_base(base.commit, head.commit)
            .map_or(true, |fork| fork == head.commit)
    }

    /// The revision a local run compares with when neither `--base` nor config names one:
    /// the current branch's upstream (`@{upstream}`), else the remote's default branch. The
    /// caller takes the merge base with the head, so work already pushed is what shipped.
    /// `None` without either (then the caller falls back to `HEAD`).
    pub fn default_base(&self) -> Option<String> {
        let upstream = self
            .repo
            .head()
            .ok()
            .filter(|head| head.is_branch())
            .and_then(|head| head.name().ok().map(str::to_string))
            .and_then(|name| self.repo.branch_upstream_name(&name).ok())
            .and_then(|buf| buf.as_str().ok().map(str::to_string));
        if let Some(upstream) = upstream {
            if self.repo.revparse_single(&upstream).is_ok() {
                return Some(short_ref(&upstream));
            }
        }
        let default = self.default_branch()?;
        // A local default branch is not "what shipped": only a remote one is.
        default.contains('/').then_some(default)
    }

    /// What to try instead of `rev`, which does not resolve: the closest branch or tag
    /// names, and `git fetch` when it names a branch of a remote that was not fetched.
    pub fn revision_hint(&self, rev: &str) -> Option<String> {
        let names = self.ref_names();
        let mut hints = Vec::new();
        let remotes: Vec<String> = self
            .repo
            .remotes()
            .map(|remotes| {
                remotes
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some((remote, branch)) = rev.split_once('/') {
            if remotes.iter().any(|known| known == remote) && !branch.is_empty() {
                hints.push(format!(
                    "the remote branch is not fetched here: run `git fetch {remote} {branch}`"
                ));
            }
        }
        let similar = similar_names(rev, &names);
        if !similar.is_empty() {
            let quoted: Vec<String> = similar.iter().map(|name| format!("`{name}`")).collect();
            hints.push(format!("did you mean {}?", quoted.join(" or ")));
        }
        (!hints.is_empty()).then(|| hints.join("; "))
    }

    /// Local and remote-tracking branch names (`main`, `origin/main`) and tag names: what a
    /// revision may be spelled as, for suggestions.
    pub fn ref_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(references) = self.repo.references() {
            for reference in references.flatten() {
                let Ok(name) = reference.name() else {
                    continue;
                };
                let short = ["refs/heads/", "refs/remotes/", "refs/tags/"]
                    .iter()
                    .find_map(|prefix| name.strip_prefix(prefix));
                if let Some(short) = short.filter(|short| !short.ends_with("/HEAD")) {
                    names.push(short.to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// The names in `names` closest to `wanted` (at most three, nearest first): a few edits
/// away, or equal once a remote prefix is added or removed (`main` for `origin/main`).
pub fn similar_names(wanted: &str, names: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).clamp(2, 3);
    let tail = |name: &str| {
        name.rsplit_once('/')
            .map_or(name, |(_, last)| last)
            .to_string()
    };
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|name| {
            let distance =
                edit_distance(wanted, name).min(edit_distance(&tail(wanted), &tail(name)) + 1);
            (distance <= limit && name != wanted).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, name)| name.clone())
        .collect()
}

/// `refs/remotes/origin/main` → `origin/main`, `refs/heads/main` → `main`.
fn short_ref(name: &str) -> String {
    ["refs/remotes/", "refs/heads/", "refs/tags/"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name)
        .to_string()
}

#[cfg(test)]
mod suggestion_tests {
    use super::similar_names;

    #[test]
    fn a_swap_is_one_edit() {}

    #[test]
    fn suggestions_match_with_or_without_the_remote() {
        let names: Vec<String> = ["main", "origin/main", "origin/develop", "v1.0.0"]
            .iter()
            .map(|name| name.to_string())
            .collect();
        assert_eq!(similar_names("mian", &names), ["main", "origin/main"]);
        assert_eq!(
            similar_names("origin/mian", &names),
            ["origin/main", "main"]
        );
        assert_eq!(
            similar_names("upstream/develop", &names),
            ["origin/develop"]
        );
        assert!(similar_names("release-7", &names).is_empty());
    }
}
