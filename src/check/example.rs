//! Runs a rule's examples (`rules/<id>.toml`) through the whole pipeline.

use super::audit_history;
use crate::config::Config;
use crate::layout::{self, LayoutKind, Migration, TransactionMode};
use crate::project::{MigrationStatus, ParsedMigration, Project};
use crate::resolve::{check_rule_ids, resolve_with_unused, Resolved};
use crate::sql;
use anyhow::{Context as _, Result};
use std::collections::BTreeMap;

/// Runs one rule example (`rules/<id>.toml`): `setup` is an earlier migration that builds
/// the schema N-1 runs on, `sql` the deploy. Returns the findings on the deploy, resolved.
pub fn run_example(
    setup: &str,
    sql: &str,
    config_toml: &str,
    transaction: bool,
) -> Result<Vec<Resolved>> {
    run_example_with_down(setup, sql, None, config_toml, transaction)
}

/// `run_example` where the deploy migration has a down script.
pub fn run_example_with_down(
    setup: &str,
    sql: &str,
    down: Option<&str>,
    config_toml: &str,
    transaction: bool,
) -> Result<Vec<Resolved>> {
    let config = Config::parse(config_toml, std::path::Path::new("rollsafe.toml"))
        .context("example config")?;
    check_rule_ids(&config, std::path::Path::new("rollsafe.toml"))?;
    let dialect = config.dialect.unwrap_or_default();
    let mode = if transaction {
        TransactionMode::Wrapped
    } else {
        TransactionMode::None
    };
    let mut sources = BTreeMap::new();
    let mut migrations = Vec::new();
    let steps = [
        ("001", "001_setup.up.sql", setup, None),
        ("002", "002_deploy.up.sql", sql, down),
    ];
    for (id, path, text, down) in steps {
        let part = |path: &str, text: &str| layout::SqlPart {
            path: path.to_string(),
            range: 0..text.len(),
        };
        let down_path = path.replace(".up.", ".down.");
        let mut paths = vec![path.to_string()];
        if let Some(down) = down {
            sources.insert(down_path.clone(), down.to_string());
            paths.push(down_path.clone());
        }
        migrations.push(ParsedMigration {
            migration: Migration {
                id: id.to_string(),
                version: layout::Version::parse(id),
                name: path.trim_end_matches(".up.sql").to_string(),
                kind: layout::MigrationKind::Versioned,
                up: Some(part(path, text)),
                down: down.map(|down| part(&down_path, down)),
                paths,
                transaction: mode,
            },
            up: sql::parse_sql(text, 0..text.len(), dialect),
            down: down.map(|down| sql::parse_sql(down, 0..down.len(), dialect)),
            status: MigrationStatus::Unchanged,
        });
        sources.insert(path.to_string(), text.to_string());
    }
    let project = Project {
        dialect,
        layout: LayoutKind::Plain,
        migrations,
        ignored: Vec::new(),
        sources,
    };
    let raw = audit_history(
        &project,
        &config.settings_for(project.has_downs()),
        &config.retire,
    );
    let outcome = resolve_with_unused(raw, &project, &config, &project.migrations[1..]);
    Ok(outcome
        .findings
        .into_iter()
        .filter(|f| matches!(f.finding.migration.as_str(), "002" | ""))
        .collect())
}
