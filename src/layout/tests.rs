//! Discovery as a whole: detection, ordering and the errors that name a file.

use super::*;

fn auto(snapshot: &Snapshot) -> Result<Discovered> {
    discover(snapshot, LayoutChoice::Auto, &LayoutOptions::default())
}

fn error(snapshot: &Snapshot) -> String {
    format!("{:#}", auto(snapshot).unwrap_err())
}

fn snapshot(files: &[(&str, &str)]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for (path, text) in files {
        snapshot.insert(*path, *text);
    }
    snapshot
}

#[test]
fn empty_snapshot_says_no_files() {
    assert!(error(&Snapshot::new()).contains("no files"));
}

#[test]
fn unrecognisable_files_are_listed_with_the_layouts() {
    let err = error(&snapshot(&[
        ("schema.sql", "CREATE TABLE t (id int);"),
        ("README.md", ""),
    ]));
    assert!(err.contains("no migrations recognised"), "{err}");
    assert!(
        err.contains("`schema.sql`") && err.contains("2 files (1 .sql)"),
        "{err}"
    );
    for kind in LayoutKind::ALL {
        assert!(err.contains(kind.name()), "{err}");
    }
    assert!(err.contains("--layout"), "{err}");
}

#[test]
fn sibling_sets_ask_to_point_at_one() {
    let err = error(&snapshot(&[
        ("postgres/1_init.up.sql", "CREATE TABLE t (id int);"),
        ("postgres/2_more.up.sql", "ALTER TABLE t ADD COLUMN a int;"),
        ("sqlite/1_init.up.sql", "CREATE TABLE t (id integer);"),
    ]));
    assert!(err.contains("2 separate migration sets"), "{err}");
    assert!(
        err.contains("`postgres/` (golang-migrate, 2 files)"),
        "{err}"
    );
    assert!(
        err.contains("`sqlite/`") && err.contains("point rollsafe at one"),
        "{err}"
    );
}

#[test]
fn one_nested_set_is_pointed_at() {
    let err = error(&snapshot(&[("db/migrations/V1__init.sql", "SELECT 1;")]));
    assert!(err.contains("`db/migrations/` holds a flyway set"), "{err}");
}

#[test]
fn flyway_release_folders_are_one_set() {
    let found = auto(&snapshot(&[
        ("release-1/V1__init.sql", "SELECT 1;"),
        ("release-1/V2__users.sql", "SELECT 2;"),
        ("release-2/V10__email.sql", "SELECT 3;"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::Flyway);
    let ids: Vec<_> = found.migrations.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "10"]);
}

#[test]
fn flyway_copies_per_database_are_several_sets() {
    let err = error(&snapshot(&[
        ("mysql/V1__init.sql", "SELECT 1;"),
        ("postgresql/V1__init.sql", "SELECT 1;"),
    ]));
    assert!(err.contains("2 separate migration sets"), "{err}");
}

#[test]
fn malformed_sqitch_plan_names_file_and_line() {
    let err = error(&snapshot(&[
        (
            "sqitch.plan",
            "%project=x\n\nusers 2013-09-04T13:54:01Z A <a@b.c>\nusers oops\n",
        ),
        ("deploy/users.sql", "SELECT 1;"),
    ]));
    assert!(
        err.starts_with("sqitch.plan:4: malformed change line"),
        "{err}"
    );
}

#[test]
fn missing_deploy_script_names_the_plan_line() {
    let err = error(&snapshot(&[(
        "sqitch.plan",
        "users 2013-09-04T13:54:01Z A <a@b.c>\n",
    )]));
    assert!(
        err.starts_with("sqitch.plan:1: change `users` has no deploy script"),
        "{err}"
    );
}

#[test]
fn fixed_layout_without_its_files_explains() {
    let files = snapshot(&[("1_init.up.sql", "SELECT 1;")]);
    let choice = LayoutChoice::Fixed(LayoutKind::Prisma);
    let err = discover(&files, choice, &LayoutOptions::default()).unwrap_err();
    let err = err.to_string();
    assert!(err.starts_with("no prisma migrations found"), "{err}");
    assert!(err.contains("`1_init.up.sql`"), "{err}");
}

#[test]
fn duplicate_versions_are_kept_in_path_order() {
    let found = auto(&snapshot(&[
        ("2_b.up.sql", "SELECT 2;"),
        ("2_a.up.sql", "SELECT 1;"),
        ("10_c.up.sql", "SELECT 3;"),
    ]))
    .unwrap();
    let names: Vec<_> = found.migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn markers_beat_names() {
    let found = auto(&snapshot(&[
        ("1_a.sql", "-- +goose Up\nSELECT 1;\n"),
        ("2_b.sql", "-- +goose Up\nSELECT 2;\n"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::Goose);
    let found = auto(&snapshot(&[(
        "20240101000000_a.sql",
        "-- migrate:up\nSELECT 1;\n",
    )]));
    assert_eq!(found.unwrap().layout, LayoutKind::Dbmate);
}

#[test]
fn not_utf8_is_an_error_not_a_panic() {
    let mut files = Snapshot::new();
    files.insert("1_a.sql", b"-- +goose Up\nSELECT '\xff';\n".to_vec());
    files.insert("2_b.sql", "-- +goose Up\nSELECT 2;\n");
    let err = error(&files);
    assert!(err.starts_with("1_a.sql:2: not UTF-8"), "{err}");
}

#[test]
fn every_layout_kind_has_exactly_one_row() {
    for &kind in EVERY_KIND {
        let rows = LAYOUTS.iter().filter(|spec| spec.kind == kind).count();
        assert_eq!(rows, 1, "{kind:?} needs exactly one row in LAYOUTS");
        assert_eq!(LayoutKind::parse_name(kind.name()), Some(kind));
    }
    assert_eq!(LAYOUTS.len(), EVERY_KIND.len());
    assert_eq!(LayoutKind::ALL.len(), LAYOUTS.len());
}

#[test]
fn a_layout_overrides_only_a_layout_it_shares_names_with() {
    for spec in &LAYOUTS {
        for other in spec.overrides {
            assert!(
                other.rank() > spec.kind.rank(),
                "{} votes before {}",
                spec.name,
                other.name()
            );
        }
    }
}

#[test]
fn sql_migrate_files_are_not_replayed_as_plain_sql() {
    let found = auto(&snapshot(&[
        ("20180103142001_init.sql", "-- +migrate Up\nCREATE TABLE t (id int);\n-- +migrate Down\nDROP TABLE t;\n"),
        ("20180805174141-more.sql", "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- +migrate Down\nDROP INDEX i;\n"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::SqlMigrate);
    assert!(found.migrations.iter().all(|m| m.down.is_some()));
    assert_eq!(found.migrations[1].transaction, TransactionMode::None);
}

#[test]
fn popx_dialect_files_take_over_golang_migrate_names() {
    let found = auto(&snapshot(&[
        ("1_a.up.sql", "SELECT 1;"),
        ("1_a.down.sql", "SELECT 1;"),
        ("2_b.up.sql", "SELECT 2;"),
        ("3_c.mysql.up.sql", "SELECT 3;"),
        ("3_c.up.sql", "SELECT 3;"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::Popx);
    assert_eq!(found.migrations.len(), 3, "one migration per version");
    assert!(found.ignored.is_empty(), "{:?}", found.ignored);
}

#[test]
fn another_tools_marker_is_an_error_naming_file_marker_and_layout() {
    let files = snapshot(&[(
        "1_a.up.sql",
        "CREATE TABLE t (id int);\n-- +migrate Down\nDROP TABLE t;\n",
    )]);
    let err = error(&files);
    assert!(
        err.starts_with("1_a.up.sql:2: `-- +migrate Down` is a sql-migrate marker"),
        "{err}"
    );
    assert!(
        err.contains("read as golang-migrate") && err.contains("--layout sql-migrate"),
        "{err}"
    );
}

#[test]
fn unmatched_sql_is_listed_with_a_reason_and_code_migrations_keep_their_place() {
    let found = auto(&snapshot(&[
        ("1_a.sql", "-- +goose Up\nSELECT 1;\n"),
        ("2_b.go", "package migrations"),
        ("3_c.sql", "-- +goose Up\nSELECT 3;\n"),
        ("seed.sql", "INSERT INTO t VALUES (1);"),
        ("migrations_test.go", "package migrations"),
    ]))
    .unwrap();
    let ignored: Vec<_> = found
        .ignored
        .iter()
        .map(|i| (i.path.as_str(), i.reason.as_str()))
        .collect();
    assert_eq!(
        ignored,
        [(
            "seed.sql",
            "matches no goose migration pattern (`<version>_name.sql` with `-- +goose Up`)"
        )]
    );
    let order: Vec<_> = found
        .migrations
        .iter()
        .map(|m| (m.display_path(), m.kind))
        .collect();
    assert_eq!(
        order,
        [
            ("1_a.sql", MigrationKind::Versioned),
            ("2_b.go", MigrationKind::Code),
            ("3_c.sql", MigrationKind::Versioned)
        ]
    );
}

#[test]
fn atlas_sum_decides_and_is_not_ignored() {
    let found = auto(&snapshot(&[
        ("atlas.sum", "h1:x=\n"),
        ("20240101000000_init.sql", "CREATE TABLE t (id int);"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::Atlas);
    assert!(found.ignored.is_empty());
}

#[test]
fn metadata_yaml_directories_are_not_diesel() {
    let found = auto(&snapshot(&[
        ("1000_init/up.sql", "CREATE TABLE t (id int);"),
        ("1000_init/down.sql", "DROP TABLE t;"),
        ("1000_init/metadata.yaml", "name: init\n"),
    ]))
    .unwrap();
    assert_eq!(found.layout, LayoutKind::Sourcegraph);
}

#[test]
fn a_dialect_is_read_from_the_directory_or_its_parent() {
    let temp = tempfile::tempdir().unwrap();
    let nested = temp.path().join("sqlite/migrations");
    let flat = temp.path().join("postgresql");
    let plain = temp.path().join("db/migrations");
    for dir in [&nested, &flat, &plain] {
        std::fs::create_dir_all(dir).unwrap();
    }
    assert_eq!(dialect_of_dir(&nested), Some(Dialect::Sqlite));
    assert_eq!(dialect_of_dir(&flat), Some(Dialect::Postgres));
    assert_eq!(dialect_of_dir(&plain), None);
}
