//! sqitch: `sqitch.plan` lists the changes in deploy order; `deploy/<name>.sql` is a change's
//! up, `revert/<name>.sql` its down, `verify/` is not migration SQL. `sqitch.conf`'s
//! `[core] engine` names the database.
//!
//! Ids: a change is known by its name, which the plan keeps unique except for reworked
//! changes. An older instance of a reworked change runs `deploy/<name>@<tag>.sql`, so its id
//! is that script's stem, `<name>@<tag>`; ids then match the files and stay stable as the
//! plan grows. The sort key is the change's position in the plan, since names do not sort.
//!
//! `sqitch.conf` settings that move the plan or the script directories (`plan_file`,
//! `top_dir`, `deploy_dir`, ...) are not followed: the defaults are assumed.
//!
//! Transactions: sqitch runs a script as it is, and scripts hold their own `BEGIN`/`COMMIT`
//! (its templates write them), so the mode is `TransactionMode::None`.

use super::common;
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, SqlPart, TransactionMode, Version, Vote};
use crate::dialect::Dialect;
use crate::source::Snapshot;
use anyhow::{bail, Result};
use regex::Regex;
use std::sync::LazyLock;

pub(super) const PLAN: &str = "sqitch.plan";
pub(super) const CONF: &str = "sqitch.conf";

static CHANGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^
        (?<name>[^\s\[\]\#@:]+)                          # change name
        \s*(?:\[(?<deps>[^\]]*)\])?                      # optional [dependencies]
        \s*(?<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) # planned at
        \s+[^<\#]*<[^>]*>                                # planner <email>
        \s*(?:\#.*)?$                                    # optional # note",
    )
    .expect("valid regex")
});

/// A line of the plan that matters for ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Change { name: String, line: usize },
    Tag(String),
}

/// Whether the snapshot is a sqitch project.
pub(super) fn is_project(snapshot: &Snapshot) -> bool {
    snapshot.get(PLAN).is_some()
}

/// Whether the file is one sqitch uses without it being a migration's SQL.
pub(super) fn is_auxiliary(path: &str) -> bool {
    path == PLAN || path == CONF || path.starts_with("verify/")
}

pub(super) fn discover(snapshot: &Snapshot) -> Result<Vec<Migration>> {
    if !is_project(snapshot) {
        return Ok(Vec::new());
    }
    let entries = parse_plan(snapshot.text(PLAN)?)?;
    let mut migrations = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let Entry::Change { name, line } = entry else {
            continue;
        };
        let stem = script_stem(snapshot, &entries, index, name);
        let position = migrations.len() + 1;
        migrations.push(migration(snapshot, &stem, name, *line, position)?);
    }
    Ok(migrations)
}

fn migration(
    snapshot: &Snapshot,
    stem: &str,
    name: &str,
    line: usize,
    position: usize,
) -> Result<Migration> {
    let deploy = format!("deploy/{stem}.sql");
    if snapshot.get(&deploy).is_none() {
        bail!("{PLAN}:{line}: change `{name}` has no deploy script `{deploy}`");
    }
    let revert = format!("revert/{stem}.sql");
    let part = |path: &str| -> Option<SqlPart> {
        snapshot
            .get(path)
            .map(|_| common::whole_file(snapshot, path))
    };
    let mut migration = common::versioned(
        stem,
        name,
        part(&deploy),
        part(&revert),
        TransactionMode::None,
    );
    migration.version = Version::parse(&position.to_string());
    Ok(migration)
}

/// The stem of the scripts a change instance runs: its name for the latest instance;
/// `<name>@<tag>` for an older one of a reworked change, with the first tag after it whose
/// script exists (sqitch names the copy after the tag the rework was based on).
fn script_stem(snapshot: &Snapshot, entries: &[Entry], index: usize, name: &str) -> String {
    let later = &entries[index + 1..];
    let reworked_at = later
        .iter()
        .position(|entry| matches!(entry, Entry::Change { name: other, .. } if other == name));
    let Some(reworked_at) = reworked_at else {
        return name.to_string();
    };
    let tags: Vec<&str> = later[..reworked_at]
        .iter()
        .filter_map(|entry| match entry {
            Entry::Tag(tag) => Some(tag.as_str()),
            Entry::Change { .. } => None,
        })
        .collect();
    let existing = tags
        .iter()
        .find(|tag| snapshot.get(&format!("deploy/{name}@{tag}.sql")).is_some());
    match existing.or(tags.last()) {
        Some(tag) => format!("{name}@{tag}"),
        None => name.to_string(),
    }
}

/// The changes and tags of a plan, in order. Pragmas, blank lines and comments are skipped;
/// anything else that is not a change line is an error naming its line.
fn parse_plan(text: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let number = number + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if let Some(tag) = line.strip_prefix('@') {
            let name = tag.split_whitespace().next().unwrap_or("");
            entries.push(Entry::Tag(name.to_string()));
            continue;
        }
        if line.starts_with('-') {
            bail!("{PLAN}:{number}: reverting a change in the plan (`{line}`) is not supported");
        }
        let change = line.strip_prefix('+').unwrap_or(line);
        let Some(captures) = CHANGE_LINE.captures(change) else {
            bail!(
                "{PLAN}:{number}: malformed change line, expected \
                 `name [dependencies] 2024-01-05T12:00:00Z Planner <email> # note`, found `{line}`"
            );
        };
        entries.push(Entry::Change {
            name: captures["name"].to_string(),
            line: number,
        });
    }
    Ok(entries)
}

/// The dialect `sqitch.conf`'s `[core] engine` names, if any.
pub(super) fn dialect(snapshot: &Snapshot) -> Result<Option<Dialect>> {
    if snapshot.get(CONF).is_none() {
        return Ok(None);
    }
    let mut in_core = false;
    for line in snapshot.text(CONF)?.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_core = line == "[core]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if in_core && key.trim() == "engine" {
            return Ok(engine_dialect(value.trim()));
        }
    }
    Ok(None)
}

fn engine_dialect(engine: &str) -> Option<Dialect> {
    match engine {
        "pg" | "cockroach" => Some(Dialect::Postgres),
        "mysql" => Some(Dialect::Mysql),
        "sqlite" => Some(Dialect::Sqlite),
        _ => None,
    }
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.top_file() == Some(PLAN) {
        Vote::Decides
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Ok(Found {
        migrations: discover(snapshot)?,
        dialect: dialect(snapshot)?,
        ..Found::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, line: usize) -> Entry {
        Entry::Change {
            name: name.to_string(),
            line,
        }
    }

    #[test]
    fn reads_changes_and_tags() {
        let plan = "%syntax-version=1.0.0\n%project=x\n\n\
            users 2013-09-04T13:54:01Z Ann Planner <ann@example.com> # users table\n\
            keys [users x:y] 2013-09-04T13:54:01Z Ann <ann@example.com># no space\n\
            @v1 2013-09-05T00:00:00Z Ann <ann@example.com> # tag\n\
            bare 2015-02-09T23:45:03Z Jean Rouge <jean@example.com>\n";
        let entries = parse_plan(plan).unwrap();
        assert_eq!(
            entries,
            [
                change("users", 4),
                change("keys", 5),
                Entry::Tag("v1".into()),
                change("bare", 7)
            ]
        );
    }

    #[test]
    fn malformed_line_is_an_error_with_its_line() {
        let plan =
            "%project=x\nusers 2013-09-04T13:54:01Z Ann <ann@example.com>\nbroken line here\n";
        let err = parse_plan(plan).unwrap_err().to_string();
        assert!(
            err.starts_with("sqitch.plan:3: malformed change line"),
            "{err}"
        );
        let unclosed = "users [deps 2013-09-04T13:54:01Z Ann <ann@example.com>\n";
        let err = parse_plan(unclosed).unwrap_err().to_string();
        assert!(err.starts_with("sqitch.plan:1:"), "{err}");
    }

    #[test]
    fn reads_the_engine_from_core() {
        let mut snapshot = Snapshot::new();
        snapshot.insert(
            CONF,
            "[core \"pg\"]\n engine = mysql\n[core]\n\tengine = pg\n",
        );
        assert_eq!(dialect(&snapshot).unwrap(), Some(Dialect::Postgres));
    }
}
