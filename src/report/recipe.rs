//! Recipes written for the finding at hand. A rule's recipe (`rules/<id>.toml`) names the
//! object through placeholders, filled from the finding, so its help never shows an example
//! object from elsewhere:
//!
//! - `{object}`: the finding's object as `rollsafe.toml` accepts it (`users.name`: the
//!   dialect's default schema left out).
//! - `{table}` and `{column}`: in a recipe that uses `{column}`, the object is a column and
//!   they are its two parts (`users` and `name`); otherwise `{table}` is the whole object.
//! - `{rule}`: the rule's id.
//!
//! Where no finding fills them (`rollsafe explain`, `docs/rules.md`, a finding without an
//! object) they read `OBJECT`, `TABLE` and `COLUMN`, as a command's usage names its
//! arguments. Anything else in braces is left as written.

use crate::dialect::Dialect;

/// `recipe` for a finding of `rule` about `object` (fully qualified, as rules report it).
pub fn fill(recipe: &str, rule: &str, object: Option<&str>, dialect: Dialect) -> String {
    let Some(object) = object.map(|object| unqualified(object, dialect)) else {
        return generic(recipe, rule);
    };
    let (table, column) = match object.rsplit_once('.') {
        Some((table, column)) if recipe.contains("{column}") => (table, column),
        _ if recipe.contains("{column}") => ("TABLE", object),
        _ => (object, "COLUMN"),
    };
    substitute(recipe, rule, object, table, column)
}

/// `recipe` in its generic form, for documentation of the rule itself.
pub fn generic(recipe: &str, rule: &str) -> String {
    substitute(recipe, rule, "OBJECT", "TABLE", "COLUMN")
}

fn substitute(recipe: &str, rule: &str, object: &str, table: &str, column: &str) -> String {
    recipe
        .replace("{rule}", rule)
        .replace("{object}", object)
        .replace("{table}", table)
        .replace("{column}", column)
}

/// `public.users.name` as a user writes it for Postgres: `users.name`. Another schema stays.
fn unqualified(object: &str, dialect: Dialect) -> &str {
    let schema = dialect.default_schema();
    match object
        .strip_prefix(schema)
        .and_then(|s| s.strip_prefix('.'))
    {
        Some(rest) if !schema.is_empty() && !rest.is_empty() => rest,
        _ => object,
    }
}

#[cfg(test)]
mod tests {
    use super::{fill, generic};
    use crate::dialect::Dialect;

    const COLUMN_RECIPE: &str =
        "[[retire]] object = \"{table}.{column}\"; -- rollsafe:allow {rule} <why {object} can go>";

    #[test]
    fn a_finding_fills_the_recipe_with_its_object_without_the_default_schema() {
        let filled = fill(
            COLUMN_RECIPE,
            "drop-column",
            Some("public.users.name"),
            Dialect::Postgres,
        );
        assert_eq!(
            filled,
            "[[retire]] object = \"users.name\"; -- rollsafe:allow drop-column <why users.name can go>"
        );
    }

    #[test]
    fn a_table_recipe_takes_the_whole_object_and_another_schema_stays() {
        let filled = fill(
            "DROP TABLE {table};",
            "drop-table",
            Some("billing.invoices"),
            Dialect::Postgres,
        );
        assert_eq!(filled, "DROP TABLE billing.invoices;");
        let filled = fill(
            "{table}",
            "drop-table",
            Some("public.users"),
            Dialect::Postgres,
        );
        assert_eq!(filled, "users");
        // A table merely starting with the schema's name keeps it.
        let filled = fill(
            "{table}",
            "drop-table",
            Some("publications"),
            Dialect::Postgres,
        );
        assert_eq!(filled, "publications");
        let filled = fill("{table}", "drop-table", Some("users"), Dialect::Mysql);
        assert_eq!(filled, "users");
    }

    #[test]
    fn a_column_in_another_schema_keeps_its_schema_with_the_table() {
        let filled = fill(
            COLUMN_RECIPE,
            "drop-column",
            Some("billing.invoices.total"),
            Dialect::Postgres,
        );
        assert!(
            filled.starts_with("[[retire]] object = \"billing.invoices.total\""),
            "{filled}"
        );
    }

    #[test]
    fn every_recipe_uses_only_known_placeholders() {
        // A misspelt placeholder (`{colum}`) would reach users as written.
        for meta in crate::rules::all_meta() {
            let generic = generic(&meta.recipe, &meta.id);
            let mut rest = generic.as_str();
            while let Some(open) = rest.find('{') {
                let word = rest[open + 1..].split('}').next().unwrap_or("");
                assert!(
                    !word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "rules/{}.toml: unknown placeholder {{{word}}} in the recipe",
                    meta.id
                );
                rest = &rest[open + 1..];
            }
        }
    }

    #[test]
    fn without_an_object_the_generic_form_names_what_to_write() {
        let filled = fill(COLUMN_RECIPE, "drop-column", None, Dialect::Postgres);
        assert_eq!(filled, generic(COLUMN_RECIPE, "drop-column"));
        assert_eq!(
            filled,
            "[[retire]] object = \"TABLE.COLUMN\"; -- rollsafe:allow drop-column <why OBJECT can go>"
        );
    }
}
