//! SQL types: their canonical spelling (as Postgres's `format_type` prints them) and how a
//! change from one to another affects N-1 and the table's storage.
//!
//! Everything here works on spellings, without a dialect: MySQL and SQLite types are spelled
//! the Postgres way where Postgres has the same type (`INT` → `integer`, `DOUBLE` →
//! `double precision`), and lower-cased otherwise (`tinyint(1)`, `datetime`, `longtext`).
//! One consequence: a bare `float` reads as Postgres's `double precision`, although MySQL's
//! `FLOAT` is single precision.

use crate::dialect::Dialect;

/// Spells a type as Postgres's `format_type` prints it: `int`, `int4` and `serial` read
/// `integer`; `varchar(255)` reads `character varying(255)`; `timestamptz` reads
/// `timestamp with time zone`; arrays keep their `[]`.
///
/// Unquoted names are lower-cased; a quoted user type keeps its quotes only when Postgres
/// would print them (`"Mood"`), and the default schema `public.` is dropped, since
/// `format_type` omits a schema on the search path. Applying it twice changes nothing.
pub fn canonical_type(raw: &str) -> String {
    let (element, is_array) = strip_array(raw.trim());
    let mut spelled = canonical_scalar(element);
    if is_array {
        spelled.push_str("[]");
    }
    spelled
}

/// True for the pseudo-types that create a sequence: `serial`, `bigserial`, `smallserial`
/// (and `serial2/4/8`). `canonical_type` spells them as the integer they store.
pub fn is_serial(raw: &str) -> bool {
    serial_base_type(raw).is_some()
}

/// The integer type a serial pseudo-type stores (`bigserial` → `bigint`).
pub fn serial_base_type(raw: &str) -> Option<&'static str> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "serial" | "serial4" => Some("integer"),
        "bigserial" | "serial8" => Some("bigint"),
        "smallserial" | "serial2" => Some("smallint"),
        _ => None,
    }
}

/// True when every value of `old` fits `new` unchanged and an N-1 binary that reads and
/// writes `old` keeps working: `varchar(n)` → `varchar(m ≥ n)` or `text`, `char(n)` →
/// `varchar(m ≥ n)` or `text`, `smallint` → `integer` → `bigint`, `numeric(p,s)` →
/// `numeric(p' ≥ p,s)` or unconstrained `numeric`, `real` → `double precision`.
/// `timestamp` → `timestamptz` is not: the values' meaning changes.
pub fn is_compatible_widening(old: &str, new: &str) -> bool {
    let (old, new) = (canonical_type(old), canonical_type(new));
    if old == new {
        return true;
    }
    match (strip_array(&old), strip_array(&new)) {
        ((old, true), (new, true)) => widens(&Type::parse(old), &Type::parse(new)),
        ((old, false), (new, false)) => widens(&Type::parse(old), &Type::parse(new)),
        _ => false,
    }
}

/// True when changing a column from `old` to `new` keeps every value as it was: a
/// compatible widening, `timestamp` → `timestamptz` (the same instants, now read in the
/// session's time zone), or in SQLite two spellings of the same type affinity (`TIMESTAMP`
/// and `DATETIME` are both NUMERIC: SQLite stores the values the same way). An enum moved
/// to `text` keeps its values too, which only a caller that knows the enums can tell.
pub fn keeps_values(old: &str, new: &str, dialect: Dialect) -> bool {
    if is_compatible_widening(old, new) {
        return true;
    }
    let (old, new) = (canonical_type(old), canonical_type(new));
    match dialect {
        Dialect::Sqlite => sqlite_affinity(&old) == sqlite_affinity(&new),
        _ => old == "timestamp without time zone" && new == "timestamp with time zone",
    }
}

/// SQLite's type affinity of a declared type, by its documented rules (in order: INT,
/// then CHAR/CLOB/TEXT, then BLOB or no type, then REAL/FLOA/DOUB, else NUMERIC).
fn sqlite_affinity(declared: &str) -> &'static str {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        "INTEGER"
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|k| upper.contains(k)) {
        "TEXT"
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        "BLOB"
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|k| upper.contains(k)) {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// A column default as the database compares it, or `None` when it amounts to no default
/// (`NULL`, `NULL::text`): outer parentheses dropped, a cast to the column's own type
/// dropped (`'a'::character varying` on a `varchar(20)` column), and everything outside
/// string literals lower-cased with its spacing removed (`NOW ()` is `now()`).
pub fn canonical_default(sql: &str, column_type: &str) -> Option<String> {
    let mut expr = fold_outside_quotes(sql.trim());
    loop {
        let unwrapped = strip_outer_parens(&expr);
        let uncast = strip_own_cast(unwrapped, column_type);
        if uncast.len() == expr.len() {
            break;
        }
        expr = uncast.to_string();
    }
    (!matches!(expr.as_str(), "null" | "")).then_some(expr)
}

/// Lower-cased with whitespace removed, except inside single-quoted literals and quoted
/// names.
fn fold_outside_quotes(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c.is_whitespace() => {}
            None => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// `(expr)` → `expr`, when the parentheses wrap the whole expression.
fn strip_outer_parens(expr: &str) -> &str {
    let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) else {
        return expr;
    };
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '(' => depth += 1,
            None if c == ')' => {
                depth -= 1;
                if depth < 0 {
                    return expr;
                }
            }
            None => {}
        }
    }
    if depth == 0 {
        inner
    } else {
        expr
    }
}

/// `value::type` → `value` when `type` is the column's type (ignoring its length or
/// precision, which Postgres leaves out of the cast it prints).
fn strip_own_cast<'e>(expr: &'e str, column_type: &str) -> &'e str {
    let Some((value, cast)) = expr.rsplit_once("::") else {
        return expr;
    };
    if value.ends_with('\'') || !value.contains('\'') {
        let base = |t: &str| -> String {
            let spelled = canonical_type(t);
            spelled
                .split('(')
                .next()
                .unwrap_or_default()
                .replace(' ', "")
        };
        if base(cast) == base(column_type) {
            return value;
        }
    }
    expr
}

/// True when Postgres can change the column's type without rewriting the table (a
/// binary-coercible change): `varchar(n)` → `varchar(m > n)`, `varchar` → `text`, `text` →
/// unconstrained `varchar`, `numeric(p,s)` → `numeric(p' > p,s)` or unconstrained `numeric`.
/// Everything else is taken to rewrite, including `integer` → `bigint` and `timestamp` →
/// `timestamptz` (which skips the rewrite only from Postgres 12 with the session time zone
/// at UTC: too narrow to count on). Arrays count only when unchanged, to stay on the safe
/// side.
pub fn is_binary_compatible(old: &str, new: &str) -> bool {
    let (old, new) = (canonical_type(old), canonical_type(new));
    if old == new {
        return true;
    }
    use Type::*;
    match (Type::parse(&old), Type::parse(&new)) {
        (Varchar(Some(n)), Varchar(Some(m))) => m > n,
        (Varchar(_), Varchar(None) | Text) => true,
        (Text, Varchar(None)) => true,
        (Numeric(old), Numeric(new)) => numeric_widens(old, new),
        _ => false,
    }
}

/// The types whose conversions we reason about; anything else is compared by spelling.
#[derive(Debug, Clone, PartialEq)]
enum Type {
    Varchar(Option<u32>),
    Char(Option<u32>),
    Text,
    /// An integer type, by width rank; `unsigned` for MySQL's unsigned variants.
    Integer {
        rank: u8,
        unsigned: bool,
    },
    /// `(precision, scale)`, or `None` for unconstrained `numeric`.
    Numeric(Option<(u32, u32)>),
    Real,
    Double,
    Other,
}

impl Type {
    /// Reads a canonical spelling (the output of `canonical_scalar`).
    fn parse(canonical: &str) -> Type {
        let parts = TypeParts::split(canonical);
        let (key, unsigned) = parts.key_without_sign();
        let number = |arg: Option<&str>| arg.and_then(|n| n.parse().ok());
        match key.as_str() {
            "character varying" => Type::Varchar(number(parts.args.as_deref())),
            "character" => Type::Char(number(parts.args.as_deref())),
            "text" => Type::Text,
            "numeric" => Type::Numeric(parts.args.as_deref().and_then(precision_scale)),
            "real" => Type::Real,
            "double precision" => Type::Double,
            _ => match integer_rank(&key) {
                Some(rank) => Type::Integer { rank, unsigned },
                None => Type::Other,
            },
        }
    }
}

fn widens(old: &Type, new: &Type) -> bool {
    use Type::*;
    match (old, new) {
        (Varchar(Some(n)), Varchar(Some(m))) => m >= n,
        (Varchar(_), Varchar(None) | Text) => true,
        (Char(n), Varchar(m)) => fits_length(*n, *m),
        (Char(_), Text) => true,
        (Text, Varchar(None)) => true,
        (
            Integer {
                rank: r1,
                unsigned: u1,
            },
            Integer {
                rank: r2,
                unsigned: u2,
            },
        ) => integer_widens(*r1, *u1, *r2, *u2),
        (Numeric(old), Numeric(new)) => numeric_widens(*old, *new),
        (Real, Double) => true,
        _ => false,
    }
}

/// `char(n)` holds at most n characters (`char` alone is `char(1)`).
fn fits_length(old: Option<u32>, new: Option<u32>) -> bool {
    match new {
        None => true,
        Some(m) => m >= old.unwrap_or(1),
    }
}

/// A signed type holds an unsigned one only when strictly wider; an unsigned type never
/// holds a signed one.
fn integer_widens(old_rank: u8, old_unsigned: bool, new_rank: u8, new_unsigned: bool) -> bool {
    match (old_unsigned, new_unsigned) {
        (false, true) => false,
        (true, false) => new_rank > old_rank,
        _ => new_rank >= old_rank,
    }
}

fn numeric_widens(old: Option<(u32, u32)>, new: Option<(u32, u32)>) -> bool {
    match (old, new) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((p, s)), Some((q, t))) => s == t && q >= p,
    }
}

fn integer_rank(key: &str) -> Option<u8> {
    match key {
        "tinyint" => Some(1),
        "smallint" => Some(2),
        "mediumint" => Some(3),
        "integer" => Some(4),
        "bigint" => Some(5),
        _ => None,
    }
}

/// `"10,2"` → `(10, 2)`; `"10"` → `(10, 0)`, as Postgres reads `numeric(10)`.
fn precision_scale(args: &str) -> Option<(u32, u32)> {
    let mut numbers = args.split(',').map(|n| n.trim().parse::<u32>());
    let precision = numbers.next()?.ok()?;
    let scale = match numbers.next() {
        Some(scale) => scale.ok()?,
        None => 0,
    };
    Some((precision, scale))
}

/// Splits off an array marker: `text[]`, `int[3][3]`, `integer ARRAY`, or Postgres's
/// internal `_text`. Postgres ignores array dimensions, so any number of them is one `[]`.
fn strip_array(raw: &str) -> (&str, bool) {
    let mut rest = raw.trim_end();
    let mut is_array = false;
    while rest.ends_with(']') {
        match rest.rfind('[') {
            Some(open) => rest = rest[..open].trim_end(),
            None => break,
        }
        is_array = true;
    }
    if let Some(element) = strip_suffix_ignore_case(rest, " array") {
        return (element.trim_end(), true);
    }
    if !is_array && is_internal_array_name(rest) {
        return (&rest[1..], true);
    }
    (rest, is_array)
}

/// `_int4`, `_text`: the names Postgres gives array types internally.
fn is_internal_array_name(name: &str) -> bool {
    name.len() > 1
        && name.starts_with('_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let split = text.len().checked_sub(suffix.len())?;
    let tail = text.get(split..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..split])
}

/// Canonical spelling of a non-array type.
fn canonical_scalar(raw: &str) -> String {
    let parts = TypeParts::split(raw);
    let (key, unsigned) = parts.key_without_sign();
    let args = parts.args.as_deref();
    let spelled = match key.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => "integer".to_string(),
        "bigint" | "int8" | "bigserial" | "serial8" => "bigint".to_string(),
        "smallint" | "int2" | "smallserial" | "serial2" => "smallint".to_string(),
        // MySQL's display widths (`int(11)`) change nothing; `tinyint(1)` is its boolean.
        "mediumint" => "mediumint".to_string(),
        "varchar" | "character varying" | "char varying" => with_args("character varying", args),
        "char" | "character" | "bpchar" => with_args("character", args.or(Some("1"))),
        "bool" | "boolean" => "boolean".to_string(),
        "float8" | "double" | "double precision" => "double precision".to_string(),
        "float4" | "real" => "real".to_string(),
        "float" => float_by_precision(args).to_string(),
        "decimal" | "numeric" | "dec" => numeric(args),
        "timestamptz" | "timestamp with time zone" => zoned("timestamp", args, "with"),
        "timestamp" | "timestamp without time zone" => zoned("timestamp", args, "without"),
        "timetz" | "time with time zone" => zoned("time", args, "with"),
        "time" | "time without time zone" => zoned("time", args, "without"),
        "varbit" | "bit varying" => with_args("bit varying", args),
        "bit" => with_args("bit", args.or(Some("1"))),
        _ => return parts.spelled_as_is(),
    };
    if unsigned {
        format!("{spelled} unsigned")
    } else {
        spelled
    }
}

fn with_args(name: &str, args: Option<&str>) -> String {
    match args {
        Some(args) => format!("{name}({args})"),
        None => name.to_string(),
    }
}

/// `float(p)` is `real` up to 24 bits of precision, `double precision` beyond (and bare).
fn float_by_precision(args: Option<&str>) -> &'static str {
    match args.and_then(|p| p.parse::<u32>().ok()) {
        Some(bits) if bits <= 24 => "real",
        _ => "double precision",
    }
}

fn numeric(args: Option<&str>) -> String {
    match args.map(|a| (a, precision_scale(a))) {
        Some((_, Some((precision, scale)))) => format!("numeric({precision},{scale})"),
        Some((args, None)) => format!("numeric({args})"),
        None => "numeric".to_string(),
    }
}

/// `timestamp(3) with time zone`: the precision sits after the first word.
fn zoned(name: &str, args: Option<&str>, with: &str) -> String {
    format!("{} {with} time zone", with_args(name, args))
}

/// A type spelling cut into the words before its parenthesised arguments, the arguments,
/// and the words after: `TIMESTAMP(3) WITH TIME ZONE` → `timestamp`, `3`, `with time zone`.
/// Lower-cased outside quotes; whitespace collapsed; spaces dropped inside the arguments
/// outside quotes (`numeric(10, 2)` → `10,2`).
struct TypeParts {
    head: Vec<String>,
    args: Option<String>,
    tail: Vec<String>,
}

impl TypeParts {
    fn split(raw: &str) -> TypeParts {
        let mut parts = TypeParts {
            head: Vec::new(),
            args: None,
            tail: Vec::new(),
        };
        let mut chars = raw.chars().peekable();
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' | '\'' => read_quoted(c, &mut chars, &mut word),
                '(' if parts.args.is_none() => {
                    parts.push_word(&mut word);
                    parts.args = Some(read_args(&mut chars));
                }
                c if c.is_whitespace() => parts.push_word(&mut word),
                c => word.push(c.to_ascii_lowercase()),
            }
        }
        parts.push_word(&mut word);
        parts
    }

    fn push_word(&mut self, word: &mut String) {
        if word.is_empty() {
            return;
        }
        let word = std::mem::take(word);
        if self.args.is_none() {
            self.head.push(word);
        } else {
            self.tail.push(word);
        }
    }

    /// The words without the arguments, and whether MySQL's `unsigned` was among them
    /// (`zerofill` implies it, and `signed` is the default).
    fn key_without_sign(&self) -> (String, bool) {
        let mut unsigned = false;
        let words: Vec<&str> = self
            .head
            .iter()
            .chain(&self.tail)
            .map(String::as_str)
            .filter(|word| match *word {
                "unsigned" | "zerofill" => {
                    unsigned = true;
                    false
                }
                "signed" => false,
                _ => true,
            })
            .collect();
        (words.join(" "), unsigned)
    }

    /// A type we have no canonical name for: a user type (normalised like an identifier)
    /// or a dialect's own type, lower-cased with its arguments.
    fn spelled_as_is(&self) -> String {
        let mut head = self.head.join(" ");
        if self.head.len() == 1 && self.args.is_none() && self.tail.is_empty() {
            head = user_type_name(&head);
        }
        let mut spelled = with_args(&head, self.args.as_deref());
        for word in &self.tail {
            spelled.push(' ');
            spelled.push_str(word);
        }
        spelled
    }
}

/// Copies a quoted string or identifier, quotes included, as written.
fn read_quoted(quote: char, chars: &mut std::iter::Peekable<std::str::Chars>, out: &mut String) {
    out.push(quote);
    while let Some(c) = chars.next() {
        out.push(c);
        if c == quote {
            // A doubled quote is an escaped one, not the end.
            if chars.peek() == Some(&quote) {
                out.push(chars.next().unwrap_or(quote));
            } else {
                return;
            }
        }
    }
}

/// Reads up to the matching `)`, dropping whitespace outside quotes.
fn read_args(chars: &mut std::iter::Peekable<std::str::Chars>) -> String {
    let mut args = String::new();
    let mut depth = 0;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => read_quoted(c, chars, &mut args),
            '(' => {
                depth += 1;
                args.push(c);
            }
            ')' if depth == 0 => break,
            ')' => {
                depth -= 1;
                args.push(c);
            }
            c if c.is_whitespace() => {}
            c => args.push(c.to_ascii_lowercase()),
        }
    }
    args
}

/// `"Mood"` stays quoted, `"mood"` reads `mood`, `public.mood` reads `mood`.
fn user_type_name(name: &str) -> String {
    let parts = split_qualified(name);
    let parts: Vec<String> = parts
        .iter()
        .map(|part| normalise_identifier(part))
        .collect();
    match parts.as_slice() {
        [schema, name] if schema == "public" => name.clone(),
        _ => parts.join("."),
    }
}

/// Splits `a."b.c"` on the dots outside quotes.
fn split_qualified(name: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (at, c) in name.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => {
                parts.push(&name[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&name[start..]);
    parts
}

/// Drops the quotes around an identifier that does not need them.
fn normalise_identifier(part: &str) -> String {
    let Some(inner) = part
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return part.to_string();
    };
    let plain = !inner.is_empty()
        && inner.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && inner
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        inner.to_string()
    } else {
        part.to_string()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn defaults_compare_as_the_database_would() {
        assert_eq!(canonical_default("NULL", "text"), None);
        assert_eq!(canonical_default("NULL::text", "text"), None);
        assert_eq!(canonical_default("(NULL)", "integer"), None);
        assert_eq!(
            canonical_default("'a'::character varying", "varchar(20)"),
            canonical_default("'a'", "varchar(20)")
        );
        assert_eq!(
            canonical_default("NOW ()", "timestamptz"),
            canonical_default("now()", "timestamptz")
        );
        assert_eq!(
            canonical_default("('Pending')", "text").as_deref(),
            Some("'Pending'")
        );
        // A literal's case is its value; a cast to another type changes the value's type.
        assert_ne!(
            canonical_default("'A'", "text"),
            canonical_default("'a'", "text")
        );
        assert_ne!(
            canonical_default("'1'::integer", "text"),
            canonical_default("'1'", "text")
        );
    }

    use super::*;

    #[test]
    fn canonical_spellings() {
        let cases = [
            ("int", "integer"),
            ("INT", "integer"),
            ("int4", "integer"),
            ("INTEGER", "integer"),
            ("serial", "integer"),
            ("SERIAL4", "integer"),
            ("int8", "bigint"),
            ("BIGINT", "bigint"),
            ("bigserial", "bigint"),
            ("int2", "smallint"),
            ("smallserial", "smallint"),
            ("SMALLINT", "smallint"),
            ("varchar(255)", "character varying(255)"),
            ("VARCHAR(255)", "character varying(255)"),
            ("character varying(255)", "character varying(255)"),
            ("CHARACTER VARYING(10)", "character varying(10)"),
            ("CHARACTER  VARYING ( 10 )", "character varying(10)"),
            ("varchar", "character varying"),
            ("char(3)", "character(3)"),
            ("CHARACTER(3)", "character(3)"),
            ("char", "character(1)"),
            ("bool", "boolean"),
            ("BOOLEAN", "boolean"),
            ("float8", "double precision"),
            ("DOUBLE PRECISION", "double precision"),
            ("double", "double precision"),
            ("float", "double precision"),
            ("float(24)", "real"),
            ("float(53)", "double precision"),
            ("float4", "real"),
            ("REAL", "real"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("NUMERIC(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("numeric", "numeric"),
            ("DECIMAL", "numeric"),
            ("timestamptz", "timestamp with time zone"),
            ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("TIMESTAMP(6) WITH TIME ZONE", "timestamp(6) with time zone"),
            ("timestamp", "timestamp without time zone"),
            ("TIMESTAMP WITHOUT TIME ZONE", "timestamp without time zone"),
            ("timestamp(0)", "timestamp(0) without time zone"),
            ("timetz", "time with time zone"),
            ("time", "time without time zone"),
            ("TIME WITH TIME ZONE", "time with time zone"),
            ("date", "date"),
            ("interval", "interval"),
            ("text", "text"),
            ("TEXT", "text"),
            ("text[]", "text[]"),
            ("TEXT[]", "text[]"),
            ("_text", "text[]"),
            ("_int4", "integer[]"),
            ("int[]", "integer[]"),
            ("INTEGER[]", "integer[]"),
            ("int[][]", "integer[]"),
            ("int[3]", "integer[]"),
            ("integer ARRAY", "integer[]"),
            ("varchar(20)[]", "character varying(20)[]"),
            ("jsonb", "jsonb"),
            ("JSON", "json"),
            ("uuid", "uuid"),
            ("UUID", "uuid"),
            ("bytea", "bytea"),
            ("varbit(8)", "bit varying(8)"),
            ("bit", "bit(1)"),
            ("order_status", "order_status"),
            ("Order_Status", "order_status"),
            ("\"order_status\"", "order_status"),
            ("\"Mood\"", "\"Mood\""),
            ("public.order_status", "order_status"),
            ("PUBLIC.ORDER_STATUS", "order_status"),
            ("billing.invoice_state", "billing.invoice_state"),
            ("\"Billing\".state", "\"Billing\".state"),
            // MySQL
            ("tinyint(1)", "tinyint(1)"),
            ("TINYINT", "tinyint"),
            ("int(11)", "integer"),
            ("INT UNSIGNED", "integer unsigned"),
            ("int(10) unsigned", "integer unsigned"),
            ("BIGINT(20) UNSIGNED", "bigint unsigned"),
            ("mediumint(8)", "mediumint"),
            ("datetime", "datetime"),
            ("DATETIME(6)", "datetime(6)"),
            ("longtext", "longtext"),
            ("MEDIUMTEXT", "mediumtext"),
            ("ENUM('a','b')", "enum('a','b')"),
            ("enum('Draft', 'It''s Live')", "enum('Draft','It''s Live')"),
            ("blob", "blob"),
        ];
        for (raw, expected) in cases {
            assert_eq!(canonical_type(raw), expected, "canonical_type({raw:?})");
        }
    }

    #[test]
    fn serial_spellings() {
        for raw in ["serial", "BIGSERIAL", "smallserial", "serial8"] {
            assert!(is_serial(raw), "{raw}");
        }
        assert!(!is_serial("integer"));
    }

    #[test]
    fn canonical_spelling_is_idempotent() {
        for raw in [
            "character varying(255)",
            "timestamp(3) with time zone",
            "time without time zone",
            "numeric(10,2)",
            "double precision",
            "character(1)",
            "integer[]",
            "bit varying(8)",
            "integer unsigned",
            "enum('a','b')",
            "\"Mood\"",
        ] {
            assert_eq!(canonical_type(raw), raw);
        }
    }

    #[test]
    fn widening() {
        let compatible = [
            ("varchar(10)", "varchar(20)"),
            ("varchar(10)", "varchar(10)"),
            ("varchar(10)", "character varying(10)"),
            ("varchar(10)", "text"),
            ("varchar", "text"),
            ("varchar(10)", "varchar"),
            ("text", "varchar"),
            ("char(3)", "varchar(3)"),
            ("char(3)", "varchar(30)"),
            ("char(3)", "text"),
            ("smallint", "integer"),
            ("smallint", "bigint"),
            ("int", "bigint"),
            ("int4", "int8"),
            ("integer", "integer"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
            ("decimal(10,2)", "numeric(10, 2)"),
            ("real", "double precision"),
            ("float4", "float8"),
            ("varchar(10)[]", "text[]"),
            ("int unsigned", "bigint"),
            ("int unsigned", "bigint unsigned"),
            ("tinyint", "smallint"),
        ];
        for (old, new) in compatible {
            assert!(is_compatible_widening(old, new), "{old} → {new} widens");
        }
        let incompatible = [
            ("varchar(20)", "varchar(10)"),
            ("text", "varchar(255)"),
            ("varchar", "varchar(10)"),
            ("char(3)", "varchar(2)"),
            ("bigint", "integer"),
            ("integer", "smallint"),
            ("numeric(10,2)", "numeric(12,3)"),
            ("numeric(10,2)", "numeric(8,2)"),
            ("numeric", "numeric(10,2)"),
            ("double precision", "real"),
            ("timestamp", "timestamptz"),
            ("timestamptz", "timestamp"),
            ("integer", "text"),
            ("text", "text[]"),
            ("int unsigned", "int"),
            ("int", "int unsigned"),
            ("text", "jsonb"),
        ];
        for (old, new) in incompatible {
            assert!(
                !is_compatible_widening(old, new),
                "{old} → {new} does not widen"
            );
        }
    }

    #[test]
    fn binary_compatibility() {
        let without_rewrite = [
            ("varchar(10)", "varchar(20)"),
            ("varchar(10)", "text"),
            ("varchar", "text"),
            ("varchar(10)", "varchar"),
            ("text", "varchar"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric"),
            ("int", "integer"),
            ("jsonb", "jsonb"),
        ];
        for (old, new) in without_rewrite {
            assert!(
                is_binary_compatible(old, new),
                "{old} → {new} keeps storage"
            );
        }
        let rewrites = [
            ("int", "bigint"),
            ("smallint", "integer"),
            ("timestamp", "timestamptz"),
            ("varchar(20)", "varchar(10)"),
            ("text", "varchar(255)"),
            ("numeric(10,2)", "numeric(12,3)"),
            ("numeric", "numeric(10,2)"),
            ("char(3)", "text"),
            ("real", "double precision"),
            ("varchar(10)[]", "text[]"),
            ("text", "jsonb"),
        ];
        for (old, new) in rewrites {
            assert!(!is_binary_compatible(old, new), "{old} → {new} rewrites");
        }
    }
}
