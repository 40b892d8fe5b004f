//! `rollsafe check` against git revisions, end to end: throwaway repositories built with git2,
//! the binary run on them, its JSON report read.

mod common;

use common::Repo;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn rules_fired(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

const USERS: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_email text);\n";

/// A repository whose first release created `users`.
fn released_repo() -> Repo {
    let repo = Repo::new();
    repo.write("db/migrations/0001_users.up.sql", USERS);
    repo.commit("release 1");
    repo.tag("v1");
    repo
}

#[test]
fn the_deploy_is_what_the_head_adds_and_compat_is_judged_against_the_base() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 1);
    assert_eq!(rules_fired(&report), ["drop-column"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["path"], "db/migrations/0002_drop_legacy.up.sql");
    assert_eq!(finding["line"], 2);
    assert_eq!(finding["object"], "public.users.legacy_email");
    assert_eq!(report["base"]["rev"], "v1");
    assert_eq!(report["base"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(report["head"]["rev"], "worktree");
    assert!(report["head"]["commit"].is_null());
    let migrations = report["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 1, "only the deploy is listed");
    assert_eq!(migrations[0]["status"], "new");
    assert_eq!(migrations[0]["phases"], serde_json::json!(["contract"]));
}

#[test]
fn pre_commit_checks_untracked_migrations_against_head() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_add_name.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN name text;\n",
    );
    // No --base: HEAD is N-1's revision.
    let (code, report) = repo.check_json(&["db/migrations"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "safe");
    assert_eq!(report["base"]["rev"], "HEAD");
    assert_eq!(report["migrations"][0]["id"], "0002");
    assert_eq!(
        report["migrations"][0]["phases"],
        serde_json::json!(["expand"])
    );
}

#[test]
fn a_table_created_in_the_same_deploy_is_not_n1s_concern() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_sessions.up.sql",
        "CREATE TABLE sessions (id bigint PRIMARY KEY, token text);\n",
    );
    repo.write(
        "db/migrations/0003_sessions_token.up.sql",
        "ALTER TABLE sessions DROP COLUMN token;\nCREATE INDEX sessions_id_idx ON sessions (id);\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 0, "{report}");
    assert!(rules_fired(&report).is_empty(), "{report}");
}

#[test]
fn a_retirement_shipped_a_release_before_the_drop_is_quiet() {
    let repo = released_repo();
    repo.write(
        "rollsafe.toml",
        "[[retire]]\nobject = \"users.legacy_email\"\nreason = \"replaced by email (#12)\"\n",
    );
    repo.commit("release 2: stop using legacy_email");
    repo.tag("v2");
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let (code, report) = repo.check_json(&["--base", "v2", "db/migrations"]);
    assert_eq!(code, 0, "{report}");
    assert!(rules_fired(&report).is_empty(), "{report}");
}

#[test]
fn a_retirement_in_the_same_change_as_the_drop_is_an_error() {
    let repo = released_repo();
    repo.write(
        "rollsafe.toml",
        "[[retire]]\nobject = \"users.legacy_email\"\nreason = \"replaced by email (#12)\"\n",
    );
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 1);
    assert_eq!(rules_fired(&report), ["drop-column"]);
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("ship"), "{message}");
}

#[test]
fn an_edited_merged_migration_is_reported_with_what_changed() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0001_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, legacy_email text);\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 1);
    assert_eq!(rules_fired(&report), ["edited-migration"]);
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("varchar(100)"), "{message}");
    assert_eq!(report["migrations"][0]["status"], "edited");
}

#[test]
fn a_deleted_merged_migration_is_reported() {
    let repo = released_repo();
    repo.write("db/migrations/0002_x.up.sql", "CREATE TABLE x (id int);\n");
    repo.commit("release 2");
    repo.tag("v2");
    repo.remove("db/migrations/0002_x.up.sql");
    let (code, report) = repo.check_json(&["--base", "v2", "db/migrations"]);
    assert_eq!(code, 1);
    assert_eq!(rules_fired(&report), ["deleted-migration"]);
    assert_eq!(report["migrations"][0]["status"], "deleted");
}

#[test]
fn a_branch_migration_that_sorts_before_mains_newest_is_out_of_order() {
    let repo = released_repo();
    let fork = repo.repo.head().unwrap().peel_to_commit().unwrap().id();
    // main moves on with 0003.
    repo.write(
        "db/migrations/0003_orders.up.sql",
        "CREATE TABLE orders (id int);\n",
    );
    let main_tip = repo.commit("main: orders");
    repo.repo
        .branch("main-tip", &repo.repo.find_commit(main_tip).unwrap(), true)
        .unwrap();
    // The feature branch, forked before 0003, adds 0002, then merges main in.
    repo.repo
        .branch("feature", &repo.repo.find_commit(fork).unwrap(), true)
        .unwrap();
    repo.repo.set_head("refs/heads/feature").unwrap();
    repo.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    repo.write(
        "db/migrations/0002_tags.up.sql",
        "CREATE TABLE tags (id int);\n",
    );
    repo.commit("feature: tags");
    repo.write(
        "db/migrations/0003_orders.up.sql",
        "CREATE TABLE orders (id int);\n",
    );
    repo.commit_with("merge main into feature", Some(main_tip));

    let (code, report) = repo.check_json(&["--base", "main-tip", "db/migrations"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(rules_fired(&report), ["out-of-order-migration"], "{report}");
    assert_eq!(report["migrations"].as_array().unwrap().len(), 1);
}

#[test]
fn the_deploy_is_judged_as_a_whole_for_backfills() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_add_name.up.sql",
        "ALTER TABLE users ADD COLUMN name text;\n",
    );
    repo.write(
        "db/migrations/0003_backfill_name.up.sql",
        "UPDATE users SET name = email;\n",
    );
    repo.write(
        "db/migrations/0004_require_name.up.sql",
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
    );
    let (_, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    let fired = rules_fired(&report);
    assert!(
        fired.contains(&"unbatched-backfill".to_string()),
        "{fired:?}"
    );
    assert!(
        fired.contains(&"enforce-before-backfill".to_string()),
        "{fired:?}"
    );
    let phases: Vec<&Value> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["phases"])
        .collect();
    assert_eq!(phases[1], &serde_json::json!(["backfill"]));
}

#[test]
fn head_can_be_a_revision() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let head = repo.commit("drop legacy");
    // The working tree moves on; --head reads the commit.
    repo.remove("db/migrations/0002_drop_legacy.up.sql");
    let (code, report) = repo.check_json(&["--base", "v1", "--head", "HEAD", "db/migrations"]);
    assert_eq!(code, 1);
    assert_eq!(report["head"]["commit"], head.to_string());
    assert_eq!(rules_fired(&report), ["drop-column"]);
}

#[test]
fn an_unknown_base_is_a_clear_error() {
    let repo = released_repo();
    let output = repo.check(&["--base", "origin/nope", "db/migrations"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("origin/nope"), "{err}");
    assert!(err.contains("does not resolve"), "{err}");
}

#[test]
fn base_outside_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("001_a.sql"), "CREATE TABLE a (id int);\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(["check", "--base", "main"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("not inside a git repository"), "{err}");
}

#[test]
fn a_check_never_writes_to_the_repository() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "ALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let before = tree_digest(repo.path());
    repo.check(&["--base", "v1", "db/migrations"]);
    repo.check(&["db/migrations"]);
    repo.check(&["--all", "db/migrations"]);
    assert_eq!(before, tree_digest(repo.path()));
}

/// Every file under `root` (`.git` included) with its content and modification time.
fn tree_digest(root: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().display().to_string(),
                std::fs::read(e.path()).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// v1.0 creates users.legacy_email; v1.1 retires it; v1.2 adds an unrelated column; the head
/// drops it. Rolling back to v1.1 or v1.2 is safe; v1.0 still uses the column.
fn repo_with_releases(min_window: usize) -> Repo {
    let repo = released_repo();
    repo.tag("v1.0");
    repo.write(
        "rollsafe.toml",
        &format!(
            "[rollback]\nreleases = \"v1.*\"\nwindow = 5\nmin_window = {min_window}\n\n\
             [[retire]]\nobject = \"users.legacy_email\"\nreason = \"replaced by email (#12)\"\n"
        ),
    );
    repo.commit("release 1.1: stop using legacy_email");
    repo.tag("v1.1");
    repo.write(
        "db/migrations/0002_nickname.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;\n",
    );
    repo.write(
        "db/migrations/0002_nickname.down.sql",
        "ALTER TABLE users DROP COLUMN nickname;\n",
    );
    repo.commit("release 1.2");
    repo.tag("v1.2");
    repo.write(
        "db/migrations/0003_drop_legacy.up.sql",
        // Retired in a shipped release: dropping its data is the point (no irreversible-up).
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    repo.write(
        "db/migrations/0003_drop_legacy.down.sql",
        "ALTER TABLE users ADD COLUMN legacy_email text;\n",
    );
    repo
}

#[test]
fn the_rollback_window_ends_at_the_release_that_still_used_the_dropped_column() {
    let repo = repo_with_releases(2);
    let (code, report) = repo.check_json(&["--base", "v1.2", "db/migrations"]);
    assert_eq!(code, 0, "{report}");
    let rollback = &report["rollback"];
    assert_eq!(rollback["image_only_safe"], true);
    let window = rollback["window"].as_array().unwrap();
    let releases: Vec<(&str, bool)> = window
        .iter()
        .map(|w| (w["release"].as_str().unwrap(), w["safe"].as_bool().unwrap()))
        .collect();
    assert_eq!(releases, [("v1.2", true), ("v1.1", true), ("v1.0", false)]);
    let reason = window[2]["reasons"][0].as_str().unwrap();
    assert!(reason.contains("drop-column"), "{reason}");
    assert!(reason.contains("public.users.legacy_email"), "{reason}");
    assert!(reason.contains("0003"), "{reason}");
    let down = rollback["down"].as_array().unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["migration"], "0003");
    assert_eq!(down[0]["verdict"], "lossy");
}

#[test]
fn a_window_shorter_than_min_window_is_an_error() {
    let repo = repo_with_releases(3);
    let (code, report) = repo.check_json(&["--base", "v1.2", "db/migrations"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(rules_fired(&report), ["rollback-window"]);
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("reaches 2 release(s) back"), "{message}");
    assert!(message.contains("v1.0"), "{message}");
}

#[test]
fn a_down_that_does_not_undo_its_up_is_reported() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_nickname.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;\n",
    );
    repo.write("db/migrations/0002_nickname.down.sql", "SELECT 1;\n");
    let (_, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(rules_fired(&report), ["down-not-inverse"], "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["path"], "db/migrations/0002_nickname.down.sql");
    assert!(finding["message"].as_str().unwrap().contains("nickname"));
    assert_eq!(report["rollback"]["down"][0]["verdict"], "not-inverse");
}

#[test]
fn a_retire_entry_naming_nothing_points_at_the_config_file() {
    let repo = released_repo();
    repo.write(
        "rollsafe.toml",
        "[[retire]]\nobject = \"users.legacy_emial\"\nreason = \"typo\"\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 0, "a warning does not fail the gate: {report}");
    assert_eq!(rules_fired(&report), ["retire-unknown-object"]);
    assert_eq!(report["findings"][0]["path"], "rollsafe.toml");
}

#[test]
fn a_deploy_statement_rollsafe_cannot_parse_fails_closed() {
    let repo = released_repo();
    repo.write(
        "db/migrations/003_frob.up.sql",
        "FROB TABLE users;\nCREATE TABLE teams (id bigint);\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 1, "{report}");
    let unparsed: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unparsed-statement")
        .collect();
    assert_eq!(unparsed.len(), 1, "{report}");
    assert_eq!(unparsed[0]["severity"], "error");
    assert_eq!(unparsed[0]["line"], 1);

    // The history audit reports it too, but as a warning: it gates no deploy.
    let (_, audit) = repo.check_json(&["--all", "db/migrations"]);
    let severities: Vec<&Value> = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unparsed-statement")
        .map(|f| &f["severity"])
        .collect();
    assert_eq!(severities, [&Value::from("warning")]);

    // A reason in an allow comment opens the gate.
    repo.write(
        "db/migrations/003_frob.up.sql",
        "-- rollsafe:allow unparsed-statement FROB is our extension's no-op, reviewed in #12\n\
         FROB TABLE users;\nCREATE TABLE teams (id bigint);\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn an_edit_is_judged_by_what_the_database_would_run() {
    let repo = Repo::new();
    repo.write("db/migrations/0001_users.up.sql", USERS);
    repo.write("db/migrations/0001_users.down.sql", "DROP TABLE users;\n");
    repo.commit("release 1");
    let edit_severity = |up: &str, down: &str| -> (i32, Vec<String>) {
        repo.write("db/migrations/0001_users.up.sql", up);
        repo.write("db/migrations/0001_users.down.sql", down);
        let (code, report) = repo.check_json(&["--base", "HEAD", "db/migrations"]);
        let severities = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "edited-migration")
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .collect();
        (code, severities)
    };
    // Whitespace, a comment and keyword case: the same statements run.
    let reformatted = "-- the users of the shop\ncreate table users (\n  id bigint PRIMARY KEY,\n  email text NOT NULL,\n  legacy_email text\n);\n";
    assert_eq!(
        edit_severity(reformatted, "DROP TABLE users;\n"),
        (0, vec!["info".into()])
    );
    // Only the down changed.
    assert_eq!(
        edit_severity(USERS, "DROP TABLE IF EXISTS users;\n"),
        (0, vec!["warning".into()])
    );
    // What the up executes changed.
    let widened = USERS.replace("legacy_email text", "legacy_email varchar(320)");
    assert_eq!(
        edit_severity(&widened, "DROP TABLE users;\n"),
        (1, vec!["error".into()])
    );
}

#[test]
fn opaque_ddl_in_a_deploy_fails_closed_but_a_do_block_only_informs() {
    let repo = released_repo();
    repo.write(
        "db/migrations/0002_inherit.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users INHERIT people;\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    let opaque: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "opaque-statement")
        .collect();
    assert_eq!(code, 1, "{report}");
    assert_eq!(opaque.len(), 1, "{report}");
    assert_eq!(opaque[0]["severity"], "error");

    repo.write(
        "db/migrations/0002_inherit.up.sql",
        "DO $$ BEGIN PERFORM pg_sleep(0); END $$;\n",
    );
    let (code, report) = repo.check_json(&["--base", "v1", "db/migrations"]);
    assert_eq!(code, 0, "{report}");
    let severities: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "opaque-statement")
        .map(|f| &f["severity"])
        .collect();
    assert_eq!(severities, [&Value::from("info")]);
}

#[test]
fn the_rollback_window_follows_a_migrations_directory_that_moved_since_a_release() {
    let repo = Repo::new();
    repo.write("db/old/0001_users.up.sql", USERS);
    repo.commit("release 1.0, migrations in db/old");
    repo.tag("v1.0");
    repo.remove("db/old/0001_users.up.sql");
    repo.write("db/migrations/0001_users.up.sql", USERS);
    repo.write(
        "rollsafe.toml",
        "[rollback]\nreleases = \"v*\"\nwindow = 2\n",
    );
    repo.commit("release 1.1, migrations moved to db/migrations");
    repo.tag("v1.1");
    repo.write(
        "db/migrations/0002_drop_legacy.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy_email;\n",
    );
    let (_, report) = repo.check_json(&["--base", "v1.1", "db/migrations"]);
    let window = report["rollback"]["window"].as_array().unwrap();
    let v1_0 = window
        .iter()
        .find(|w| w["release"] == "v1.0")
        .expect("v1.0 is in the window");
    // Read where v1.0 kept its migrations, v1.0's binary still reads legacy_email.
    assert_eq!(v1_0["safe"], false, "{report}");
    let reason = v1_0["reasons"][0].as_str().unwrap();
    assert!(reason.contains("public.users.legacy_email"), "{reason}");
}

#[test]
fn flyway_with_out_of_order_applies_an_older_migration_so_it_is_a_warning() {
    let repo = Repo::new();
    repo.write("db/migration/V1__users.sql", USERS);
    repo.write(
        "db/migration/V3__orders.sql",
        "CREATE TABLE orders (id bigint);\n",
    );
    repo.commit("shipped V1 and V3");
    repo.write(
        "db/migration/V2__tags.sql",
        "CREATE TABLE tags (id bigint);\n",
    );
    let severity = |repo: &Repo| -> String {
        let (_, report) = repo.check_json(&["--base", "HEAD", "db/migration"]);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "out-of-order-migration")
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("out-of-order-migration fires: {report}"))
    };
    // Flyway rejects a migration older than the newest applied one by default.
    assert_eq!(severity(&repo), "error");
    repo.write("flyway.conf", "flyway.outOfOrder=true\n");
    assert_eq!(severity(&repo), "warning");
    repo.remove("flyway.conf");
    repo.write("flyway.toml", "[flyway]\noutOfOrder = true\n");
    assert_eq!(severity(&repo), "warning");
}
