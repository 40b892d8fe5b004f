//! `change-enum`: removing or renaming a value of an enum N-1 uses. N-1 still writes the old
//! value (and fails with "invalid input value for enum") and may read values it does not
//! know. Adding a value is an expand step and stays quiet.
//!
//! Seen three ways: `ALTER TYPE ... RENAME VALUE`; an enum re-created under the same name with
//! fewer values (Postgres has no `DROP VALUE`); a column moved to an enum type (or a MySQL
//! inline `ENUM(...)`) that lacks some of the old type's values. Renaming the type itself
//! (`ALTER TYPE ... RENAME TO`) that N-1's columns use is reported too: N-1's casts name it.

use super::{column_object, judge_on_usage, n1_uses_column};
use crate::ir::{Change, QualifiedName};
use crate::rules::{ChangeRef, Context, Finding, Rule};
use std::collections::BTreeSet;

pub struct ChangeEnum;

impl Rule for ChangeEnum {
    fn id(&self) -> &'static str {
        "change-enum"
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        let mut reported = BTreeSet::new();
        for change in ctx.changes() {
            let Some(found) = self.judge(ctx, &change) else {
                continue;
            };
            if reported.insert((found.enum_key.clone(), found.lost.clone())) {
                let mut finding = change.at.finding(self.id(), found.message);
                finding.object = Some(found.object);
                let (name, column, may_retire) = &found.used;
                judge_on_usage(ctx, &mut finding, name, column.as_deref(), *may_retire);
                findings.push(finding);
            }
        }
    }
}

/// An enum change that takes values away from N-1.
struct Lost {
    /// Identifies the old enum, so one removal seen twice (the type re-created, then the
    /// column moved to it) is reported once.
    enum_key: String,
    lost: Vec<String>,
    object: String,
    message: String,
    /// What N-1's code must name to be affected: the column moved to the new type, or the
    /// enum type (whose values N-1 writes through columns the name does not show, so its
    /// evidence is only cited).
    used: (QualifiedName, Option<String>, bool),
}

impl ChangeEnum {
    fn judge(&self, ctx: &Context<'_>, change: &ChangeRef<'_>) -> Option<Lost> {
        match change.change {
            Change::RenameEnumValue { name, from, to } => {
                let old = ctx.before.enums.get(name)?;
                old.values.contains(from).then(|| Lost {
                    enum_key: name.to_string(),
                    lost: vec![from.clone()],
                    object: name.to_string(),
                    used: (name.clone(), None, false),
                    message: format!(
                        "renames value '{from}' of enum {name} to '{to}'; N-1 still writes \
                         '{from}' and fails with \"invalid input value for enum\", and does \
                         not know '{to}' when it reads it"
                    ),
                })
            }
            Change::CreateEnum { name, values } => {
                let old = ctx.before.enums.get(name)?;
                let lost = missing(&old.values, values);
                (!lost.is_empty()).then(|| Lost {
                    enum_key: name.to_string(),
                    message: removed_message(&format!("re-creates enum {name} without"), &lost),
                    lost,
                    object: name.to_string(),
                    used: (name.clone(), None, false),
                })
            }
            Change::AlterColumnType {
                table,
                column,
                data_type,
                ..
            } => self.judge_column(ctx, table, column, data_type),
            Change::RenameType { from, to } => {
                // A type the deploy made (`status_new`, renamed onto the old name once the
                // old type is dropped) is not N-1's; a name the deploy re-creates (Prisma
                // renames the type aside and creates it anew) still resolves for N-1.
                if ctx.after.enums.contains_key(from) {
                    return None;
                }
                let n1_columns = ctx.before.tables.values().flat_map(|t| &t.columns);
                let mut typed = n1_columns.filter(|c| {
                    ctx.before
                        .enum_type(&c.data_type)
                        .is_some_and(|e| e.name == *from)
                });
                typed.next()?;
                Some(Lost {
                    enum_key: from.to_string(),
                    lost: Vec::new(),
                    object: from.to_string(),
                    message: format!(
                        "renames enum type {from} to {to}; N-1's queries that name the type \
                         (casts such as $1::{}, which ORMs like Prisma write) fail with \
                         \"type does not exist\"",
                        from.name
                    ),
                    used: (from.clone(), None, false),
                })
            }
            _ => None,
        }
    }

    fn judge_column(
        &self,
        ctx: &Context<'_>,
        table: &QualifiedName,
        column: &str,
        new_type: &str,
    ) -> Option<Lost> {
        if !n1_uses_column(ctx, table, column) {
            return None;
        }
        let old_type = &ctx.before.column(table, column)?.data_type;
        let old = old_enum_values(ctx, old_type)?;
        let new = new_enum_values(ctx, new_type)?;
        let lost = missing(&old, &new);
        if lost.is_empty() {
            return None;
        }
        let object = column_object(table, column);
        let enum_key = match ctx.before.enum_type(old_type) {
            Some(old_enum) => old_enum.name.to_string(),
            None => object.clone(),
        };
        Some(Lost {
            enum_key,
            message: removed_message(&format!("changes {object} to {new_type}, without"), &lost),
            lost,
            object,
            used: (table.clone(), Some(column.to_string()), true),
        })
    }
}

fn removed_message(what: &str, lost: &[String]) -> String {
    let quoted: Vec<String> = lost.iter().map(|v| format!("'{v}'")).collect();
    format!(
        "{what} {}; N-1 still writes {} and fails with \"invalid input value\"",
        quoted.join(", "),
        if lost.len() == 1 { "it" } else { "them" }
    )
}

/// The old values that `new` lacks.
fn missing(old: &[String], new: &[String]) -> Vec<String> {
    old.iter().filter(|v| !new.contains(v)).cloned().collect()
}

/// The values of a type N-1 knows: an enum of the base schema, or an inline `enum(...)`.
pub(super) fn old_enum_values(ctx: &Context<'_>, data_type: &str) -> Option<Vec<String>> {
    match ctx.before.enum_type(data_type) {
        Some(found) => Some(found.values.clone()),
        None => inline_enum_values(data_type),
    }
}

/// The values of a type as the deploy defines it: the last `CREATE TYPE ... AS ENUM` of that
/// name in the deploy, else the schema after it, else an inline `enum(...)`.
pub(super) fn new_enum_values(ctx: &Context<'_>, data_type: &str) -> Option<Vec<String>> {
    let wanted = type_name(ctx, data_type);
    let created = ctx.changes().filter_map(|change| match change.change {
        Change::CreateEnum { name, values } if *name == wanted => Some(values.clone()),
        _ => None,
    });
    created
        .last()
        .or_else(|| ctx.after.enum_type(data_type).map(|e| e.values.clone()))
        .or_else(|| inline_enum_values(data_type))
}

fn type_name(ctx: &Context<'_>, data_type: &str) -> QualifiedName {
    let name = data_type.trim_end_matches("[]").replace('"', "");
    match name.split_once('.') {
        Some((schema, name)) => QualifiedName::new(schema, name),
        None => QualifiedName::new(ctx.dialect.default_schema(), name),
    }
}

/// `enum('a','b')` (MySQL's inline enum) → `["a", "b"]`.
fn inline_enum_values(data_type: &str) -> Option<Vec<String>> {
    let trimmed = data_type.trim();
    let prefix = trimmed.get(..5)?;
    if !prefix.eq_ignore_ascii_case("enum(") || !trimmed.ends_with(')') {
        return None;
    }
    let inner = &trimmed[5..trimmed.len() - 1];
    let values = inner
        .split(',')
        .map(|v| v.trim().trim_matches('\'').replace("''", "'"))
        .collect();
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::schema::EnumType;

    fn status(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    fn base() -> Deploy {
        let mut deploy = Deploy::new().table(
            "orders",
            &[
                col("id", "bigint"),
                col("status", "order_status"),
                col("kind", "enum('a','b')"),
            ],
        );
        deploy.before.enums.insert(
            qn("order_status"),
            EnumType {
                name: qn("order_status"),
                values: status(&["pending", "paid", "void"]),
                created_by: "000".to_string(),
            },
        );
        deploy
    }

    fn create_enum(name: &str, values: &[&str]) -> crate::sql::Statement {
        stmt(vec![Change::CreateEnum {
            name: qn(name),
            values: status(values),
        }])
    }

    fn alter_type(column: &str, data_type: &str) -> crate::sql::Statement {
        stmt(vec![Change::AlterColumnType {
            table: qn("orders"),
            column: column.to_string(),
            data_type: data_type.to_string(),
            using: None,
        }])
    }

    #[test]
    fn fires_on_a_renamed_value() {
        let deploy = base().migration(vec![stmt(vec![Change::RenameEnumValue {
            name: qn("order_status"),
            from: "void".to_string(),
            to: "cancelled".to_string(),
        }])]);
        let findings = deploy.findings(&ChangeEnum);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("renames value 'void'"));
    }

    #[test]
    fn fires_on_a_renamed_type_that_n1_uses() {
        let rename = |from: &str| {
            stmt(vec![Change::RenameType {
                from: qn(from),
                to: qn("order_state"),
            }])
        };
        let findings = base()
            .migration(vec![rename("order_status")])
            .findings(&ChangeEnum);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("renames enum type"));
        // Renamed aside and created anew under the old name (Prisma's recipe): N-1's casts
        // still resolve; the values are judged where the column moves.
        let mut recreated = base().migration(vec![
            rename("order_status"),
            create_enum("order_status", &["pending", "paid", "void"]),
        ]);
        recreated.after.enums = recreated.before.enums.clone();
        let recreated = recreated.findings(&ChangeEnum);
        assert!(recreated.is_empty(), "{recreated:?}");
        // The deploy's own new type, renamed onto the old name, is not N-1's.
        let quiet = base()
            .migration(vec![
                create_enum("order_status_new", &["pending", "paid", "void"]),
                rename("order_status_new"),
            ])
            .findings(&ChangeEnum);
        assert!(quiet.is_empty(), "{quiet:?}");
    }

    #[test]
    fn fires_once_on_a_value_removed_by_recreating_the_type() {
        let deploy = base().migration(vec![
            create_enum("order_status_new", &["pending", "paid"]),
            alter_type("status", "order_status_new"),
        ]);
        let findings = deploy.findings(&ChangeEnum);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("without 'void'"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn fires_once_when_the_type_is_recreated_under_its_name() {
        let deploy = base().migration(vec![
            create_enum("order_status", &["pending", "paid"]),
            alter_type("status", "order_status"),
        ]);
        assert_eq!(deploy.findings(&ChangeEnum).len(), 1);
    }

    #[test]
    fn fires_on_a_value_removed_from_an_inline_enum() {
        let deploy = base().migration(vec![alter_type("kind", "enum('a')")]);
        assert_eq!(deploy.findings(&ChangeEnum).len(), 1);
    }

    #[test]
    fn adding_a_value_is_quiet() {
        let deploy = base().migration(vec![
            stmt(vec![Change::AddEnumValue {
                name: qn("order_status"),
                value: "refunded".to_string(),
                position: None,
            }]),
            alter_type("kind", "enum('a','b','c')"),
            create_enum("order_status_v2", &["pending", "paid", "void", "refunded"]),
            alter_type("status", "order_status_v2"),
        ]);
        assert!(deploy.findings(&ChangeEnum).is_empty());
    }
}
