//! `rollsafe.toml`: found by walking up from the checked directory. What the user wrote,
//! typed: unknown keys and bad values are errors that name the file, the line and the key,
//! and every entry a finding can be about keeps its position (`retire[i].span`, the line of
//! each `[rules]` key). Whether a rule id exists is checked by the caller that knows the
//! rules (`resolve::check_rule_ids`).

use crate::dialect::Dialect;
use crate::ir::QualifiedName;
use crate::layout::{CustomPattern, LayoutChoice, LayoutKind};
use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "rollsafe.toml";

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `postgres` (default), `mysql` or `sqlite`.
    #[serde(default, deserialize_with = "dialect_name")]
    pub dialect: Option<Dialect>,
    /// A layout name, or `auto` (default).
    #[serde(default, deserialize_with = "layout_name")]
    pub layout: Option<LayoutChoice>,
    /// Where a layout keeps one file per dialect (popx), read this dialect's files: `cockroach`
    /// reads CockroachDB's files as Postgres. Default: the files of `dialect`.
    #[serde(default, deserialize_with = "dialect_files_name")]
    pub dialect_files: Option<String>,
    /// `[custom_layout]`: a layout described by a file-name pattern (`layout = "custom"`, the
    /// default when this table is present).
    pub custom_layout: Option<CustomLayout>,
    /// The migrations directory, relative to the config file.
    pub migrations: Option<String>,
    /// The revision N-1 runs when `--base` is not given (default `HEAD`).
    pub base: Option<String>,
    /// `error` (default), `warning` or `never`.
    pub fail_on: Option<FailOn>,
    /// Whether plain numbered files run in one transaction each (default true).
    pub plain_transaction: Option<bool>,
    /// The Postgres major version the migrations run on (default 15).
    pub pg_version: Option<u32>,
    /// The migration runner sets `lock_timeout` itself, so `missing-lock-timeout` is off.
    pub lock_timeout_set_by_runner: Option<bool>,
    /// Every migration with a schema effect needs a down (default: when any migration of the
    /// project has one).
    pub require_down: Option<bool>,
    /// The parse cache's directory, relative to the config file (default:
    /// `$XDG_CACHE_HOME/rollsafe`, else `~/.cache/rollsafe`).
    pub cache_dir: Option<String>,
    /// Per-rule severity: `error`, `warning`, `info` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    #[serde(default)]
    pub retire: Vec<Retire>,
    pub rollback: Option<RollbackConfig>,
    /// Where N-1's code names tables and columns (the usage stage).
    #[serde(default)]
    pub usage: UsageConfig,
    /// Where each `[rules]` key is (1-based line), for errors about it.
    #[serde(skip)]
    pub rule_lines: BTreeMap<String, usize>,
    /// The text the config was read from (empty for the defaults), so a finding about an
    /// entry can quote its line.
    #[serde(skip)]
    pub text: String,
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

/// When `rollsafe check` exits 1.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// On an unsuppressed error (the default).
    Error,
    /// On an unsuppressed error or warning.
    Warning,
    /// Never: report only.
    Never,
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
    /// The byte span of the entry's `object` value in the config text (empty when built in
    /// code).
    #[serde(skip)]
    pub span: Range<usize>,
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
        let error = |err: toml::de::Error| {
            anyhow::anyhow!("{}: {}", path.display(), err.to_string().trim_end())
        };
        let mut config: Config = toml::from_str(text).map_err(error)?;
        let positions: Positions = toml::from_str(text).map_err(error)?;
        for (entry, spanned) in config.retire.iter_mut().zip(&positions.retire) {
            entry.span = spanned.object.span();
        }
        config.rule_lines = positions
            .rules
            .iter()
            .map(|(id, value)| (id.clone(), line_at(text, value.span().start)))
            .collect();
        config.text = text.to_string();
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read config", path.display()))?;
        Config::parse(&text, path)
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

    /// The layout config names: `layout`, else the custom layout when `[custom_layout]` is
    /// present.
    pub fn layout_choice(&self) -> Option<LayoutChoice> {
        match (self.layout, &self.custom_layout) {
            (Some(LayoutChoice::Fixed(kind)), _) => Some(LayoutChoice::Fixed(kind)),
            (_, Some(_)) => Some(LayoutChoice::Fixed(LayoutKind::Custom)),
            (choice, None) => choice,
        }
    }

    /// The 1-based line of a retire entry, or of a `[rules]` key.
    pub fn line_of_rule(&self, id: &str) -> usize {
        self.rule_lines.get(id).copied().unwrap_or(1)
    }
}

/// The positions of the entries findings and errors point at; the rest of the file is
/// ignored here (it was checked by the typed parse).
#[derive(Deserialize)]
struct Positions {
    #[serde(default)]
    retire: Vec<RetirePosition>,
    #[serde(default)]
    rules: BTreeMap<String, toml::Spanned<toml::Value>>,
}

#[derive(Deserialize)]
struct RetirePosition {
    object: toml::Spanned<toml::Value>,
}

fn dialect_files_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(deserializer)?;
    match name.as_str() {
        "postgres" | "mysql" | "sqlite3" | "cockroach" => Ok(Some(name)),
        _ => Err(serde::de::Error::custom(format!(
            "unknown dialect_files `{name}` (expected postgres, mysql, sqlite3 or cockroach)"
        ))),
    }
}

/// A `[custom_layout]` pattern, checked as it is read so the error points at it.
fn custom_pattern<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let pattern = String::deserialize(deserializer)?;
    let check = CustomPattern {
        pattern: pattern.clone(),
        up: "up".to_string(),
        down: "down".to_string(),
        transaction: true,
    };
    match check.compile() {
        Ok(_) => Ok(pattern),
        Err(err) => Err(serde::de::Error::custom(format!("{err:#}"))),
    }
}

/// `[custom_layout]`: how a project with its own runner names its migrations.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomLayout {
    /// Placeholders `{version}`, `{name}`, `{direction}`, `{dialect}`, matched against paths
    /// below the migrations directory: `"{dialect}/V{version}.{name}.{direction}.sql"`.
    #[serde(deserialize_with = "custom_pattern")]
    pub pattern: String,
    /// The words `{direction}` stands for.
    #[serde(default = "default_up")]
    pub up: String,
    #[serde(default = "default_down")]
    pub down: String,
    /// Whether the runner wraps each migration in a transaction.
    #[serde(default = "default_true")]
    pub transaction: bool,
}

fn default_up() -> String {
    "up".to_string()
}

fn default_down() -> String {
    "down".to_string()
}

fn default_true() -> bool {
    true
}

impl CustomLayout {
    pub fn pattern(&self) -> CustomPattern {
        CustomPattern {
            pattern: self.pattern.clone(),
            up: self.up.clone(),
            down: self.down.clone(),
            transaction: self.transaction,
        }
    }
}

/// The 1-based line of byte `offset` of `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn dialect_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Dialect>, D::Error> {
    let name = String::deserialize(deserializer)?;
    Dialect::parse_name(&name).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown dialect `{name}` (expected postgres, mysql or sqlite)"
        ))
    })
}

fn layout_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<LayoutChoice>, D::Error> {
    let name = String::deserialize(deserializer)?;
    if name == "auto" {
        return Ok(Some(LayoutChoice::Auto));
    }
    LayoutKind::parse_name(&name)
        .map(|kind| Some(LayoutChoice::Fixed(kind)))
        .ok_or_else(|| {
            let names: Vec<&str> = LayoutKind::ALL.iter().map(|kind| kind.name()).collect();
            serde::de::Error::custom(format!(
                "unknown layout `{name}` (expected auto, {})",
                names.join(", ")
            ))
        })
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
            span: 0..0,
        };
        assert!(column.covers(Dialect::Postgres, &users(), Some("legacy_email")));
        assert!(!column.covers(Dialect::Postgres, &users(), Some("email")));
        assert!(!column.covers(Dialect::Postgres, &users(), None));

        let table = Retire {
            object: "users".into(),
            reason: String::new(),
            span: 0..0,
        };
        assert!(table.covers(Dialect::Postgres, &users(), None));
        assert!(table.covers(Dialect::Postgres, &users(), Some("email")));

        let qualified = Retire {
            object: "public.users.legacy_email".into(),
            reason: String::new(),
            span: 0..0,
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
