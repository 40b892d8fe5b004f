//! How the head's migrations relate to the base's: which are new, edited, deleted or renamed.
//! The history rules read this.

use crate::layout::Migration;

/// A migration present at base whose content differs at head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub base: Migration,
    pub head: Migration,
    /// A short description of what changed (a unified-diff excerpt).
    pub summary: String,
}

/// The comparison of base and head migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryDiff {
    pub edited: Vec<Edited>,
    /// Present at base, gone at head (and not renamed).
    pub deleted: Vec<Migration>,
    /// Same content, new name or version: (base, head).
    pub renamed: Vec<(Migration, Migration)>,
    /// The newest version applied at base, for `out-of-order-migration`.
    pub newest_at_base: Option<Migration>,
}
