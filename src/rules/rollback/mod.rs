//! Rollback rules: down migrations and how far back an image-only rollback reaches.

mod down_not_inverse;
mod irreversible_up;
mod missing_down;
mod rollback_window;

pub use down_not_inverse::DownNotInverse;
pub use irreversible_up::IrreversibleUp;
pub use missing_down::MissingDown;
pub use rollback_window::RollbackWindow;

use super::Finding;

use crate::project::ParsedMigration;
use std::ops::Range;

/// A finding at the start of a migration's up file (or its first statement), for what is
/// about the migration as a whole.
fn at_migration(rule: &'static str, migration: &ParsedMigration, message: String) -> Finding {
    let path = migration.migration.display_path().to_string();
    let span = first_statement_span(migration.up.statements.first().map(|s| s.span.clone()));
    Finding {
        rule,
        severity: None,
        message,
        path,
        span,
        migration: migration.migration.id.clone(),
        object: None,
        evidence: Vec::new(),
    }
}

fn first_statement_span(span: Option<Range<usize>>) -> Range<usize> {
    span.unwrap_or(0..0)
}
