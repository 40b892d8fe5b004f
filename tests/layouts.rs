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
    assert_eq!(found.ignored, ["seed_dev_data.sql"]);
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
    assert_eq!(found.ignored, ["data_backfill_emails.sql"]);
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
    assert_eq!(ids(&found), ["1", "2", "9", "10"]);
    use TransactionMode::*;
    assert_eq!(modes(&found), [Wrapped, Wrapped, Wrapped, None]);

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

    assert!(found.migrations[2].down.is_none());
    let index = section(&snapshot, found.migrations[3].up.as_ref().unwrap());
    assert_eq!(
        index.trim(),
        "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"
    );
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
