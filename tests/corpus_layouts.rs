//! Layout discovery over the shared corpus of real migration directories
//! (`../shared/corpus`, described in its MANIFEST.md). The expected counts were worked out
//! from the files themselves (`ls`, `grep`), not from this code's output. Skipped when the
//! corpus is not there.

use rollsafe::dialect::Dialect;
use rollsafe::layout::{
    discover_dir, Discovered, LayoutChoice, LayoutKind, LayoutOptions, MigrationKind,
    TransactionMode,
};
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no corpus at {} under CI",
            dir.display()
        );
        eprintln!("skipped: no corpus at {}", dir.display());
        None
    }
}

fn discover(corpus: &Path, dir: &str, choice: LayoutChoice) -> Discovered {
    discover_dir(&corpus.join(dir), choice, &LayoutOptions::default())
        .unwrap_or_else(|err| panic!("{dir}: {err:#}"))
}

/// One corpus directory and what its files say it holds.
struct Expected {
    dir: &'static str,
    layout: LayoutKind,
    migrations: usize,
    /// Migrations with a down part.
    downs: usize,
    /// Migrations that opt out of the tool's transaction.
    without_transaction: usize,
}

const fn set(
    dir: &'static str,
    layout: LayoutKind,
    migrations: usize,
    downs: usize,
    without_transaction: usize,
) -> Expected {
    Expected {
        dir,
        layout,
        migrations,
        downs,
        without_transaction,
    }
}

const SETS: &[Expected] = &[
    // 248 files: 124 versions, each with `.up.sql` and `.down.sql` (6 pairs differ in name).
    set(
        "ente/server/migrations",
        LayoutKind::GolangMigrate,
        124,
        124,
        0,
    ),
    // 389 files: 209 ups (205 `.up.sql` + 4 `_up.sql`), 180 downs; 0026's down is named
    // `drop_join_id` against the up's `drop_job_id` and pairs by version.
    set(
        "harness/app/store/database/migrate/postgres",
        LayoutKind::GolangMigrate,
        209,
        180,
        0,
    ),
    // 0_ to 16_, up only.
    set(
        "flipt/config/migrations/postgres",
        LayoutKind::GolangMigrate,
        17,
        0,
        0,
    ),
    // 1_ to 75_ (one is `30_ignore_autotag.up..sql`), downs for 1 and 5 only.
    set(
        "stash/pkg/sqlite/migrations",
        LayoutKind::GolangMigrate,
        75,
        2,
        0,
    ),
    // 33 `.up.sql`/`.down.sql` pairs: sqlx in truth, golang-migrate by default (no marker).
    set(
        "docsrs/crates/lib/docs_rs_database/migrations",
        LayoutKind::GolangMigrate,
        33,
        33,
        0,
    ),
    // 285 directories with up.sql and down.sql, 7 metadata.toml with
    // `run_in_transaction = false`.
    set("cratesio/migrations", LayoutKind::Diesel, 285, 285, 7),
    set(
        "vaultwarden/migrations/postgresql",
        LayoutKind::Diesel,
        46,
        46,
        0,
    ),
    set(
        "atuin/crates/atuin-server-postgres/migrations",
        LayoutKind::Sqlx,
        20,
        0,
        0,
    ),
    set("chatbot-ui/supabase/migrations", LayoutKind::Sqlx, 25, 0, 0),
    // 81 `V` files and 3 `R__` repeatables.
    set(
        "marquez/api/src/main/resources/marquez/db/migration",
        LayoutKind::Flyway,
        84,
        0,
        0,
    ),
    set(
        "genie/genie-web/src/main/resources/db/migration/postgresql",
        LayoutKind::Flyway,
        10,
        0,
        0,
    ),
    set(
        "killbill/invoice/src/main/resources/org/killbill/billing/invoice/migration",
        LayoutKind::Flyway,
        22,
        0,
        0,
    ),
    // B001 baseline, V002 with its undo U002.
    set("flyway-autopilot/migrations", LayoutKind::Flyway, 2, 1, 0),
    // 163 directories with migration.sql.
    set(
        "documenso/packages/prisma/migrations",
        LayoutKind::Prisma,
        163,
        0,
        0,
    ),
    // 224 files, 136 with `-- +goose Down`, 33 with `NO TRANSACTION` (2 in lower case).
    set(
        "hatchet/cmd/hatchet-migrate/migrate/migrations",
        LayoutKind::Goose,
        224,
        136,
        33,
    ),
    // 001 to 006, 006 is `NO TRANSACTION`.
    set(
        "openfga/assets/migrations/postgres",
        LayoutKind::Goose,
        6,
        6,
        1,
    ),
    // 30 files with `-- migrate:up` and `-- migrate:down`, none `transaction:false`.
    set(
        "supabase-postgres/migrations/db/migrations",
        LayoutKind::Dbmate,
        30,
        30,
        0,
    ),
    // `00000000000000-initial-schema.sql` to `...03-post-setup.sql`, each with both markers.
    set(
        "supabase-postgres/migrations/db/init-scripts",
        LayoutKind::Dbmate,
        4,
        4,
        0,
    ),
    // 19 files, each with `-- +migrate Up` and `-- +migrate Down`; none says `notransaction`.
    set("nakama/migrate/sql", LayoutKind::SqlMigrate, 19, 19, 0),
    // 87 files over 15 versions; for Postgres each version has a `.postgres.` or generic up,
    // and a down of either kind.
    set(
        "keto/internal/persistence/sql/migrations/sql",
        LayoutKind::Popx,
        15,
        15,
        0,
    ),
    // 1,223 files over 230 versions: 228 have a Postgres or generic up (2 are CockroachDB
    // only); 7 of those ups are `.autocommit.`.
    set(
        "hydra/persistence/sql/migrations",
        LayoutKind::Popx,
        228,
        228,
        7,
    ),
    set(
        "vaultwarden/migrations/sqlite",
        LayoutKind::Diesel,
        56,
        56,
        0,
    ),
];

#[test]
fn corpus_sets_are_detected_and_counted() {
    let Some(corpus) = corpus() else { return };
    for expected in SETS {
        let found = discover(&corpus, expected.dir, LayoutChoice::Auto);
        let dir = expected.dir;
        assert_eq!(found.layout, expected.layout, "{dir}");
        assert_eq!(found.migrations.len(), expected.migrations, "{dir}");
        let downs = found.migrations.iter().filter(|m| m.down.is_some()).count();
        assert_eq!(downs, expected.downs, "{dir}: downs");
        let opted_out = found
            .migrations
            .iter()
            .filter(|m| m.transaction == TransactionMode::None)
            .count();
        assert_eq!(opted_out, expected.without_transaction, "{dir}: opt-outs");
        assert!(
            found.migrations.iter().all(|m| m.up.is_some()),
            "{dir}: every migration has an up"
        );
    }
}

#[test]
fn ente_versions_sort_numerically() {
    let Some(corpus) = corpus() else { return };
    let found = discover(&corpus, "ente/server/migrations", LayoutChoice::Auto);
    let ids: Vec<&str> = found.migrations.iter().map(|m| m.id.as_str()).collect();
    let expected: Vec<String> = (1..=124).map(|n| n.to_string()).collect();
    assert_eq!(ids, expected);
    let thirty = &found.migrations[29];
    assert_eq!(
        thirty.down.as_ref().unwrap().path,
        "30_drop_magic_metadata.down.sql"
    );
}

#[test]
fn cratesio_keeps_its_loose_data_script_out() {
    let Some(corpus) = corpus() else { return };
    let found = discover(&corpus, "cratesio/migrations", LayoutChoice::Auto);
    let ignored: Vec<&str> = found.ignored.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(ignored, ["data_oauth_github.sql"]);
    assert!(found.ignored[0]
        .reason
        .starts_with("matches no diesel migration pattern"));
    let first = &found.migrations[0];
    assert_eq!(first.id, "00000000000000");
    // The three version forms interleave in time: the dumped 2014 ones come before the
    // dashed 2017+ ones, and the `-0000` ones (since 2025-11) are last.
    let position = |id: &str| found.migrations.iter().position(|m| m.id == id).unwrap();
    assert!(position("20161115111853") < position("2019-03-22-170700"));
    assert!(position("2026-04-09-114747") < position("2026-06-26-100902-0000"));
    let metadata = found
        .migrations
        .iter()
        .filter(|m| m.paths.iter().any(|path| path.ends_with("metadata.toml")))
        .count();
    assert_eq!(metadata, 7);
    let without = found
        .migrations
        .iter()
        .filter(|m| m.transaction == TransactionMode::None)
        .count();
    assert_eq!(without, 7);
}

#[test]
fn marquez_repeatables_come_last() {
    let Some(corpus) = corpus() else { return };
    let dir = "marquez/api/src/main/resources/marquez/db/migration";
    let found = discover(&corpus, dir, LayoutChoice::Auto);
    let tail: Vec<&str> = found.migrations[81..]
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        tail,
        [
            "Datasets_view",
            "Jobs_view_and_rewrite_function",
            "Runs_view"
        ]
    );
    assert!(found.migrations[81..]
        .iter()
        .all(|m| m.kind == MigrationKind::Repeatable));
    let ids: Vec<&str> = found.migrations[..4]
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, ["1", "2", "2.1", "3"]);
}

#[test]
fn flyway_autopilot_has_a_baseline_and_an_undo() {
    let Some(corpus) = corpus() else { return };
    let found = discover(&corpus, "flyway-autopilot/migrations", LayoutChoice::Auto);
    assert_eq!(found.migrations[0].kind, MigrationKind::Baseline);
    assert_eq!(found.migrations[0].id, "001");
    let welcome = &found.migrations[1];
    assert_eq!(welcome.up.as_ref().unwrap().path, "V002__Welcome.sql");
    assert_eq!(
        welcome.down.as_ref().unwrap().path,
        "U002__UNDO-Welcome.sql"
    );
}

#[test]
fn documenso_lock_file_gives_postgres() {
    let Some(corpus) = corpus() else { return };
    let found = discover(
        &corpus,
        "documenso/packages/prisma/migrations",
        LayoutChoice::Auto,
    );
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    assert_eq!(found.migrations[0].name, "initial_migration");
}

#[test]
fn docsrs_reads_as_sqlx_when_configured() {
    let Some(corpus) = corpus() else { return };
    let dir = "docsrs/crates/lib/docs_rs_database/migrations";
    let found = discover(&corpus, dir, LayoutChoice::Fixed(LayoutKind::Sqlx));
    assert_eq!(found.migrations.len(), 33);
    assert!(found
        .migrations
        .iter()
        .all(|m| m.transaction == TransactionMode::Wrapped && m.down.is_some()));
}

#[test]
fn chef_server_sqitch_plans() {
    let Some(corpus) = corpus() else { return };
    let found = discover(
        &corpus,
        "chef-server/src/oc_erchef/schema",
        LayoutChoice::Auto,
    );
    assert_eq!(found.layout, LayoutKind::Sqitch);
    assert_eq!(found.dialect, Some(Dialect::Postgres));
    // 45 change lines; keys_update_trigger is reworked after @users_email_functional_index.
    assert_eq!(found.migrations.len(), 45);
    assert_eq!(found.migrations[0].id, "drop_osc_users");
    let reworked: Vec<&str> = found
        .migrations
        .iter()
        .filter(|m| m.name == "keys_update_trigger")
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(
        reworked,
        [
            "keys_update_trigger@users_email_functional_index",
            "keys_update_trigger"
        ]
    );
    assert!(found
        .migrations
        .iter()
        .all(|m| m.transaction == TransactionMode::None && m.down.is_some()));
    // The separate `baseline/` project (58 .sql files) and the unplanned
    // deploy/purge_sequel.sql are not part of this plan.
    assert_eq!(found.ignored.len(), 59);
    assert!(found
        .ignored
        .iter()
        .any(|ignored| ignored.path == "deploy/purge_sequel.sql"));

    // oc_bifrost reworks update_acl twice: @1.2.0 and @1.3.0 name the older scripts.
    let bifrost = discover(
        &corpus,
        "chef-server/src/oc_bifrost/schema",
        LayoutChoice::Auto,
    );
    assert_eq!(bifrost.migrations.len(), 13);
    let update_acl: Vec<&str> = bifrost
        .migrations
        .iter()
        .filter(|m| m.name == "update_acl")
        .map(|m| m.up.as_ref().unwrap().path.as_str())
        .collect();
    assert_eq!(
        update_acl,
        [
            "deploy/update_acl@1.2.0.sql",
            "deploy/update_acl@1.3.0.sql",
            "deploy/update_acl.sql"
        ]
    );
}

#[test]
fn directories_with_several_sets_are_refused() {
    let Some(corpus) = corpus() else { return };
    let parents = [
        ("vaultwarden/migrations", 3),
        ("harness/app/store/database/migrate", 2),
        ("flipt/config/migrations", 5),
        ("genie/genie-web/src/main/resources/db/migration", 3),
        ("openfga/assets/migrations", 3),
        ("supabase-postgres/migrations/db", 2),
    ];
    for (dir, sets) in parents {
        let result = discover_dir(
            &corpus.join(dir),
            LayoutChoice::Auto,
            &LayoutOptions::default(),
        );
        let err = format!("{:#}", result.unwrap_err());
        assert!(
            err.contains(&format!("found {sets} separate migration sets")),
            "{dir}: {err}"
        );
    }
}

#[test]
fn vaultwarden_timestamp_quirk_sorts_in_place() {
    let Some(corpus) = corpus() else { return };
    let found = discover(&corpus, "vaultwarden/migrations/sqlite", LayoutChoice::Auto);
    let position = |id: &str| found.migrations.iter().position(|m| m.id == id).unwrap();
    // `2024-03-13_170000_sso_userscascade`: Diesel reads the version `2024-03-13`.
    let quirk = position("2024-03-13");
    assert_eq!(found.migrations[quirk].name, "170000_sso_userscascade");
    assert_eq!(quirk, position("2024-03-06-170000") + 1);
    assert_eq!(quirk + 1, position("2024-06-05-131359"));
}

#[test]
fn dbmate_names_drop_the_separator() {
    let Some(corpus) = corpus() else { return };
    let dir = "supabase-postgres/migrations/db/init-scripts";
    let found = discover(&corpus, dir, LayoutChoice::Auto);
    assert_eq!(found.migrations[0].name, "initial-schema");
}

fn discover_with(corpus: &Path, dir: &str, options: &LayoutOptions) -> Discovered {
    discover_dir(&corpus.join(dir), LayoutChoice::Auto, options)
        .unwrap_or_else(|err| panic!("{dir}: {err:#}"))
}

#[test]
fn nakama_keys_by_file_name_and_keeps_downs_out_of_the_up() {
    let Some(corpus) = corpus() else { return };
    let found = discover(&corpus, "nakama/migrate/sql", LayoutChoice::Auto);
    // Two files share the prefix 20230222172540: two migrations, `-1` before `-2`.
    let pair: Vec<&str> = found
        .migrations
        .iter()
        .map(|m| m.id.as_str())
        .filter(|id| id.starts_with("20230222172540"))
        .collect();
    assert_eq!(
        pair,
        [
            "20230222172540-purchases-not-null-uid-1.sql",
            "20230222172540-purchases-not-null-uid-2.sql"
        ]
    );
    assert_ne!(found.migrations[7].version, found.migrations[8].version);
    let first = &found.migrations[0];
    let text = std::fs::read_to_string(corpus.join("nakama/migrate/sql").join(&first.id)).unwrap();
    let up = &text[first.up.as_ref().unwrap().range.clone()];
    assert!(up.contains("CREATE TABLE IF NOT EXISTS users"));
    assert!(
        !up.contains("DROP TABLE"),
        "the down section is not part of the up"
    );
    assert!(found.ignored.is_empty(), "{:?}", found.ignored);
}

#[test]
fn popx_sets_read_one_dialect_per_version() {
    let Some(corpus) = corpus() else { return };
    let keto = "keto/internal/persistence/sql/migrations/sql";
    let hydra = "hydra/persistence/sql/migrations";
    let options = |dialect, files: Option<&str>| LayoutOptions {
        dialect: Some(dialect),
        dialect_files: files.map(str::to_string),
        ..LayoutOptions::default()
    };
    // Counted from the file names: versions with an up for the dialect or a generic one.
    let cases = [
        (keto, Dialect::Mysql, None, 13, 0),
        (keto, Dialect::Sqlite, None, 15, 0),
        (hydra, Dialect::Mysql, None, 227, 0),
        (hydra, Dialect::Sqlite, None, 227, 1),
        (hydra, Dialect::Postgres, Some("cockroach"), 229, 9),
    ];
    for (dir, dialect, files, migrations, autocommit) in cases {
        let found = discover_with(&corpus, dir, &options(dialect, files));
        let what = format!("{dir} {dialect} {files:?}");
        assert_eq!(found.layout, LayoutKind::Popx, "{what}");
        assert_eq!(found.migrations.len(), migrations, "{what}");
        let opted_out = found
            .migrations
            .iter()
            .filter(|m| m.transaction == TransactionMode::None)
            .count();
        assert_eq!(opted_out, autocommit, "{what}");
        assert!(found.ignored.is_empty(), "{what}: {:?}", found.ignored);
        let ids: std::collections::BTreeSet<&str> =
            found.migrations.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), migrations, "{what}: one migration per version");
    }
    // The Postgres read never takes a CockroachDB file.
    let found = discover(&corpus, hydra, LayoutChoice::Auto);
    assert!(found
        .migrations
        .iter()
        .flat_map(|m| m.paths.iter())
        .all(|path| !path.contains(".cockroach.")));
}
