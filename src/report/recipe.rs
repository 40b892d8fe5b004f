//! Recipes written for the finding at hand. A rule's recipe (`rules/<id>.toml`) names the
//! object through placeholders, filled from the finding, so its help never shows an example
//! object from elsewhere:
//!
//! - `{object}`, `{table}`, `{column}`: the finding's object as `rollsafe.toml` accepts it
//!   (`users.name`: the dialect's default schema left out). The three fill the same way; the
//!   name says what the rule's object is, and gives the generic form (`TABLE.COLUMN`)
//!   shown by `rollsafe explain`, `docs/rules.md`, and a finding without an object.
//! - `{rule}`: the rule's id.
//!
//! Anything else in braces is left as written.

use crate::dialect::Dialect;

/// The placeholders, with the generic form each takes where no finding fills it.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{object}", "OBJECT"),
    ("{table}", "TABLE"),
    ("{column}", "TABLE.COLUMN"),
];

/// `recipe` for a finding of `rule` about `object` (fully qualified, as rules report it).
pub fn fill(recipe: &str, rule: &str, object: Option<&str>, dialect: Dialect) -> String {
    let mut out = recipe.replace("{rule}", rule);
    for (placeholder, generic) in PLACEHOLDERS {
        let value = object.map_or(*generic, |object| unqualified(object, dialect));
        out = out.replace(placeholder, value);
    }
    out
}

/// `recipe` in its generic form, for documentation of the rule itself.
pub fn generic(recipe: &str, rule: &str) -> String {
    let mut out = recipe.replace("{rule}", rule);
    for (placeholder, generic) in PLACEHOLDERS {
        out = out.replace(placeholder, generic);
    }
    out
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

    const RECIPE: &str =
        "[[retire]] object = \"{column}\"; -- rollsafe:allow {rule} <why {object} can go>";

    #[test]
    fn a_finding_fills_the_recipe_with_its_object_without_the_default_schema() {
        assert_eq!(
            fill(RECIPE, "drop-column", Some("public.users.name"), Dialect::Postgres),
            "[[retire]] object = \"users.name\"; -- rollsafe:allow drop-column <why users.name can go>"
        );
    }

    #[test]
    fn another_schema_is_kept() {
        let filled = fill(
            "{table}",
            "drop-table",
            Some("billing.invoices"),
            Dialect::Postgres,
        );
        assert_eq!(filled, "billing.invoices");
        // A table merely starting with the schema's name is not a schema.
        let filled = fill(
            "{table}",
            "drop-table",
            Some("publications"),
            Dialect::Postgres,
        );
        assert_eq!(filled, "publications");
    }

    #[test]
    fn without_an_object_the_generic_form_reads_as_a_placeholder() {
        let filled = fill(RECIPE, "drop-column", None, Dialect::Postgres);
        assert_eq!(filled, generic(RECIPE, "drop-column"));
        assert_eq!(
            filled,
            "[[retire]] object = \"TABLE.COLUMN\"; -- rollsafe:allow drop-column <why OBJECT can go>"
        );
    }
}
