//! `backfill-in-ddl-migration`: a migration that both changes the schema and rewrites rows of
//! an existing table. The backfill runs while the DDL's locks are held, and a backfill that
//! fails half-way cannot be retried without re-running the DDL.

use super::as_backfill;
use crate::ir::Change;
use crate::project::ParsedMigration;
use crate::rules::{Context, Finding, Rule};

pub struct BackfillInDdlMigration;

impl Rule for BackfillInDdlMigration {
    fn id(&self) -> &'static str {
        "backfill-in-ddl-migration"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let rebuilds = ctx.rebuilds();
        let with_ddl: Vec<&ParsedMigration> = ctx.deploy.iter().filter(|m| has_ddl(m)).collect();
        let mut last_statement = None;
        for change in ctx.changes() {
            let Some(found) = as_backfill(ctx, &rebuilds, &change) else {
                continue;
            };
            let here = (change.at.migration.migration.id.as_str(), change.at.index);
            let mixes_ddl = with_ddl
                .iter()
                .any(|m| std::ptr::eq(*m, change.at.migration));
            if !mixes_ddl || last_statement == Some(here) {
                continue;
            }
            last_statement = Some(here);
            let message = format!(
                "{} {} in migration {} that also changes the schema: the backfill holds the \
                 DDL's locks for as long as it runs, and cannot be retried on its own",
                found.verb(),
                found.table,
                here.0
            );
            let mut finding = change.at.finding(self.id(), message);
            finding.object = Some(found.table.to_string());
            findings.push(finding);
        }
    }
}

/// True when the migration changes the schema. An opaque statement might, but rollsafe
/// cannot tell, so it does not count.
fn has_ddl(migration: &ParsedMigration) -> bool {
    migration
        .up
        .statements
        .iter()
        .flat_map(|statement| &statement.changes)
        .any(|change| change.is_schema_change() && !matches!(change, Change::Opaque { .. }))
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_a_backfill_next_to_ddl() {
        let findings = base()
            .migration(vec![
                add_column("users", col("email_lower", "text")),
                update("users", &["email_lower"], false),
            ])
            .findings(&BackfillInDdlMigration);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users"));
        assert!(findings[0]
            .message
            .starts_with("updates public.users in migration 101"));
    }

    #[test]
    fn quiet_on_a_backfill_in_its_own_migration() {
        let deploy = base()
            .migration(vec![add_column("users", col("email_lower", "text"))])
            .migration(vec![update("users", &["email_lower"], true)]);
        assert!(deploy.findings(&BackfillInDdlMigration).is_empty());
    }

    #[test]
    fn quiet_when_seeding_a_new_table_or_rebuilding() {
        let deploy = base().migration(vec![
            create_table("teams", &[col("id", "bigint")]),
            insert_select("teams"),
            create_table("new_users", &[col("id", "bigint"), col("email", "text")]),
            insert_select("new_users"),
            drop_table("users"),
            rename_table("new_users", "users"),
        ]);
        assert!(deploy.findings(&BackfillInDdlMigration).is_empty());
    }

    #[test]
    fn an_opaque_statement_is_not_ddl() {
        let deploy = base().migration(vec![
            stmt(vec![Change::Opaque {
                what: "DO block".to_string(),
            }]),
            update("users", &["email"], true),
        ]);
        assert!(deploy.findings(&BackfillInDdlMigration).is_empty());
    }
}
