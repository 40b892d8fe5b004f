//! `rollsafe.toml`: found by walking up from the checked directory. Unknown keys and unknown
//! rule ids are errors that name the key and line.

use crate::dialect::Dialect;
use crate::ir::QualifiedName;
use crate::rules::{self, Severity};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "rollsafe.toml";

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `postgres` (default), `mysql` or `sqlite`.
    pub dialect: Option<String>,
    /// A layout name, or `auto` (default).
    pub layout: Option<String>,
    /// The migrations directory, relative to the config file.
    pub migrations: Option<String>,
    /// The revision N-1 runs when `--base` is not given (default `HEAD`).
    pub base: Option<String>,
    /// `error` (default), `warning` or `never`.
    pub fail_on: Option<String>,
    /// Whether plain numbered files run in one transaction each (default true).
    pub plain_transaction: Option<bool>,
    /// The Postgres major version the migrations run on (default 15).
    pub pg_version: Option<u32>,
    /// The migration runner sets `lock_timeout` itself, so `missing-lock-timeout` is off.
    pub lock_timeout_set_by_runner: Option<bool>,
    /// Every migration with a schema effect needs a down (default: when any migration of the
    /// project has one).
    pub require_down: Option<bool>,
    /// Per-rule severity: `error`, `warning`, `info` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    #[serde(default)]
    pub retire: Vec<Retire>,
    pub rollback: Option<RollbackConfig>,
    /// Where N-1's code names tables and columns (the usage stage).
    #[serde(default)]
    pub usage: UsageConfig,
}

/// `[usage]`: the sources the usage stage reads at N-1's revision. Each is auto-detected;
/// a key given here replaces detection for that source. Paths and globs are relative to
/// the repository root.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UsageConfig {
    /// `false` turns the usage stage off: compat findings rest on the presumption alone.
    pub enabled: Option<bool>,
    /// Diesel `schema.rs` files (default: `diesel.toml`'s `[print_schema] file`, else every
    /// `src/schema.rs`); `[]` turns Diesel off.
    pub diesel: Option<Vec<String>>,
    /// Prisma schema files (default: every `*.prisma`); `[]` turns Prisma off.
    pub prisma: Option<Vec<String>>,
    /// sqlx's offline query data and `query!` macros (default true).
    pub sqlx: Option<bool>,
    /// sqlc config files (default: every `sqlc.yaml`, `sqlc.yml`, `sqlc.json`); `[]` turns
    /// sqlc off.
    pub sqlc: Option<Vec<String>>,
    /// Globs of plain query files, e.g. `["db/queries/**/*.sql"]`.
    #[serde(default)]
    pub queries: Vec<String>,
    /// Globs of the files the mention scan reads (default: source files by extension,
    /// outside tests, docs, vendored and generated directories); `[]` turns it off.
    pub scan: Option<Vec<String>>,
    /// Globs of files no usage source reads.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The settings rules read, with their defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What rewrites a table and what can skip a scan depends on the Postgres version.
    pub pg_version: u32,
    pub lock_timeout_set_by_runner: bool,
    /// `missing-down` applies: the team writes down migrations.
    pub require_down: bool,
    /// `[rollback] min_window`: how many releases an image-only rollback must reach.
    pub min_window: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pg_version: 15,
            lock_timeout_set_by_runner: false,
            require_down: false,
            min_window: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Off,
    Info,
    Warning,
    Error,
}

impl RuleLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleLevel::Off => None,
            RuleLevel::Info => Some(Severity::Info),
            RuleLevel::Warning => Some(Severity::Warning),
            RuleLevel::Error => Some(Severity::Error),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    /// A tag glob naming releases (`v*`).
    pub releases: String,
    /// How many of the latest releases the rollback window covers.
    #[serde(default = "default_window")]
    pub window: usize,
    /// A window shorter than this is a `rollback-window` finding.
    #[serde(default)]
    pub min_window: usize,
}

fn default_window() -> usize {
    5
}

/// `[[retire]]`: an object the application no longer uses, so a later release may drop it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retire {
    /// `table`, `table.column` or `schema.table.column`.
    pub object: String,
    #[serde(default)]
    pub reason: String,
}

impl Retire {
    /// True when this entry retires `table` (with `column: None`) or the column `column` of
    /// `table` (a retired table covers all its columns). Two-part names are read both ways:
    /// `a.b` is table `a` column `b`, or table `b` in schema `a`.
    pub fn covers(&self, dialect: Dialect, table: &QualifiedName, column: Option<&str>) -> bool {
        let parts: Vec<&str> = self.object.split('.').map(str::trim).collect();
        let default_schema = dialect.default_schema();
        let is_table = |schema: &str, name: &str| table.schema == schema && table.name == name;
        match (parts.as_slice(), column) {
            ([name], _) => is_table(default_schema, name),
            ([first, second], None) => is_table(first, second),
            ([first, second], Some(column)) => {
                is_table(first, second) || (is_table(default_schema, first) && *second == column)
            }
            ([schema, name, retired_column], Some(column)) => {
                is_table(schema, name) && *retired_column == column
            }
            _ => false,
        }
    }
}

impl Config {
    /// Parses `text` read from `path`; errors name the file, the line and the key.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text)
            .map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err.to_string().trim_end()))?;
        for id in config.rules.keys() {
            if rules::meta(id).is_none() {
                let line = line_of(text, id);
                bail!(
                    "{}:{line}: unknown rule id `{id}` in [rules] (`rollsafe rules` lists them)",
                    path.display()
                );
            }
        }
        if let Some(name) = &config.dialect {
            if Dialect::parse_name(name).is_none() {
                bail!(
                    "{}:{}: unknown dialect `{name}` (expected postgres, mysql or sqlite)",
                    path.display(),
                    line_of(text, "dialect")
                );
            }
        }
        if let Some(level) = &config.fail_on {
            if !matches!(level.as_str(), "error" | "warning" | "never") {
                bail!(
                    "{}:{}: fail_on must be error, warning or never, not `{level}`",
                    path.display(),
                    line_of(text, "fail_on")
                );
            }
        }
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read config", path.display()))?;
        Config::parse(&text, path)
    }

    /// The severity of a rule after config: `None` when config turns it off.
    pub fn severity_of(&self, rule: &str, default: Severity) -> Option<Severity> {
        match self.rules.get(rule) {
            Some(level) => level.severity(),
            None => Some(default),
        }
    }

    /// The settings rules read. `require_down` defaults to whether `project_has_downs`.
    pub fn settings_for(&self, project_has_downs: bool) -> Settings {
        Settings {
            require_down: self.require_down.unwrap_or(project_has_downs),
            ..self.settings()
        }
    }

    pub fn settings(&self) -> Settings {
        let defaults = Settings::default();
        Settings {
            pg_version: self.pg_version.unwrap_or(defaults.pg_version),
            lock_timeout_set_by_runner: self
                .lock_timeout_set_by_runner
                .unwrap_or(defaults.lock_timeout_set_by_runner),
            require_down: self.require_down.unwrap_or(defaults.require_down),
            min_window: self.rollback.as_ref().map_or(0, |r| r.min_window),
        }
    }

    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect.as_deref().and_then(Dialect::parse_name)
    }
}

/// The first line (1-based) that mentions `needle`, for error messages.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map_or(1, |index| index + 1)
}

/// Finds `rollsafe.toml` in `start` or the nearest directory above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> QualifiedName {
        QualifiedName::new("public", "users")
    }

    #[test]
    fn retire_entries_cover_columns_and_tables() {
        let column = Retire {
            object: "users.legacy_email".into(),
            reason: String::new(),
        };
        assert!(column.covers(Dialect::Postgres, &users(), Some("legacy_email")));
        assert!(!column.covers(Dialect::Postgres, &users(), Some("email")));
        assert!(!column.covers(Dialect::Postgres, &users(), None));

        let table = Retire {
            object: "users".into(),
            reason: String::new(),
        };
        assert!(table.covers(Dialect::Postgres, &users(), None));
        assert!(table.covers(Dialect::Postgres, &users(), Some("email")));

        let qualified = Retire {
            object: "public.users.legacy_email".into(),
            reason: String::new(),
        };
        assert!(qualified.covers(Dialect::Postgres, &users(), Some("legacy_email")));
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let err = Config::parse(
            "dialect = \"postgres\"\nfail_onn = \"error\"\n",
            Path::new("rollsafe.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fail_onn"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }
}
