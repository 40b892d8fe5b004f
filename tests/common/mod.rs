//! What the git end-to-end suites share: a throwaway repository built with git2, and the
//! binary run in it.
// Each suite uses the parts it needs.
#![allow(dead_code)]

use git2::{Commit, IndexAddOption, Oid, Repository, Signature};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use tempfile::TempDir;

pub struct Repo {
    pub dir: TempDir,
    pub repo: Repository,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        Repo { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).unwrap();
    }

    /// Commits every file in the working tree on the current branch.
    pub fn commit(&self, message: &str) -> Oid {
        self.commit_with(message, None)
    }

    /// Commits every file, with `other` as a second parent when given (a merge commit).
    pub fn commit_with(&self, message: &str, other: Option<Oid>) -> Oid {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = Signature::now("Test", "test@example.com").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let other = other.map(|oid| self.repo.find_commit(oid).unwrap());
        let parents: Vec<&Commit> = parent.iter().chain(other.iter()).collect();
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

    pub fn tag(&self, name: &str) {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo
            .tag_lightweight(name, head.as_object(), false)
            .unwrap();
    }

    /// Runs rollsafe with `args` in the repository.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            // Never the user's cache directory.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("rollsafe-test-cache"),
            )
            .args(args)
            .env("NO_COLOR", "1")
            .current_dir(self.path())
            .output()
            .unwrap()
    }

    /// Runs `rollsafe check` with `args` in the repository.
    pub fn check(&self, args: &[&str]) -> Output {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    pub fn check_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let output = self.check(&all);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "not JSON ({err}): {}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap(), report)
    }
}
