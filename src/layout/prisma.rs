//! Prisma Migrate: `<timestamp>_<name>/migration.sql`, plus `migration_lock.toml` whose
//! `provider` names the database.
//!
//! Transactions: Prisma does not wrap a migration in `BEGIN`/`COMMIT`; its schema engine
//! sends the whole `migration.sql` as one multi-statement query, which Postgres runs in one
//! implicit transaction (why a lone `CREATE INDEX CONCURRENTLY` works in its own migration
//! and fails next to other statements). That is `TransactionMode::ImplicitMultiStatement`.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::dialect::Dialect;
use crate::source::Snapshot;
use anyhow::Result;
use serde::Deserialize;

pub(super) const MIGRATION_FILE: &str = "migration.sql";
pub(super) const LOCK_FILE: &str = "migration_lock.toml";

#[derive(Deserialize)]
struct Lock {
    provider: Option<String>,
}

pub(super) fn discover(snapshot: &Snapshot) -> Vec<Migration> {
    common::files_one_level_down(snapshot)
        .filter(|&(_, file)| file == MIGRATION_FILE)
        .map(|(dir, file)| {
            let (version, name) = dir.split_once('_').unwrap_or((dir, ""));
            let up = common::whole_file(snapshot, &format!("{dir}/{file}"));
            let mode = TransactionMode::ImplicitMultiStatement;
            common::versioned(version, name, Some(up), None, mode)
        })
        .collect()
}

/// The dialect `migration_lock.toml` pins, if the file is there and names one we know.
pub(super) fn dialect(snapshot: &Snapshot) -> Result<Option<Dialect>> {
    if snapshot.get(LOCK_FILE).is_none() {
        return Ok(None);
    }
    let text = snapshot.text(LOCK_FILE)?;
    let lock: Lock =
        toml::from_str(text).map_err(|err| common::toml_error(LOCK_FILE, text, &err))?;
    Ok(lock.provider.as_deref().and_then(provider_dialect))
}

fn provider_dialect(provider: &str) -> Option<Dialect> {
    match provider {
        // CockroachDB speaks the Postgres dialect.
        "cockroachdb" => Some(Dialect::Postgres),
        other => Dialect::parse_name(other),
    }
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    let in_dir = file
        .in_subdir()
        .is_some_and(|(_, name)| name == MIGRATION_FILE);
    if in_dir || file.top_file() == Some(LOCK_FILE) {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Ok(Found {
        migrations: discover(snapshot),
        dialect: dialect(snapshot)?,
        ..Found::default()
    })
}
