//! `create-index-not-concurrently`: a plain `CREATE INDEX` holds a SHARE lock on the table
//! for the whole build, so every INSERT, UPDATE and DELETE waits until the index is built.

use super::{holds_rows, is_postgres};
use crate::ir::{Change, QualifiedName};
use crate::rules::{Context, Finding, Rule};

pub struct CreateIndexNotConcurrently;

const ID: &str = "create-index-not-concurrently";

impl Rule for CreateIndexNotConcurrently {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::CreateIndex(index) = change_ref.change else {
                continue;
            };
            if index.concurrently || !holds_rows(ctx, &change_ref.at, &index.table) {
                continue;
            }
            let table = &index.table;
            let (label, object) = match &index.name {
                Some(name) => {
                    let qualified = QualifiedName::new(&table.schema, name);
                    (format!("index {qualified}"), qualified.to_string())
                }
                None => ("an index".to_string(), table.to_string()),
            };
            let message = format!(
                "creates {label} on {table} without CONCURRENTLY: the build holds a SHARE lock \
                 on {table}, so every write to it (N-1's included) waits until the whole index \
                 is built"
            );
            let mut finding = change_ref.at.finding(ID, message);
            finding.object = Some(object);
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::dialect::Dialect;

    #[test]
    fn fires_on_a_plain_index_of_an_existing_table() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![create_index(users(), "users_email_idx", false)]])
            .run(&CreateIndexNotConcurrently);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users_email_idx")
        );
        assert!(findings[0].message.contains("public.users"));
    }

    #[test]
    fn concurrently_is_quiet() {
        let findings = Deploy::postgres()
            .autocommit(vec![vec![create_index(users(), "users_email_idx", true)]])
            .run(&CreateIndexNotConcurrently);
        assert!(findings.is_empty());
    }

    #[test]
    fn a_table_created_in_the_deploy_is_exempt() {
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![create_index(invoices(), "invoices_email_idx", false)],
            ])
            .run(&CreateIndexNotConcurrently);
        assert!(findings.is_empty());
    }

    #[test]
    fn other_dialects_are_quiet() {
        for dialect in [Dialect::Mysql, Dialect::Sqlite] {
            let findings = Deploy::on(dialect)
                .wrapped(vec![vec![create_index(users(), "users_email_idx", false)]])
                .run(&CreateIndexNotConcurrently);
            assert!(findings.is_empty(), "{dialect}");
        }
    }
}
