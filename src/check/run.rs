//! `rollsafe check`: which migrations are the deploy, and the report of one run.

use super::{audit_history, load_project, resolve};
use crate::config::Config;
use crate::dialect::Dialect;
use crate::layout::{LayoutChoice, LayoutKind};
use anyhow::{Context as _, Result};

/// What `rollsafe check` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The migrations directory (or a directory below which `rollsafe.toml` names it).
    pub dir: std::path::PathBuf,
    /// The history audit: every migration is its own deploy.
    pub all: bool,
    pub base: Option<String>,
    pub head: Option<String>,
    pub dialect: Option<Dialect>,
    pub layout: LayoutChoice,
    /// An explicit config file; otherwise `rollsafe.toml` is looked up from `dir` upwards.
    pub config: Option<std::path::PathBuf>,
}

/// The config for a run: the explicit file, or the nearest `rollsafe.toml` above `dir`, or
/// the defaults.
pub fn load_config(options: &CheckOptions) -> Result<(Config, Option<std::path::PathBuf>)> {
    let path = match &options.config {
        Some(path) => Some(path.clone()),
        None => crate::config::find(&options.dir),
    };
    match path {
        Some(path) => Ok((Config::load(&path)?, Some(path))),
        None => Ok((Config::default(), None)),
    }
}

/// Runs a check and builds its report.
pub fn run(options: &CheckOptions) -> Result<(crate::report::Report, Config)> {
    let (config, _) = load_config(options)?;
    let layout_choice = match (options.layout, config.layout.as_deref()) {
        (LayoutChoice::Auto, Some(name)) if name != "auto" => LayoutChoice::Fixed(
            LayoutKind::parse_name(name)
                .with_context(|| format!("unknown layout `{name}` in config"))?,
        ),
        (choice, _) => choice,
    };
    let snapshot = crate::source::read_dir(&options.dir)?;
    if snapshot.is_empty() {
        anyhow::bail!(
            "{}: the directory is empty: no migrations to check",
            options.dir.display()
        );
    }
    let project = load_project(&snapshot, options.dialect, layout_choice, &config)?;
    let raw = audit_history(&project, &config.settings(), &config.retire);
    let outcome = resolve(raw, &project, &config);
    let report = crate::report::Report::build(crate::report::ReportInput {
        project: &project,
        migrations: &project.migrations,
        outcome,
        path_prefix: "",
        base: None,
        head: crate::report::RevInfo {
            rev: "worktree".to_string(),
            commit: None,
        },
    });
    Ok((report, config))
}
