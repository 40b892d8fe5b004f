//! A corrupt repository ends a run with an error (exit 2) and a message, within seconds:
//! never a hang, never a silent "empty history".

use git2::{IndexAddOption, Oid, Repository, Signature};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A repository with one committed migration, and the id of its blob.
fn repository() -> (TempDir, Oid) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let file = dir.path().join("db/001_users.up.sql");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "CREATE TABLE users (id bigint PRIMARY KEY);\n").unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = Signature::now("Test", "test@example.com").unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, "one", &tree, &[])
        .unwrap();
    let blob = tree
        .get_path(Path::new("db/001_users.up.sql"))
        .unwrap()
        .id();
    (dir, blob)
}

/// Runs `rollsafe check db` in `dir`; fails the test if it is still running after `limit`.
fn check_within(dir: &Path, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(["check", "db"])
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("rollsafe still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

#[test]
fn a_truncated_object_is_an_error_not_a_hang() {
    let (dir, blob) = repository();
    // The working tree differs from the commit, so the commit's blob must be read.
    std::fs::write(
        dir.path().join("db/001_users.up.sql"),
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    )
    .unwrap();
    let hex = blob.to_string();
    let object = dir
        .path()
        .join(".git/objects")
        .join(&hex[..2])
        .join(&hex[2..]);
    let bytes = std::fs::read(&object).unwrap();
    let mut permissions = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&object, permissions).unwrap();
    std::fs::write(&object, &bytes[..bytes.len() - 10]).unwrap();

    let (output, took) = check_within(dir.path(), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(stderr.contains("git fsck"), "{stderr}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn a_corrupt_head_is_an_error_naming_the_file() {
    let (dir, _) = repository();
    std::fs::write(dir.path().join(".git/HEAD"), "garbage\n").unwrap();
    let (output, _) = check_within(dir.path(), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(".git/HEAD"), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
}

#[test]
fn a_head_that_libgit2_rejects_is_an_error_naming_the_file() {
    let (dir, _) = repository();
    // Not even a line: libgit2 does not take the directory for a repository at all.
    std::fs::write(dir.path().join(".git/HEAD"), "").unwrap();
    let (output, _) = check_within(dir.path(), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(".git/HEAD"), "{stderr}");
}
