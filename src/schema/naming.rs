//! Postgres's rules for the names it generates (`users_pkey`, `orders_user_id_fkey`,
//! `users_lower_idx`), its 63-byte identifier limit, identifier quoting, and the small
//! identifier scanning the replay needs to follow columns inside expressions.

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

/// Postgres's `ChooseRelationName`: the first of `t_c_key`, `t_c_key1`, `t_c_key2`, ... that
/// is not `taken`.
pub fn choose_name(
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

/// The part an index column contributes to a generated index name: the column itself, the
/// function's name for a function call (`lower(email)` → `lower`), else `expr`.
pub fn index_column_label(column: &str) -> String {
    if is_plain_identifier(column) {
        return column.to_string();
    }
    let Some((function, _)) = column.split_once('(') else {
        return "expr".to_string();
    };
    let function = function.trim().rsplit('.').next().unwrap_or_default();
    if is_plain_identifier(&function.to_ascii_lowercase()) {
        function.to_ascii_lowercase()
    } else {
        "expr".to_string()
    }
}

/// Column labels joined with `_`, as `ChooseIndexNameAddition` and
/// `ChooseForeignKeyConstraintNameAddition` do.
pub fn join_columns<S: AsRef<str>>(columns: &[S]) -> String {
    let labels: Vec<String> = columns
        .iter()
        .map(|c| index_column_label(c.as_ref()))
        .collect();
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

    #[test]
    fn index_labels() {
        assert_eq!(index_column_label("email"), "email");
        assert_eq!(index_column_label("lower(email)"), "lower");
        assert_eq!(index_column_label("(a + b)"), "expr");
        assert_eq!(join_columns(&["a", "lower(b)"]), "a_lower");
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
