//! `add-column-rewrites-table`: an added column whose value Postgres must compute for every
//! existing row (a volatile default, serial or identity, a stored generated column, or
//! before Postgres 11 any non-null default) rewrites the whole table under an ACCESS
//! EXCLUSIVE lock.

use super::{holds_rows, is_postgres};
use crate::ir::{Change, ColumnDef, Generated, QualifiedName};
use crate::rules::{Context, Finding, Rule};
use crate::sql;

pub struct AddColumnRewritesTable;

const ID: &str = "add-column-rewrites-table";

/// Postgres 11 stores a constant default in the catalog instead of writing it to every row.
const FAST_DEFAULT_SINCE: u32 = 11;

impl Rule for AddColumnRewritesTable {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::AddColumn { table, column, .. } = change_ref.change else {
                continue;
            };
            if !holds_rows(ctx, &change_ref.at, table) {
                continue;
            }
            let Some(reason) = rewrite_reason(column, ctx.settings.pg_version)
                .or_else(|| volatile_function_default(ctx, column))
            else {
                continue;
            };
            let object = format!("{table}.{}", column.name);
            let message = format!(
                "adds column {object}, {reason}: Postgres rewrites all of {table} while \
                 holding an ACCESS EXCLUSIVE lock, so every read and write of it (N-1's \
                 included) waits until the rewrite ends"
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

/// Why adding `column` makes Postgres write every existing row, if it does.
fn rewrite_reason(column: &ColumnDef, pg_version: u32) -> Option<String> {
    match column.generated {
        Generated::Serial => return Some("a serial column numbered for every existing row".into()),
        Generated::Identity => {
            return Some("an identity column numbered for every existing row".into())
        }
        Generated::Stored => {
            return Some("a stored generated column computed for every existing row".into())
        }
        Generated::No | Generated::Virtual => {}
    }
    let default = column.default.as_ref()?;
    if default.volatile {
        Some(format!(
            "whose volatile default {} is evaluated for every existing row",
            default.sql
        ))
    } else if pg_version < FAST_DEFAULT_SINCE && !is_null(&default.sql) {
        Some(format!(
            "whose default {} is written into every existing row before Postgres 11 \
             (pg_version = {pg_version})",
            default.sql
        ))
    } else {
        None
    }
}

/// A default that calls a function the migrations created without declaring it `STABLE` or
/// `IMMUTABLE`: Postgres treats it as volatile and evaluates it for every existing row.
fn volatile_function_default(ctx: &Context<'_>, column: &ColumnDef) -> Option<String> {
    let default = column.default.as_ref()?;
    let called = sql::called_functions(&default.sql);
    let volatile = called.iter().find(|function| {
        let name = match function.rsplit_once('.') {
            Some((schema, name)) => QualifiedName::new(schema, name),
            None => QualifiedName::new(ctx.dialect.default_schema(), function.as_str()),
        };
        ctx.after.functions.get(&name).copied().unwrap_or(false)
    })?;
    Some(format!(
        "whose default {} calls {volatile}(), a function not declared STABLE or IMMUTABLE \
         (so volatile), evaluated for every existing row",
        default.sql
    ))
}

/// True for `NULL`, `null::text` and the like: a null default writes nothing.
fn is_null(sql: &str) -> bool {
    let value = sql.trim().trim_start_matches('(').trim_end_matches(')');
    let value = value.split("::").next().unwrap_or(value).trim();
    value.eq_ignore_ascii_case("null")
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    fn run(deploy: Deploy, column: ColumnDef) -> Vec<Finding> {
        deploy
            .wrapped(vec![vec![add_column(users(), column)]])
            .run(&AddColumnRewritesTable)
    }

    #[test]
    fn a_volatile_default_rewrites() {
        let column = with_default(column("token", "uuid"), "gen_random_uuid()", true);
        let findings = run(Deploy::postgres(), column);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(findings[0].object.as_deref(), Some("public.users.token"));
        assert!(findings[0].message.contains("gen_random_uuid()"));
    }

    #[test]
    fn serial_identity_and_stored_columns_rewrite() {
        for generated in [Generated::Serial, Generated::Identity, Generated::Stored] {
            let mut column = column("seq", "integer");
            column.generated = generated;
            assert_eq!(
                rules(&run(Deploy::postgres(), column)),
                [ID],
                "{generated:?}"
            );
        }
    }

    #[test]
    fn a_constant_default_rewrites_only_before_postgres_11() {
        let constant = || with_default(column("active", "boolean"), "true", false);
        assert!(run(Deploy::postgres().pg_version(11), constant()).is_empty());
        let old = run(Deploy::postgres().pg_version(10), constant());
        assert_eq!(rules(&old), [ID]);
        assert!(old[0].message.contains("before Postgres 11"));
    }

    #[test]
    fn a_null_default_or_no_default_never_rewrites() {
        let null = with_default(column("note", "text"), "NULL::text", false);
        assert!(run(Deploy::postgres().pg_version(10), null).is_empty());
        assert!(run(Deploy::postgres().pg_version(10), column("note", "text")).is_empty());
        let mut virtual_column = column("upper_email", "text");
        virtual_column.generated = Generated::Virtual;
        assert!(run(Deploy::postgres(), virtual_column).is_empty());
    }

    #[test]
    fn a_new_table_is_exempt() {
        let column = with_default(column("token", "uuid"), "gen_random_uuid()", true);
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![add_column(invoices(), column)],
            ])
            .run(&AddColumnRewritesTable);
        assert!(findings.is_empty());
    }
}
