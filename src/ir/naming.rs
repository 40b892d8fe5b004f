//! Postgres's rules for the names it generates (`users_pkey`, `orders_user_id_fkey`,
//! `users_lower_idx`, `users_id_seq`, numbered `users_email_key1` when taken), its 63-byte
//! identifier limit, identifier quoting, and the small identifier scanning the replay needs
//! to follow columns inside expressions. The lowering (a serial's default) and the replay
//! (constraint and index names) both name objects through `generated_name`.

use super::{ConstraintKind, DefaultExpr, QualifiedName};

/// Postgres keeps the first 63 bytes of an identifier (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Cuts a name to 63 bytes, on a character boundary, as Postgres does (with a NOTICE).
pub fn truncate_identifier(name: &str) -> String {
    clip(name, MAX_IDENTIFIER_BYTES).to_string()
}

/// Postgres's `makeObjectName`: `name1_name2_label`, shortening the longer of `name1` and
/// `name2` a byte at a time until the whole fits in 63 bytes. The label is never cut.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let (mut keep1, mut keep2) = (name1.len(), name2.map_or(0, str::len));
    while keep1 + keep2 > available {
        if keep1 > keep2 {
            keep1 -= 1;
        } else {
            keep2 -= 1;
        }
    }
    let mut name = clip(name1, keep1).to_string();
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clip(name2, keep2));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// What Postgres generates a name for.
#[derive(Debug, Clone, Copy)]
pub enum NameFor<'a> {
    /// A constraint: `t_pkey`, `t_a_b_key`, `t_a_excl`, `t_a_fkey`, `t_a_check` (a check
    /// names its column only when its expression uses exactly one), `t_check`.
    Constraint(&'a ConstraintKind),
    /// An index created without a name: `t_a_b_idx`, unique or not; an expression column
    /// contributes its function's name or `expr`.
    Index,
    /// The sequence of a serial column: `t_c_seq`.
    Sequence,
}

/// The one place Postgres's generated names are made (`ChooseConstraintName`,
/// `ChooseIndexName`, `ChooseRelationName`): `table_<columns>_<label>`, shortened to 63
/// bytes, numbered (`t_a_key1`, `t_a_key2`, ...) while `taken` says the name is in use.
/// What `taken` must cover is the caller's: the schema's relations for an index, a
/// sequence or a constraint that builds an index (and its constraints too for the last),
/// the schema's constraints for the others.
pub fn generated_name<S: AsRef<str>>(
    table: &str,
    object: NameFor<'_>,
    columns: &[S],
    taken: impl Fn(&str) -> bool,
) -> String {
    let plain = || -> String {
        let names: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
        names.join("_")
    };
    let (middle, label) = match object {
        NameFor::Constraint(ConstraintKind::PrimaryKey) => (None, "pkey"),
        NameFor::Constraint(ConstraintKind::Unique) => (Some(index_columns_label(columns)), "key"),
        NameFor::Constraint(ConstraintKind::Exclusion) => {
            (Some(index_columns_label(columns)), "excl")
        }
        NameFor::Constraint(ConstraintKind::ForeignKey { .. }) => (Some(plain()), "fkey"),
        NameFor::Constraint(ConstraintKind::Check { .. }) if columns.len() == 1 => {
            (Some(plain()), "check")
        }
        NameFor::Constraint(ConstraintKind::Check { .. }) => (None, "check"),
        NameFor::Index => (Some(index_columns_label(columns)), "idx"),
        NameFor::Sequence => (Some(plain()), "seq"),
    };
    choose_name(table, middle.as_deref(), label, taken)
}

/// The default Postgres gives a serial column: `nextval('<sequence>'::regclass)`, the
/// sequence named by `generated_name` (`taken` as for a relation), quoted as `regclass`
/// prints it and schema-qualified outside `default_schema`.
pub fn serial_default(
    table: &QualifiedName,
    column: &str,
    default_schema: &str,
    taken: impl Fn(&str) -> bool,
) -> DefaultExpr {
    let sequence = generated_name(&table.name, NameFor::Sequence, &[column], taken);
    DefaultExpr {
        sql: nextval(&table.schema, &sequence, default_schema),
        volatile: true,
    }
}

/// `nextval('<schema.sequence>'::regclass)` as a serial's default spells it: a default
/// equal to it means the sequence exists (its name is taken).
pub fn nextval(schema: &str, sequence: &str, default_schema: &str) -> String {
    let quoted = quote_ident(sequence);
    let qualified = if schema == default_schema || schema.is_empty() {
        quoted
    } else {
        format!("{}.{quoted}", quote_ident(schema))
    };
    format!("nextval('{}'::regclass)", qualified.replace('\'', "''"))
}

/// Postgres's `ChooseRelationName`: the first of `t_c_key`, `t_c_key1`, `t_c_key2`, ... that
/// is not `taken`.
fn choose_name(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    taken: impl Fn(&str) -> bool,
) -> String {
    let mut candidate = make_object_name(name1, name2, label);
    let mut pass = 0;
    while taken(&candidate) {
        pass += 1;
        candidate = make_object_name(name1, name2, &format!("{label}{pass}"));
    }
    candidate
}

/// The part an index column contributes to a generated index name, as Postgres's
/// `FigureIndexColname` finds it: the column itself (as stored, so `Email` stays `Email`),
/// a cast's operand (`created_at::date` → `created_at`), a function's name (`lower(email)`
/// → `lower`), else `expr`.
fn index_column_label(column: &str) -> String {
    let column = column.trim();
    if !is_expression(column) {
        return column.to_string();
    }
    if let Some(inner) = column
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .filter(|inner| balanced(inner))
    {
        return index_column_label(inner);
    }
    if let Some((operand, _)) = column
        .rsplit_once("::")
        .filter(|(operand, _)| balanced(operand))
    {
        return index_column_label(operand);
    }
    if let Some((function, _)) = column.split_once('(').filter(|_| column.ends_with(')')) {
        let function = function.trim().rsplit('.').next().unwrap_or_default();
        let folded = function.to_ascii_lowercase();
        if is_plain_identifier(&folded) {
            return folded;
        }
    }
    if let Some(unquoted) = column
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|inner| !inner.contains('"'))
    {
        return unquoted.to_string();
    }
    "expr".to_string()
}

/// True when every parenthesis in `text` closes in it.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// An index's column labels joined with `_`, as `ChooseIndexNameAddition` does; a label
/// already used in the same index is numbered (`lower`, `lower1`), as
/// `ChooseIndexColumnNames` does.
fn index_columns_label<S: AsRef<str>>(columns: &[S]) -> String {
    let mut labels: Vec<String> = Vec::with_capacity(columns.len());
    for column in columns {
        let label = index_column_label(column.as_ref());
        let mut candidate = label.clone();
        let mut pass = 0;
        while labels.contains(&candidate) {
            pass += 1;
            candidate = format!("{label}{pass}");
        }
        labels.push(candidate);
    }
    labels.join("_")
}

/// An identifier that needs no quotes: lower-case letters, digits, `_` and `$`, not starting
/// with a digit or `$`. (Keywords are checked separately.)
pub fn is_plain_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

/// Quotes an identifier the way Postgres's `quote_ident` does: only when it is not plain or
/// is a keyword that would be read as one.
pub fn quote_ident(name: &str) -> String {
    quote_ident_with(name, '"')
}

/// `quote_ident`, with the dialect's quote character (MySQL uses backticks).
pub fn quote_ident_with(name: &str, quote: char) -> String {
    if is_plain_identifier(name) && !is_keyword(name) {
        return name.to_string();
    }
    let doubled = format!("{quote}{quote}");
    let escaped = name.replace(quote, &doubled);
    format!("{quote}{escaped}{quote}")
}

/// A SQL string literal: `it's` → `'it''s'`.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The identifiers an expression mentions, folded as Postgres folds them (unquoted ones
/// lower-cased), skipping string literals. Function and type names come along too; callers
/// match the result against column names.
pub fn identifiers_in(expr: &str) -> Vec<String> {
    tokens(expr)
        .into_iter()
        .filter_map(|token| token.identifier)
        .collect()
}

/// True when `text` is the column `column`, or an expression that mentions it.
pub fn mentions_column(text: &str, column: &str) -> bool {
    text == column
        || (is_expression(text) && identifiers_in(text).iter().any(|name| name == column))
}

/// Replaces the identifier `from` with `to` in an expression, leaving literals and other
/// names alone. A bare column name is renamed only when it is `from` exactly (`Email` and
/// `email` are different columns).
pub fn rename_identifier(text: &str, from: &str, to: &str) -> String {
    if text == from {
        return to.to_string();
    }
    if !is_expression(text) {
        return text.to_string();
    }
    let mut renamed = String::with_capacity(text.len());
    for token in tokens(text) {
        match token.identifier {
            Some(name) if name == from => renamed.push_str(&quote_ident(to)),
            _ => renamed.push_str(token.source),
        }
    }
    renamed
}

/// Column lists hold bare names (already folded) or expressions as written; a bare name
/// has no punctuation or spaces.
fn is_expression(text: &str) -> bool {
    text.chars()
        .any(|c| !(c.is_alphanumeric() || c == '_' || c == '$'))
}

/// One piece of an expression, as written, with its folded name when it is an identifier.
struct Token<'a> {
    source: &'a str,
    identifier: Option<String>,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    tokens_raw(text)
        .into_iter()
        .map(|(start, end, kind)| {
            let source = &text[start..end];
            let identifier = match kind {
                RawKind::Word => Some(source.to_ascii_lowercase()),
                RawKind::QuotedIdentifier => Some(unquote(source)),
                RawKind::Other => None,
            };
            Token { source, identifier }
        })
        .collect()
}

/// `"a""b"` → `a"b`.
fn unquote(quoted: &str) -> String {
    let inner = quoted.strip_prefix('"').unwrap_or(quoted);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    inner.replace("\"\"", "\"")
}

#[derive(Clone, Copy)]
enum RawKind {
    Word,
    QuotedIdentifier,
    Other,
}

/// Byte ranges of words, quoted identifiers, and everything else (string literals, with
/// their quotes, are `Other`).
fn tokens_raw(text: &str) -> Vec<(usize, usize, RawKind)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let kind = match bytes[at] {
            b'\'' | b'"' => {
                at = end_of_quoted(bytes, at);
                if bytes[start] == b'"' {
                    RawKind::QuotedIdentifier
                } else {
                    RawKind::Other
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                while at < bytes.len() && is_word_byte(bytes[at]) {
                    at += 1;
                }
                RawKind::Word
            }
            b if b.is_ascii_digit() => {
                // A number (`1e5`, `0x1f`) is not an identifier.
                while at < bytes.len() && is_word_byte(bytes[at]) {
                    at += 1;
                }
                RawKind::Other
            }
            _ => {
                at += 1;
                RawKind::Other
            }
        };
        out.push((start, at, kind));
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The index just past a quoted run starting at `start`; a doubled quote escapes one.
fn end_of_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut at = start + 1;
    while at < bytes.len() {
        if bytes[at] == quote {
            if bytes.get(at + 1) == Some(&quote) {
                at += 2;
                continue;
            }
            return at + 1;
        }
        at += 1;
    }
    bytes.len()
}

fn clip(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Keywords `quote_ident` quotes: Postgres's reserved, type/function-name and column-name
/// keywords.
fn is_keyword(name: &str) -> bool {
    KEYWORDS.binary_search(&name).is_ok()
}

const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_for_binary_search() {
        assert!(KEYWORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn object_names_follow_postgres() {
        assert_eq!(make_object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            make_object_name("orders", Some("user_id"), "fkey"),
            "orders_user_id_fkey"
        );
        let long_table = "t".repeat(60);
        let name = make_object_name(&long_table, Some("email"), "key");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_email_key"), "{name}");
        let both_long = make_object_name(&"a".repeat(40), Some(&"b".repeat(40)), "idx");
        assert_eq!(
            both_long,
            format!("{}_{}_idx", "a".repeat(29), "b".repeat(29))
        );
    }

    #[test]
    fn chosen_names_skip_taken_ones() {
        let taken = ["users_email_key", "users_email_key1"];
        let name = choose_name("users", Some("email"), "key", |n| taken.contains(&n));
        assert_eq!(name, "users_email_key2");
    }

    fn free(_: &str) -> bool {
        false
    }

    #[test]
    fn generated_names_follow_postgres() {
        let fk = ConstraintKind::ForeignKey {
            references: QualifiedName::new("public", "users"),
            ref_columns: vec!["id".into()],
        };
        let check = ConstraintKind::Check {
            expr: "a > b".into(),
        };
        let name = |object, columns: &[&str]| generated_name("t", object, columns, free);
        assert_eq!(
            name(NameFor::Constraint(&ConstraintKind::PrimaryKey), &["id"]),
            "t_pkey"
        );
        assert_eq!(
            name(NameFor::Constraint(&ConstraintKind::Unique), &["a", "b"]),
            "t_a_b_key"
        );
        assert_eq!(
            name(NameFor::Constraint(&ConstraintKind::Exclusion), &["a"]),
            "t_a_excl"
        );
        assert_eq!(
            name(NameFor::Constraint(&fk), &["user_id"]),
            "t_user_id_fkey"
        );
        assert_eq!(name(NameFor::Constraint(&check), &["a"]), "t_a_check");
        assert_eq!(name(NameFor::Constraint(&check), &["a", "b"]), "t_check");
        assert_eq!(name(NameFor::Index, &["a", "lower(b)"]), "t_a_lower_idx");
        assert_eq!(name(NameFor::Sequence, &["id"]), "t_id_seq");
        // Numbered while taken, the way a second `UNIQUE (email)` on a table is.
        let taken = ["users_email_key", "users_email_key1"];
        let unique = NameFor::Constraint(&ConstraintKind::Unique);
        assert_eq!(
            generated_name("users", unique, &["email"], |n| taken.contains(&n)),
            "users_email_key2"
        );
        assert_eq!(
            generated_name("users", NameFor::Index, &["email"], |n| n
                == "users_email_idx"),
            "users_email_idx1"
        );
    }

    #[test]
    fn index_labels() {
        assert_eq!(index_column_label("email"), "email");
        assert_eq!(index_column_label("Email"), "Email");
        assert_eq!(index_column_label("lower(email)"), "lower");
        assert_eq!(index_column_label("(lower(email))"), "lower");
        assert_eq!(index_column_label("created_at::date"), "created_at");
        assert_eq!(index_column_label("(a + b)"), "expr");
        assert_eq!(index_column_label("a + b"), "expr");
        assert_eq!(index_columns_label(&["a", "lower(b)"]), "a_lower");
        assert_eq!(
            index_columns_label(&["lower(a)", "lower(b)"]),
            "lower_lower1"
        );
    }

    #[test]
    fn serial_defaults() {
        let users = QualifiedName::new("public", "users");
        assert_eq!(
            serial_default(&users, "id", "public", free).sql,
            "nextval('users_id_seq'::regclass)"
        );
        let app = QualifiedName::new("app", "Orders");
        assert_eq!(
            serial_default(&app, "id", "public", free).sql,
            "nextval('app.\"Orders_id_seq\"'::regclass)"
        );
        let long = QualifiedName::new("public", "t".repeat(70));
        let sql = serial_default(&long, "id", "public", |n| n.ends_with("_id_seq")).sql;
        assert!(sql.contains("_id_seq1'"), "{sql}");
        assert!(serial_default(&users, "id", "public", free).volatile);
        let default = serial_default(&app, "id", "public", free);
        assert_eq!(default.sql, nextval("app", "Orders_id_seq", "public"));
        assert_ne!(default.sql, nextval("public", "Orders_id_seq", "public"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident_with("order", '`'), "`order`");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn expressions() {
        assert_eq!(
            identifiers_in("price > 0 AND \"Qty\" <> 'price'"),
            ["price", "and", "Qty"]
        );
        assert!(mentions_column("lower(email)", "email"));
        assert!(!mentions_column("lower(email_2)", "email"));
        assert_eq!(
            rename_identifier("price > 0 and 'price' <> Price2", "price", "cost"),
            "cost > 0 and 'price' <> Price2"
        );
        assert_eq!(rename_identifier("price", "price", "Cost"), "Cost");
        assert_eq!(rename_identifier("Price", "price", "cost"), "Price");
        assert!(!mentions_column("Price", "price"));
    }
}
