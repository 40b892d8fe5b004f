//! `rollsafe check`: which migrations are the deploy, and the report of one run.
//!
//! - `--all`, or outside any git repository: the history audit (every migration is its own
//!   deploy).
//! - Otherwise the deploy is what the head (the working tree, or `--head REV`) adds over N-1's
//!   revision: the merge base of `--base` (default: `base` in config, else `HEAD`) and the head.

use super::audit_history_with_downs;
use crate::config::{Config, RollbackConfig, Settings};
use crate::dialect::Dialect;
use crate::git::GitRepo;
use crate::history::{self, HistoryDiff, Revision};
use crate::layout::{LayoutChoice, LayoutKind, OlderPending};
use crate::project::{
    final_schema, load_project, replay, MigrationStatus, ParsedMigration, Project,
};
use crate::report::{DownEntry, Report, ReportInput, RevInfo, Rollback, WindowEntry};
use crate::resolve::{check_rule_ids, resolve, resolve_with_unused};
use crate::rollback::DownAnalysis;
use crate::rules::{self, Category, Context, ReleaseRollback};
use crate::source::Snapshot;
use anyhow::{bail, Context as _, Result};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `rollsafe check` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The migrations directory.
    pub dir: PathBuf,
    /// The history audit: every migration is its own deploy.
    pub all: bool,
    pub base: Option<String>,
    pub head: Option<String>,
    pub dialect: Option<Dialect>,
    pub layout: LayoutChoice,
    /// An explicit config file; otherwise `rollsafe.toml` is looked up from `dir` upwards.
    pub config: Option<PathBuf>,
    /// `--all` only: judge compat findings on what the code at this revision uses.
    pub usage_from: Option<String>,
    /// `check FILE...`: the deploy is only the migrations these files (relative to `dir`,
    /// with `/`) belong to. Empty: every migration the mode selects.
    pub files: Vec<String>,
    /// Read and write the parse cache (the command line's default; off for other callers,
    /// so that nothing writes to the user's cache directory unasked).
    pub cache: bool,
}

impl CheckOptions {
    /// Whether `migration` is part of the deploy `files` selects.
    fn selects(&self, migration: &ParsedMigration) -> bool {
        self.files.is_empty()
            || migration
                .migration
                .paths
                .iter()
                .any(|path| self.files.contains(path))
    }
}

/// The outcome of one run: the report, the config it ran with, notices to print on
/// standard error (a repository mid-rebase, files left out of a snapshot), and how long
/// each stage took (`--timings`).
pub struct Run {
    pub report: Report,
    pub config: Config,
    pub notices: Vec<String>,
    pub timings: Timings,
}

/// Wall time per pipeline stage, in order.
#[derive(Debug, Default)]
pub struct Timings {
    pub stages: Vec<(&'static str, Duration)>,
    last: Option<Instant>,
}

impl Timings {
    fn start() -> Timings {
        Timings {
            stages: Vec::new(),
            last: Some(Instant::now()),
        }
    }

    /// Records the time since the previous lap under `stage`.
    fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        let since = self.last.map_or(Duration::ZERO, |last| now - last);
        self.stages.push((stage, since));
        self.last = Some(now);
    }
}

/// The config for a run: the explicit file, or the nearest `rollsafe.toml` at or above
/// `dir`, or the defaults; with the path it came from.
pub fn load_config(options: &CheckOptions) -> Result<(Config, Option<PathBuf>)> {
    let path = match &options.config {
        Some(path) => Some(path.clone()),
        None => crate::config::find(&options.dir),
    };
    match path {
        Some(path) => {
            let config = Config::load(&path)?;
            check_rule_ids(&config, &path)?;
            Ok((config, Some(path)))
        }
        None => Ok((Config::default(), None)),
    }
}

/// The directory to check: the one given, or, when none was (`.`), the `migrations`
/// directory that config names, relative to the config file.
pub fn migrations_dir(
    options: &CheckOptions,
    config: &Config,
    config_path: Option<&Path>,
) -> PathBuf {
    match (&config.migrations, config_path) {
        (Some(migrations), Some(path)) if options.dir == Path::new(".") => path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(migrations),
        _ => options.dir.clone(),
    }
}

/// Runs a check and builds its report.
pub fn run(options: &CheckOptions) -> Result<Run> {
    let (config, config_path) = load_config(options)?;
    let dir = migrations_dir(options, &config, config_path.as_deref());
    if dir.is_file() {
        bail!(
            "{}: is a file; give the migrations directory (or name migration files after it: \
             `rollsafe check DIR FILE...`)",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!("{}: no such directory", dir.display());
    }
    // A directory named after a dialect says which one, when nothing else does.
    let inferred = match (options.dialect, config.dialect) {
        (None, None) => crate::layout::dialect_of_dir(&dir),
        _ => None,
    };
    let options = &CheckOptions {
        dir,
        dialect: options.dialect.or(inferred),
        ..options.clone()
    };
    if options.cache {
        enable_cache(&config, config_path.as_deref(), &options.dir);
    }
    let layout = layout_choice(options, &config);
    let repo = if options.all {
        None
    } else {
        GitRepo::discover(&options.dir)?
    };
    let mut run = match repo {
        Some(repo) => check_revisions(&repo, options, config, config_path.as_deref(), layout),
        None if options.base.is_some() || options.head.is_some() => bail!(
            "{}: --base and --head compare git revisions, but this directory is not inside a git \
             repository; use --all to audit the whole history without git",
            options.dir.display()
        ),
        None => {
            let mut run = audit(options, config, config_path, layout)?;
            if !options.all {
                run.notices.push(
                    "not inside a git repository: auditing the whole history (each migration \
                     against the ones before it), as --all does"
                        .to_string(),
                );
            }
            Ok(run)
        }
    }?;
    if let Some(dialect) = inferred {
        run.notices.push(format!(
            "dialect {dialect} inferred from the directory name (set `dialect` in rollsafe.toml \
             or pass --dialect to change it)"
        ));
    }
    Ok(run)
}

/// The cache directory: `cache_dir` in config (relative to the config file), else the
/// user's cache directory.
fn enable_cache(config: &Config, config_path: Option<&Path>, migrations: &Path) {
    let configured = config.cache_dir.as_ref().map(|dir| {
        let base = config_path.and_then(Path::parent).unwrap_or(Path::new("."));
        base.join(dir)
    });
    if let Some(dir) = configured.or_else(crate::cache::default_dir) {
        crate::cache::enable(&dir, migrations);
    }
}

/// The command line's layout, else config's, else detection.
fn layout_choice(options: &CheckOptions, config: &Config) -> LayoutChoice {
    match (options.layout, config.layout_choice()) {
        (LayoutChoice::Auto, Some(configured)) => configured,
        (choice, _) => choice,
    }
}

/// `path` as the report shows it: relative to the repository root inside a git repository,
/// else to the current directory, with `/`; never absolute when a relative form exists.
pub fn shown_path(path: &Path) -> String {
    let full = match path.canonicalize() {
        Ok(full) => full,
        Err(_) => return path.display().to_string().replace('\\', "/"),
    };
    if let Ok(Some(repo)) = GitRepo::discover(&full) {
        if let Ok(relative) = repo.repo_path(&full) {
            return relative;
        }
    }
    match std::env::current_dir().and_then(|cwd| cwd.canonicalize()) {
        Ok(cwd) => relative_to(&cwd, &full),
        Err(_) => full.display().to_string(),
    }
}

/// `path` from `from` (both absolute), climbing with `..` where needed.
fn relative_to(from: &Path, path: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = path.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        // Another drive or root: no relative form.
        return path.display().to_string();
    }
    let parts: Vec<String> = std::iter::repeat_n("..".to_string(), from.len() - common)
        .chain(
            to[common..]
                .iter()
                .map(|c| c.as_os_str().to_string_lossy().into_owned()),
        )
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The prefix that turns a path relative to the migrations directory into the shown form.
fn dir_prefix(dir: &Path) -> String {
    match shown_path(dir).as_str() {
        "" | "." => String::new(),
        shown => format!("{shown}/"),
    }
}

/// `--all`: the working tree's history, each migration its own deploy.
fn audit(
    options: &CheckOptions,
    config: Config,
    config_path: Option<PathBuf>,
    layout: LayoutChoice,
) -> Result<Run> {
    let mut timings = Timings::start();
    let snapshot = crate::source::read_dir(&options.dir)?;
    timings.lap("read files");
    if snapshot.is_empty() {
        bail!(
            "{}: the directory is empty: no migrations to check",
            options.dir.display()
        );
    }
    let project = load_project(&snapshot, options.dialect, layout, &config, None)?;
    timings.lap("discover and parse");
    let settings = config.settings_for(project.has_downs());
    let mut notices = unmatched_files(options, &project);
    let usage = match &options.usage_from {
        Some(rev) => Some(usage_from(options, rev, &project, &config, &mut notices)?),
        None => None,
    };
    timings.lap("usage");
    let (mut raw, downs) =
        audit_history_with_downs(&project, &settings, &config.retire, usage.as_ref());
    // `check FILE...`: each named migration is checked against the ones before it.
    let selected: Vec<ParsedMigration> = project
        .migrations
        .iter()
        .filter(|m| options.selects(m))
        .cloned()
        .collect();
    let ids: HashSet<&str> = selected.iter().map(|m| m.migration.id.as_str()).collect();
    raw.retain(|f| f.migration.is_empty() || ids.contains(f.migration.as_str()));
    let outcome = resolve_with_unused(raw, &project, &config, &selected);
    timings.lap("replay and rules");
    let report = Report::build(ReportInput {
        dialect: project.dialect,
        layout: project.layout,
        sources: &with_config_text(project.sources.clone(), &config),
        migrations: &selected,
        ignored: &project.ignored,
        outcome,
        path_prefix: &dir_prefix(&options.dir),
        config_path: config_path.as_deref().map(shown_path),
        base: None,
        head: worktree(),
        rollback: Rollback {
            down: down_entries(&downs, &project.migrations),
            releases: config.rollback.as_ref().map(|r| r.releases.clone()),
            ..Rollback::default()
        },
    });
    timings.lap("report");
    Ok(Run {
        report,
        config,
        notices,
        timings,
    })
}

/// `--all --usage-from REV`: what the code at `rev` uses, resolved against the schema the
/// whole history builds, looking for every name a migration drops, renames or retypes.
fn usage_from(
    options: &CheckOptions,
    rev: &str,
    project: &Project,
    config: &Config,
    notices: &mut Vec<String>,
) -> Result<crate::usage::Usage> {
    let Some(repo) = GitRepo::discover(&options.dir)? else {
        bail!(
            "{}: --usage-from reads a git revision's code, but this directory is not inside a \
             git repository",
            options.dir.display()
        );
    };
    let resolved = repo.resolve(rev)?;
    let catalog = final_schema(project);
    let changes = project
        .migrations
        .iter()
        .flat_map(|m| m.up.statements.iter().flat_map(|s| s.changes.iter()));
    let targets = crate::usage::touched_names(changes);
    let usage = crate::usage::read_at(
        &repo,
        resolved.commit,
        rev,
        &catalog,
        &config.usage,
        repo.checked_dir(),
        Some(&targets),
    )?
    .unwrap_or_default();
    notices.extend(usage.warnings.iter().map(|w| format!("usage: {w}")));
    Ok(usage)
}

/// A notice for each file `check FILE...` named that is no migration's file.
fn unmatched_files(options: &CheckOptions, project: &Project) -> Vec<String> {
    options
        .files
        .iter()
        .filter(|file| {
            !project
                .migrations
                .iter()
                .any(|m| m.migration.paths.contains(file))
        })
        .map(|file| {
            format!(
                "{file}: not a migration of the {} layout; not checked",
                project.layout.name()
            )
        })
        .collect()
}

fn worktree() -> RevInfo {
    RevInfo {
        rev: "worktree".to_string(),
        commit: None,
    }
}

/// The files of one side of the comparison.
struct Side {
    snapshot: Snapshot,
    info: RevInfo,
}

fn check_revisions(
    repo: &GitRepo,
    options: &CheckOptions,
    config: Config,
    config_path: Option<&Path>,
    layout: LayoutChoice,
) -> Result<Run> {
    let mut timings = Timings::start();
    let dir = repo.checked_dir().to_string();
    let mut notices: Vec<String> = repo.state_notice().into_iter().collect();

    let (head, head_commit) = match options.head.as_deref() {
        Some("index") => {
            let snapshot = repo.index_snapshot(&dir)?;
            notices.extend(skipped_notices(&snapshot.skipped));
            let head = repo
                .has_commits()
                .then(|| repo.resolve("HEAD"))
                .transpose()?;
            let info = RevInfo {
                rev: "index".to_string(),
                commit: None,
            };
            (
                Side {
                    snapshot: snapshot.files,
                    info,
                },
                head,
            )
        }
        Some(rev) if rev != "worktree" => {
            let rev = &rev.to_string();
            let resolved = repo.resolve(rev)?;
            let snapshot = repo.snapshot_at(resolved.commit, &dir)?;
            notices.extend(skipped_notices(&snapshot.skipped));
            let info = RevInfo {
                rev: rev.clone(),
                commit: Some(resolved.hex()),
            };
            (
                Side {
                    snapshot: snapshot.files,
                    info,
                },
                Some(resolved),
            )
        }
        _ => {
            let snapshot = repo.worktree_snapshot(&dir)?;
            notices.extend(skipped_notices(&snapshot.skipped));
            let head = repo
                .has_commits()
                .then(|| repo.resolve("HEAD"))
                .transpose()?;
            (
                Side {
                    snapshot: snapshot.files,
                    info: worktree(),
                },
                head,
            )
        }
    };
    timings.lap("read head");
    if head.snapshot.is_empty() {
        bail!(
            "{}: the directory holds no files at {}: no migrations to check",
            options.dir.display(),
            head.info.rev
        );
    }

    // N-1's revision: where the head forked from the base. A repository without commits has
    // no base: everything in the working tree is new.
    let base_rev = match options.base.clone().or_else(|| config.base.clone()) {
        Some(rev) => rev,
        None => default_base(repo, &mut notices),
    };
    let (base, base_config) = match &head_commit {
        Some(head_commit) => {
            let base = repo.resolve(&base_rev)?;
            let fork = repo.merge_base(&base, head_commit)?;
            let mut snapshot = repo.snapshot_at(fork, &dir)?;
            let base_config = config_at(repo, fork, config_path)?;
            if snapshot.files.is_empty() {
                let still_at_head = |old: &str| -> Result<bool> {
                    let files = match &options.head {
                        Some(_) => repo.snapshot_at(head_commit.commit, old)?.files,
                        None => repo.worktree_snapshot(old)?.files,
                    };
                    Ok(!files.is_empty())
                };
                let moved = super::moved::base_dir(
                    repo,
                    fork,
                    &dir,
                    &head.snapshot,
                    &base_config,
                    config_path,
                    &still_at_head,
                )?;
                if let Some(old_dir) = moved {
                    snapshot = repo.snapshot_at(fork, &old_dir)?;
                    notices.push(format!(
                        "the migrations were in `{old_dir}` at the base revision: read there"
                    ));
                }
            }
            let info = RevInfo {
                rev: base_rev,
                commit: Some(fork.to_string()),
            };
            (
                Side {
                    snapshot: snapshot.files,
                    info,
                },
                base_config,
            )
        }
        None => (
            Side {
                snapshot: Snapshot::new(),
                info: RevInfo {
                    rev: base_rev,
                    commit: None,
                },
            },
            Config::default(),
        ),
    };

    timings.lap("read base");
    let head_project = load_project(&head.snapshot, options.dialect, layout, &config, None)?;
    let base_project = if base.snapshot.is_empty() {
        Project::empty(head_project.dialect, head_project.layout)
    } else {
        // The base is read as the head's layout and dialect, and reuses the head's parse of
        // every file that did not change.
        load_project(
            &base.snapshot,
            Some(head_project.dialect),
            LayoutChoice::Fixed(head_project.layout),
            &base_config,
            Some(&head_project),
        )?
    };
    timings.lap("discover and parse");
    let (mut diff, statuses) = history::compare(
        Revision {
            migrations: &base_project.migrations,
            files: &base.snapshot,
        },
        Revision {
            migrations: &head_project.migrations,
            files: &head.snapshot,
        },
    );
    diff.older_pending = Some(head_project.layout.history().older_pending);
    if head_project.layout == LayoutKind::Flyway && flyway_out_of_order(&options.dir) {
        diff.older_pending = Some(OlderPending::Applied);
    }
    let mut head_project = head_project;
    for (migration, status) in head_project.migrations.iter_mut().zip(statuses) {
        migration.status = status;
    }

    // The deploy: what N-1 has not run. An edited migration is not re-run by the tools (it is
    // reported by `edited-migration` instead).
    let deploy: Vec<ParsedMigration> = head_project
        .migrations
        .iter()
        .filter(|m| m.status == MigrationStatus::New && options.selects(m))
        .cloned()
        .collect();
    timings.lap("compare history");
    let before = final_schema(&base_project);
    let mut after = before.clone();
    for migration in &deploy {
        replay(&mut after, migration);
    }
    timings.lap("replay");
    let usage = match &head_commit {
        Some(_) => base_usage(repo, &base, &before, &config, &dir, &deploy, &mut notices)?,
        None => None,
    };
    timings.lap("usage");
    let settings = config.settings_for(head_project.has_downs());
    let mut releases = Vec::new();
    if let Some(rollback) = &config.rollback {
        let window = WindowInput {
            repo,
            dir: &dir,
            head_files: &head.snapshot,
            config_path,
            head: &head_project,
            config: &config,
            settings: &settings,
        };
        releases = release_window(&window, rollback)?;
        timings.lap("rollback window");
    }
    let ctx = Context {
        dialect: head_project.dialect,
        settings: &settings,
        deploy: &deploy,
        before: &before,
        after: &after,
        retired: &base_config.retire,
        retire_declared: &config.retire,
        history: Some(&diff),
        usage: usage.as_ref(),
        releases: &releases,
        audit: false,
        cache: Default::default(),
    };
    let raw = rules::run_all(&ctx);
    let downs = down_entries(ctx.downs(), &deploy);
    let outcome = resolve_with_unused(raw, &head_project, &config, &deploy);
    timings.lap("rules");

    let listed = listed_migrations(&head_project, &base_project, &diff);
    let mut sources = with_config_text(head_project.sources.clone(), &config);
    for deleted in &diff.deleted {
        for path in &deleted.paths {
            if let Some(text) = base_project.sources.get(path) {
                sources.entry(path.clone()).or_insert_with(|| text.clone());
            }
        }
    }
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let report = Report::build(ReportInput {
        dialect: head_project.dialect,
        layout: head_project.layout,
        sources: &sources,
        migrations: &listed,
        ignored: &head_project.ignored,
        outcome,
        path_prefix: &prefix,
        config_path: config_path.map(shown_path),
        base: Some(base.info),
        head: head.info,
        rollback: Rollback {
            window: releases.iter().map(window_entry).collect(),
            down: downs,
            releases: config.rollback.as_ref().map(|r| r.releases.clone()),
            ..Rollback::default()
        },
    });
    timings.lap("report");
    Ok(Run {
        report,
        config,
        notices,
        timings,
    })
}

/// What N-1's code uses at the base revision, looking for the names the deploy touches;
/// its warnings become notices.
fn base_usage(
    repo: &GitRepo,
    base: &Side,
    before: &crate::schema::Catalog,
    config: &Config,
    dir: &str,
    deploy: &[ParsedMigration],
    notices: &mut Vec<String>,
) -> Result<Option<crate::usage::Usage>> {
    let Some(commit) = base.info.commit.as_deref() else {
        return Ok(None);
    };
    let commit = git2::Oid::from_str(commit)?;
    let changes = deploy
        .iter()
        .flat_map(|m| m.up.statements.iter().flat_map(|s| s.changes.iter()));
    let targets = crate::usage::touched_names(changes);
    if targets.is_empty() {
        // Nothing the deploy does is judged on usage: spare the read.
        return Ok(None);
    }
    let usage = crate::usage::read_at(
        repo,
        commit,
        &base.info.rev,
        before,
        &config.usage,
        dir,
        Some(&targets),
    )?;
    if let Some(usage) = &usage {
        notices.extend(usage.warnings.iter().map(|w| format!("usage: {w}")));
    }
    Ok(usage)
}

/// N-1's revision for a local run: the upstream branch (or the remote's default branch),
/// whose merge base with the head is what shipped; `HEAD` when there is neither, said in a
/// notice.
fn default_base(repo: &GitRepo, notices: &mut Vec<String>) -> String {
    match repo.default_base() {
        Some(upstream) => upstream,
        None => {
            if repo.has_commits() {
                notices.push(
                    "no upstream branch or remote default branch: comparing with HEAD (set \
                     `base` in rollsafe.toml or pass --base to compare with what shipped)"
                        .to_string(),
                );
            }
            "HEAD".to_string()
        }
    }
}

/// The down verdict of each analysed migration of `migrations`.
fn down_entries(analyses: &[DownAnalysis], migrations: &[ParsedMigration]) -> Vec<DownEntry> {
    analyses
        .iter()
        .map(|analysis| DownEntry {
            migration: migrations[analysis.index].migration.id.clone(),
            verdict: analysis.verdict,
            notes: analysis.notes(),
        })
        .collect()
}

struct WindowInput<'a> {
    repo: &'a GitRepo,
    dir: &'a str,
    /// The head's migration files, to follow a directory that moved since a release.
    head_files: &'a Snapshot,
    config_path: Option<&'a Path>,
    head: &'a Project,
    config: &'a Config,
    settings: &'a Settings,
}

/// For each of the last `window` releases (tags matching `releases`), newest first: the
/// compat findings of every head migration the release has not run, judged against the
/// release's schema and its own retire declarations. Suppressions and severities from the
/// head's config apply, as for the deploy.
fn release_window(
    input: &WindowInput<'_>,
    rollback: &RollbackConfig,
) -> Result<Vec<ReleaseRollback>> {
    let head = input.head;
    let head_schema = final_schema(head);
    let tags = input.repo.tags_matching(&rollback.releases)?;
    if tags.is_empty() {
        bail!(
            "[rollback] releases = \"{}\" in rollsafe.toml matches no tag in this repository, \
             so the rollback window cannot be checked: fetch the tags (`git fetch --tags`; in CI, \
             a checkout with `fetch-depth: 0` and tags) or fix the pattern",
            rollback.releases
        );
    }
    let mut releases = Vec::new();
    for tag in tags.iter().rev().take(rollback.window) {
        let mut snapshot = input.repo.snapshot_at(tag.commit, input.dir)?.files;
        if snapshot.is_empty() {
            // The release may have kept the migrations elsewhere: read them there, or the
            // whole history would count as new and the window as safe.
            let release_config = config_at(input.repo, tag.commit, input.config_path)?;
            let still_at_head = |old: &str| -> Result<bool> {
                Ok(!input.repo.worktree_snapshot(old)?.files.is_empty())
            };
            let moved = super::moved::base_dir(
                input.repo,
                tag.commit,
                input.dir,
                input.head_files,
                &release_config,
                input.config_path,
                &still_at_head,
            )?;
            if let Some(old_dir) = moved {
                snapshot = input.repo.snapshot_at(tag.commit, &old_dir)?.files;
            }
        }
        let release = if snapshot.is_empty() {
            Project::empty(head.dialect, head.layout)
        } else {
            load_project(
                &snapshot,
                Some(head.dialect),
                LayoutChoice::Fixed(head.layout),
                &Config::default(),
                Some(head),
            )
            .with_context(|| format!("reading the migrations of release {}", tag.name))?
        };
        let release_config = config_at(input.repo, tag.commit, input.config_path)?;
        let shipped: HashSet<(&str, &str)> = release
            .migrations
            .iter()
            .map(|m| (m.migration.id.as_str(), m.migration.display_path()))
            .collect();
        let since: Vec<ParsedMigration> = head
            .migrations
            .iter()
            .filter(|m| !shipped.contains(&(m.migration.id.as_str(), m.migration.display_path())))
            .cloned()
            .collect();
        let before = final_schema(&release);
        // What that release's code uses, read at its tag.
        let changes = since
            .iter()
            .flat_map(|m| m.up.statements.iter().flat_map(|s| s.changes.iter()));
        let targets = crate::usage::touched_names(changes);
        let usage = crate::usage::read_at(
            input.repo,
            tag.commit,
            &tag.name,
            &before,
            &input.config.usage,
            input.dir,
            Some(&targets),
        )?;
        let ctx = Context {
            dialect: head.dialect,
            settings: input.settings,
            deploy: &since,
            before: &before,
            after: &head_schema,
            retired: &release_config.retire,
            retire_declared: &input.config.retire,
            history: None,
            usage: usage.as_ref(),
            releases: &[],
            audit: false,
            cache: Default::default(),
        };
        let raw = rules::run_category(&ctx, Some(Category::Compat));
        // An automatic retirement (info) does not break the release.
        let breaks = resolve(raw, head, input.config)
            .findings
            .into_iter()
            .filter(|resolved| resolved.severity != rules::Severity::Info)
            .map(|resolved| resolved.finding)
            .collect();
        releases.push(ReleaseRollback {
            release: tag.name.clone(),
            commit: tag.commit.to_string(),
            breaks,
        });
    }
    Ok(releases)
}

fn window_entry(release: &ReleaseRollback) -> WindowEntry {
    WindowEntry {
        release: release.release.clone(),
        commit: release.commit.clone(),
        safe: release.breaks.is_empty(),
        reasons: release
            .breaks
            .iter()
            .map(|f| format!("{} in {}: {}", f.rule, f.migration, f.message))
            .collect(),
    }
}

/// The config N-1 shipped with: the same file at the base revision (absent there: defaults).
fn config_at(repo: &GitRepo, commit: git2::Oid, config_path: Option<&Path>) -> Result<Config> {
    let Some(path) = config_path else {
        return Ok(Config::default());
    };
    let Ok(relative) = repo.repo_path(path) else {
        // A config outside the repository (`--config /etc/...`) has no base version.
        return Ok(Config::default());
    };
    match repo.file_at(commit, &relative)? {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{relative} at {commit}: not UTF-8 text"))?;
            Config::parse(
                &text,
                Path::new(&format!("{relative} (at the base revision)")),
            )
        }
        None => Ok(Config::default()),
    }
}

/// The migrations a report lists: the new and edited ones at head, and the deleted ones.
fn listed_migrations(head: &Project, base: &Project, diff: &HistoryDiff) -> Vec<ParsedMigration> {
    let mut listed: Vec<ParsedMigration> = head
        .migrations
        .iter()
        .filter(|m| m.status != MigrationStatus::Unchanged)
        .cloned()
        .collect();
    let deleted: BTreeMap<_, _> = diff.deleted.iter().map(|m| (&m.id, m)).collect();
    listed.extend(
        base.migrations
            .iter()
            .filter(|m| deleted.get(&m.migration.id) == Some(&&m.migration))
            .map(|m| ParsedMigration {
                status: MigrationStatus::Deleted,
                ..m.clone()
            }),
    );
    listed
}

fn skipped_notices(skipped: &[crate::git::SkippedPath]) -> Vec<String> {
    skipped
        .iter()
        .map(|s| {
            format!(
                "{}: skipped ({:?}): rollsafe does not follow it",
                s.path, s.reason
            )
            .to_lowercase()
        })
        .collect()
}

/// The report's file texts plus the config's, so a finding about a config entry (a
/// `[[retire]]` that names nothing) shows its own line.
fn with_config_text(
    mut sources: BTreeMap<String, String>,
    config: &Config,
) -> BTreeMap<String, String> {
    if !config.text.is_empty() {
        sources.insert(crate::config::FILE_NAME.to_string(), config.text.clone());
    }
    sources
}

/// True when a Flyway project configuration in the migrations directory or a directory above
/// it (up to the repository's root) sets `outOfOrder`: Flyway then applies an older pending
/// migration instead of rejecting it, so one merged out of order is a warning, not an error.
fn flyway_out_of_order(dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    for ancestor in dir.ancestors() {
        for name in crate::layout::flyway::PROJECT_CONFIGS {
            if let Ok(text) = std::fs::read_to_string(ancestor.join(name)) {
                return crate::layout::flyway::out_of_order_enabled(name, &text);
            }
        }
        if ancestor.join(".git").exists() {
            break;
        }
    }
    false
}
