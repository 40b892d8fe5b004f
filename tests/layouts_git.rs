//! Layouts against git history: a migrations directory that moved between the base and the
//! head is followed (the base's migrations are read where the base kept them, never taken
//! as all new), and a code migration's edit is history like any other.

use git2::{IndexAddOption, Repository, Signature};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

fn commit(repo: &Repository) {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents)
        .unwrap();
}

/// `rollsafe check --format json <dir>` in `root` (base: HEAD, head: the working tree).
fn check(root: &Path, dir: &str) -> (Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--format", "json", "--fail-on", "never", dir])
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (serde_json::from_slice(&output.stdout).unwrap(), stderr)
}

fn listed(report: &Value) -> Vec<(String, String)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let field = |key: &str| m[key].as_str().unwrap().to_string();
            (field("id"), field("status"))
        })
        .collect()
}

fn rules(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n";
const DROP_EMAIL: &str = "ALTER TABLE users DROP COLUMN email;\n";

#[test]
fn a_directory_moved_in_the_working_tree_is_found_by_content() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    let repo = Repository::init(root).unwrap();
    write(root, "db/migrations/1_users.up.sql", USERS);
    commit(&repo);
    std::fs::remove_dir_all(root.join("db")).unwrap();
    write(root, "migrations/1_users.up.sql", USERS);
    write(root, "migrations/2_drop_email.up.sql", DROP_EMAIL);
    let (report, stderr) = check(root, "migrations");
    // Only the new migration is the deploy, and its drop is judged against N-1's schema.
    assert_eq!(listed(&report), [("2".to_string(), "new".to_string())]);
    assert!(rules(&report).contains(&"drop-column"), "{report}");
    assert!(
        stderr.contains("the migrations were in `db/migrations` at the base revision"),
        "{stderr}"
    );
}

#[test]
fn the_base_config_says_where_the_base_kept_them() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    let repo = Repository::init(root).unwrap();
    write(root, "rollsafe.toml", "migrations = \"db/migrations\"\n");
    write(root, "db/migrations/1_users.up.sql", USERS);
    commit(&repo);
    std::fs::remove_dir_all(root.join("db")).unwrap();
    write(root, "rollsafe.toml", "migrations = \"sql\"\n");
    // Reformatted on the way, so contents alone would not find it.
    write(
        root,
        "sql/1_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text, name text);\n",
    );
    let (report, stderr) = check(root, "sql");
    assert_eq!(listed(&report), [("1".to_string(), "edited".to_string())]);
    assert!(rules(&report).contains(&"edited-migration"), "{report}");
    assert!(stderr.contains("`db/migrations`"), "{stderr}");
}

#[test]
fn a_new_directory_with_nothing_at_the_base_is_all_new() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    let repo = Repository::init(root).unwrap();
    write(root, "README.md", "project\n");
    commit(&repo);
    write(root, "migrations/1_users.up.sql", USERS);
    let (report, stderr) = check(root, "migrations");
    assert_eq!(listed(&report), [("1".to_string(), "new".to_string())]);
    assert!(!stderr.contains("at the base revision"), "{stderr}");
}

#[test]
fn an_edit_to_a_shipped_code_migration_is_an_edit() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    let repo = Repository::init(root).unwrap();
    write(root, "db/1_users.sql", &format!("-- +goose Up\n{USERS}"));
    write(root, "db/2_backfill.go", "package db // v1\n");
    commit(&repo);
    // Unchanged: nothing to report.
    let (report, _) = check(root, "db");
    assert!(listed(&report).is_empty(), "{report}");
    write(root, "db/2_backfill.go", "package db // v2\n");
    let (report, _) = check(root, "db");
    assert_eq!(listed(&report), [("2".to_string(), "edited".to_string())]);
    assert_eq!(report["migrations"][0]["kind"], "code");
    assert!(rules(&report).contains(&"edited-migration"), "{report}");
}

#[test]
fn a_copy_of_a_set_into_a_new_directory_is_not_a_move() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path();
    let repo = Repository::init(root).unwrap();
    write(root, "migrations/postgres/1_users.up.sql", USERS);
    commit(&repo);
    // A second set starts from the same first migration: everything in it is new.
    write(root, "migrations/cockroach/1_users.up.sql", USERS);
    write(root, "migrations/cockroach/2_drop_email.up.sql", DROP_EMAIL);
    let (report, stderr) = check(root, "migrations/cockroach");
    assert_eq!(
        listed(&report),
        [
            ("1".to_string(), "new".to_string()),
            ("2".to_string(), "new".to_string())
        ]
    );
    assert!(!stderr.contains("at the base revision"), "{stderr}");
}
