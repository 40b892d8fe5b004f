//! Plain numbered files (`001_name.sql`, `0002-name.sql`, `3.sql`): up only, applied in
//! numeric order, with the transaction mode the configuration gives.

use super::detect::Candidate;
use super::{common, Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use std::sync::LazyLock;

static FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<version>[0-9]+)(?:[_-](?<name>.*))?\.sql$").expect("valid regex")
});

/// `(version, name)` of a numbered file; the name may be empty (`3.sql`).
pub(super) fn parse_file_name(path: &str) -> Option<(&str, &str)> {
    let captures = FILE_NAME.captures(path)?;
    let version = captures.name("version")?.as_str();
    let name = captures.name("name").map_or("", |name| name.as_str());
    Some((version, name))
}

pub(super) fn discover(snapshot: &Snapshot, mode: TransactionMode) -> Vec<Migration> {
    common::root_files(snapshot)
        .filter_map(|path| {
            let (version, name) = parse_file_name(path)?;
            let up = common::whole_file(snapshot, path);
            Some(common::versioned(version, name, Some(up), None, mode))
        })
        .collect()
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.numbered_sql().and_then(parse_file_name).is_some() {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, options: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot, options.plain_transaction))
}

#[cfg(test)]
mod tests {
    use super::parse_file_name;

    #[test]
    fn reads_numbered_names() {
        assert_eq!(parse_file_name("001_init.sql"), Some(("001", "init")));
        assert_eq!(
            parse_file_name("0002-add-users.sql"),
            Some(("0002", "add-users"))
        );
        assert_eq!(parse_file_name("3.sql"), Some(("3", "")));
        assert_eq!(parse_file_name("init.sql"), None);
    }
}
