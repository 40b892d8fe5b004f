//! The command line around `check`: explain, rules, completions, help, init, schema --rev.

use git2::{Commit, IndexAddOption, Repository, Signature};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rollsafe_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        // Never the user's cache directory.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rollsafe-test-cache"),
        )
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn rollsafe(args: &[&str]) -> Output {
    rollsafe_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

/// Commits every file of the working tree.
fn commit_all(repo: &Repository, message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&Commit> = parent.iter().collect();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &parents,
    )
    .unwrap()
}

#[test]
fn explain_accepts_any_case_and_underscores() {
    let lower = rollsafe(&["explain", "drop-column"]);
    assert_eq!(lower.status.code(), Some(0), "{}", stderr(&lower));
    for spelling in ["DROP_COLUMN", "Drop-Column", "drop_column"] {
        let output = rollsafe(&["explain", spelling]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{spelling}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), stdout(&lower), "{spelling}");
    }
}

#[test]
fn explain_shows_the_examples_configuration_suppression_and_link() {
    let meta = rollsafe::rules::meta("drop-column").unwrap();
    let text = stdout(&rollsafe(&["explain", "drop-column"]));
    for section in [
        "What it reports",
        "Why it matters",
        "Safe recipe",
        "Example",
        "Unsafe:",
        "Safe:",
        "Configure",
    ] {
        assert!(text.contains(section), "no {section}:\n{text}");
    }
    // The examples come from rules/drop-column.toml, setup included.
    assert!(text.contains(meta.example.setup.trim()), "{text}");
    assert!(text.contains(meta.example.bad.trim()), "{text}");
    let good_config = meta.example.good_config.as_deref().unwrap();
    assert!(
        text.contains("object = \"users.legacy_email\""),
        "{good_config}\n{text}"
    );
    assert!(text.contains("[rules]\n"), "{text}");
    assert!(text.contains("drop-column = \"off\""), "{text}");
    assert!(
        text.contains("-- rollsafe:allow drop-column <why it is safe here>"),
        "{text}"
    );
    assert!(text.contains("docs/rules.md#drop-column"), "{text}");
    // The link's anchor exists in the generated reference.
    let rules_md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    assert!(rules_md.contains("\n### drop-column\n"));
}

#[test]
fn explain_of_a_history_rule_says_no_comment_covers_it() {
    let text = stdout(&rollsafe(&["explain", "deleted-migration"]));
    assert!(!text.contains("rollsafe:allow deleted-migration"), "{text}");
    assert!(text.contains("deleted-migration = \"off\""), "{text}");
}

#[test]
fn explain_of_an_unknown_rule_suggests_the_closest() {
    let output = rollsafe(&["explain", "DROP_COLUM"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("did you mean drop-column"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn rules_json_lists_every_rule_with_its_metadata() {
    let output = rollsafe(&["rules", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(document["schema_version"], 1);
    let rules = document["rules"].as_array().unwrap();
    assert_eq!(rules.len(), rollsafe::rules::all_meta().len());
    let drop = rules.iter().find(|r| r["id"] == "drop-column").unwrap();
    assert_eq!(drop["category"], "compat");
    assert_eq!(drop["severity"], "error");
    assert_eq!(
        drop["example"]["bad"],
        "ALTER TABLE users DROP COLUMN legacy_email;"
    );
    assert!(drop["url"].as_str().unwrap().ends_with("#drop-column"));
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef rollsafe"),
        ("fish", "complete -c rollsafe"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = rollsafe(&["completions", shell]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("explain"), "{shell}: the subcommands");
        assert!(script.contains("layout"), "{shell}: the options");
        // PowerShell's generator completes option names only, not their values.
        if shell != "powershell" {
            assert!(script.contains("golang-migrate"), "{shell}: the layouts");
        }
        // Rule ids for `explain` (bash and zsh complete positional values).
        if matches!(shell, "bash" | "zsh") {
            assert!(script.contains("drop-column"), "{shell}: the rule ids");
        }
    }
}

#[test]
fn help_lists_the_dialects_and_layouts() {
    let help = stdout(&rollsafe(&["check", "--help"]));
    assert!(
        help.contains("[possible values: postgres, mysql, sqlite]"),
        "{help}"
    );
    assert!(
        help.contains(
            "auto, sqitch, atlas, prisma, sourcegraph, diesel, goose, sql-migrate, dbmate, \
             flyway, popx, sqlx, golang-migrate, plain, custom"
        ),
        "{help}"
    );
    // Aliases still parse.
    let output = rollsafe(&["schema", "--dialect", "PostgreSQL", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = rollsafe(&["schema", "--layout", "nope", "fixtures/demo"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("golang-migrate"),
        "{}",
        stderr(&output)
    );
}

/// A small app repository: golang-migrate migrations with downs, a remote default branch,
/// release tags.
fn app_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    let repo = Repository::init_opts(root, &options).unwrap();
    write(root, "src/main.rs", "fn main() {}\n");
    write(
        root,
        "db/migrations/1_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n",
    );
    write(
        root,
        "db/migrations/1_users.down.sql",
        "DROP TABLE users;\n",
    );
    write(
        root,
        "db/migrations/2_orders.up.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n",
    );
    write(
        root,
        "db/migrations/2_orders.down.sql",
        "DROP TABLE orders;\n",
    );
    let commit = commit_all(&repo, "initial");
    let commit = repo.find_commit(commit).unwrap();
    repo.tag_lightweight("v1.0.0", commit.as_object(), false)
        .unwrap();
    repo.tag_lightweight("v1.1.0", commit.as_object(), false)
        .unwrap();
    repo.reference("refs/remotes/origin/main", commit.id(), true, "test")
        .unwrap();
    dir
}

#[test]
fn init_writes_a_config_that_check_accepts() {
    let dir = app_repository();
    let root = dir.path();
    let output = rollsafe_in(root, &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let config = std::fs::read_to_string(root.join("rollsafe.toml")).unwrap();
    assert!(
        config.contains("migrations = \"db/migrations\""),
        "{config}"
    );
    assert!(config.contains("layout = \"golang-migrate\""), "{config}");
    assert!(config.contains("dialect = \"postgres\""), "{config}");
    assert!(config.contains("require_down = true"), "{config}");
    assert!(config.contains("releases = \"v*\""), "{config}");
    assert!(config.contains("# base = \"origin/main\""), "{config}");
    assert!(config.lines().filter(|l| l.starts_with('#')).count() > 5);

    // `check` with no argument reads it and checks db/migrations.
    let output = rollsafe_in(root, &["check", "--all", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["migrations"].as_array().unwrap().len(), 2);
    let output = rollsafe_in(root, &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn init_never_overwrites_a_config() {
    let dir = app_repository();
    let root = dir.path();
    write(root, "rollsafe.toml", "# mine\n");
    let output = rollsafe_in(root, &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("rollsafe.toml")).unwrap(),
        "# mine\n"
    );
    // --stdout prints the proposal and writes nothing.
    let output = rollsafe_in(root, &["init", "--stdout"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("migrations = \"db/migrations\""));
}

#[test]
fn init_without_migrations_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "nothing here\n");
    let output = rollsafe_in(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("found no migrations"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("rollsafe.toml").exists());
}

#[test]
fn schema_at_a_revision_reads_the_committed_migrations() {
    let dir = app_repository();
    let root = dir.path();
    // A working-tree migration that the revision does not have.
    write(
        root,
        "db/migrations/3_items.up.sql",
        "CREATE TABLE items (id bigint PRIMARY KEY);\n",
    );
    let tables = |args: &[&str]| -> Vec<String> {
        let output = rollsafe_in(root, args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
        schema["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let worktree = tables(&["schema", "--format", "json", "db/migrations"]);
    assert!(worktree.contains(&"items".to_string()), "{worktree:?}");
    let at_tag = tables(&[
        "schema",
        "--format",
        "json",
        "--rev",
        "v1.0.0",
        "db/migrations",
    ]);
    assert_eq!(at_tag, ["orders", "users"]);
}

#[test]
fn an_unknown_revision_suggests_the_closest_names() {
    let dir = app_repository();
    let root = dir.path();
    let output = rollsafe_in(root, &["check", "db/migrations", "--base", "mian"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("did you mean `main`"),
        "{}",
        stderr(&output)
    );

    let output = rollsafe_in(root, &["check", "db/migrations", "--base", "v1.0.1"]);
    assert!(
        stderr(&output).contains("`v1.0.0`") && stderr(&output).contains("`v1.1.0`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_remote_branch_that_was_not_fetched_suggests_git_fetch() {
    let dir = app_repository();
    let root = dir.path();
    let repo = Repository::open(root).unwrap();
    repo.remote("origin", "https://example.com/app.git")
        .unwrap();
    let output = rollsafe_in(
        root,
        &["check", "db/migrations", "--base", "origin/release"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("git fetch origin release"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_file_where_a_directory_is_expected_says_so() {
    let output = rollsafe(&["schema", "fixtures/demo/0001_create_users.up.sql"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is a file"), "{}", stderr(&output));
    let output = rollsafe(&["init", "--stdout", "README.md"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a directory"),
        "{}",
        stderr(&output)
    );
    let output = rollsafe(&["check", "fixtures/demo", "fixtures"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("several directories"),
        "{}",
        stderr(&output)
    );
}

fn report_of(output: &Output) -> Value {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn rules_of(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["migration"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn check_files_makes_their_migrations_the_deploy() {
    // In the demo, 0009 drops a column too early and 0010 adds a required column.
    let output = rollsafe(&[
        "check",
        "--all",
        "--format",
        "json",
        "fixtures/demo/0009_drop_users_name.up.sql",
    ]);
    let report = report_of(&output);
    let migrations: Vec<&str> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(migrations, ["0009"]);
    let rules = rules_of(&report);
    assert!(
        rules.contains(&("0009".into(), "drop-column".into())),
        "{rules:?}"
    );
    assert!(rules.iter().all(|(m, _)| m == "0009"), "{rules:?}");

    // Without the file, 0010's finding is there too.
    let all = report_of(&rollsafe(&[
        "check",
        "--all",
        "--format",
        "json",
        "fixtures/demo",
    ]));
    assert!(rules_of(&all).iter().any(|(m, _)| m == "0010"));

    // A file that is no migration is named.
    let output = rollsafe(&[
        "check",
        "--all",
        "fixtures/demo",
        "fixtures/demo/rollsafe.toml",
    ]);
    assert!(
        stderr(&output).contains("rollsafe.toml: not a migration"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_files_in_a_repository_restricts_the_new_migrations() {
    let dir = app_repository();
    let root = dir.path();
    write(
        root,
        "db/migrations/3_drop_email.up.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    write(
        root,
        "db/migrations/3_drop_email.down.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    write(
        root,
        "db/migrations/4_items.up.sql",
        "SET lock_timeout = '5s';\nCREATE TABLE items (id bigint PRIMARY KEY);\n",
    );
    write(
        root,
        "db/migrations/4_items.down.sql",
        "DROP TABLE items;\n",
    );
    let only_items = report_of(&rollsafe_in(
        root,
        &[
            "check",
            "--base",
            "main",
            "--format",
            "json",
            "db/migrations/4_items.up.sql",
        ],
    ));
    assert_eq!(only_items["verdict"], "safe", "{only_items}");
    let both = report_of(&rollsafe_in(
        root,
        &[
            "check",
            "--base",
            "main",
            "--format",
            "json",
            "db/migrations",
        ],
    ));
    assert!(rules_of(&both).contains(&("3".into(), "drop-column".into())));
}

#[test]
fn head_index_checks_what_is_staged() {
    let dir = app_repository();
    let root = dir.path();
    let repo = Repository::open(root).unwrap();
    write(
        root,
        "db/migrations/3_items.up.sql",
        "SET lock_timeout = '5s';\nCREATE TABLE items (id bigint PRIMARY KEY);\n",
    );
    write(
        root,
        "db/migrations/3_items.down.sql",
        "DROP TABLE items;\n",
    );
    let mut index = repo.index().unwrap();
    index
        .add_path(Path::new("db/migrations/3_items.up.sql"))
        .unwrap();
    index
        .add_path(Path::new("db/migrations/3_items.down.sql"))
        .unwrap();
    index.write().unwrap();
    // Not staged: a work-in-progress drop.
    write(
        root,
        "db/migrations/4_drop_email.up.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    let index_before = std::fs::read(root.join(".git/index")).unwrap();

    let staged = report_of(&rollsafe_in(
        root,
        &[
            "check",
            "db/migrations",
            "--head",
            "index",
            "--format",
            "json",
        ],
    ));
    assert_eq!(staged["head"]["rev"], "index");
    let ids: Vec<&str> = staged["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["3"]);
    assert_eq!(staged["verdict"], "safe");

    let worktree = report_of(&rollsafe_in(
        root,
        &[
            "check",
            "db/migrations",
            "--head",
            "worktree",
            "--format",
            "json",
        ],
    ));
    assert!(rules_of(&worktree).contains(&("4".into(), "drop-column".into())));
    // Read-only: the index file is untouched.
    assert_eq!(
        std::fs::read(root.join(".git/index")).unwrap(),
        index_before
    );
}

#[test]
fn without_an_upstream_the_base_is_head_and_a_note_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = Repository::init(root).unwrap();
    write(
        root,
        "m/1_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    commit_all(&repo, "users");
    let output = rollsafe_in(root, &["check", "m"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("comparing with HEAD"),
        "{}",
        stderr(&output)
    );

    // With a remote default branch, the merge base with it is the base: a migration
    // committed locally is still new.
    let head = repo.head().unwrap().peel_to_commit().unwrap().id();
    repo.reference("refs/remotes/origin/main", head, true, "test")
        .unwrap();
    write(
        root,
        "m/2_drop.up.sql",
        "ALTER TABLE users DROP COLUMN id;\n",
    );
    commit_all(&repo, "drop");
    let report = report_of(&rollsafe_in(root, &["check", "m", "--format", "json"]));
    assert_eq!(report["base"]["rev"], "origin/main");
    assert!(rules_of(&report).contains(&("2".into(), "drop-column".into())));
}

#[test]
fn init_finds_per_directory_layouts_and_their_declared_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "prisma/migrations/migration_lock.toml",
        "provider = \"mysql\"\n",
    );
    write(
        root,
        "prisma/migrations/20240101000000_init/migration.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    write(root, "queries/report.sql", "SELECT 1;\n");
    let output = rollsafe_in(root, &["init", "--stdout"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let config = stdout(&output);
    assert!(
        config.contains("migrations = \"prisma/migrations\""),
        "{config}"
    );
    assert!(config.contains("layout = \"prisma\""), "{config}");
    assert!(config.contains("dialect = \"mysql\""), "{config}");
    assert!(config.contains("declared by the layout"), "{config}");
    assert!(config.contains("require_down = false"), "{config}");
    assert!(
        !root.join("rollsafe.toml").exists(),
        "--stdout writes nothing"
    );

    let diesel = tempfile::tempdir().unwrap();
    for (name, table) in [
        ("2024-01-01-000000_users", "users"),
        ("2024-01-02-000000_orders", "orders"),
    ] {
        write(
            diesel.path(),
            &format!("migrations/{name}/up.sql"),
            &format!("CREATE TABLE {table} (id int PRIMARY KEY);\n"),
        );
        write(
            diesel.path(),
            &format!("migrations/{name}/down.sql"),
            &format!("DROP TABLE {table};\n"),
        );
    }
    let output = rollsafe_in(diesel.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let config = std::fs::read_to_string(diesel.path().join("rollsafe.toml")).unwrap();
    assert!(config.contains("migrations = \"migrations\""), "{config}");
    assert!(config.contains("layout = \"diesel\""), "{config}");
    assert!(config.contains("require_down = true"), "{config}");
    let output = rollsafe_in(diesel.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn the_hook_returns_at_once_when_nothing_under_the_migrations_is_staged() {
    let dir = app_repository();
    let root = dir.path();
    let hook = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            // Never the user's cache directory.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("rollsafe-test-cache"),
            )
            .args(["check", "--hook", "db/migrations"])
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .env_remove("PRE_COMMIT_SOURCE")
            .env_remove("PRE_COMMIT_ORIGIN")
            .current_dir(root)
            .output()
            .unwrap()
    };
    // An unsafe migration in the working tree, not staged: the commit does not hold it.
    write(
        root,
        "db/migrations/3_drop_email.up.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    let output = hook(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing staged under db/migrations"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));

    let repo = Repository::open(root).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_path(Path::new("db/migrations/3_drop_email.up.sql"))
        .unwrap();
    index.write().unwrap();
    let output = hook(&["db/migrations/3_drop_email.up.sql"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("drop-column"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("the staged migrations against the merge base of origin/main"),
        "{}",
        stderr(&output)
    );
}
