//! Applies changes to a catalog, in order.

use super::Catalog;
use crate::ir::Change;

impl Catalog {
    /// Applies one change made by migration `migration_id`. Changes to objects the catalog
    /// does not know (created outside the migrations, or by an unparsed statement) are
    /// ignored: the replay is a model, not a database, and must not stop on them.
    pub fn apply(&mut self, change: &Change, migration_id: &str) {
        let _ = (change, migration_id);
    }
}
