//! The composite action (action.yml): the step that chooses what to compare, run with bash
//! in a sample clone for each event GitHub sends (pull request, push, a new branch's first
//! push, a force-push, workflow_dispatch, schedule).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `run: |` script of the step named `name` in action.yml.
fn step_script(name: &str) -> String {
    let action = include_str!("../action.yml");
    let start = action
        .find(&format!("- name: {name}\n"))
        .unwrap_or_else(|| panic!("no step {name}"));
    let rest = &action[start..];
    let run = rest.find("run: |\n").expect("a run block") + "run: |\n".len();
    let mut script = String::new();
    let mut indent = None;
    for line in rest[run..].lines() {
        if line.trim().is_empty() {
            script.push('\n');
            continue;
        }
        let depth = line.len() - line.trim_start().len();
        let block = *indent.get_or_insert(depth);
        if depth < block {
            break;
        }
        script.push_str(&line[block..]);
        script.push('\n');
    }
    script
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A clone whose `origin/main` has two commits, checked out on `feature`, one commit ahead.
struct Clone {
    _dir: tempfile::TempDir,
    root: PathBuf,
    main_tip: String,
    main_first: String,
}

impl Clone {
    fn new() -> Clone {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        git(&root, &["init", "--quiet", "-b", "main"]);
        let commit = |message: &str| {
            std::fs::write(root.join(format!("{message}.sql")), "SELECT 1;\n").unwrap();
            git(&root, &["add", "."]);
            git(&root, &["commit", "--quiet", "-m", message]);
            git(&root, &["rev-parse", "HEAD"])
        };
        let main_first = commit("one");
        let main_tip = commit("two");
        git(
            &root,
            &["update-ref", "refs/remotes/origin/main", &main_tip],
        );
        git(&root, &["checkout", "--quiet", "-b", "feature"]);
        commit("three");
        Clone {
            _dir: dir,
            root,
            main_tip,
            main_first,
        }
    }

    /// Runs the choosing step with the event's variables; returns the `base` output.
    fn choose(&self, env: &[(&str, &str)]) -> Result<String, String> {
        let output_file = self.root.join(".github-output");
        let _ = std::fs::remove_file(&output_file);
        let mut command = Command::new("bash");
        command
            .args(["-e", "-c", &step_script("Choose what to compare")])
            .current_dir(&self.root)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for name in [
            "INPUT_BASE",
            "EVENT",
            "BASE_REF",
            "BEFORE",
            "DEFAULT_BRANCH",
        ] {
            command.env(name, "");
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("bash runs");
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let written = std::fs::read_to_string(&output_file).unwrap();
        Ok(written
            .lines()
            .find_map(|line| line.strip_prefix("base="))
            .expect("a base output")
            .to_string())
    }
}

#[test]
fn a_pull_request_compares_with_its_target_branch() {
    let clone = Clone::new();
    let base = clone.choose(&[("EVENT", "pull_request"), ("BASE_REF", "main")]);
    assert_eq!(base.unwrap(), "origin/main");
}

#[test]
fn a_push_compares_with_the_commit_before_it() {
    let clone = Clone::new();
    let before = clone.main_tip.clone();
    let base = clone.choose(&[
        ("EVENT", "push"),
        ("BEFORE", &before),
        ("DEFAULT_BRANCH", "main"),
    ]);
    assert_eq!(base.unwrap(), before);
}

#[test]
fn a_new_branch_first_push_compares_with_the_default_branch() {
    let clone = Clone::new();
    let zeros = "0".repeat(40);
    let base = clone.choose(&[
        ("EVENT", "push"),
        ("BEFORE", &zeros),
        ("DEFAULT_BRANCH", "main"),
    ]);
    assert_eq!(base.unwrap(), "origin/main");
}

#[test]
fn a_force_push_compares_with_the_default_branch() {
    let clone = Clone::new();
    // The commit before the push is no ancestor of the new head any more.
    git(
        &clone.root,
        &["checkout", "--quiet", "-b", "rewritten", &clone.main_first],
    );
    std::fs::write(clone.root.join("other.sql"), "SELECT 2;\n").unwrap();
    git(&clone.root, &["add", "."]);
    git(&clone.root, &["commit", "--quiet", "-m", "rewritten"]);
    let before = clone.main_tip.clone();
    let base = clone.choose(&[
        ("EVENT", "push"),
        ("BEFORE", &before),
        ("DEFAULT_BRANCH", "main"),
    ]);
    assert_eq!(base.unwrap(), "origin/main");
    // A `before` the clone does not even have is handled the same way.
    let base = clone.choose(&[
        ("EVENT", "push"),
        ("BEFORE", "1234567890123456789012345678901234567890"),
        ("DEFAULT_BRANCH", "main"),
    ]);
    assert_eq!(base.unwrap(), "origin/main");
}

#[test]
fn workflow_dispatch_and_schedule_compare_with_the_default_branch() {
    let clone = Clone::new();
    for event in ["workflow_dispatch", "schedule"] {
        let base = clone.choose(&[("EVENT", event), ("DEFAULT_BRANCH", "main")]);
        assert_eq!(base.unwrap(), "origin/main", "{event}");
    }
}

#[test]
fn on_the_default_branch_with_nothing_new_the_history_is_audited() {
    let clone = Clone::new();
    git(&clone.root, &["checkout", "--quiet", "main"]);
    let base = clone.choose(&[("EVENT", "schedule"), ("DEFAULT_BRANCH", "main")]);
    assert_eq!(base.unwrap(), "", "an empty base means --all");
}

#[test]
fn the_base_input_wins_and_a_missing_default_branch_is_an_error() {
    let clone = Clone::new();
    let base = clone.choose(&[("EVENT", "push"), ("INPUT_BASE", "v1.0")]);
    assert_eq!(base.unwrap(), "v1.0");
    let error = clone
        .choose(&[("EVENT", "schedule"), ("DEFAULT_BRANCH", "trunk")])
        .unwrap_err();
    assert!(error.contains("cannot find origin/trunk"), "{error}");
}

#[test]
fn unshallowing_keeps_the_tags_and_sarif_upload_has_its_permission() {
    let fetch = step_script("Fetch the history rollsafe compares");
    assert!(fetch.contains("--unshallow --tags"), "{fetch}");
    assert!(!fetch.contains("--no-tags"), "{fetch}");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md")).unwrap();
    let block = ci
        .split("```yaml\n")
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("upload-sarif"))
        .expect("a SARIF upload example");
    assert!(block.contains("security-events: write"), "{block}");
}
