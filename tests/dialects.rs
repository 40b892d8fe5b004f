//! MySQL and SQLite through the binary: a SQLite table rebuild is an alteration (not a drop
//! and a rename), and a MySQL MODIFY COLUMN that narrows a type breaks N-1.

use serde_json::Value;
use std::process::Command;

/// (rule, migration) of every finding of `rollsafe check --all` on a fixture directory.
fn findings(fixture: &str) -> (Value, Vec<(String, String)>) {
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(["check", "--all", "--format", "json", "--fail-on", "never"])
        .arg(format!("fixtures/dialects/{fixture}"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let pairs = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["migration"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (report, pairs)
}

fn pair(rule: &str, migration: &str) -> (String, String) {
    (rule.to_string(), migration.to_string())
}

#[test]
fn a_sqlite_rebuild_is_an_alteration_not_a_drop_and_a_rename() {
    let (report, found) = findings("sqlite-rebuild");
    assert_eq!(report["dialect"], "sqlite");
    // 002 rebuilds flags keeping every column: nothing to report. 003 rebuilds it without
    // `description`: a dropped column, not a dropped table.
    assert_eq!(found, [pair("drop-column", "003")]);
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("description"), "{message}");
}

#[test]
fn a_mysql_modify_that_narrows_a_type_breaks_n1() {
    let (report, found) = findings("mysql-modify");
    assert_eq!(report["dialect"], "mysql");
    // 002 widens with ALGORITHM=INPLACE: quiet. 003 narrows without an algorithm: a type
    // change N-1 cannot live with, done as a table copy.
    assert_eq!(
        found,
        [
            pair("change-column-type", "003"),
            pair("mysql-copy-algorithm", "003")
        ]
    );
}
