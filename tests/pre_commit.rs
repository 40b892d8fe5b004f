//! The hook under the real pre-commit framework (PyPI `pre-commit`), against a sample
//! repository with a remote: what a commit, `--all-files`, `--from-ref/--to-ref`, a
//! delete-only commit and an amend actually run.
//!
//! The hook in `.pre-commit-hooks.yaml` is `language: rust`, which makes pre-commit build
//! rollsafe with cargo in its own environment: minutes per test run. So these tests use the
//! same hook definition with `language: system` and the binary cargo already built, and a
//! separate test validates the manifest itself (and README's config snippet) with
//! pre-commit's own validators.
//!
//! pre-commit is taken from PATH, else installed into a virtualenv under the target
//! directory. Without Python or network the tests skip, except under `CI=true`, where they
//! fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The pre-commit executable, or `None` (after saying why) when it cannot be had here.
fn pre_commit() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| match find_or_install() {
            Ok(path) => Some(path),
            Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("pre-commit is needed under CI=true: {why}")
            }
            Err(why) => {
                eprintln!("skipped: pre-commit unavailable ({why})");
                None
            }
        })
        .clone()
}

fn find_or_install() -> Result<PathBuf, String> {
    if Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(PathBuf::from("pre-commit"));
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let bin = venv.join("bin").join("pre-commit");
    if bin.exists() {
        return Ok(bin);
    }
    let run = |command: &mut Command| -> Result<(), String> {
        let output = command
            .output()
            .map_err(|err| format!("{command:?}: {err}"))?;
        match output.status.success() {
            true => Ok(()),
            false => Err(format!(
                "{command:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        }
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "pre-commit"]))?;
    Ok(bin)
}

/// A clone of a bare "origin", on `main` tracking `origin/main`, with pre-commit installed
/// as its git hook.
struct Sample {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    pre_commit: PathBuf,
}

impl Sample {
    fn new(pre_commit: PathBuf) -> Sample {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        let origin = dir.path().join("origin.git");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let sample = Sample {
            root,
            home,
            pre_commit,
            _dir: dir,
        };
        sample.git_in(
            sample.root.parent().unwrap(),
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        sample.git(&["init", "--quiet", "-b", "main"]);
        sample.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
        sample.write(".pre-commit-config.yaml", &hook_config());
        sample.write(
            "db/migrations/1_users.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, nickname text);\n",
        );
        sample.write("db/migrations/1_users.down.sql", "DROP TABLE users;\n");
        sample.git(&["add", "."]);
        sample.git(&["commit", "--quiet", "--no-verify", "-m", "users"]);
        sample.git(&["push", "--quiet", "-u", "origin", "main"]);
        let installed = sample.run_pre_commit(&["install"]);
        assert!(installed.status.success(), "{}", text(&installed));
        sample
    }

    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .env("PRE_COMMIT_HOME", self.home.join("pre-commit"))
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF");
        command
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let output = self
            .command(Path::new("git"), dir)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", text(&output));
        output
    }

    fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.root, args)
    }

    /// `git commit` with pre-commit's hook: the framework decides what the hook sees.
    fn commit(&self, args: &[&str]) -> Output {
        self.command(Path::new("git"), &self.root)
            .args(["commit", "--quiet"])
            .args(args)
            .output()
            .unwrap()
    }

    fn run_pre_commit(&self, args: &[&str]) -> Output {
        self.command(&self.pre_commit, &self.root)
            .args(args)
            .output()
            .unwrap()
    }

    fn write(&self, path: &str, contents: &str) {
        let full = self.root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    fn head(&self) -> String {
        String::from_utf8(self.git(&["rev-parse", "HEAD"]).stdout)
            .unwrap()
            .trim()
            .to_string()
    }
}

/// The hook from `.pre-commit-hooks.yaml`, as a local hook that runs the built binary.
fn hook_config() -> String {
    let manifest = include_str!("../.pre-commit-hooks.yaml");
    let binary = env!("CARGO_BIN_EXE_rollsafe");
    let mut hook = String::new();
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let line = line
            .replace("language: rust", "language: system")
            .replace("entry: rollsafe ", &format!("entry: {binary} "));
        hook.push_str(&format!("      {line}\n"));
    }
    assert!(
        hook.contains("language: system") && hook.contains(binary),
        "{hook}"
    );
    format!("repos:\n  - repo: local\n    hooks:\n{hook}        args: [db/migrations]\n")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const DROP_NICKNAME: &str = "ALTER TABLE users DROP COLUMN nickname;\n";
const ADD_PHONE: &str = "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN phone text;\n";

#[test]
fn an_unsafe_commit_is_blocked_and_a_safe_one_passes() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.write(
        "db/migrations/2_drop_nickname.down.sql",
        "ALTER TABLE users ADD COLUMN nickname text;\n",
    );
    sample.git(&["add", "."]);
    let blocked = sample.commit(&["-m", "drop nickname"]);
    assert!(!blocked.status.success(), "{}", text(&blocked));
    assert!(text(&blocked).contains("drop-column"), "{}", text(&blocked));
    assert!(
        text(&blocked).contains("the staged migrations against the merge base of origin/main"),
        "{}",
        text(&blocked)
    );

    sample.git(&["reset", "--quiet"]);
    std::fs::remove_file(sample.root.join("db/migrations/2_drop_nickname.up.sql")).unwrap();
    std::fs::remove_file(sample.root.join("db/migrations/2_drop_nickname.down.sql")).unwrap();
    sample.write("db/migrations/2_phone.up.sql", ADD_PHONE);
    sample.write(
        "db/migrations/2_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    sample.git(&["add", "."]);
    let passed = sample.commit(&["-m", "phone"]);
    assert!(passed.status.success(), "{}", text(&passed));
}

#[test]
fn an_untracked_migration_does_not_block_an_unrelated_commit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    // Work in progress, not staged: the commit does not hold it.
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.write("db/migrations/3_phone.up.sql", ADD_PHONE);
    sample.write(
        "db/migrations/3_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    sample.git(&[
        "add",
        "db/migrations/3_phone.up.sql",
        "db/migrations/3_phone.down.sql",
    ]);
    let passed = sample.commit(&["-m", "phone"]);
    assert!(passed.status.success(), "{}", text(&passed));
}

#[test]
fn an_earlier_unpushed_commit_does_not_block_the_next_one() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.git(&["add", "."]);
    sample.git(&["commit", "--quiet", "--no-verify", "-m", "drop nickname"]);
    sample.write("db/migrations/3_phone.up.sql", ADD_PHONE);
    sample.write(
        "db/migrations/3_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    sample.git(&["add", "."]);
    let passed = sample.commit(&["-m", "phone"]);
    assert!(passed.status.success(), "{}", text(&passed));
    // The push range still holds it: pre-push (and --from-ref/--to-ref) report it.
    let output = sample.run_pre_commit(&["run", "--from-ref", "origin/main", "--to-ref", "HEAD"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("drop-column"), "{}", text(&output));
}

#[test]
fn a_delete_only_commit_is_reported() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    sample.write("db/migrations/2_phone.up.sql", ADD_PHONE);
    sample.write(
        "db/migrations/2_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    sample.git(&["add", "."]);
    sample.git(&["commit", "--quiet", "--no-verify", "-m", "phone"]);
    sample.git(&["push", "--quiet"]);
    // No file left for pre-commit to pass: only `always_run` gets the hook to run.
    sample.git(&["rm", "--quiet", "db/migrations/2_phone.up.sql"]);
    sample.git(&["rm", "--quiet", "db/migrations/2_phone.down.sql"]);
    let blocked = sample.commit(&["-m", "remove the phone migration"]);
    assert!(!blocked.status.success(), "{}", text(&blocked));
    assert!(
        text(&blocked).contains("deleted-migration"),
        "{}",
        text(&blocked)
    );
}

#[test]
fn amending_an_unpushed_migration_is_not_an_edit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    sample.write("db/migrations/2_phone.up.sql", ADD_PHONE);
    sample.write(
        "db/migrations/2_phone.down.sql",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    sample.git(&["add", "."]);
    let first = sample.commit(&["-m", "phone"]);
    assert!(first.status.success(), "{}", text(&first));
    sample.write(
        "db/migrations/2_phone.up.sql",
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN phone varchar(32);\n",
    );
    sample.git(&["add", "."]);
    let amended = sample.commit(&["--amend", "--no-edit"]);
    assert!(amended.status.success(), "{}", text(&amended));
    assert!(
        !text(&amended).contains("edited-migration"),
        "{}",
        text(&amended)
    );
}

#[test]
fn all_files_audits_the_history_when_nothing_differs_from_the_upstream() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    // An unsafe migration that got in without the hook, and was pushed.
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.git(&["add", "."]);
    sample.git(&["commit", "--quiet", "--no-verify", "-m", "drop nickname"]);
    sample.git(&["push", "--quiet"]);
    let output = sample.run_pre_commit(&["run", "--all-files"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("auditing the"), "{}", text(&output));
    assert!(text(&output).contains("drop-column"), "{}", text(&output));
}

#[test]
fn all_files_compares_with_the_upstream_when_the_branch_is_ahead() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.git(&["add", "."]);
    sample.git(&["commit", "--quiet", "--no-verify", "-m", "drop nickname"]);
    let output = sample.run_pre_commit(&["run", "--all-files"]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output)
            .contains("--all-files: the staged migrations against the merge base of origin/main"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("drop-column"), "{}", text(&output));
}

#[test]
fn from_ref_to_ref_checks_the_migrations_between_them() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let sample = Sample::new(pre_commit);
    let from = sample.head();
    sample.write("db/migrations/2_drop_nickname.up.sql", DROP_NICKNAME);
    sample.git(&["add", "."]);
    sample.git(&["commit", "--quiet", "--no-verify", "-m", "drop nickname"]);
    let to = sample.head();
    let output = sample.run_pre_commit(&["run", "--from-ref", &from, "--to-ref", &to]);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("drop-column"), "{}", text(&output));
    assert!(
        text(&output).contains("the refs pre-commit passed"),
        "{}",
        text(&output)
    );

    // The same range without the unsafe commit passes.
    let output = sample.run_pre_commit(&["run", "--from-ref", &from, "--to-ref", &from]);
    assert!(output.status.success(), "{}", text(&output));
}

/// The published manifest and README's config snippet, checked by pre-commit itself.
#[test]
fn the_manifest_and_the_readme_snippet_are_valid() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(&pre_commit)
        .arg("validate-manifest")
        .arg(repo.join(".pre-commit-hooks.yaml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let manifest = std::fs::read_to_string(repo.join(".pre-commit-hooks.yaml")).unwrap();
    for key in [
        "language: rust",
        "always_run: true",
        "pass_filenames: true",
        "--hook",
    ] {
        assert!(manifest.contains(key), "{key}");
    }

    // Every `.pre-commit-config.yaml` the docs show (a block with `repos:`) is valid.
    let mut validated = 0;
    for document in ["README.md", "docs/ci.md"] {
        let markdown = std::fs::read_to_string(repo.join(document)).unwrap();
        let snippets = markdown
            .split("```yaml\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .filter(|block| block.contains("repos:"));
        for snippet in snippets {
            let dir = tempfile::tempdir().unwrap();
            let config = dir.path().join(".pre-commit-config.yaml");
            std::fs::write(&config, snippet).unwrap();
            let output = Command::new(&pre_commit)
                .arg("validate-config")
                .arg(&config)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{document}:\n{snippet}\n{}",
                text(&output)
            );
            validated += 1;
        }
    }
    assert!(validated >= 3, "found {validated} pre-commit snippets");
}
