//! What discovery did not take: another tool's markers in a migration file (an error, since
//! the file would be misread), and files in the migrations directory that are not
//! migrations of the layout (listed with the reason, never dropped silently).

use super::{common, Ignored, LayoutKind, Migration, Version, LAYOUTS};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use std::collections::BTreeSet;

/// A line's marker form: lowercase, without the space after `--` (`--+goose up`).
fn marker_form(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?;
    Some(format!("--{}", rest.trim_start().to_ascii_lowercase()))
}

/// The layout whose marker `line` is, other than `layout`.
fn foreign_marker(line: &str, layout: LayoutKind) -> Option<LayoutKind> {
    let form = marker_form(line)?;
    let own = layout.spec().markers;
    if own.iter().any(|marker| form.starts_with(marker)) {
        return None;
    }
    LAYOUTS
        .iter()
        .find(|spec| spec.markers.iter().any(|marker| form.starts_with(marker)))
        .map(|spec| spec.kind)
}

/// Errors on the first migration file that carries another tool's marker: the layout would
/// read its sections wrongly (a down section replayed as part of the up).
pub(super) fn reject_foreign_markers(
    snapshot: &Snapshot,
    layout: LayoutKind,
    migrations: &[Migration],
) -> Result<()> {
    let files: BTreeSet<&str> = migrations
        .iter()
        .flat_map(|m| m.up.iter().chain(m.down.iter()))
        .map(|part| part.path.as_str())
        .collect();
    for path in files {
        let text = snapshot.text(path)?;
        for (number, line) in text.lines().enumerate() {
            let Some(tool) = foreign_marker(line, layout) else {
                continue;
            };
            bail!(
                "{path}:{}: `{}` is a {} marker, but the migrations are read as {}, which does \
                 not know it (the file would be misread); use `--layout {}` or \
                 `layout = \"{}\"` in rollsafe.toml",
                number + 1,
                line.trim(),
                tool.name(),
                layout.name(),
                tool.name(),
                tool.name()
            );
        }
    }
    Ok(())
}

/// Extensions of code migrations that runners keep beside SQL ones (goose's Go migrations,
/// Flyway's Java ones).
const CODE: &[&str] = &[".go", ".java", ".kt", ".py", ".rb", ".js", ".ts"];

/// SQL files and code migrations in the snapshot that no migration uses, the reader did not
/// account for, and the layout does not use otherwise, with the reason.
pub(super) fn ignored(
    snapshot: &Snapshot,
    layout: LayoutKind,
    migrations: &[Migration],
    accounted: &[&str],
) -> Vec<Ignored> {
    let used: BTreeSet<&str> = migrations
        .iter()
        .flat_map(|migration| migration.paths.iter().map(String::as_str))
        .chain(accounted.iter().copied())
        .collect();
    let spec = layout.spec();
    snapshot
        .paths()
        .filter(|path| !used.contains(path) && !(spec.auxiliary)(path))
        .filter_map(|path| {
            let reason = if common::is_sql(path) {
                format!(
                    "matches no {} migration pattern ({})",
                    spec.name, spec.pattern
                )
            } else {
                code_migration(path, migrations)?
            };
            Some(Ignored {
                path: path.to_string(),
                reason,
            })
        })
        .collect()
}

/// The reason line for a code migration: its version and where it runs among the SQL ones.
fn code_migration(path: &str, migrations: &[Migration]) -> Option<String> {
    let file = common::file_name(path);
    if !CODE.iter().any(|ext| file.ends_with(ext)) || file.ends_with("_test.go") {
        return None;
    }
    let unprefixed = file.strip_prefix(['V', 'v']).unwrap_or(file);
    let digits = unprefixed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unprefixed.len());
    if digits == 0 {
        return None;
    }
    let version = &unprefixed[..digits];
    let key = Version::parse(version);
    let before = migrations.iter().rev().find(|m| m.version < key);
    let after = migrations.iter().find(|m| m.version >= key);
    let position = match (before, after) {
        (Some(before), Some(after)) => format!(
            "runs after {} and before {}",
            before.display_path(),
            after.display_path()
        ),
        (Some(before), None) => format!("runs last, after {}", before.display_path()),
        (None, Some(after)) => format!("runs first, before {}", after.display_path()),
        (None, None) => "runs alone".to_string(),
    };
    Some(format!(
        "code migration (version {version}, {position}): rollsafe cannot analyse code"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_of_other_tools_are_found_in_any_spacing() {
        assert_eq!(
            foreign_marker("-- +migrate Down", LayoutKind::Goose),
            Some(LayoutKind::SqlMigrate)
        );
        assert_eq!(
            foreign_marker("--+goose Up", LayoutKind::GolangMigrate),
            Some(LayoutKind::Goose)
        );
        assert_eq!(
            foreign_marker("  -- migrate:down", LayoutKind::Plain),
            Some(LayoutKind::Dbmate)
        );
        assert_eq!(foreign_marker("-- +goose Up", LayoutKind::Goose), None);
        assert_eq!(
            foreign_marker("-- migrate the users", LayoutKind::Plain),
            None
        );
        assert_eq!(
            foreign_marker("SELECT 1; -- +goose Up", LayoutKind::Plain),
            None
        );
    }
}
