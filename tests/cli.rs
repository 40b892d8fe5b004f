//! The binary, end to end: exit codes, the demo, the JSON contract, bad input.

use serde_json::Value;
use std::process::{Command, Output};

fn rollsafe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A migrations directory holding `files` (name, text), outside any repository.
fn migrations_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `rollsafe check --all --format json` on `dir`: the process output and the report.
fn audit_json(dir: &std::path::Path) -> (Output, serde_json::Value) {
    let output = rollsafe(&["check", "--all", "--format", "json", dir.to_str().unwrap()]);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", stderr(&output)));
    (output, report)
}

fn demo_json() -> Value {
    let output = rollsafe(&["check", "--all", "--format", "json", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn demo_names_the_premature_contract_step_with_file_line_and_recipe() {
    let output = rollsafe(&["check", "--all", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("[drop-column]"), "{text}");
    assert!(text.contains("0009_drop_users_name.up.sql:4:1"), "{text}");
    assert!(text.contains("public.users.name"), "{text}");
    assert!(text.contains("Help:") || text.contains("help:"), "{text}");
    assert!(text.contains("rollsafe: unsafe"), "{text}");
}

#[test]
fn demo_json_follows_the_contract() {
    let report = demo_json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["verdict"], "unsafe");
    assert_eq!(report["head"]["rev"], "worktree");
    assert!(report["head"]["commit"].is_null());

    let migrations = report["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 10);
    assert_eq!(migrations[0]["id"], "0001");
    assert_eq!(migrations[0]["name"], "create_users");
    assert_eq!(
        migrations[0]["path"],
        "fixtures/demo/0001_create_users.up.sql"
    );
    assert_eq!(migrations[0]["phases"], serde_json::json!(["expand"]));
    assert_eq!(migrations[4]["phases"], serde_json::json!(["backfill"]));
    assert_eq!(migrations[8]["phases"], serde_json::json!(["contract"]));

    let findings = report["findings"].as_array().unwrap();
    let drop = findings
        .iter()
        .find(|f| f["rule"] == "drop-column")
        .expect("the premature drop is reported");
    assert_eq!(drop["category"], "compat");
    assert_eq!(drop["severity"], "error");
    assert_eq!(drop["path"], "fixtures/demo/0009_drop_users_name.up.sql");
    assert_eq!(drop["line"], 4);
    assert_eq!(drop["column"], 1);
    assert_eq!(drop["end_line"], 4);
    assert_eq!(drop["end_column"], 35);
    assert_eq!(drop["migration"], "0009");
    assert_eq!(drop["object"], "public.users.name");
    assert!(drop["help"].as_str().unwrap().contains("retire"));

    // users.phone was retired in config: its drop is quiet.
    assert!(!findings.iter().any(|f| f["object"] == "public.users.phone"));

    let suppressed = report["suppressed"].as_array().unwrap();
    let audit: Vec<(&str, &str, u64)> = suppressed
        .iter()
        .map(|s| {
            (
                s["rule"].as_str().unwrap(),
                s["path"].as_str().unwrap(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        audit,
        [
            (
                "add-check-constraint",
                "fixtures/demo/0006_orders_status_check.up.sql",
                3
            ),
            (
                "create-index-not-concurrently",
                "fixtures/demo/0010_orders_currency.up.sql",
                3
            ),
        ]
    );
    assert!(suppressed[1]["reason"]
        .as_str()
        .unwrap()
        .starts_with("orders has a few hundred rows"));
}

#[test]
fn fail_on_never_passes_and_output_goes_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = rollsafe(&[
        "check",
        "--all",
        "--fail-on",
        "never",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        "fixtures/demo",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["verdict"], "unsafe");
}

#[test]
fn rules_and_explain() {
    let output = rollsafe(&["rules"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("drop-column"));
    assert!(text.contains("compat"));

    let output = rollsafe(&["explain", "drop-column"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("Safe recipe"), "{text}");
    assert!(text.contains("DROP COLUMN"), "{text}");

    let output = rollsafe(&["explain", "drop-colum"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("did you mean drop-column"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_empty_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = rollsafe(&["check", "--all", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("empty"), "{}", stderr(&output));
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let output = rollsafe(&["check", "--all", "no/such/dir"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no/such/dir"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_binary_migration_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_init.sql"),
        "CREATE TABLE a (id int);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("002_blob.sql"),
        b"SELECT 1;\n\xff\xfe\x00binary",
    )
    .unwrap();
    let output = rollsafe(&["check", "--all", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("002_blob.sql:2"), "{err}");
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn a_config_with_an_unknown_rule_names_the_rule_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_init.sql"),
        "CREATE TABLE a (id int);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rollsafe.toml"),
        "dialect = \"postgres\"\n\n[rules]\ndrop-colum = \"off\"\n",
    )
    .unwrap();
    let output = rollsafe(&["check", "--all", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("rollsafe.toml:4"), "{err}");
    assert!(err.contains("drop-colum"), "{err}");
}

#[test]
fn a_config_that_does_not_parse_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_init.sql"),
        "CREATE TABLE a (id int);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("rollsafe.toml"), "dialect = \n").unwrap();
    let output = rollsafe(&["check", "--all", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("rollsafe.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_statement_the_parser_chokes_on_does_not_stop_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_init.sql"),
        "CREATE TABLE users (id int, name text);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("002_mixed.sql"),
        "CREATE FROBNICATOR everything;\nALTER TABLE users DROP COLUMN name;\n",
    )
    .unwrap();
    let output = rollsafe(&[
        "check",
        "--all",
        "--format",
        "json",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"unparsed-statement"), "{rules:?}");
    assert!(rules.contains(&"drop-column"), "{rules:?}");
}

#[test]
fn schema_prints_the_replayed_catalog() {
    let output = rollsafe(&["schema", "--format", "json", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["schema_version"], 1);
    let users = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "users")
        .expect("users table");
    let columns: Vec<&str> = users["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["id", "email", "created_at", "display_name"]);
    assert_eq!(users["columns"][0]["type"], "bigint");
    assert_eq!(
        users["columns"][0]["default"],
        "nextval('users_id_seq'::regclass)"
    );

    let output = rollsafe(&["schema", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("CREATE TABLE"));
}

#[test]
fn without_a_directory_the_config_names_the_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("db/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("001_users.sql"),
        "CREATE TABLE users (id int, name text);\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("002_drop_name.sql"),
        "ALTER TABLE users DROP COLUMN name;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rollsafe.toml"),
        "migrations = \"db/migrations\"\nlock_timeout_set_by_runner = true\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(["check", "--all", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"][0]["rule"], "drop-column");
    assert_eq!(report["migrations"].as_array().unwrap().len(), 2);
}

#[test]
fn a_retire_entry_that_names_nothing_is_reported_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_init.sql"),
        "CREATE TABLE a (id int);\n",
    )
    .unwrap();
    let config = "dialect = \"postgres\"\n\n[[retire]]\nobject = \"a.nope\"\nreason = \"typo\"\n";
    std::fs::write(dir.path().join("rollsafe.toml"), config).unwrap();
    // Run from the project, as a user does: the config's path is relative to it.
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--format", "json", "."])
        .current_dir(dir.path())
        .output()
        .expect("the binary runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "retire-unknown-object")
        .expect("the typo is reported");
    let object_line = config
        .lines()
        .position(|l| l.starts_with("object"))
        .unwrap()
        + 1;
    assert_eq!(finding["line"], object_line);
    assert_eq!(finding["path"], "rollsafe.toml");
}

#[test]
fn a_config_with_an_unknown_dialect_or_layout_names_the_line() {
    for (config, wanted) in [
        ("\ndialect = \"oracle\"\n", "unknown dialect `oracle`"),
        ("\n\nlayout = \"rails\"\n", "unknown layout `rails`"),
        ("fail_on = \"sometimes\"\n", "sometimes"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("001_init.sql"),
            "CREATE TABLE a (id int);\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("rollsafe.toml"), config).unwrap();
        let output = rollsafe(&["check", "--all", dir.path().to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2));
        let err = stderr(&output);
        let line = config.lines().position(|l| !l.is_empty()).unwrap() + 1;
        assert!(err.contains(wanted), "{err}");
        assert!(err.contains(&format!("line {line}")), "{err}");
    }
}

#[test]
fn a_byte_order_mark_does_not_hide_the_first_statement() {
    // 002 was saved by an editor that writes a UTF-8 byte-order mark.
    let dir = migrations_dir(&[
        ("001_init.sql", "CREATE TABLE users (id int, name text);\n"),
        (
            "002_drop.sql",
            "\u{feff}ALTER TABLE users DROP COLUMN name;\n",
        ),
    ]);
    let (output, report) = audit_json(dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"drop-column"), "{rules:?}");
    assert!(!rules.contains(&"unparsed-statement"), "{rules:?}");
}

#[test]
fn concise_prints_one_line_per_finding_and_quiet_only_the_verdict() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo");
    let concise = rollsafe(&["check", "--all", "--format", "concise", demo]);
    let json = rollsafe(&["check", "--all", "--format", "json", demo]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            // Findings folded into this one follow its message.
            let mut message = f["message"].as_str().unwrap().to_string();
            for related in f["related"].as_array().into_iter().flatten() {
                message.push_str(&format!(
                    "; also {} ({}): {}",
                    related["rule"].as_str().unwrap(),
                    related["severity"].as_str().unwrap(),
                    related["message"].as_str().unwrap()
                ));
            }
            format!(
                "{}:{}:{}: {}[{}] {}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["severity"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                message
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(stdout(&concise).lines().collect::<Vec<_>>(), expected);
    assert_eq!(concise.status.code(), Some(1));

    let quiet = rollsafe(&["check", "--all", "-q", demo]);
    assert_eq!(quiet.status.code(), Some(1));
    let out = stdout(&quiet);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("rollsafe: unsafe — 2 errors, 1 warning"),
        "{out}"
    );
}

#[test]
fn writing_the_report_to_a_file_still_prints_the_verdict() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.md");
    let output = rollsafe(&[
        "check",
        "--all",
        "--format",
        "markdown",
        "-o",
        file.to_str().unwrap(),
        demo,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("rollsafe: unsafe — 2 errors"),
        "{}",
        stderr(&output)
    );
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("drop-column"));
}

#[test]
fn consequences_of_one_change_are_folded_into_its_finding_and_still_counted() {
    let dir = migrations_dir(&[
        (
            "001_init.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n",
        ),
        (
            "002_fk.sql",
            "SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n",
        ),
    ]);
    let (output, report) = audit_json(dir.path());
    let findings = report["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["add-foreign-key"], "{report}");
    let related = findings[0]["related"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["rule"], "foreign-key-validates");
    // The finding shows the worst of the problem it folds.
    assert_eq!(findings[0]["severity"], "error");
    // The folded error still counts, and still decides the verdict.
    assert_eq!(report["counts"]["errors"], 1);
    assert_eq!(report["counts"]["warnings"], 1);
    assert_eq!(report["verdict"], "unsafe");
    assert_eq!(output.status.code(), Some(1));
}
