//! `drop-index-not-concurrently`: a plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the
//! index's table. The drop itself is quick, but it queues behind every running query on the
//! table, and every new query queues behind it.

use super::{existing_index_table, is_postgres};
use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};

pub struct DropIndexNotConcurrently;

const ID: &str = "drop-index-not-concurrently";

impl Rule for DropIndexNotConcurrently {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if !is_postgres(ctx) {
            return;
        }
        for change_ref in ctx.changes() {
            let Change::DropIndex {
                names,
                concurrently: false,
                ..
            } = change_ref.change
            else {
                continue;
            };
            for index in names {
                let Some(table) = existing_index_table(ctx, index) else {
                    continue;
                };
                let message = format!(
                    "drops index {index} without CONCURRENTLY: the drop needs an ACCESS \
                     EXCLUSIVE lock on {table}, so it waits for every running query on \
                     {table}, and every new read and write (N-1's included) waits behind it"
                );
                let mut finding = change_ref.at.finding(ID, message);
                finding.object = Some(index.to_string());
                findings.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::dialect::Dialect;

    fn deploy() -> Deploy {
        Deploy::postgres().with_index(&users(), "users_email_idx", "email")
    }

    #[test]
    fn fires_on_a_plain_drop_of_an_existing_index() {
        let findings = deploy()
            .wrapped(vec![vec![drop_index("users_email_idx", false)]])
            .run(&DropIndexNotConcurrently);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(
            findings[0].object.as_deref(),
            Some("public.users_email_idx")
        );
        assert!(findings[0].message.contains("public.users"));
    }

    #[test]
    fn concurrently_is_quiet() {
        let findings = deploy()
            .autocommit(vec![vec![drop_index("users_email_idx", true)]])
            .run(&DropIndexNotConcurrently);
        assert!(findings.is_empty());
    }

    #[test]
    fn an_index_created_in_the_deploy_is_exempt() {
        let findings = deploy()
            .wrapped(vec![
                vec![create_table(invoices())],
                vec![create_index(invoices(), "invoices_email_idx", false)],
                vec![drop_index("invoices_email_idx", false)],
            ])
            .run(&DropIndexNotConcurrently);
        assert!(findings.is_empty());
    }

    #[test]
    fn other_dialects_are_quiet() {
        let findings = Deploy::on(Dialect::Mysql)
            .with_index(&users(), "users_email_idx", "email")
            .wrapped(vec![vec![drop_index("users_email_idx", false)]])
            .run(&DropIndexNotConcurrently);
        assert!(findings.is_empty());
    }
}
