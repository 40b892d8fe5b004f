//! The git source and the history rules on real throwaway repositories built with git2.
//!
//! Migrations here are plain `db/<version>_<name>.sql` files; a small stand-in layout below
//! turns a snapshot into migrations, so these tests do not depend on layout detection.

use git2::{
    build::CheckoutBuilder, IndexAddOption, Oid, Repository, RepositoryInitOptions, Signature, Time,
};
use rollsafe::config::Settings;
use rollsafe::dialect::Dialect;
use rollsafe::git::{GitRepo, SkipReason};
use rollsafe::history::{compare, Revision};
use rollsafe::layout::{Migration, MigrationKind, SqlPart, TransactionMode, Version};
use rollsafe::project::{MigrationStatus, ParsedMigration};
use rollsafe::rules::{self, Category, Context};
use rollsafe::schema::Catalog;
use rollsafe::source::Snapshot;
use rollsafe::sql::SqlFile;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tempfile::TempDir;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
const ORDERS: &str = "CREATE TABLE orders (id bigint PRIMARY KEY);\n";
const ITEMS: &str = "CREATE TABLE items (id bigint PRIMARY KEY);\n";

/// A throwaway repository on branch `main`, with commits one minute apart.
struct TestRepo {
    dir: TempDir,
    repo: Repository,
    clock: Cell<i64>,
}

impl TestRepo {
    fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = RepositoryInitOptions::new();
        options.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &options).expect("git init");
        TestRepo {
            dir,
            repo,
            clock: Cell::new(1_700_000_000),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, contents: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).unwrap();
    }

    fn signature(&self) -> Signature<'static> {
        self.clock.set(self.clock.get() + 60);
        Signature::new("Test", "test@example.com", &Time::new(self.clock.get(), 0)).unwrap()
    }

    /// Stages everything (additions, changes, deletions) and commits it on HEAD.
    fn commit_all(&self, message: &str) -> Oid {
        let mut index = self.repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let parent = self.repo.head().ok().map(|h| h.peel_to_commit().unwrap());
        let parents: Vec<_> = parent.iter().collect();
        let signature = self.signature();
        self.repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .unwrap()
    }

    fn create_branch(&self, name: &str) {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo.branch(name, &head, false).unwrap();
    }

    fn switch(&self, branch: &str) {
        self.repo.set_head(&format!("refs/heads/{branch}")).unwrap();
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .unwrap();
    }

    /// Merges `branch` into HEAD with a merge commit (no conflicts expected).
    fn merge(&self, branch: &str) -> Oid {
        let ours = self.repo.head().unwrap().peel_to_commit().unwrap();
        let theirs = self
            .repo
            .find_branch(branch, git2::BranchType::Local)
            .unwrap()
            .get()
            .peel_to_commit()
            .unwrap();
        let mut index = self.repo.merge_commits(&ours, &theirs, None).unwrap();
        assert!(!index.has_conflicts());
        let tree = self
            .repo
            .find_tree(index.write_tree_to(&self.repo).unwrap())
            .unwrap();
        let signature = self.signature();
        let merge = self
            .repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                &format!("Merge {branch}"),
                &tree,
                &[&ours, &theirs],
            )
            .unwrap();
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .unwrap();
        merge
    }

    fn git(&self) -> GitRepo {
        GitRepo::discover(self.path())
            .expect("discover")
            .expect("a repository")
    }
}

/// The stand-in layout: every `<version>_<name>.sql`, in version order.
fn migrations(files: &Snapshot) -> Vec<ParsedMigration> {
    let mut list: Vec<ParsedMigration> = files
        .paths()
        .filter_map(|path| {
            let stem = path.strip_suffix(".sql")?;
            let (id, name) = stem.split_once('_')?;
            let len = files.get(path)?.len();
            Some(ParsedMigration {
                migration: Migration {
                    id: id.to_string(),
                    version: Version::parse(id),
                    name: name.to_string(),
                    kind: MigrationKind::Versioned,
                    up: Some(SqlPart {
                        path: path.to_string(),
                        range: 0..len,
                    }),
                    down: None,
                    paths: vec![path.to_string()],
                    transaction: TransactionMode::Wrapped,
                },
                up: SqlFile::default(),
                down: None,
                status: MigrationStatus::Unchanged,
            })
        })
        .collect();
    list.sort_by(|a, b| a.migration.version.cmp(&b.migration.version));
    list
}

/// A history finding: (rule, migration id, path, message).
type HistoryFinding = (String, String, String, String);

/// Runs the history rules on the deploy from `base` to `head`, as the check does: the deploy
/// is every head migration that is not unchanged.
fn history_findings(base: &Snapshot, head: &Snapshot) -> Vec<HistoryFinding> {
    let (base_migrations, head_migrations) = (migrations(base), migrations(head));
    let (diff, statuses) = compare(
        Revision {
            migrations: &base_migrations,
            files: base,
        },
        Revision {
            migrations: &head_migrations,
            files: head,
        },
    );
    let deploy: Vec<ParsedMigration> = head_migrations
        .into_iter()
        .zip(statuses)
        .filter(|(_, status)| *status != MigrationStatus::Unchanged)
        .map(|(m, status)| ParsedMigration { status, ..m })
        .collect();
    let settings = Settings::default();
    let catalog = Catalog::new(Dialect::default());
    let ctx = Context {
        dialect: Dialect::default(),
        settings: &settings,
        deploy: &deploy,
        before: &catalog,
        after: &catalog,
        retired: &[],
        retire_declared: &[],
        history: Some(&diff),
        usage: None,
        releases: &[],
        audit: false,
        cache: Default::default(),
    };
    rules::run_all(&ctx)
        .into_iter()
        .filter(|f| rules::meta(f.rule).map(|m| m.category) == Some(Category::History))
        .map(|f| (f.rule.to_string(), f.migration, f.path, f.message))
        .collect()
}

fn rules_fired(findings: &[HistoryFinding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|(rule, id, _, _)| (rule.as_str(), id.as_str()))
        .collect()
}

/// The files of `db/` at `rev`.
fn db_at(git: &GitRepo, rev: &str) -> Snapshot {
    let commit = git.resolve(rev).unwrap().commit;
    git.snapshot_at(commit, "db").unwrap().files
}

fn db_worktree(git: &GitRepo) -> Snapshot {
    git.worktree_snapshot("db").unwrap().files
}

fn paths(snapshot: &Snapshot) -> Vec<&str> {
    snapshot.paths().collect()
}

#[test]
fn linear_history_resolves_revisions_and_reads_snapshots_at_commits() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let first = t.commit_all("users");
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("orders");
    t.write("db/003_items.sql", ITEMS);
    let third = t.commit_all("items");

    let git = t.git();
    assert_eq!(git.root(), t.path().canonicalize().unwrap());
    assert_eq!(git.checked_dir(), "");
    assert_eq!(git.resolve("HEAD~2").unwrap().commit, first);
    assert_eq!(git.resolve("main").unwrap().commit, third);
    let short = &first.to_string()[..7];
    let resolved = git.resolve(short).unwrap();
    assert_eq!((resolved.rev.as_str(), resolved.commit), (short, first));
    assert_eq!(resolved.hex(), first.to_string());

    assert_eq!(paths(&db_at(&git, "HEAD~2")), ["001_users.sql"]);
    let at_head = db_at(&git, "HEAD");
    assert_eq!(at_head.get("003_items.sql"), Some(ITEMS.as_bytes()));
    assert_eq!(paths(&db_at(&git, "HEAD~1")).len(), 2);
    // A directory that does not exist yet at a revision is empty there.
    assert!(git.snapshot_at(first, "nowhere").unwrap().files.is_empty());
    assert!(git.snapshot_at(first, "db/001_users.sql").is_err());

    assert!(history_findings(&db_at(&git, "HEAD~1"), &at_head).is_empty());
    assert_eq!(
        git.file_at(first, "db/001_users.sql").unwrap(),
        Some(USERS.as_bytes().to_vec())
    );
    assert_eq!(git.file_at(first, "rollsafe.toml").unwrap(), None);
    assert!(
        git.file_at(first, "db").is_err(),
        "a directory is not a file"
    );
    assert!(git.state_notice().is_none());
}

#[test]
fn discover_gives_the_checked_dir_relative_to_the_root() {
    let t = TestRepo::new();
    t.write("services/api/db/001_users.sql", USERS);
    t.commit_all("users");
    let git = GitRepo::discover(&t.path().join("services/api/db"))
        .unwrap()
        .unwrap();
    assert_eq!(git.checked_dir(), "services/api/db");
    assert_eq!(git.root(), t.path().canonicalize().unwrap());
    assert_eq!(
        git.repo_path(&t.path().join("services/api")).unwrap(),
        "services/api"
    );
    assert_eq!(git.repo_path(t.path()).unwrap(), "");
    let elsewhere = tempfile::tempdir().unwrap();
    let err = git.repo_path(elsewhere.path()).unwrap_err().to_string();
    assert!(err.contains("outside the git working tree"), "{err}");
}

#[test]
fn an_unknown_revision_is_a_clear_error() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    let err = t.git().resolve("origin/main").unwrap_err().to_string();
    assert!(
        err.contains("revision `origin/main` does not resolve"),
        "{err}"
    );
    assert!(!err.contains("shallow"), "{err}");
}

#[test]
fn a_repository_without_commits_says_so() {
    let t = TestRepo::new();
    let git = t.git();
    assert!(!git.has_commits());
    let err = git.resolve("HEAD").unwrap_err().to_string();
    assert!(err.contains("no commits yet"), "{err}");
}

#[test]
fn outside_a_repository_there_is_no_repo_and_a_bare_one_is_refused() {
    let plain = tempfile::tempdir().unwrap();
    let inside_some_repo = plain
        .path()
        .ancestors()
        .any(|dir| dir.join(".git").exists());
    if inside_some_repo {
        eprintln!("note: the temp dir is inside a git repository; skipping the None case");
    } else {
        assert!(GitRepo::discover(plain.path()).unwrap().is_none());
    }

    let bare = tempfile::tempdir().unwrap();
    Repository::init_bare(bare.path()).unwrap();
    let err = GitRepo::discover(bare.path())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("bare git repository"), "{err}");
}

#[test]
fn a_merged_branch_whose_migration_sorts_before_mains_newest_is_out_of_order() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let fork = t.commit_all("users");
    t.create_branch("feature");
    t.switch("feature");
    t.write("db/002_items.sql", ITEMS);
    t.commit_all("items, on the branch");
    t.switch("main");
    t.write("db/003_orders.sql", ORDERS);
    t.commit_all("orders, on main");
    let git = t.git();
    let main_before = git.resolve("main").unwrap();
    let feature = git.resolve("feature").unwrap();
    assert_eq!(git.merge_base(&main_before, &feature).unwrap(), fork);

    t.merge("feature");
    let findings = history_findings(&db_at(&git, "HEAD^1"), &db_at(&git, "HEAD"));
    assert_eq!(rules_fired(&findings), [("out-of-order-migration", "002")]);
    assert!(
        findings[0].3.contains("sorts before 003"),
        "{}",
        findings[0].3
    );
    // The working tree after the merge tells the same story.
    let findings = history_findings(&db_at(&git, "HEAD^1"), &db_worktree(&git));
    assert_eq!(rules_fired(&findings), [("out-of-order-migration", "002")]);
}

#[test]
fn unrelated_histories_have_no_merge_base() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    // An orphan commit: no parent.
    let tree = t.repo.head().unwrap().peel_to_tree().unwrap();
    let signature = t.signature();
    let orphan = t
        .repo
        .commit(None, &signature, &signature, "orphan", &tree, &[])
        .unwrap();
    t.repo
        .branch("orphan", &t.repo.find_commit(orphan).unwrap(), false)
        .unwrap();
    let git = t.git();
    let (a, b) = (git.resolve("main").unwrap(), git.resolve("orphan").unwrap());
    let err = git.merge_base(&a, &b).unwrap_err().to_string();
    assert!(err.contains("no common ancestor"), "{err}");
}

#[test]
fn editing_a_merged_migration_is_reported_with_the_change() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    t.write(
        "db/001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    );
    t.commit_all("edit users");
    let git = t.git();
    let findings = history_findings(&db_at(&git, "HEAD~1"), &db_at(&git, "HEAD"));
    assert_eq!(rules_fired(&findings), [("edited-migration", "001")]);
    let (_, _, path, message) = &findings[0];
    assert_eq!(path, "001_users.sql");
    assert!(
        message.contains("- CREATE TABLE users (id bigint PRIMARY KEY);"),
        "{message}"
    );
    assert!(message.contains("+ CREATE TABLE users (id bigint PRIMARY KEY, email text);"));
}

#[test]
fn deleting_a_shipped_migration_is_reported_at_its_base_path() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("two");
    t.remove("db/002_orders.sql");
    let git = t.git();
    // Uncommitted deletion: the working tree no longer has it.
    let findings = history_findings(&db_at(&git, "HEAD"), &db_worktree(&git));
    assert_eq!(rules_fired(&findings), [("deleted-migration", "002")]);
    assert_eq!(findings[0].2, "002_orders.sql");
}

#[test]
fn renaming_a_shipped_migration_is_reported() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("two");
    t.remove("db/002_orders.sql");
    t.write("db/20240105_orders.sql", ORDERS);
    t.commit_all("renumber");
    let git = t.git();
    let findings = history_findings(&db_at(&git, "HEAD~1"), &db_at(&git, "HEAD"));
    assert_eq!(rules_fired(&findings), [("renamed-migration", "20240105")]);
    assert!(findings[0].3.contains("002_orders.sql"));
}

#[test]
fn duplicate_versions_from_two_branches_are_reported() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("two");
    t.write("db/02_items.sql", ITEMS);
    let git = t.git();
    let findings = history_findings(&db_at(&git, "HEAD"), &db_worktree(&git));
    assert_eq!(rules_fired(&findings), [("duplicate-version", "02")]);
}

#[test]
fn the_working_tree_has_untracked_files_but_not_ignored_ones() {
    let t = TestRepo::new();
    t.write(".gitignore", "db/*.local.sql\n/scratch/\n");
    t.write("db/001_users.sql", USERS);
    t.write("db/seed.local.sql", "-- tracked although ignored\n");
    t.commit_all("users");
    let mut index = t.repo.index().unwrap();
    index.add_path(Path::new("db/seed.local.sql")).unwrap();
    index.write().unwrap();
    // The pre-commit case: new, unstaged, in a new sub-directory too.
    t.write("db/002_orders.sql", ORDERS);
    t.write("db/sub/003_items.sql", ITEMS);
    t.write("db/dev.local.sql", "-- ignored\n");
    t.write(
        "db/scratch/x.sql",
        "-- not ignored: the pattern is anchored at the root\n",
    );
    t.write("scratch/y.sql", "-- ignored\n");
    t.write("db/.hidden/z.sql", "-- skipped like read_dir does\n");

    let git = t.git();
    let worktree = db_worktree(&git);
    assert_eq!(
        paths(&worktree),
        [
            "001_users.sql",
            "002_orders.sql",
            "scratch/x.sql",
            "seed.local.sql",
            "sub/003_items.sql"
        ]
    );
    assert_eq!(worktree.get("002_orders.sql"), Some(ORDERS.as_bytes()));
    let whole = git.worktree_snapshot("").unwrap().files;
    assert!(whole.get("scratch/y.sql").is_none());
    assert!(whole.get(".gitignore").is_some());

    let findings = history_findings(&db_at(&git, "HEAD"), &worktree);
    assert!(findings.is_empty(), "{findings:?}");
    let (base, head) = (db_at(&git, "HEAD"), worktree);
    let (_, statuses) = compare(
        Revision {
            migrations: &migrations(&base),
            files: &base,
        },
        Revision {
            migrations: &migrations(&head),
            files: &head,
        },
    );
    assert_eq!(
        statuses,
        [
            MigrationStatus::Unchanged,
            MigrationStatus::New,
            MigrationStatus::New
        ]
    );
}

#[test]
fn the_working_tree_reads_staged_and_unstaged_changes() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("two");
    // Staged, then changed again on disk: the disk wins.
    t.write("db/001_users.sql", "-- staged\n");
    let mut index = t.repo.index().unwrap();
    index.add_path(Path::new("db/001_users.sql")).unwrap();
    index.write().unwrap();
    t.write("db/001_users.sql", "-- on disk\n");
    // Staged only.
    t.write("db/002_orders.sql", "-- staged orders\n");
    index.add_path(Path::new("db/002_orders.sql")).unwrap();
    index.write().unwrap();
    let worktree = db_worktree(&t.git());
    assert_eq!(worktree.get("001_users.sql"), Some(&b"-- on disk\n"[..]));
    assert_eq!(
        worktree.get("002_orders.sql"),
        Some(&b"-- staged orders\n"[..])
    );
}

#[test]
fn a_crlf_checkout_is_not_an_edit() {
    let t = TestRepo::new();
    t.repo
        .config()
        .unwrap()
        .set_bool("core.autocrlf", true)
        .unwrap();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    // What a Windows checkout with core.autocrlf=true does: CRLF on disk, and the index
    // records the file's stat data on disk (the blob stays LF).
    t.write("db/001_users.sql", &USERS.replace('\n', "\r\n"));
    let mut index = t.repo.index().unwrap();
    index.add_path(Path::new("db/001_users.sql")).unwrap();
    index.write().unwrap();
    assert_eq!(
        t.repo.statuses(None).unwrap().len(),
        0,
        "git sees no change"
    );
    let git = t.git();
    let worktree = db_worktree(&git);
    assert_eq!(worktree.get("001_users.sql"), Some(USERS.as_bytes()));
    assert!(history_findings(&db_at(&git, "HEAD"), &worktree).is_empty());
}

#[test]
fn tags_matching_a_glob_are_sorted_by_commit_time() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let first = t.commit_all("users");
    t.write("db/002_orders.sql", ORDERS);
    let second = t.commit_all("orders");
    t.write("db/003_items.sql", ITEMS);
    let third = t.commit_all("items");
    let signature = t.signature();
    let object = |oid| t.repo.find_object(oid, None).unwrap();
    // Created out of order, annotated and lightweight.
    t.repo
        .tag_lightweight("v1.1.0", &object(second), false)
        .unwrap();
    t.repo
        .tag("v1.0.0", &object(first), &signature, "first release", false)
        .unwrap();
    t.repo
        .tag_lightweight("nightly", &object(third), false)
        .unwrap();
    let tree = t.repo.find_commit(third).unwrap().tree_id();
    t.repo
        .tag_lightweight("v-tree", &object(tree), false)
        .unwrap();

    let git = t.git();
    let tags = git.tags_matching("v*").unwrap();
    let names: Vec<(&str, Oid)> = tags
        .iter()
        .map(|tag| (tag.name.as_str(), tag.commit))
        .collect();
    assert_eq!(names, [("v1.0.0", first), ("v1.1.0", second)]);
    assert!(tags[0].time < tags[1].time);
    assert_eq!(git.tags_matching("v1.?.0").unwrap().len(), 2);
    assert!(git.tags_matching("v2*").unwrap().is_empty());
    // An annotated tag peels to its commit.
    assert_eq!(git.resolve("v1.0.0").unwrap().commit, first);
}

#[test]
fn a_detached_head_works() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let first = t.commit_all("users");
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("orders");
    t.repo.set_head_detached(first).unwrap();
    t.repo
        .checkout_head(Some(CheckoutBuilder::new().force()))
        .unwrap();

    let git = t.git();
    assert!(t.repo.head_detached().unwrap());
    assert_eq!(git.resolve("HEAD").unwrap().commit, first);
    assert_eq!(paths(&db_worktree(&git)), ["001_users.sql"]);
    assert!(git.state_notice().is_none());
}

#[test]
fn a_merge_in_progress_gives_a_notice() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let first = t.commit_all("users");
    std::fs::write(t.path().join(".git/MERGE_HEAD"), format!("{first}\n")).unwrap();
    let notice = t.git().state_notice().expect("a notice");
    assert!(notice.contains("middle of a merge"), "{notice}");
}

#[cfg(unix)]
#[test]
fn symlinks_and_submodules_are_skipped_and_noted() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    let base = t.commit_all("users");
    // A tree with a symlink blob and a submodule (gitlink) entry next to the migration.
    let db_tree = t.repo.head().unwrap().peel_to_tree().unwrap();
    let db_tree = t
        .repo
        .find_tree(db_tree.get_name("db").unwrap().id())
        .unwrap();
    let mut builder = t.repo.treebuilder(Some(&db_tree)).unwrap();
    let target = t.repo.blob(b"001_users.sql").unwrap();
    builder.insert("link.sql", target, 0o120000).unwrap();
    builder.insert("vendored", base, 0o160000).unwrap();
    let db_id = builder.write().unwrap();
    let mut root = t.repo.treebuilder(None).unwrap();
    root.insert("db", db_id, 0o040000).unwrap();
    let tree = t.repo.find_tree(root.write().unwrap()).unwrap();
    let signature = t.signature();
    let parent = t.repo.find_commit(base).unwrap();
    let commit = t
        .repo
        .commit(
            None,
            &signature,
            &signature,
            "odd entries",
            &tree,
            &[&parent],
        )
        .unwrap();

    let git = t.git();
    let snapshot = git.snapshot_at(commit, "db").unwrap();
    assert_eq!(paths(&snapshot.files), ["001_users.sql"]);
    let skipped: Vec<(&str, SkipReason)> = snapshot
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            ("db/link.sql", SkipReason::Symlink),
            ("db/vendored", SkipReason::Submodule)
        ]
    );
    assert!(git.file_at(commit, "db/link.sql").is_err());

    std::os::unix::fs::symlink("001_users.sql", t.path().join("db/link.sql")).unwrap();
    let worktree = git.worktree_snapshot("db").unwrap();
    assert_eq!(paths(&worktree.files), ["001_users.sql"]);
    assert_eq!(worktree.skipped[0].path, "db/link.sql");
    assert_eq!(worktree.skipped[0].reason, SkipReason::Symlink);
}

fn git_cli_available() -> bool {
    std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn a_shallow_clone_explains_how_to_fetch_the_history() {
    if !git_cli_available() {
        eprintln!("note: no `git` command; skipping the shallow clone test");
        return;
    }
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    t.create_branch("feature");
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("orders");
    t.switch("feature");
    t.write("db/003_items.sql", ITEMS);
    t.commit_all("items");
    t.switch("main");

    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", t.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
        ])
        .arg(clone.path().join("c"))
        .status()
        .unwrap();
    assert!(status.success(), "git clone --depth 1 failed");

    let git = GitRepo::discover(&clone.path().join("c")).unwrap().unwrap();
    let err = git.resolve("HEAD~1").unwrap_err().to_string();
    assert!(err.contains("does not resolve"), "{err}");
    assert!(err.contains("shallow"), "{err}");
    assert!(
        err.contains("fetch-depth: 0") && err.contains("git fetch --unshallow"),
        "{err}"
    );

    let head = git.resolve("HEAD").unwrap();
    let feature = git.resolve("origin/feature").unwrap();
    let err = git.merge_base(&head, &feature).unwrap_err().to_string();
    assert!(
        err.contains("shallow") && err.contains("fetch-depth: 0"),
        "{err}"
    );
}

/// Every file below `dir` with its content and modification time: any write shows.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            let meta = entry.metadata().unwrap();
            let contents = std::fs::read(entry.path()).unwrap();
            (
                entry.path().to_path_buf(),
                (contents, meta.modified().unwrap()),
            )
        })
        .collect()
}

#[test]
fn reading_never_writes_to_the_repository_or_the_working_tree() {
    let t = TestRepo::new();
    t.write("db/001_users.sql", USERS);
    t.commit_all("users");
    t.create_branch("feature");
    t.write("db/002_orders.sql", ORDERS);
    t.commit_all("orders");
    let tagged = t.repo.head().unwrap().peel_to_commit().unwrap();
    t.repo
        .tag_lightweight("v1", tagged.as_object(), false)
        .unwrap();
    // Untracked, modified, and a file whose stat data is stale in the index (same content,
    // new mtime): a status that refreshes the index would write it back.
    t.write("db/003_items.sql", ITEMS);
    t.write("db/001_users.sql", "-- edited\n");
    let stale = std::fs::File::options()
        .write(true)
        .open(t.path().join("db/002_orders.sql"))
        .unwrap();
    stale
        .set_modified(SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
    drop(stale);

    let before = fingerprint(t.path());
    let git = t.git();
    let head = git.resolve("HEAD").unwrap();
    let feature = git.resolve("feature").unwrap();
    git.merge_base(&head, &feature).unwrap();
    git.snapshot_at(head.commit, "db").unwrap();
    git.snapshot_at(head.commit, "").unwrap();
    git.worktree_snapshot("db").unwrap();
    git.worktree_snapshot("").unwrap();
    git.file_at(head.commit, "db/001_users.sql").unwrap();
    git.tags_matching("*").unwrap();
    git.state_notice();
    let _ = git.resolve("no-such-branch");
    drop(git);
    let after = fingerprint(t.path());

    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared or vanished"
    );
    for (path, state) in &before {
        assert!(&after[path] == state, "{} changed", path.display());
    }
}
