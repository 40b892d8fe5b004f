//! rollsafe: checks SQL schema migrations for N-1 compatibility and rollback safety.
//!
//! The pipeline, one module per stage:
//! `source` (files at one revision) → `layout` (ordered migrations) → `sql` (statements,
//! parsed and lowered to the change IR) → `schema` (replayed catalog) → `rules` (findings)
//! → `report` (renderers). `check` wires the stages together for one run.

pub mod cache;
pub mod check;
pub mod config;
pub mod dialect;
pub mod docs;
pub mod git;
pub mod history;
pub mod hook;
pub mod init;
pub mod ir;
pub mod layout;
pub mod parallel;
pub mod project;
pub mod report;
pub mod resolve;
pub mod rollback;
pub mod rules;
pub mod schema;
pub mod source;
pub mod spelling;
pub mod sql;
pub mod usage;
