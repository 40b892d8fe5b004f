//! Layout discovery on the small per-tool fixtures in `fixtures/layouts/`.

use rollsafe::dialect::Dialect;
use rollsafe::layout::{
    discover, discover_dir, Discovered, LayoutChoice, LayoutKind, LayoutOptions, Migration,
    MigrationKind, TransactionMode,
};
use rollsafe::source::{self, Snapshot};
use std::path::PathBuf;

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/layouts")
        .join(name)
}

fn snapshot(name: &str) -> Snapshot {
    source::read_dir(&fixture_dir(name)).expect("fixture is readable")
}

fn auto(name: &str) -> Discovered {
    discover_dir(
        &fixture_dir(name),
        LayoutChoice::Auto,
        &LayoutOptions::default(),
    )
    .expect("fixture is discovered")
}

fn ids(discovered: &Discovered) -> Vec<&str> {
    discovered
        .migrations
        .iter()
        .map(|m| m.id.as_str())
        .collect()
}

fn names(discovered: &Discovered) -> Vec<&str> {
    discovered
        .migrations
        .iter()
        .map(|m| m.name.as_str())
        .collect()
}

fn ignored_paths(discovered: &Discovered) -> Vec<&str> {
    discovered
        .ignored
        .iter()
        .map(|ignored| ignored.path.as_str())
        .collect()
}

fn up_path(migration: &Migration) -> Option<&str> {
    migration.up.as_ref().map(|part| part.path.as_str())
}

fn down_path(migration: &Migration) -> Option<&str> {
    migration.down.as_ref().map(|part| part.path.as_str())
}

fn modes(discovered: &Discovered) -> Vec<TransactionMode> {
    discovered
        .migrations
        .iter()
        .map(|m| m.transaction)
        .collect()
}

/// The text of a migration's up or down part.
fn section<'a>(snapshot: &'a Snapshot, part: &rollsafe::layout::SqlPart) -> &'a str {
    &snapshot.text(&part.path).unwrap()[part.range.clone()]
}

#[test]
fn golang_migrate() {
    let found = auto("golang-migrate");
    assert_eq!(found.layout, LayoutKind::GolangMigrate);
    assert_eq!(ids(&found), ["1", "2", "9", "10"]);
    assert_eq!(
        names(&found),
        ["create_users", "add_email", "index_email", "drop_name"]
    );
    let index = &found.migrations[2];
    assert_eq!(up_path(index), Some("9_index_email.up.sql"));
    assert_eq!(down_path(index), None);
    let drop = &found.migrations[3];
    assert_eq!(down_path(drop), Some("10_drop_name.down.sql"));
    assert_eq!(drop.paths, ["10_drop_name.up.sql", "10_drop_name.down.sql"]);
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::ImplicitMultiStatement));
    assert_eq!(ignored_paths(&found), ["seed_dev_data.sql"]);
    assert_eq!(found.dialect, None);
}

#[test]
fn flyway() {
    let found = auto("flyway");
    assert_eq!(found.layout, LayoutKind::Flyway);
    assert_eq!(ids(&found), ["1", "9", "10", "active_users_view"]);
    let kinds: Vec<_> = found.migrations.iter().map(|m| m.kind).collect();
    use MigrationKind::*;
    assert_eq!(kinds, [Versioned, Versioned, Versioned, Repeatable]);
    let email = &found.migrations[1];
    assert_eq!(up_path(email), Some("V9__add_email.sql"));
    assert_eq!(down_path(email), Some("U9__drop_email.sql"));
    let index = &found.migrations[2];
    assert_eq!(index.transaction, TransactionMode::None);
    assert_eq!(
        index.paths,
        ["V10__index_email.sql", "V10__index_email.sql.conf"]
    );
    assert_eq!(found.migrations[0].transaction, TransactionMode::Wrapped);
    assert!(found.ignored.is_empty());
}

#[test]
fn flyway_baseline_sorts_by_version() {
    let mut snapshot = Snapshot::new();
    snapshot.insert("V7__after.sql", "SELECT 1;");
    snapshot.insert("B5__baseline.sql", "CREATE TABLE t (id int);");
    snapshot.insert("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;");
    let found = discover(&snapshot, LayoutChoice::Auto, &LayoutOptions::default()).unwrap();
    assert_eq!(ids(&found), ["5", "7", "view"]);
    assert_eq!(found.migrations[0].kind, MigrationKind::Baseline);
}

#[test]
fn diesel() {
    let found = auto("diesel");
    assert_eq!(found.layout, LayoutKind::Diesel);
    assert_eq!(
        ids(&found),
        [
            "00000000000000",
            "20240105120000",
            "2024-01-09-090000",
            "2025-11-20-101010-0000"
        ]
    );
    assert_eq!(
        names(&found),
        [
            "diesel_initial_setup",
            "create_users",
            "index_users_name",
            "add_email"
        ]
    );
    let index = &found.migrations[2];
    assert_eq!(index.transaction, TransactionMode::None);
    assert_eq!(
        index.paths,
        [
            "2024-01-09-090000_index_users_name/up.sql",
            "2024-01-09-090000_index_users_name/down.sql",
            "2024-01-09-090000_index_users_name/metadata.toml"
        ]
    );
    assert_eq!(
        down_path(&found.migrations[1]),
        Some("20240105120000_create_users/down.sql")
    );
    assert_eq!(found.migrations[1].transaction, TransactionMode::Wrapped);
    assert_eq!(ignored_paths(&found), ["data_backfill_emails.sql"]);
}

#[test]
fn sqlx_simple() {
    let found = auto("sqlx");
    assert_eq!(found.layout, LayoutKind::Sqlx);
    assert_eq!(names(&found), ["create_users", "add_email", "index_email"]);
    assert!(found.migrations.iter().all(|m| m.down.is_none()));
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None]);
}

#[test]
fn sqlx_reversible_is_told_from_golang_migrate_by_its_marker() {
    let found = auto("sqlx-reversible");
    assert_eq!(found.layout, LayoutKind::Sqlx);
    assert_eq!(
        ids(&found),
        ["20240105120000", "20240106120000", "20240107120000"]
    );
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, None, Wrapped]);
    assert_eq!(
        down_path(&found.migrations[1]),
        Some("20240106120000_index_name.down.sql")
    );
}

#[test]
fn up_down_pairs_default_to_golang_migrate_and_config_picks_sqlx() {
    let dir = fixture_dir("golang-migrate");
    let fixed = LayoutChoice::Fixed(LayoutKind::Sqlx);
    let found = discover_dir(&dir, fixed, &LayoutOptions::default()).unwrap();
    assert_eq!(found.layout, LayoutKind::Sqlx);
    assert_eq!(ids(&found), ["1", "2", "9", "10"]);
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::Wrapped));
}

#[test]
fn prisma() {
    let found = auto("prisma");
    assert_eq!(found.layout, LayoutKind::Prisma);
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    assert_eq!(names(&found), ["init", "add_email", "add_posts"]);
    assert_eq!(
        up_path(&found.migrations[0]),
        Some("20240105120000_init/migration.sql")
    );
    assert!(found.migrations.iter().all(|m| m.down.is_none()));
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::ImplicitMultiStatement));
}

#[test]
fn goose() {
    let snapshot = snapshot("goose");
    let found = auto("goose");
    assert_eq!(found.layout, LayoutKind::Goose);
    assert_eq!(ids(&found), ["1", "2", "3", "9", "10"]);
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None, Wrapped, None]);

    let users = &found.migrations[0];
    assert_eq!(users.paths, ["1_create_users.sql"]);
    let up = section(&snapshot, users.up.as_ref().unwrap());
    let down = section(&snapshot, users.down.as_ref().unwrap());
    assert!(up.contains("CREATE TABLE users") && !up.contains("DROP TABLE"));
    assert!(!up.contains("+goose"));
    assert_eq!(down.trim(), "DROP TABLE users;");

    let trigger = section(&snapshot, found.migrations[1].up.as_ref().unwrap());
    assert!(trigger.starts_with("-- +goose StatementBegin\nCREATE FUNCTION touch()"));
    assert!(!trigger.contains("DROP FUNCTION"));

    assert!(found.migrations[3].down.is_none());
    let index = section(&snapshot, found.migrations[4].up.as_ref().unwrap());
    assert_eq!(
        index.trim(),
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"
    );

    // A Go migration keeps its place in the order; it has no SQL to analyse.
    assert!(found.ignored.is_empty(), "{:?}", found.ignored);
    let code = &found.migrations[2];
    assert_eq!((code.id.as_str(), code.kind), ("3", MigrationKind::Code));
    assert_eq!(code.paths, ["3_backfill_display_names.go"]);
    assert!(code.up.is_none() && code.down.is_none());
}

#[test]
fn dbmate() {
    let snapshot = snapshot("dbmate");
    let found = auto("dbmate");
    assert_eq!(found.layout, LayoutKind::Dbmate);
    assert_eq!(names(&found), ["create_users", "add_email", "index_email"]);
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None]);
    for migration in &found.migrations {
        let up = section(&snapshot, migration.up.as_ref().unwrap());
        let down = section(&snapshot, migration.down.as_ref().unwrap());
        assert!(!up.contains("migrate:") && !up.contains("DROP"), "{up}");
        assert!(down.contains("DROP"), "{down}");
    }
}

#[test]
fn sqitch() {
    let found = auto("sqitch");
    assert_eq!(found.layout, LayoutKind::Sqitch);
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    assert_eq!(
        ids(&found),
        ["users", "add_email", "user_names@v1.0", "user_names"]
    );
    assert_eq!(
        names(&found),
        ["users", "add_email", "user_names", "user_names"]
    );
    let old = &found.migrations[2];
    assert_eq!(up_path(old), Some("deploy/user_names@v1.0.sql"));
    assert_eq!(down_path(old), Some("revert/user_names@v1.0.sql"));
    let latest = &found.migrations[3];
    assert_eq!(up_path(latest), Some("deploy/user_names.sql"));
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::None));
    // verify/ scripts belong to sqitch but are not migrations, nor noise.
    assert!(found.ignored.is_empty());
}

#[test]
fn plain() {
    let found = auto("plain");
    assert_eq!(found.layout, LayoutKind::Plain);
    assert_eq!(ids(&found), ["001", "0002", "3", "10"]);
    assert_eq!(
        names(&found),
        ["create_users", "add-email", "", "drop_name"]
    );
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::Wrapped));

    let options = LayoutOptions {
        plain_transaction: TransactionMode::None,
        ..LayoutOptions::default()
    };
    let found = discover_dir(&fixture_dir("plain"), LayoutChoice::Auto, &options).unwrap();
    assert!(modes(&found)
        .iter()
        .all(|&mode| mode == TransactionMode::None));
}

#[test]
fn fixed_layout_is_used_as_given() {
    let fixed = LayoutChoice::Fixed(LayoutKind::Plain);
    let found = discover_dir(&fixture_dir("sqlx"), fixed, &LayoutOptions::default()).unwrap();
    assert_eq!(found.layout, LayoutKind::Plain);
    assert_eq!(found.migrations.len(), 3);
}

#[test]
fn fixtures_side_by_side_are_several_sets() {
    let mut snapshot = Snapshot::new();
    for name in ["goose", "diesel"] {
        let fixture = self::snapshot(name);
        for path in fixture.paths() {
            snapshot.insert(format!("{name}/{path}"), fixture.get(path).unwrap());
        }
    }
    let err = discover(&snapshot, LayoutChoice::Auto, &LayoutOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 separate migration sets"), "{err}");
    assert!(
        err.contains("`diesel/` (diesel") && err.contains("`goose/` (goose"),
        "{err}"
    );
}

/// Runs `rollsafe check --all --format json` on `dir` and returns the report.
fn audit(dir: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--format", "json", "--fail-on", "never"])
        .args(extra)
        .arg(dir)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

/// `(rule, path)` of every finding of `rule`.
fn fired<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

/// A copy of a fixture in a temporary directory, with `edit` applied (the unsafe twin).
fn twin(name: &str, edit: impl FnOnce(&std::path::Path)) -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let from = fixture_dir(name);
    for path in snapshot(name).paths() {
        let target = temp.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(path), target).unwrap();
    }
    edit(temp.path());
    temp
}

#[test]
fn sql_migrate() {
    let snapshot = snapshot("sql-migrate");
    let found = auto("sql-migrate");
    assert_eq!(found.layout, LayoutKind::SqlMigrate);
    // Keyed by the full file name; two files share a prefix and sort by the rest of it.
    assert_eq!(
        ids(&found),
        [
            "20240105120000_initial_schema.sql",
            "20240106120000-display-name-1.sql",
            "20240106120000-display-name-2.sql",
            "20240107120000-touch-trigger.sql",
            "20240108120000-drop-user-notes.sql"
        ]
    );
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None, Wrapped, Wrapped]);
    let schema = &found.migrations[0];
    let up = section(&snapshot, schema.up.as_ref().unwrap());
    assert!(up.starts_with("CREATE TABLE IF NOT EXISTS users") && !up.contains("DROP TABLE"));
    assert!(
        !up.contains("Licensed"),
        "the header before `Up` is not SQL to run"
    );
    let down = section(&snapshot, schema.down.as_ref().unwrap());
    assert_eq!(
        down.trim(),
        "DROP TABLE IF EXISTS user_notes;\nDROP TABLE IF EXISTS users;"
    );
    // `migrations.go` embeds the files; it is no migration.
    assert!(found.ignored.is_empty(), "{:?}", found.ignored);
}

#[test]
fn sql_migrate_down_sections_are_not_judged_as_up_and_notransaction_is_honoured() {
    let report = audit(&fixture_dir("sql-migrate"), &[]);
    assert_eq!(report["layout"], "sql-migrate");
    // Quiet: the downs drop tables and columns; the concurrent index runs outside a
    // transaction. Unsafe twin in the same project: the up that drops a table.
    assert_eq!(
        fired(&report, "drop-table"),
        ["20240108120000-drop-user-notes.sql"]
    );
    assert!(fired(&report, "drop-column").is_empty());
    assert!(fired(&report, "concurrently-in-transaction").is_empty());
    // Unsafe twin: the same index without `notransaction` runs in sql-migrate's transaction.
    let twin = twin("sql-migrate", |dir| {
        let path = dir.join("20240106120000-display-name-2.sql");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(" notransaction", "")).unwrap();
    });
    let report = audit(twin.path(), &[]);
    assert_eq!(
        fired(&report, "concurrently-in-transaction"),
        ["20240106120000-display-name-2.sql"]
    );
}

#[test]
fn sql_migrate_files_under_another_layout_are_an_error_naming_the_layout() {
    let options = LayoutOptions::default();
    let fixed = LayoutChoice::Fixed(LayoutKind::Plain);
    let err = discover_dir(&fixture_dir("sql-migrate"), fixed, &options).unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains(
            "20240105120000_initial_schema.sql:7: `-- +migrate Up` is a sql-migrate marker"
        ),
        "{err}"
    );
    assert!(
        err.contains("read as plain") && err.contains("--layout sql-migrate"),
        "{err}"
    );
}

#[test]
fn popx() {
    let found = auto("popx");
    assert_eq!(found.layout, LayoutKind::Popx);
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    // 20240108 has a CockroachDB up only: it does not run on Postgres.
    assert_eq!(
        ids(&found),
        [
            "20240105120000000000",
            "20240106120000000000",
            "20240107120000000000",
            "20240109120000000000"
        ]
    );
    let ups: Vec<_> = found.migrations.iter().filter_map(up_path).collect();
    assert_eq!(
        ups,
        [
            "20240105120000000000_networks.up.sql",
            "20240106120000000000_relation_tuples.up.sql",
            "20240107120000000000_tuples_index.postgres.autocommit.up.sql",
            "20240109120000000000_drop_commit_time.up.sql"
        ]
    );
    assert_eq!(
        down_path(&found.migrations[0]),
        Some("20240105120000000000_networks.down.sql")
    );
    assert_eq!(found.migrations[2].transaction, TransactionMode::None);
    assert!(
        found.ignored.is_empty(),
        "other dialects' files are not ignored ones"
    );

    let options = |dialect| LayoutOptions {
        dialect: Some(dialect),
        ..LayoutOptions::default()
    };
    let mysql = discover_dir(
        &fixture_dir("popx"),
        LayoutChoice::Auto,
        &options(Dialect::Mysql),
    )
    .unwrap();
    let ups: Vec<_> = mysql.migrations.iter().filter_map(up_path).collect();
    assert_eq!(ups[0], "20240105120000000000_networks.mysql.up.sql");
    assert_eq!(ups[2], "20240107120000000000_tuples_index.mysql.up.sql");
    // A generic down covers the MySQL up.
    assert_eq!(
        down_path(&mysql.migrations[0]),
        Some("20240105120000000000_networks.down.sql")
    );
    let sqlite = discover_dir(
        &fixture_dir("popx"),
        LayoutChoice::Auto,
        &options(Dialect::Sqlite),
    )
    .unwrap();
    assert_eq!(
        up_path(&sqlite.migrations[3]),
        Some("20240109120000000000_drop_commit_time.sqlite3.up.sql")
    );

    let cockroach = LayoutOptions {
        dialect_files: Some("cockroach".to_string()),
        ..LayoutOptions::default()
    };
    let cockroach = discover_dir(&fixture_dir("popx"), LayoutChoice::Auto, &cockroach).unwrap();
    assert_eq!(cockroach.migrations.len(), 5);
    assert_eq!(
        up_path(&cockroach.migrations[3]),
        Some("20240108120000000000_legacy_cleanup.cockroach.up.sql")
    );
}

#[test]
fn popx_judges_only_the_dialects_files() {
    let report = audit(&fixture_dir("popx"), &[]);
    // Quiet: the Postgres index file is `.autocommit.`, and no other dialect's file is read
    // (the MySQL `ENGINE=` would be unparsed, CockroachDB's cleanup a drop-table).
    assert!(fired(&report, "concurrently-in-transaction").is_empty());
    assert!(fired(&report, "unparsed-statement").is_empty());
    assert!(fired(&report, "drop-table").is_empty());
    // Unsafe twin in the same project: the generic up that drops a column.
    assert_eq!(
        fired(&report, "drop-column"),
        ["20240109120000000000_drop_commit_time.up.sql"]
    );
    // Unsafe twin: the index file without `.autocommit.` runs in popx's transaction.
    let twin = twin("popx", |dir| {
        std::fs::rename(
            dir.join("20240107120000000000_tuples_index.postgres.autocommit.up.sql"),
            dir.join("20240107120000000000_tuples_index.postgres.up.sql"),
        )
        .unwrap();
    });
    let report = audit(twin.path(), &[]);
    assert_eq!(
        fired(&report, "concurrently-in-transaction"),
        ["20240107120000000000_tuples_index.postgres.up.sql"]
    );
}

#[test]
fn sourcegraph() {
    let found = auto("sourcegraph");
    assert_eq!(found.layout, LayoutKind::Sourcegraph);
    // `parents` put 1000000003 (the index) before 1000000002, which names it as parent.
    assert_eq!(
        ids(&found),
        ["1000000000", "1000000001", "1000000003", "1000000002"]
    );
    assert_eq!(
        names(&found),
        [
            "squashed migrations",
            "add repo stars",
            "repo stars index",
            "drop repo description"
        ]
    );
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None, Wrapped]);
    assert_eq!(
        found.migrations[2].paths,
        [
            "1000000003_repo_stars_index/up.sql",
            "1000000003_repo_stars_index/down.sql",
            "1000000003_repo_stars_index/metadata.yaml"
        ]
    );
}

#[test]
fn sourcegraph_create_index_concurrently_runs_outside_a_transaction() {
    let report = audit(&fixture_dir("sourcegraph"), &[]);
    assert!(fired(&report, "concurrently-in-transaction").is_empty());
    assert_eq!(
        fired(&report, "drop-column"),
        ["1000000002_drop_repo_description/up.sql"]
    );
    let twin = twin("sourcegraph", |dir| {
        let path = dir.join("1000000003_repo_stars_index/metadata.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("createIndexConcurrently: true", "")).unwrap();
    });
    let report = audit(twin.path(), &[]);
    assert_eq!(
        fired(&report, "concurrently-in-transaction"),
        ["1000000003_repo_stars_index/up.sql"]
    );
}

#[test]
fn atlas() {
    let found = auto("atlas");
    assert_eq!(found.layout, LayoutKind::Atlas);
    assert_eq!(
        names(&found),
        [
            "create_users",
            "add_last_seen",
            "index_email",
            "drop_legacy_name"
        ]
    );
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, None, Wrapped]);
    assert!(found.ignored.is_empty(), "atlas.sum is the tool's own file");

    let report = audit(&fixture_dir("atlas"), &[]);
    assert!(fired(&report, "concurrently-in-transaction").is_empty());
    assert_eq!(
        fired(&report, "drop-column"),
        ["20240108120000_drop_legacy_name.sql"]
    );
    let twin = twin("atlas", |dir| {
        let path = dir.join("20240107120000_index_email.sql");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("-- atlas:txmode none\n", "")).unwrap();
    });
    let report = audit(twin.path(), &[]);
    assert_eq!(
        fired(&report, "concurrently-in-transaction"),
        ["20240107120000_index_email.sql"]
    );
}

#[test]
fn ignored_files_are_in_the_json_report_and_counted_in_text() {
    let report = audit(&fixture_dir("golang-migrate"), &[]);
    let ignored = report["ignored"].as_array().unwrap();
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["path"], "seed_dev_data.sql");
    assert!(ignored[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("matches no golang-migrate migration pattern"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--fail-on", "never"])
        .arg(fixture_dir("golang-migrate"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "note: 1 file(s) in the migrations directory are not golang-migrate migrations"
        ),
        "{text}"
    );
    // A code migration is said in text output.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--fail-on", "never"])
        .arg(fixture_dir("goose"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("note: 1 code migration(s) not analysed (rollsafe reads SQL only): 3_backfill_display_names.go"),
        "{text}"
    );
    // Nothing ignored: no key, no note.
    let report = audit(&fixture_dir("atlas"), &[]);
    assert!(report.get("ignored").is_none());
}

#[test]
fn custom_pattern_reads_the_projects_own_names_per_dialect_directory() {
    let custom = rollsafe::layout::CustomPattern {
        pattern: "{dialect}/V{version}.{name}.{direction}.sql".to_string(),
        up: "up".to_string(),
        down: "down".to_string(),
        transaction: true,
    };
    let options = |dialect| LayoutOptions {
        dialect,
        custom: Some(custom.clone()),
        ..LayoutOptions::default()
    };
    let fixed = LayoutChoice::Fixed(LayoutKind::Custom);
    let found = discover_dir(&fixture_dir("custom"), fixed, &options(None)).unwrap();
    assert_eq!(ids(&found), ["0001", "0002", "0010"]);
    assert_eq!(
        names(&found),
        ["Initial_Schema", "Email_Index", "Drop_Legacy_Ref"]
    );
    assert_eq!(
        down_path(&found.migrations[0]),
        Some("postgres/V0001.Initial_Schema.down.sql")
    );
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    let ignored: Vec<_> = ignored_paths(&found);
    assert!(ignored.is_empty(), "README.md is not SQL: {ignored:?}");
    let mysql = discover_dir(
        &fixture_dir("custom"),
        fixed,
        &options(Some(Dialect::Mysql)),
    )
    .unwrap();
    let ups: Vec<_> = mysql.migrations.iter().filter_map(up_path).collect();
    assert_eq!(
        ups,
        [
            "mysql/V0001.Initial_Schema.up.sql",
            "mysql/V0002.Email_Index.up.sql"
        ]
    );
}

#[test]
fn custom_layout_from_config_honours_its_transaction_default() {
    // The fixture's rollsafe.toml says `transaction = true`: the concurrent index fails.
    let report = audit(&fixture_dir("custom"), &[]);
    assert_eq!(report["layout"], "custom");
    assert_eq!(
        fired(&report, "concurrently-in-transaction"),
        ["postgres/V0002.Email_Index.up.sql"]
    );
    assert_eq!(
        fired(&report, "drop-column"),
        ["postgres/V0010.Drop_Legacy_Ref.up.sql"]
    );
    // Quiet twin: a runner without transactions.
    let twin = twin("custom", |dir| {
        let path = dir.join("rollsafe.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("transaction = true", "transaction = false"),
        )
        .unwrap();
    });
    let report = audit(twin.path(), &[]);
    assert!(fired(&report, "concurrently-in-transaction").is_empty());
}

#[test]
fn a_bad_custom_pattern_names_the_config_line() {
    let twin = twin("custom", |dir| {
        let path = dir.join("rollsafe.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("{name}", "{title}")).unwrap();
    });
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all"])
        .arg(twin.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("rollsafe.toml: TOML parse error at line 3"),
        "{err}"
    );
    assert!(err.contains("unknown placeholder `{title}`"), "{err}");
}

#[test]
fn a_directory_named_after_a_dialect_gives_the_dialect_and_says_so() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--format", "json", "--fail-on", "never"])
        .arg(fixture_dir("per-dialect/mysql"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["dialect"], "mysql");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("dialect mysql inferred from the directory name"),
        "{err}"
    );
    // `ENGINE=InnoDB` parses as MySQL: no unparsed statement.
    assert!(fired(&report, "unparsed-statement").is_empty());
    // Twin: the same files in a directory with another name are read as Postgres, where
    // `ENGINE=` does not parse.
    let temp = tempfile::tempdir().unwrap();
    let db = temp.path().join("db");
    std::fs::create_dir(&db).unwrap();
    for path in snapshot("per-dialect/mysql").paths() {
        std::fs::copy(fixture_dir("per-dialect/mysql").join(path), db.join(path)).unwrap();
    }
    let report = audit(&db, &[]);
    assert_eq!(report["dialect"], "postgres");
    assert_eq!(
        fired(&report, "unparsed-statement"),
        ["1_create_accounts.up.sql"]
    );
    // `rollsafe schema` reads it the same way: MySQL names have no `public` schema.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["schema", "--format", "json"])
        .arg(fixture_dir("per-dialect/mysql"))
        .output()
        .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["tables"][0]["schema"], "", "{schema}");
    // Named on the command line: nothing is inferred.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--dialect", "mysql", "--fail-on", "never"])
        .arg(fixture_dir("per-dialect/mysql"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("inferred"));
}

#[test]
fn duplicate_version_follows_the_tools_key() {
    // sql-migrate keys by file name: two files sharing a prefix are two migrations.
    let report = audit(&fixture_dir("sql-migrate"), &[]);
    assert!(fired(&report, "duplicate-version").is_empty());
    // goose keys by version: a second file with version 9 is a duplicate.
    let twin = twin("goose", |dir| {
        std::fs::write(
            dir.join("9_add_nickname.sql"),
            "-- +goose Up\nALTER TABLE users ADD COLUMN nickname text;\n",
        )
        .unwrap();
    });
    let report = audit(twin.path(), &[]);
    let mut duplicates = fired(&report, "duplicate-version");
    duplicates.sort_unstable();
    assert_eq!(duplicates, ["9_add_email.sql", "9_add_nickname.sql"]);
}

#[test]
fn schema_reads_the_layout_config_names() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["schema", "--format", "json"])
        .arg(fixture_dir("custom"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let columns: Vec<&str> = schema["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // V0010 dropped legacy_ref: the custom layout was used, not detection.
    assert_eq!(columns, ["id", "email"]);
}

#[test]
fn a_sourcegraph_migration_file_is_checked_in_its_project() {
    let file = fixture_dir("sourcegraph").join("1000000002_drop_repo_description/up.sql");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["check", "--all", "--format", "json", "--fail-on", "never"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The directory above the migration's own is the project: its layout, its history.
    assert_eq!(report["layout"], "sourcegraph");
    assert_eq!(
        fired(&report, "drop-column"),
        ["1000000002_drop_repo_description/up.sql"]
    );
}
