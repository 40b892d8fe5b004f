//! What a rule sees: the deploy and the schema around it.

use super::Finding;
use crate::config::{Retire, Settings};
use crate::dialect::Dialect;
use crate::history::HistoryDiff;
use crate::ir::rebuild::{self, Rebuild};
use crate::ir::{Change, QualifiedName, TransactionControl};
use crate::project::ParsedMigration;
use crate::rollback::{analyze_downs, DownAnalysis};
use crate::schema::Catalog;
use crate::sql::Statement;
use crate::usage::Usage;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};

/// The read-only input of every rule.
pub struct Context<'a> {
    pub dialect: Dialect,
    pub settings: &'a Settings,
    /// The migrations N-1 has not run, in apply order.
    pub deploy: &'a [ParsedMigration],
    /// The schema N-1 expects: every migration before the deploy, replayed.
    pub before: &'a Catalog,
    /// The schema after the deploy.
    pub after: &'a Catalog,
    /// Retire declarations that have shipped (the base revision's, or in `--all` mode the
    /// working tree's).
    pub retired: &'a [Retire],
    /// Retire declarations at the head (for `retire-unknown-object`).
    pub retire_declared: &'a [Retire],
    /// How the head's migrations relate to the base's; `None` without a base (`--all`).
    pub history: Option<&'a HistoryDiff>,
    /// What N-1's code uses, read at N-1's revision; `None` when the usage stage did not
    /// run (compat rules then rest on the presumption that N-1 uses everything it knows).
    pub usage: Option<&'a Usage>,
    /// The releases of the rollback window, newest first (empty without `[rollback]`).
    pub releases: &'a [ReleaseRollback],
    /// The `--all` history audit rather than a deploy gate: what rollsafe cannot understand
    /// is reported, but only a deploy fails closed on it.
    pub audit: bool,
    /// Facts about the deploy that several rules need, computed by the first one that asks.
    /// Build with `Default::default()`.
    pub cache: ContextCache,
}

/// An image-only rollback from the head to one release: what breaks that release's binary
/// on the head's schema (for `rollback-window`). The check computes it by running the compat
/// rules against the release's schema and resolving them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRollback {
    pub release: String,
    pub commit: String,
    /// The compat findings of every migration added since the release, judged against the
    /// release's schema and its own retire declarations. Empty: the rollback is safe.
    pub breaks: Vec<Finding>,
}

/// Lazily computed facts about a context's deploy (see `Context::downs`, `renamed_from`).
#[derive(Default)]
pub struct ContextCache {
    downs: OnceCell<Vec<DownAnalysis>>,
    /// Table renames of the deploy: new name → old name.
    renames: OnceCell<HashMap<QualifiedName, QualifiedName>>,
    /// The table rebuilds of each deploy migration, in deploy order.
    rebuilds: OnceCell<Vec<Vec<Rebuild>>>,
    /// Columns the deploy adds to tables N-1 knows.
    added_columns: OnceCell<BTreeSet<(QualifiedName, String)>>,
}

/// Every table rebuild in the migration's up statements (`ir::rebuild::find`), with each
/// rebuild's `create_statement` as an index into the up statements.
pub fn rebuilds_in(migration: &ParsedMigration, dialect: Dialect) -> Vec<Rebuild> {
    let changes: Vec<(usize, &Change)> = migration
        .up
        .statements
        .iter()
        .enumerate()
        .flat_map(|(index, statement)| statement.changes.iter().map(move |c| (index, c)))
        .collect();
    rebuild::find(&changes, dialect)
}

/// The table rebuilds of a context's deploy (`Context::rebuilds`).
#[derive(Clone, Copy)]
pub struct Rebuilds<'c, 'a> {
    ctx: &'c Context<'a>,
    found: &'c [Vec<Rebuild>],
}

impl<'c, 'a> Rebuilds<'c, 'a> {
    /// The rebuilds of this deploy migration (compared by identity: ids may repeat).
    pub fn in_migration(&self, migration: &ParsedMigration) -> &'c [Rebuild] {
        self.ctx
            .deploy
            .iter()
            .position(|m| std::ptr::eq(m, migration))
            .map_or(&[], |index| self.found[index].as_slice())
    }

    /// Each rebuild with the CREATE TABLE statement of its new copy, where findings about
    /// what the rebuild changes (a column lost, retyped, made required) point.
    pub fn sites(&self) -> Vec<(StatementRef<'a>, &'c Rebuild)> {
        if self.found.iter().all(Vec::is_empty) {
            return Vec::new();
        }
        let found = self.found;
        let deploy = self.ctx.deploy;
        self.ctx
            .statements()
            .flat_map(move |at| {
                let index = deploy
                    .iter()
                    .position(|m| std::ptr::eq(m, at.migration))
                    .unwrap_or(0);
                found[index]
                    .iter()
                    .filter(move |rebuild| rebuild.create_statement == at.index)
                    .map(move |rebuild| (at, rebuild))
            })
            .collect()
    }

    /// True when the migration rebuilds a table and `table` is one of its names.
    pub fn is_rebuilt(&self, migration: &ParsedMigration, table: &QualifiedName) -> bool {
        self.in_migration(migration)
            .iter()
            .any(|r| r.involves(table))
    }
}

/// A statement of the deploy, with where it sits and whether it runs in a transaction.
#[derive(Clone, Copy)]
pub struct StatementRef<'a> {
    pub migration: &'a ParsedMigration,
    pub index: usize,
    pub statement: &'a Statement,
    /// True when the statement runs inside a transaction: the tool's own, or an explicit
    /// `BEGIN` earlier in the file.
    pub in_transaction: bool,
    /// Which transaction of the migration it runs in (statements with the same number run
    /// in the same one); `None` outside any.
    pub transaction: Option<usize>,
}

/// One change of the deploy with the statement it came from.
#[derive(Clone, Copy)]
pub struct ChangeRef<'a> {
    pub at: StatementRef<'a>,
    pub change: &'a Change,
}

impl<'a> StatementRef<'a> {
    /// A finding located at this statement.
    pub fn finding(&self, rule: &'static str, message: impl Into<String>) -> Finding {
        let path = self
            .migration
            .migration
            .up
            .as_ref()
            .map(|part| part.path.clone())
            .unwrap_or_default();
        Finding {
            rule,
            severity: None,
            message: message.into(),
            path,
            span: self.statement.span.clone(),
            migration: self.migration.migration.id.clone(),
            object: None,
            evidence: Vec::new(),
        }
    }

    /// The statements of the same migration that come before this one.
    pub fn earlier(&self) -> &'a [Statement] {
        &self.migration.up.statements[..self.index]
    }

    /// True when both statements run in one transaction, so N-1 never sees the state
    /// between them.
    pub fn same_transaction(&self, other: &StatementRef<'_>) -> bool {
        std::ptr::eq(self.migration, other.migration)
            && self.transaction.is_some()
            && self.transaction == other.transaction
    }
}

impl<'a> Context<'a> {
    /// The same context for another deploy and the schemas around it.
    pub fn with_deploy(
        &self,
        deploy: &'a [ParsedMigration],
        before: &'a Catalog,
        after: &'a Catalog,
    ) -> Context<'a> {
        Context {
            deploy,
            before,
            after,
            cache: ContextCache::default(),
            ..*self
        }
    }

    /// What each deploy migration's down does (`rollback::analyze_downs`), computed once.
    pub fn downs(&self) -> &[DownAnalysis] {
        self.cache
            .downs
            .get_or_init(|| analyze_downs(self.before, self.after, self.deploy))
    }

    /// The columns the deploy adds to tables N-1 knows: N-1 never writes them (it leaves
    /// them NULL or to their default). Found once per context.
    pub fn added_columns(&self) -> &BTreeSet<(QualifiedName, String)> {
        self.cache.added_columns.get_or_init(|| {
            self.changes()
                .filter_map(|change| match change.change {
                    Change::AddColumn { table, column, .. }
                        if self.known_to_n1(table)
                            && !self.column_known_to_n1(table, &column.name) =>
                    {
                        Some((table.clone(), column.name.clone()))
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// The table rebuilds of the deploy, found once per context.
    pub fn rebuilds(&self) -> Rebuilds<'_, 'a> {
        let found = self.cache.rebuilds.get_or_init(|| {
            self.deploy
                .iter()
                .map(|migration| rebuilds_in(migration, self.dialect))
                .collect()
        });
        Rebuilds { ctx: self, found }
    }

    /// The name `table` had before the deploy renamed it to its current name, if it did.
    pub fn renamed_from(&self, table: &QualifiedName) -> Option<&QualifiedName> {
        let renames = self.cache.renames.get_or_init(|| {
            self.changes()
                .filter_map(|at| match at.change {
                    Change::RenameTable { from, to } => Some((to.clone(), from.clone())),
                    _ => None,
                })
                .collect()
        });
        renames.get(table)
    }

    /// Every up statement of the deploy, in order.
    pub fn statements(&self) -> impl Iterator<Item = StatementRef<'a>> + 'a {
        self.deploy.iter().flat_map(up_statements)
    }

    /// Every change of the deploy's up migrations, in order.
    pub fn changes(&self) -> impl Iterator<Item = ChangeRef<'a>> + 'a {
        self.statements().flat_map(|at| {
            at.statement
                .changes
                .iter()
                .map(move |change| ChangeRef { at, change })
        })
    }

    /// The changes that run in the same transaction as `at`, before it (`later` false) or
    /// after it (`later` true): N-1 sees only what the transaction leaves.
    pub fn in_same_transaction(
        &self,
        at: &StatementRef<'a>,
        later: bool,
    ) -> impl Iterator<Item = ChangeRef<'a>> + 'a {
        let at = *at;
        up_statements(at.migration)
            .filter(move |other| {
                let side = if later {
                    other.index > at.index
                } else {
                    other.index < at.index
                };
                side && other.same_transaction(&at)
            })
            .flat_map(|other| {
                other
                    .statement
                    .changes
                    .iter()
                    .map(move |change| ChangeRef { at: other, change })
            })
    }

    /// True when N-1 knows the relation: it exists in the schema before the deploy. A table
    /// or view created in this deploy (and everything it owns) is not N-1's concern.
    pub fn known_to_n1(&self, relation: &QualifiedName) -> bool {
        self.before.has_relation(relation)
    }

    /// True when the column existed before the deploy.
    pub fn column_known_to_n1(&self, table: &QualifiedName, column: &str) -> bool {
        self.before.column(table, column).is_some()
    }

    /// True when a shipped retire declaration covers the table (or, with `column`, the
    /// column): N-1 no longer uses it.
    pub fn is_retired(&self, table: &QualifiedName, column: Option<&str>) -> bool {
        self.retired
            .iter()
            .any(|retire| retire.covers(self.dialect, table, column))
    }

    /// True when a retire entry at the head (not yet shipped) covers the object, so a message
    /// can say "ship the retirement first".
    pub fn is_retired_only_at_head(&self, table: &QualifiedName, column: Option<&str>) -> bool {
        !self.is_retired(table, column)
            && self
                .retire_declared
                .iter()
                .any(|retire| retire.covers(self.dialect, table, column))
    }
}

/// The up statements with their transactions. The tool's transaction (when it wraps the
/// migration) is number 0; an explicit `COMMIT` or `ROLLBACK` ends the open transaction, so
/// what follows runs outside one until a `BEGIN` opens the next.
fn up_statements(migration: &ParsedMigration) -> impl Iterator<Item = StatementRef<'_>> {
    let tool_wraps = migration
        .migration
        .transaction
        .in_transaction(migration.up.statements.len());
    let mut open = tool_wraps.then_some(0);
    let mut opened = usize::from(tool_wraps);
    migration
        .up
        .statements
        .iter()
        .enumerate()
        .map(move |(index, statement)| {
            // A BEGIN statement itself is outside; a COMMIT is the last statement inside.
            let transaction = open;
            for change in &statement.changes {
                match change {
                    // BEGIN inside an open transaction only warns: it stays open.
                    Change::Transaction(TransactionControl::Begin) if open.is_none() => {
                        open = Some(opened);
                        opened += 1;
                    }
                    Change::Transaction(TransactionControl::Begin) => {}
                    Change::Transaction(_) => open = None,
                    _ => {}
                }
            }
            StatementRef {
                migration,
                index,
                statement,
                in_transaction: transaction.is_some(),
                transaction,
            }
        })
}
