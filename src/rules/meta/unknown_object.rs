//! `unknown-object`: a statement on a table or column that the replayed schema does not have
//! at that point (a typo, a migration that depends on one not written yet). The database
//! rejects it and the deploy stops half-way.
//!
//! Only where the replay is complete: once any statement rollsafe could not see into
//! (opaque, unparsed, an extension's objects) has run, a missing name proves nothing. A
//! missing column of a table the migrations built is reported; a missing table only when it
//! reads as a typo of one the schema has, since tables are also made
//! outside the migrations (the runner's own bookkeeping table, another service's schema).

use crate::ir::{Change, QualifiedName};
use crate::rules::{Context, Finding, Rule};
use crate::schema::Catalog;
use crate::spelling::edit_distance;
use crate::sql::Understanding;

pub struct UnknownObject;

impl Rule for UnknownObject {
    fn id(&self) -> &'static str {
        "unknown-object"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let mut catalog = ctx.before.clone();
        for at in ctx.statements() {
            if matches!(at.statement.understanding, Understanding::Unparsed { .. }) {
                catalog.blind_spots += 1;
            }
            for change in &at.statement.changes {
                if let Some((kind, object)) = missing_object(&catalog, change) {
                    let mut finding = at.finding(
                        self.id(),
                        format!(
                            "{kind} {object} does not exist in the schema the migrations build \
                             up to here: the database rejects this statement and the deploy \
                             stops half-way"
                        ),
                    );
                    finding.object = Some(object);
                    findings.push(finding);
                }
                catalog.apply(change, &at.migration.migration.id);
            }
        }
    }
}

/// The table or column `change` needs that `catalog` lacks (`("column", "public.users.x")`),
/// when the catalog can tell.
fn missing_object(catalog: &Catalog, change: &Change) -> Option<(&'static str, String)> {
    if catalog.blind_spots > 0 {
        return None;
    }
    let table_missing = |table: &QualifiedName| {
        (!catalog.has_relation(table) && looks_like_a_typo(catalog, table))
            .then(|| ("table", table.to_string()))
    };
    let column_missing = |table: &QualifiedName, column: &str| {
        table_missing(table).or_else(|| {
            let known = catalog.table(table)?;
            known
                .column(column)
                .is_none()
                .then(|| ("column", format!("{table}.{column}")))
        })
    };
    match change {
        Change::DropColumn {
            table,
            column,
            if_exists: false,
        }
        | Change::RenameColumn {
            table,
            from: column,
            ..
        }
        | Change::AlterColumnType { table, column, .. }
        | Change::SetNotNull { table, column }
        | Change::DropNotNull { table, column }
        | Change::SetDefault { table, column, .. }
        | Change::DropDefault { table, column } => column_missing(table, column),
        Change::AddColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::AddConstraint { table, .. }
        | Change::ValidateConstraint { table, .. }
        | Change::DropConstraint {
            table,
            if_exists: false,
            ..
        }
        | Change::Backfill { table, .. }
        | Change::Truncate { table } => table_missing(table),
        Change::RenameTable { from, .. } => table_missing(from),
        Change::CreateIndex(index) => table_missing(&index.table),
        Change::DropTable {
            tables,
            if_exists: false,
            ..
        } => tables.iter().find_map(table_missing),
        _ => None,
    }
}

/// True when a relation of the same schema has a name one or two edits away (`user` for
/// `users`, `ordres` for `orders`): the statement most likely means that one.
fn looks_like_a_typo(catalog: &Catalog, missing: &QualifiedName) -> bool {
    let relations = catalog.tables.keys().chain(catalog.views.keys());
    relations
        .filter(|name| name.schema == missing.schema)
        .any(|name| {
            let distance = edit_distance(&name.name, &missing.name);
            distance > 0 && distance <= 2 && name.name.len() > 3
        })
}

#[cfg(test)]
mod tests {
    use super::super::super::compat::testing::*;
    use super::*;

    fn base() -> Deploy {
        Deploy::new().table("users", &[col("id", "bigint"), col("email", "text")])
    }

    #[test]
    fn fires_on_a_table_or_column_the_schema_does_not_have() {
        let typo = base().migration(vec![drop_column("users", "emial")]);
        let findings = typo.findings(&UnknownObject);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.emial"));
        let table = base().migration(vec![add_column("userz", col("name", "text"))]);
        assert_eq!(table.findings(&UnknownObject).len(), 1);
    }

    #[test]
    fn quiet_on_a_table_made_outside_the_migrations() {
        // The runner's own table, or another service's: not a near name of one we know.
        let external = base().migration(vec![add_column("migrations", col("id", "bigint"))]);
        assert!(external.findings(&UnknownObject).is_empty());
    }

    #[test]
    fn quiet_on_what_the_deploy_creates_first_and_after_a_blind_spot() {
        let created = base().migration(vec![
            create_table("teams", &[col("id", "bigint")]),
            add_column("teams", col("name", "text")),
        ]);
        assert!(created.findings(&UnknownObject).is_empty());
        let blind = base().migration(vec![
            stmt(vec![Change::Opaque {
                what: "DO block".into(),
            }]),
            add_column("teams", col("name", "text")),
        ]);
        assert!(blind.findings(&UnknownObject).is_empty());
    }
}
