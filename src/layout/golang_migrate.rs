//! golang-migrate: `<N>_<name>.up.sql` and `<N>_<name>.down.sql` in one flat directory.
//!
//! Up-only sets are common (flipt, stash). harness's migrator also accepts `_up.sql` /
//! `_down.sql` and names without a description (`0157.up.sql`), and stash ships `30_ignore_autotag.up..sql`, which golang-migrate reads
//! because it only asks for `.up.` followed by an extension. The tool sends each file as one
//! query string, so Postgres runs a multi-statement file in one implicit transaction.

use super::common::{self, Direction, Pair, Script};
use super::detect::Candidate;
use super::{Found, LayoutOptions, Migration, TransactionMode, Vote};
use crate::source::Snapshot;
use anyhow::Result;
use regex::Regex;
use std::sync::LazyLock;

static FILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?<version>[0-9]+)(?:_(?<name>.*?))?[._](?<direction>up|down)\.+sql$")
        .expect("valid regex")
});

/// Reads `<version>_<name>.up.sql` (and the variants above) into a script.
pub(super) fn parse_file_name(path: &str) -> Option<Script<'_>> {
    let captures = FILE_NAME.captures(path)?;
    let direction = match &captures["direction"] {
        "up" => Direction::Up,
        _ => Direction::Down,
    };
    Some(Script {
        version: captures.name("version")?.as_str(),
        name: captures.name("name").map_or("", |name| name.as_str()),
        direction,
        path,
    })
}

pub(super) fn discover(snapshot: &Snapshot) -> Vec<Migration> {
    let scripts = common::root_files(snapshot).filter_map(parse_file_name);
    common::pair_scripts(scripts)
        .into_iter()
        .map(|pair| migration(snapshot, pair, TransactionMode::ImplicitMultiStatement))
        .collect()
}

/// A migration from an up/down pair of whole files.
pub(super) fn migration(snapshot: &Snapshot, pair: Pair<'_>, mode: TransactionMode) -> Migration {
    let up = pair.up.map(|path| common::whole_file(snapshot, path));
    let down = pair.down.map(|path| common::whole_file(snapshot, path));
    common::versioned(pair.version, pair.name, up, down, mode)
}

pub(super) fn vote(file: &Candidate<'_>) -> Vote {
    if file.numbered_sql().and_then(parse_file_name).is_some() {
        Vote::Yes
    } else {
        Vote::No
    }
}

pub(super) fn read(snapshot: &Snapshot, _: &LayoutOptions) -> Result<Found> {
    Found::of(discover(snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_variants() {
        let script = parse_file_name("10_add_users.up.sql").unwrap();
        assert_eq!((script.version, script.name), ("10", "add_users"));
        assert_eq!(script.direction, Direction::Up);
        let script = parse_file_name("0021_alter_webhook_down.sql").unwrap();
        assert_eq!(
            (script.name, script.direction),
            ("alter_webhook", Direction::Down)
        );
        let script = parse_file_name("30_ignore_autotag.up..sql").unwrap();
        assert_eq!(script.name, "ignore_autotag");
        let script = parse_file_name("0157.down.sql").unwrap();
        assert_eq!((script.version, script.name), ("0157", ""));
        assert!(parse_file_name("10_add_users.sql").is_none());
        assert!(parse_file_name("V1__init.sql").is_none());
    }
}
