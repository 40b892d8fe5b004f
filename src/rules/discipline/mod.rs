//! Discipline rules: how a deploy is sequenced (backfills apart from DDL, batched, enforced
//! only once done).

pub mod backfill_in_ddl_migration;
pub mod enforce_before_backfill;
pub mod retire_unknown_object;
pub mod unbatched_backfill;

pub use backfill_in_ddl_migration::BackfillInDdlMigration;
pub use enforce_before_backfill::EnforceBeforeBackfill;
pub use retire_unknown_object::RetireUnknownObject;
pub use unbatched_backfill::UnbatchedBackfill;

use super::{ChangeRef, Context};
use crate::ir::{BackfillKind, Change, QualifiedName};
use crate::rules::Rebuilds;

/// A backfill: DML (UPDATE, DELETE, INSERT ... SELECT) on a table that existed before the
/// deploy. Seeding a table the deploy creates, an `INSERT ... VALUES` of a few rows, and the
/// copy step of a table rebuild are not backfills.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backfill<'a> {
    pub table: &'a QualifiedName,
    pub kind: BackfillKind,
    /// The columns an UPDATE sets.
    pub columns: &'a [String],
    /// UPDATE/DELETE with a WHERE clause.
    pub filtered: bool,
}

impl Backfill<'_> {
    /// "updates", "deletes from", "copies rows into".
    pub fn verb(&self) -> &'static str {
        match self.kind {
            BackfillKind::Update => "updates",
            BackfillKind::Delete => "deletes from",
            BackfillKind::Insert => "copies rows into",
        }
    }
}

/// The backfill this change is, if it is one.
pub(crate) fn as_backfill<'a>(
    ctx: &Context<'_>,
    rebuilds: &Rebuilds<'_, '_>,
    change: &ChangeRef<'a>,
) -> Option<Backfill<'a>> {
    let Change::Backfill {
        table,
        kind,
        columns,
        filtered,
    } = change.change
    else {
        return None;
    };
    let existed = |table: &QualifiedName| ctx.before.table(table).is_some();
    let rebuild_copy = |table: &QualifiedName| rebuilds.is_rebuilt(change.at.migration, table);
    if !change.change.is_backfill(existed, rebuild_copy) {
        return None;
    }
    Some(Backfill {
        table,
        kind: *kind,
        columns,
        filtered: *filtered,
    })
}

#[cfg(test)]
mod tests {
    use super::super::compat::testing::*;
    use super::*;

    fn backfills(deploy: &Deploy) -> Vec<String> {
        let ctx = deploy.context();
        let rebuilds = ctx.rebuilds();
        ctx.changes()
            .filter_map(|change| as_backfill(&ctx, &rebuilds, &change).map(|b| b.table.to_string()))
            .collect()
    }

    #[test]
    fn dml_on_an_existing_table_is_a_backfill() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                update("users", &["id"], false),
                backfill("users", BackfillKind::Delete, &[], true),
                insert_select("users"),
            ]);
        assert_eq!(backfills(&deploy).len(), 3);
    }

    #[test]
    fn seeding_and_rebuild_copies_are_not() {
        let deploy = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                create_table("teams", &[col("id", "bigint")]),
                insert_select("teams"),
                update("teams", &["id"], false),
                backfill("users", BackfillKind::Insert, &[], false),
                create_table("new_users", &[col("id", "bigint")]),
                insert_select("new_users"),
                drop_table("users"),
                rename_table("new_users", "users"),
            ]);
        assert!(backfills(&deploy).is_empty());
        let renamed_aside = Deploy::new()
            .table("users", &[col("id", "bigint")])
            .migration(vec![
                rename_table("users", "users_old"),
                create_table("users", &[col("id", "bigint")]),
                insert_select("users"),
                drop_table("users_old"),
            ]);
        assert!(backfills(&renamed_aside).is_empty());
    }
}
