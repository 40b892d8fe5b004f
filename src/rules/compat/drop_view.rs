//! `drop-view`: dropping a view (or materialized view) N-1 still queries. Replacing it in the
//! same deploy (drop, then create under the same name) is not reported.

use super::{judge_on_usage, n1_uses_table};
use crate::ir::{Change, QualifiedName};
use crate::rules::{Context, Finding, Rule};
use std::collections::BTreeSet;

pub struct DropView;

impl Rule for DropView {
    fn id(&self) -> &'static str {
        "drop-view"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let created = created_views(ctx);
        for change in ctx.changes() {
            let Change::DropView {
                names,
                materialized,
                ..
            } = change.change
            else {
                continue;
            };
            let kind = if *materialized {
                "materialized view"
            } else {
                "view"
            };
            for name in names {
                if !n1_uses_table(ctx, name) || created.contains(name) {
                    continue;
                }
                let message = format!(
                    "drops {kind} {name}, which N-1 still queries: its queries fail with \
                     \"{}\"{}",
                    ctx.dialect.missing_relation_error(),
                    super::retire_hint(ctx, name, None)
                );
                let mut finding = change.at.finding(self.id(), message);
                finding.object = Some(name.to_string());
                judge_on_usage(ctx, &mut finding, name, None, true);
                findings.push(finding);
            }
        }
    }
}

/// The views the deploy creates: dropping one of them and creating it again is a
/// redefinition.
fn created_views<'a>(ctx: &Context<'a>) -> BTreeSet<&'a QualifiedName> {
    ctx.changes()
        .filter_map(|change| match change.change {
            Change::CreateView { name, .. } => Some(name),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::schema::View;

    fn drop_view(name: &str) -> crate::sql::Statement {
        stmt(vec![Change::DropView {
            names: vec![qn(name)],
            materialized: false,
            if_exists: false,
        }])
    }

    fn base() -> Deploy {
        let mut deploy = Deploy::new();
        deploy.before.views.insert(
            qn("active_users"),
            View {
                name: qn("active_users"),
                materialized: false,
                created_by: "000".to_string(),
            },
        );
        deploy
    }

    #[test]
    fn fires_on_a_view_n1_knows() {
        let findings = base()
            .migration(vec![drop_view("active_users")])
            .findings(&DropView);
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .contains("drops view public.active_users"));
    }

    #[test]
    fn quiet_when_redefined_retired_or_new() {
        let create = |name: &str| {
            stmt(vec![Change::CreateView {
                name: qn(name),
                materialized: false,
                or_replace: false,
            }])
        };
        let redefined = base().migration(vec![drop_view("active_users"), create("active_users")]);
        assert!(redefined.findings(&DropView).is_empty());
        let retired = base()
            .retired("active_users")
            .migration(vec![drop_view("active_users")]);
        assert!(retired.findings(&DropView).is_empty());
        let new = base().migration(vec![create("tmp_view"), drop_view("tmp_view")]);
        assert!(new.findings(&DropView).is_empty());
    }
}
