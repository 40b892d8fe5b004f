//! Which functions an expression calls, read from its SQL text: enough to tell a volatile
//! default (`random()`, `gen_random_uuid()`, `nextval(...)`) from a stable one (`now()`, a
//! constant), and a `SELECT` run for a function's side effects from a plain query.

/// Functions whose value changes per row: a column added with one as its default rewrites
/// the table.
const VOLATILE: &[&str] = &[
    "random",
    "rand",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuid_generate_v7",
    "uuidv4",
    "uuidv7",
    "uuid",
    "newid",
    "nextval",
    "setval",
    "clock_timestamp",
    "timeofday",
    "txid_current",
    "pg_current_xact_id",
    "setseed",
];

/// Calls that only compute a value: a `SELECT` of these has no side effect. Keywords that a
/// printed query puts before `(` are here too.
const PURE: &[&str] = &[
    "select",
    "from",
    "where",
    "in",
    "exists",
    "any",
    "all",
    "some",
    "values",
    "as",
    "on",
    "using",
    "over",
    "filter",
    "within",
    "and",
    "or",
    "not",
    "case",
    "when",
    "then",
    "else",
    "join",
    "array",
    "row",
    "cast",
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "lower",
    "upper",
    "length",
    "char_length",
    "substring",
    "substr",
    "trim",
    "concat",
    "format",
    "replace",
    "position",
    "extract",
    "date_trunc",
    "to_char",
    "now",
    "current_setting",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "json_build_object",
    "jsonb_build_object",
    "to_json",
    "to_jsonb",
    "unnest",
    "abs",
    "round",
    "floor",
    "ceil",
    "mod",
    "md5",
    "encode",
    "decode",
    "generate_series",
    "pg_typeof",
    "version",
    "current_database",
    "current_schema",
    "has_table_privilege",
    "to_regclass",
    "interval",
    "timestamp",
    "date",
    "lateral",
    "with",
    "by",
    "limit",
];

/// True when the expression calls a volatile function.
pub fn is_volatile(sql: &str) -> bool {
    called_functions(sql)
        .iter()
        .any(|f| VOLATILE.contains(&unqualified(f)))
}

/// The first function a query calls that is not known to be free of side effects.
pub fn side_effect_call(sql: &str) -> Option<String> {
    called_functions(sql)
        .into_iter()
        .find(|f| !is_pure(unqualified(f)))
}

/// Privilege and catalog lookups (`has_table_privilege`, `pg_get_indexdef`) only read.
fn is_pure(function: &str) -> bool {
    PURE.contains(&function) || function.starts_with("has_") || function.starts_with("pg_get_")
}

fn unqualified(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Lower-cased names directly followed by `(`, outside string literals and quoted names.
pub fn called_functions(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => i = skip_quoted(bytes, i, quote),
            b if is_name_start(b) && (i == 0 || !is_name_byte(bytes[i - 1])) => {
                let start = i;
                while i < bytes.len() && (is_name_byte(bytes[i]) || bytes[i] == b'.') {
                    i += 1;
                }
                let next = bytes[i..].iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b'(') {
                    found.push(sql[start..i].to_ascii_lowercase());
                }
            }
            _ => i += 1,
        }
    }
    found
}

fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_defaults() {
        for sql in [
            "random()",
            "gen_random_uuid()",
            "public.uuid_generate_v4()",
            "nextval('a_id_seq'::regclass)",
            "clock_timestamp()",
            "timeofday()",
            "txid_current()",
            "(random() * 10)::int",
        ] {
            assert!(is_volatile(sql), "{sql}");
        }
    }

    #[test]
    fn stable_defaults() {
        for sql in [
            "now()",
            "CURRENT_TIMESTAMP",
            "0",
            "'random()'",
            "'x'::text",
            "CAST('a' AS TEXT)",
            "\"random\"",
        ] {
            assert!(!is_volatile(sql), "{sql}");
        }
    }

    #[test]
    fn side_effect_calls() {
        assert_eq!(
            side_effect_call("SELECT pg_advisory_lock(1)").as_deref(),
            Some("pg_advisory_lock")
        );
        assert_eq!(
            side_effect_call("SELECT setval('s', (SELECT max(id) FROM t))").as_deref(),
            Some("setval")
        );
        assert_eq!(
            side_effect_call("SELECT count(*) FROM t WHERE a IN (1, 2)"),
            None
        );
        assert_eq!(side_effect_call("SELECT 1"), None);
    }
}
