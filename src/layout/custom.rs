//! A layout described in `rollsafe.toml` for projects with their own runner:
//!
//! ```toml
//! layout = "custom"
//! [custom_layout]
//! pattern = "{dialect}/V{version}.{name}.{direction}.sql"
//! up = "up"            # the words {direction} stands for (default up / down)
//! down = "down"
//! transaction = true   # whether the runner wraps each file in a transaction (default)
//! ```
//!
//! The pattern is matched against paths below the migrations directory, so per-dialect
//! subdirectories are part of it. `{version}` is required; `{name}`, `{direction}` (without
//! it every file is an up) and `{dialect}` (files of another dialect are set aside) are
//! optional. Versions sort numerically, as everywhere.

use super::common::{self, Direction, Script};
use super::detect::Candidate;
use super::{golang_migrate, Found, LayoutOptions, TransactionMode, Vote};
use crate::dialect::Dialect;
use crate::source::Snapshot;
use anyhow::{bail, Context, Result};
use regex::Regex;

/// `[custom_layout]` in config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPattern {
    pub pattern: String,
    pub up: String,
    pub down: String,
    pub transaction: bool,
}

impl CustomPattern {
    /// The pattern as an anchored regex; an error names what is wrong with it.
    pub fn compile(&self) -> Result<Regex> {
        let mut regex = String::from("^");
        let mut rest = self.pattern.as_str();
        let mut has_version = false;
        while let Some(open) = rest.find('{') {
            regex.push_str(&regex::escape(&rest[..open]));
            let close = rest[open..]
                .find('}')
                .with_context(|| format!("`{{` without `}}` in pattern `{}`", self.pattern))?;
            let placeholder = &rest[open + 1..open + close];
            regex.push_str(&match placeholder {
                "version" => {
                    has_version = true;
                    r"(?<version>[0-9]+(?:[._][0-9]+)*)".to_string()
                }
                "name" => r"(?<name>[^/]+?)".to_string(),
                "dialect" => r"(?<dialect>[A-Za-z0-9]+)".to_string(),
                "direction" => format!(
                    "(?<direction>{}|{})",
                    regex::escape(&self.up),
                    regex::escape(&self.down)
                ),
                other => bail!(
                    "unknown placeholder `{{{other}}}` in pattern `{}` (known: {{version}}, \
                     {{name}}, {{direction}}, {{dialect}})",
                    self.pattern
                ),
            });
            rest = &rest[open + close + 1..];
        }
        regex.push_str(&regex::escape(rest));
        regex.push('$');
        if !has_version {
            bail!("pattern `{}` has no {{version}}", self.pattern);
        }
        Regex::new(&regex).with_context(|| format!("pattern `{}`", self.pattern))
    }
}

/// Never detected: the user names it.
pub(super) fn vote(_: &Candidate<'_>) -> Vote {
    Vote::No
}

pub(super) fn read(snapshot: &Snapshot, options: &LayoutOptions) -> Result<Found> {
    let Some(custom) = &options.custom else {
        bail!("layout `custom` needs a `[custom_layout]` table with a `pattern` in rollsafe.toml");
    };
    let regex = custom.compile()?;
    let dialect = options.dialect.unwrap_or_default();
    let mode = if custom.transaction {
        TransactionMode::Wrapped
    } else {
        TransactionMode::None
    };
    let mut found = Found::default();
    let mut scripts = Vec::new();
    for path in snapshot.paths() {
        let Some(captures) = regex.captures(path) else {
            continue;
        };
        if let Some(named) = captures.name("dialect") {
            found.dialect = Some(dialect);
            if Dialect::parse_name(named.as_str()) != Some(dialect) {
                found.set_aside.push(path.to_string());
                continue;
            }
        }
        let direction = match captures.name("direction") {
            Some(word) if word.as_str() == custom.down => Direction::Down,
            _ => Direction::Up,
        };
        let text = |name| captures.name(name).map_or("", |m| m.as_str());
        scripts.push(Script {
            version: text("version"),
            name: text("name"),
            direction,
            path,
        });
    }
    found.migrations = common::pair_scripts(scripts)
        .into_iter()
        .map(|pair| golang_migrate::migration(snapshot, pair, mode))
        .collect();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(pattern: &str) -> CustomPattern {
        CustomPattern {
            pattern: pattern.to_string(),
            up: "up".to_string(),
            down: "down".to_string(),
            transaction: true,
        }
    }

    #[test]
    fn compiles_placeholders_and_rejects_unknown_ones() {
        let regex = custom("V{version}.{name}.{direction}.sql")
            .compile()
            .unwrap();
        let captures = regex.captures("V0001.Initial_Schema.up.sql").unwrap();
        assert_eq!(&captures["version"], "0001");
        assert_eq!(&captures["name"], "Initial_Schema");
        assert_eq!(&captures["direction"], "up");
        assert!(!regex.is_match("V0001.Initial_Schema.sql"));
        let err = custom("V{version}_{title}.sql").compile().unwrap_err();
        assert!(
            err.to_string().contains("unknown placeholder `{title}`"),
            "{err}"
        );
        let err = custom("{name}.sql").compile().unwrap_err();
        assert!(err.to_string().contains("no {version}"), "{err}");
    }
}
