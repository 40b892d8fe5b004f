//! Every rule's examples as real migration directories, checked by the binary: the bad
//! example's migration fires the rule, the good one (the safe recipe) does not. Unlike
//! `tests/rule_examples.rs`, this goes through discovery (sqlx layout, so a migration can opt
//! out of its transaction), config loading and the JSON report.

use rollsafe::rules::{self, Category, RuleMeta};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Writes the example as a sqlx migrations directory and returns the rules the deploy
/// migration fired.
fn fired(
    meta: &RuleMeta,
    dir: &Path,
    (setup, sql): (&str, &str),
    down: Option<&str>,
    config: &str,
) -> Vec<String> {
    let example = &meta.example;
    let no_transaction = if example.transaction {
        ""
    } else {
        "-- no-transaction\n"
    };
    std::fs::write(dir.join("20240101000001_setup.up.sql"), setup).unwrap();
    std::fs::write(
        dir.join("20240101000002_deploy.up.sql"),
        format!("{no_transaction}{sql}"),
    )
    .unwrap();
    let down_path = dir.join("20240101000002_deploy.down.sql");
    match down {
        Some(down) => std::fs::write(&down_path, down).unwrap(),
        None => {
            let _ = std::fs::remove_file(&down_path);
        }
    }
    std::fs::write(dir.join("rollsafe.toml"), config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args([
            "check",
            "--all",
            "--layout",
            "sqlx",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}: {}",
        meta.id,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["migration"].as_str(), Some("20240101000002" | "")))
        // A finding folded into another one of the same statement still fired.
        .flat_map(|f| {
            let related = f["related"].as_array().into_iter().flatten();
            std::iter::once(f).chain(related)
        })
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_rule_example_as_a_migration_directory() {
    let mut failures = Vec::new();
    for meta in rules::all_meta() {
        if meta.category == Category::History || meta.id == "rollback-window" {
            continue; // need revisions: tests/git_cli.rs
        }
        let example = &meta.example;
        let dir = tempfile::tempdir().unwrap();
        let bad = fired(
            meta,
            dir.path(),
            (&example.setup, &example.bad),
            example.bad_down.as_deref(),
            &example.config,
        );
        if !bad.contains(&meta.id) {
            failures.push(format!("{}: bad example fired only {bad:?}", meta.id));
        }
        let good_config = example.good_config.as_ref().unwrap_or(&example.config);
        let good = fired(
            meta,
            dir.path(),
            (&example.good_base(), &example.good),
            example.good_down.as_deref(),
            good_config,
        );
        if good.contains(&meta.id) {
            failures.push(format!("{}: good example fired it", meta.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
