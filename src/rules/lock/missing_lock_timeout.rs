//! `missing-lock-timeout`: DDL that needs a strong lock on a busy table waits for every
//! running query that holds a conflicting lock, and while it waits every new query on the
//! table queues behind it. `SET lock_timeout` bounds that wait: the migration fails fast and
//! can be retried, instead of stalling the application.

use super::{existing_index_table, is_existing_table};
use crate::ir::{Change, MaintenanceKind, QualifiedName};
use crate::project::ParsedMigration;
use crate::rules::{Context, Finding, Rule, StatementRef};

pub struct MissingLockTimeout;

const ID: &str = "missing-lock-timeout";

impl Rule for MissingLockTimeout {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, ctx: &Context<'_>, findings: &mut Vec<Finding>) {
        if ctx.settings.lock_timeout_set_by_runner {
            return;
        }
        let Some(setting) = ctx.dialect.lock_timeout_setting() else {
            return;
        };
        for migration in ctx.deploy {
            if let Some(finding) = first_unguarded_lock(ctx, migration, setting) {
                findings.push(finding);
            }
        }
    }
}

/// What the migration has set so far.
#[derive(Default)]
struct Guard<'a> {
    /// A session-wide `SET lock_timeout` is in force.
    session: bool,
    /// `SET LOCAL lock_timeout` inside a transaction: in force until that transaction ends.
    local: Option<StatementRef<'a>>,
}

impl Guard<'_> {
    fn covers(&self, at: &StatementRef<'_>) -> bool {
        self.session
            || self
                .local
                .as_ref()
                .is_some_and(|local| local.same_transaction(at))
    }
}

/// A finding at the migration's first statement that locks an existing table with no lock
/// timeout in force. One per migration: the fix is one SET at the top.
fn first_unguarded_lock(
    ctx: &Context<'_>,
    migration: &ParsedMigration,
    setting: &str,
) -> Option<Finding> {
    let mut guard = Guard::default();
    let statements = ctx
        .statements()
        .filter(|at| std::ptr::eq(at.migration, migration));
    for at in statements {
        for change in &at.statement.changes {
            if let Change::Session {
                setting: name,
                value,
                local,
            } = change
            {
                if setting_name(name) == setting {
                    update_guard(&mut guard, at, value, *local);
                }
                continue;
            }
            let Some(relation) = locked_relation(ctx, change) else {
                continue;
            };
            if guard.covers(&at) {
                continue;
            }
            let message = format!(
                "locks {relation} with no {setting} set earlier in the migration: if any \
                 running query holds a conflicting lock, this statement waits for it, and \
                 every new query on {relation} (N-1's included) queues behind it"
            );
            let mut finding = at.finding(ID, message);
            finding.object = Some(relation.to_string());
            return Some(finding);
        }
    }
    None
}

fn update_guard<'a>(guard: &mut Guard<'a>, at: StatementRef<'a>, value: &str, local: bool) {
    let enabled = !disables_timeout(value);
    if !local {
        guard.session = enabled;
        guard.local = None;
    } else if at.in_transaction {
        // SET LOCAL outside a transaction does nothing (Postgres only warns).
        guard.local = enabled.then_some(at);
    }
}

/// `lock_timeout`, `SESSION lock_timeout`, `@@session.lock_wait_timeout` → the bare name.
fn setting_name(name: &str) -> String {
    let name = name.trim().trim_start_matches("@@").to_ascii_lowercase();
    let name = name
        .strip_prefix("session.")
        .or_else(|| name.strip_prefix("local."))
        .unwrap_or(&name);
    name.to_string()
}

/// `0` (any unit) and `DEFAULT` turn the timeout off (Postgres's default is no timeout).
fn disables_timeout(value: &str) -> bool {
    let value = value
        .trim()
        .trim_matches(['\'', '"'])
        .trim()
        .to_ascii_lowercase();
    value == "default"
        || value
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .trim()
            == "0"
}

/// The existing relation a change locks strongly enough to block the application's reads
/// or writes while it waits, if any. Concurrent index builds and drops, VALIDATE CONSTRAINT
/// and DML take weaker locks that do not block normal traffic.
fn locked_relation(ctx: &Context<'_>, change: &Change) -> Option<QualifiedName> {
    let existing = |name: &QualifiedName| is_existing_table(ctx, name).then(|| name.clone());
    match change {
        Change::AddColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::RenameColumn { table, .. }
        | Change::AlterColumnType { table, .. }
        | Change::SetNotNull { table, .. }
        | Change::DropNotNull { table, .. }
        | Change::SetDefault { table, .. }
        | Change::DropDefault { table, .. }
        | Change::AddConstraint { table, .. }
        | Change::DropConstraint { table, .. }
        | Change::RenameConstraint { table, .. }
        | Change::RenameTable { from: table, .. }
        | Change::RenameView { from: table, .. } => existing(table),
        Change::CreateIndex(index) if !index.concurrently => existing(&index.table),
        Change::DropIndex {
            names,
            concurrently: false,
            ..
        } => names
            .iter()
            .find_map(|index| existing_index_table(ctx, index).cloned()),
        Change::DropTable { tables: names, .. } | Change::DropView { names, .. } => {
            names.iter().find_map(existing)
        }
        Change::CreateView {
            name,
            or_replace: true,
            ..
        } => existing(name),
        Change::Maintenance {
            kind,
            table: Some(table),
        } if takes_exclusive_lock(*kind) => existing(table),
        _ => None,
    }
}

fn takes_exclusive_lock(kind: MaintenanceKind) -> bool {
    matches!(
        kind,
        MaintenanceKind::Vacuum { full: true }
            | MaintenanceKind::Cluster
            | MaintenanceKind::Reindex {
                concurrently: false
            }
            | MaintenanceKind::RefreshMaterializedView {
                concurrently: false
            }
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::dialect::Dialect;
    use crate::layout::TransactionMode;

    fn drop_name() -> Change {
        Change::DropColumn {
            table: users(),
            column: "name".into(),
            if_exists: false,
        }
    }

    #[test]
    fn fires_once_per_migration_at_the_first_lock() {
        let findings = Deploy::postgres()
            .wrapped(vec![
                vec![create_index(users(), "users_email_idx", true)],
                vec![drop_name()],
                vec![set_not_null(users(), "email")],
            ])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(findings[0].span, 100..110);
        assert_eq!(findings[0].object.as_deref(), Some("public.users"));
    }

    #[test]
    fn an_earlier_set_lock_timeout_is_quiet() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![set_lock_timeout(false)], vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert!(findings.is_empty());
    }

    #[test]
    fn a_set_after_the_lock_or_a_zero_timeout_does_not_count() {
        let too_late = Deploy::postgres()
            .wrapped(vec![vec![drop_name()], vec![set_lock_timeout(false)]])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&too_late), [ID]);

        let zero = Deploy::postgres()
            .wrapped(vec![
                vec![session("lock_timeout", "0", false)],
                vec![drop_name()],
            ])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&zero), [ID]);
    }

    #[test]
    fn set_local_counts_only_inside_its_transaction() {
        let wrapped = Deploy::postgres()
            .wrapped(vec![vec![set_lock_timeout(true)], vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert!(wrapped.is_empty());

        let autocommit = Deploy::postgres()
            .autocommit(vec![vec![set_lock_timeout(true)], vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&autocommit), [ID]);

        let after_commit = Deploy::postgres()
            .autocommit(vec![
                vec![begin()],
                vec![set_lock_timeout(true)],
                vec![commit()],
                vec![drop_name()],
            ])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&after_commit), [ID]);
    }

    #[test]
    fn each_migration_needs_its_own_timeout() {
        let findings = Deploy::postgres()
            .wrapped(vec![vec![set_lock_timeout(false)], vec![drop_name()]])
            .migration(TransactionMode::Wrapped, vec![vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert_eq!(rules(&findings), [ID]);
        assert_eq!(findings[0].migration, "003");
    }

    #[test]
    fn weak_locks_new_tables_and_the_runner_setting_are_quiet() {
        let weak = Deploy::postgres()
            .autocommit(vec![
                vec![create_index(users(), "users_email_idx", true)],
                vec![validate(orders(), "fk")],
                vec![create_table(invoices())],
                vec![add_column(invoices(), column("note", "text"))],
            ])
            .run(&MissingLockTimeout);
        assert!(weak.is_empty());

        let runner = Deploy::postgres()
            .lock_timeout_set_by_runner()
            .wrapped(vec![vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert!(runner.is_empty());
    }

    #[test]
    fn mysql_uses_lock_wait_timeout_and_sqlite_is_quiet() {
        let mysql = |set: Vec<Change>| {
            Deploy::on(Dialect::Mysql)
                .wrapped(vec![set, vec![drop_name()]])
                .run(&MissingLockTimeout)
        };
        assert!(mysql(vec![session("lock_wait_timeout", "5", false)]).is_empty());
        assert_eq!(rules(&mysql(vec![set_lock_timeout(false)])), [ID]);

        let sqlite = Deploy::on(Dialect::Sqlite)
            .wrapped(vec![vec![drop_name()]])
            .run(&MissingLockTimeout);
        assert!(sqlite.is_empty());
    }

    #[test]
    fn reads_setting_names_and_values() {
        assert_eq!(
            setting_name("@@SESSION.lock_wait_timeout"),
            "lock_wait_timeout"
        );
        assert_eq!(setting_name("lock_timeout"), "lock_timeout");
        assert!(disables_timeout("0"));
        assert!(disables_timeout("'0s'"));
        assert!(disables_timeout("DEFAULT"));
        assert!(!disables_timeout("'5s'"));
        assert!(!disables_timeout("100"));
    }
}
