//! The parse cache, end to end: the report is byte-identical with and without it, a damaged
//! entry is a miss that gets rewritten, concurrent runs are safe, `--no-cache` writes
//! nothing, `cache_dir` in config is honoured. Every test has its own cache directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// A project with what a cached parse must preserve: findings at exact positions, an
/// unparsed statement (with its message), suppressions, a goose file's two sections.
fn project() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "0001_users.sql",
            "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY, name text, phone text);\n\
             -- +goose Down\nDROP TABLE users;\n",
        ),
        (
            "0002_index.sql",
            "-- +goose Up\nCREATE INDEX users_name_idx ON users (name);\nFROBNICATE users;\n\
             -- +goose Down\nDROP INDEX users_name_idx;\n",
        ),
        (
            "0003_drop.sql",
            "-- +goose Up\n-- rollsafe:allow drop-column retired in #12\n\
             ALTER TABLE users DROP COLUMN phone;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n\
             -- +goose Down\nALTER TABLE users ADD COLUMN phone text;\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn check(project: &Path, cache: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .args(["check", "--all", "--format", "json", "--fail-on", "never"])
        .args(extra)
        .arg(project)
        .output()
        .unwrap()
}

/// The cache's pack files (under `<cache>/rollsafe/v1`).
fn packs(cache: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(cache.join("rollsafe/v1")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = listing
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect();
    files.sort();
    files
}

/// The lines of the one pack in `cache`: the header, then one entry per SQL part.
fn pack_lines(cache: &Path) -> Vec<String> {
    let packs = packs(cache);
    assert_eq!(packs.len(), 1, "{packs:?}");
    let text = std::fs::read_to_string(&packs[0]).unwrap();
    text.lines().map(str::to_string).collect()
}

fn uncached_report(project: &Path) -> Vec<u8> {
    let cache = tempfile::tempdir().unwrap();
    let output = check(project, cache.path(), &["--no-cache"]);
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

#[test]
fn a_cached_run_reports_byte_for_byte_what_an_uncached_one_does() {
    let project = project();
    let cache = tempfile::tempdir().unwrap();
    let expected = uncached_report(project.path());
    let cold = check(project.path(), cache.path(), &[]);
    // One entry per SQL part: three up sections and three down sections.
    assert_eq!(pack_lines(cache.path()).len(), 1 + 6);
    let warm = check(project.path(), cache.path(), &[]);
    assert_eq!(
        String::from_utf8_lossy(&cold.stdout),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(warm.stdout, expected);
    let report = String::from_utf8_lossy(&expected);
    assert!(report.contains("unparsed-statement"), "{report}");
    assert!(report.contains("retired in #12"), "{report}");
}

#[test]
fn no_cache_neither_reads_nor_writes_the_cache() {
    let project = project();
    let cache = tempfile::tempdir().unwrap();
    check(project.path(), cache.path(), &["--no-cache"]);
    assert!(packs(cache.path()).is_empty());
    // A poisoned cache is not read either: every entry emptied changes nothing.
    check(project.path(), cache.path(), &[]);
    let pack = &packs(cache.path())[0];
    let lines = pack_lines(cache.path());
    let mut poisoned = vec![lines[0].clone()];
    for line in &lines[1..] {
        let key = line.split_once(' ').unwrap().0;
        poisoned.push(format!("{key} {{\"statements\":[],\"file_allows\":[]}}"));
    }
    std::fs::write(pack, poisoned.join("\n") + "\n").unwrap();
    let output = check(project.path(), cache.path(), &["--no-cache"]);
    assert_eq!(output.stdout, uncached_report(project.path()));
    // Without the flag the poisoned entries are read: proof that a warm run parses nothing.
    let poisoned_report = check(project.path(), cache.path(), &[]).stdout;
    assert_ne!(poisoned_report, output.stdout);
    assert!(!String::from_utf8_lossy(&poisoned_report).contains("unparsed-statement"));
}

#[test]
fn a_corrupt_entry_is_ignored_and_rewritten() {
    let project = project();
    let cache = tempfile::tempdir().unwrap();
    let expected = uncached_report(project.path());
    check(project.path(), cache.path(), &[]);
    let pack = &packs(cache.path())[0];
    let good = pack_lines(cache.path());
    // A line cut short, a line of garbage, and the last line truncated without its newline.
    let mut damaged = good.clone();
    let half = damaged[1].len() / 2;
    damaged[1].truncate(half);
    damaged[2] = "\u{1}\u{7f} not json".to_string();
    let last = damaged.len() - 1;
    damaged[last].truncate(40);
    std::fs::write(pack, damaged.join("\n")).unwrap();
    let output = check(project.path(), cache.path(), &[]);
    assert_eq!(output.stdout, expected);
    // Rewritten whole: the same entries as before, in whatever order.
    let mut rewritten = pack_lines(cache.path());
    let mut good = good;
    rewritten.sort();
    good.sort();
    assert_eq!(rewritten, good);
}

#[test]
fn concurrent_runs_share_one_cache_safely() {
    let project = project();
    let cache = tempfile::tempdir().unwrap();
    let expected = uncached_report(project.path());
    let runs: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rollsafe"))
                .env("XDG_CACHE_HOME", cache.path())
                .args(["check", "--all", "--format", "json", "--fail-on", "never"])
                .arg(project.path())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, expected);
    }
    assert_eq!(pack_lines(cache.path()).len(), 1 + 6);
    // No temporary file is left behind.
    let leftovers = std::fs::read_dir(cache.path().join("rollsafe/v1"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
    assert_eq!(check(project.path(), cache.path(), &[]).stdout, expected);
}

#[test]
fn cache_dir_in_config_is_relative_to_the_config_file() {
    let project = project();
    std::fs::write(
        project.path().join("rollsafe.toml"),
        "cache_dir = \".rollsafe-cache\"\n",
    )
    .unwrap();
    let unused = tempfile::tempdir().unwrap();
    let output = check(project.path(), unused.path(), &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(packs(unused.path()).is_empty());
    let configured = project.path().join(".rollsafe-cache/v1");
    let count = std::fs::read_dir(configured).unwrap().count();
    assert!(count >= 1, "{count}");
}
