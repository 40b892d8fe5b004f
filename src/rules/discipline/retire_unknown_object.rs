//! `retire-unknown-object`: a `[[retire]]` entry that names nothing the schema ever had: a
//! typo (so the drop it should allow is still reported), or an entry left behind after its
//! object was dropped.

use crate::config::Retire;
use crate::ir::Change;
use crate::rules::{Context, Finding, Rule};
use crate::schema::Catalog;

pub struct RetireUnknownObject;

impl Rule for RetireUnknownObject {
    fn id(&self) -> &'static str {
        "retire-unknown-object"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        for retire in ctx.retire_declared {
            let known = in_catalog(ctx, ctx.before, retire)
                || in_catalog(ctx, ctx.after, retire)
                || created_in_deploy(ctx, retire);
            if !known {
                findings.push(Finding {
                    rule: self.id(),
                    severity: None,
                    message: format!(
                        "[[retire]] object = \"{}\" in rollsafe.toml names no table, view or \
                         column of the schema: fix the name, or remove the entry if its object \
                         is gone",
                        retire.object
                    ),
                    path: crate::config::FILE_NAME.to_string(),
                    span: retire.span.clone(),
                    migration: String::new(),
                    object: Some(retire.object.clone()),
                    evidence: Vec::new(),
                });
            }
        }
    }
}

fn in_catalog(ctx: &Context<'_>, catalog: &Catalog, retire: &Retire) -> bool {
    let relations = catalog.tables.keys().chain(catalog.views.keys());
    relations
        .clone()
        .any(|name| retire.covers(ctx.dialect, name, None))
        || catalog.tables.values().any(|table| {
            table
                .columns
                .iter()
                .any(|column| retire.covers(ctx.dialect, &table.name, Some(&column.name)))
        })
}

/// An object the deploy creates (and may drop again) counts as known.
fn created_in_deploy(ctx: &Context<'_>, retire: &Retire) -> bool {
    ctx.changes().any(|at| match at.change {
        Change::CreateTable { table, columns, .. } => {
            retire.covers(ctx.dialect, table, None)
                || columns
                    .iter()
                    .any(|c| retire.covers(ctx.dialect, table, Some(&c.name)))
        }
        Change::CreateView { name, .. } => retire.covers(ctx.dialect, name, None),
        Change::RenameTable { to, .. } | Change::RenameView { to, .. } => {
            retire.covers(ctx.dialect, to, None)
        }
        Change::AddColumn { table, column, .. } => {
            retire.covers(ctx.dialect, table, Some(&column.name))
        }
        Change::RenameColumn { table, to, .. } => retire.covers(ctx.dialect, table, Some(to)),
        _ => false,
    })
}
