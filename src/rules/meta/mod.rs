//! Meta rules: about rollsafe's own view of the migrations (what it could not read or see
//! into) and about suppression comments.

pub mod allow_without_reason;
pub mod empty_migration;
pub mod opaque_statement;
pub mod unknown_object;
pub mod unparsed_statement;
pub mod unused_allow;

pub use allow_without_reason::AllowWithoutReason;
pub use empty_migration::EmptyMigration;
pub use opaque_statement::OpaqueStatement;
pub use unknown_object::UnknownObject;
pub use unparsed_statement::UnparsedStatement;
pub use unused_allow::UnusedAllow;
