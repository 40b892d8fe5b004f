//! The SQL dialects rollsafe understands.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    /// The schema an unqualified name resolves to.
    pub fn default_schema(self) -> &'static str {
        match self {
            Dialect::Postgres => "public",
            Dialect::Mysql => "",
            Dialect::Sqlite => "main",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    // ---- how the dialect reads SQL text ----

    /// `#` starts a line comment (MySQL).
    pub fn has_hash_comments(self) -> bool {
        self == Dialect::Mysql
    }

    /// A backslash escapes the next character inside quotes (MySQL's default mode).
    pub fn has_backslash_escapes(self) -> bool {
        self == Dialect::Mysql
    }

    /// `$tag$ ... $tag$` quotes a string, as function bodies are written (Postgres).
    pub fn has_dollar_quotes(self) -> bool {
        self == Dialect::Postgres
    }

    /// A quoted name keeps its case; otherwise names match without regard to case. Postgres
    /// lower-cases unquoted names and keeps quoted ones; MySQL and SQLite match every name
    /// without regard to case, quoted or not.
    pub fn quoted_names_keep_case(self) -> bool {
        self == Dialect::Postgres
    }

    /// The character that quotes a name in the SQL rollsafe prints.
    pub fn identifier_quote(self) -> char {
        match self {
            Dialect::Mysql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        }
    }

    // ---- how the database behaves ----

    /// The session setting that bounds waiting for a table lock: `lock_timeout`; MySQL's
    /// metadata locks queue the same way and `lock_wait_timeout` bounds them; SQLite locks
    /// the whole file and has no such setting.
    pub fn lock_timeout_setting(self) -> Option<&'static str> {
        match self {
            Dialect::Postgres => Some("lock_timeout"),
            Dialect::Mysql => Some("lock_wait_timeout"),
            Dialect::Sqlite => None,
        }
    }

    /// Postgres's table locks: what the Postgres lock rules (index builds, validating
    /// scans, rewrites) describe.
    pub fn has_postgres_locks(self) -> bool {
        self == Dialect::Postgres
    }

    /// `ALTER TABLE ... ALGORITHM=...` decides between a copy and an in-place change (MySQL).
    pub fn has_online_ddl_algorithms(self) -> bool {
        self == Dialect::Mysql
    }

    /// The error N-1 gets for a column that is gone, as the database words it.
    pub fn missing_column_error(self) -> &'static str {
        match self {
            Dialect::Postgres => "column does not exist",
            Dialect::Mysql => "Unknown column",
            Dialect::Sqlite => "no such column",
        }
    }

    /// The error N-1 gets for a table or view that is gone, as the database words it.
    pub fn missing_relation_error(self) -> &'static str {
        match self {
            Dialect::Postgres => "relation does not exist",
            Dialect::Mysql => "Table doesn't exist",
            Dialect::Sqlite => "no such table",
        }
    }

    pub fn parse_name(name: &str) -> Option<Dialect> {
        match name.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
