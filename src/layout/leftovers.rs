//! What discovery did not take: another tool's markers in a migration file (an error, since
//! the file would be misread), and files in the migrations directory that are not
//! migrations of the layout (listed with the reason, never dropped silently).

use super::{common, Ignored, LayoutKind, Migration, MigrationKind, TransactionMode, LAYOUTS};
use crate::source::Snapshot;
use anyhow::{bail, Result};
use std::collections::BTreeSet;

/// A line's marker form: lowercase, without the space after `--` (`--+goose up`).
fn marker_form(line: &str) -> Option<String> {
    let rest = line
        .trim_start_matches('\u{feff}')
        .trim()
        .strip_prefix("--")?;
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

/// `(version, name)` of a code migration's file name (`00003_backfill.go`,
/// `V3__Backfill.java`); test files and names without a version are not migrations.
fn code_migration_name(file: &str) -> Option<(&str, &str)> {
    let extension = CODE.iter().find(|ext| file.ends_with(*ext))?;
    if file.ends_with("_test.go") {
        return None;
    }
    let stem = &file[..file.len() - extension.len()];
    let unprefixed = stem.strip_prefix(['V', 'v']).unwrap_or(stem);
    let digits = unprefixed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unprefixed.len());
    if digits == 0 {
        return None;
    }
    let name = unprefixed[digits..].trim_start_matches(['_', '-', '.']);
    Some((&unprefixed[..digits], name))
}

/// Code migrations at the top of the migrations directory (where goose and Flyway keep
/// them), as `MigrationKind::Code` migrations.
pub(super) fn code_migrations(
    snapshot: &Snapshot,
    layout: LayoutKind,
    migrations: &[Migration],
    accounted: &[&str],
) -> Vec<Migration> {
    let used = used_paths(migrations, accounted);
    common::root_files(snapshot)
        .filter(|path| !used.contains(path) && !(layout.spec().auxiliary)(path))
        .filter_map(|path| {
            let (version, name) = code_migration_name(path)?;
            let mut migration = common::versioned(version, name, None, None, TransactionMode::None);
            migration.kind = MigrationKind::Code;
            migration.paths = vec![path.to_string()];
            Some(migration)
        })
        .collect()
}

fn used_paths<'a>(migrations: &'a [Migration], accounted: &[&'a str]) -> BTreeSet<&'a str> {
    migrations
        .iter()
        .flat_map(|migration| migration.paths.iter().map(String::as_str))
        .chain(accounted.iter().copied())
        .collect()
}

/// SQL files in the snapshot that no migration uses, the reader did not account for, and
/// the layout does not use otherwise, with the reason.
pub(super) fn ignored(
    snapshot: &Snapshot,
    layout: LayoutKind,
    migrations: &[Migration],
    accounted: &[&str],
) -> Vec<Ignored> {
    let used = used_paths(migrations, accounted);
    let spec = layout.spec();
    snapshot
        .paths()
        .filter(|path| common::is_sql(path) && !used.contains(path) && !(spec.auxiliary)(path))
        .map(|path| Ignored {
            path: path.to_string(),
            reason: format!(
                "matches no {} migration pattern ({})",
                spec.name, spec.pattern
            ),
        })
        .collect()
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

    #[test]
    fn code_migration_names() {
        assert_eq!(
            code_migration_name("00003_backfill.go"),
            Some(("00003", "backfill"))
        );
        assert_eq!(
            code_migration_name("V3__Backfill.java"),
            Some(("3", "Backfill"))
        );
        assert_eq!(code_migration_name("migrations.go"), None);
        assert_eq!(code_migration_name("00003_backfill_test.go"), None);
        assert_eq!(code_migration_name("3_x.sql"), None);
    }
}
