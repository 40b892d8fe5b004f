//! The rules of this worktree on real SQL, through the parser, the lowering and the replay
//! (`check::run_example`: a setup migration, then the deploy).

use crate::check::run_example;
use crate::rules::Category;

/// The compat and discipline rules that fire (lock rules have their own tests).
fn rules_fired(setup: &str, deploy: &str, config: &str) -> Vec<String> {
    let findings = run_example(setup, deploy, config, true).expect("example runs");
    findings
        .iter()
        .filter(|f| {
            let category = crate::rules::meta(f.finding.rule).map(|meta| meta.category);
            matches!(category, Some(Category::Compat | Category::Discipline))
        })
        .map(|f| f.finding.rule.to_string())
        .collect()
}

fn fired(setup: &str, deploy: &str) -> Vec<String> {
    rules_fired(setup, deploy, "")
}

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);";

#[test]
fn sqlite_rebuild_is_an_alteration_unless_it_loses_a_column() {
    let setup = "CREATE TABLE users (id integer PRIMARY KEY, email text, legacy text);";
    let keeps_all = "
        PRAGMA foreign_keys = OFF;
        CREATE TABLE new_users (id integer PRIMARY KEY, email text NOT NULL DEFAULT '', legacy text);
        INSERT INTO new_users (id, email, legacy) SELECT id, coalesce(email, ''), legacy FROM users;
        DROP TABLE users;
        ALTER TABLE new_users RENAME TO users;
        PRAGMA foreign_keys = ON;";
    let found = rules_fired(setup, keeps_all, "dialect = \"sqlite\"");
    for rule in [
        "drop-table",
        "rename-table",
        "drop-column",
        "backfill-in-ddl-migration",
    ] {
        assert!(!found.iter().any(|r| r == rule), "{rule} in {found:?}");
    }
    let loses_legacy = "
        CREATE TABLE new_users (id integer PRIMARY KEY, email text);
        INSERT INTO new_users (id, email) SELECT id, email FROM users;
        DROP TABLE users;
        ALTER TABLE new_users RENAME TO users;";
    let found = rules_fired(setup, loses_legacy, "dialect = \"sqlite\"");
    assert!(found.contains(&"drop-column".to_string()), "{found:?}");
    assert!(!found.contains(&"drop-table".to_string()), "{found:?}");
}

#[test]
fn set_not_null_is_quiet_once_the_base_shows_the_discipline_done() {
    let backfilled = format!("{USERS}\nUPDATE users SET email = '' WHERE email IS NULL;");
    let deploy = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
    assert!(!fired(&backfilled, deploy).contains(&"set-not-null".to_string()));
    let checked = format!(
        "{USERS}\nALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
         ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;"
    );
    assert!(!fired(&checked, deploy).contains(&"set-not-null".to_string()));
    let unvalidated = format!(
        "{USERS}\nALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;"
    );
    assert!(fired(&unvalidated, deploy).contains(&"set-not-null".to_string()));
}

#[test]
fn a_shipped_retirement_allows_the_drop() {
    let retire = "[[retire]]\nobject = \"users.legacy\"\nreason = \"unused since v2\"";
    let found = rules_fired(USERS, "ALTER TABLE users DROP COLUMN legacy;", retire);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn objects_created_in_the_deploy_are_not_n1s_concern() {
    let deploy = "
        CREATE TABLE teams (id bigint PRIMARY KEY, owner_id bigint REFERENCES users (id));
        ALTER TABLE teams ADD COLUMN slug text NOT NULL;
        CREATE UNIQUE INDEX teams_slug_key ON teams (slug);
        ALTER TABLE teams ADD CONSTRAINT teams_slug_check CHECK (slug <> '');
        INSERT INTO teams (id, slug) SELECT id, email FROM users;
        ALTER TABLE teams RENAME COLUMN slug TO handle;
        ALTER TABLE teams DROP COLUMN handle;
        DROP TABLE teams;";
    let found = fired(USERS, deploy);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn unique_index_on_existing_columns_and_seeding_vs_backfill() {
    let found = fired(
        USERS,
        "CREATE UNIQUE INDEX users_email_key ON users (email);",
    );
    assert!(
        found.contains(&"add-unique-constraint".to_string()),
        "{found:?}"
    );
    let seeding =
        "ALTER TABLE users ADD COLUMN role text; INSERT INTO users (id, email) VALUES (1, 'a@b');";
    let found = fired(USERS, seeding);
    assert!(
        !found.contains(&"backfill-in-ddl-migration".to_string()),
        "{found:?}"
    );
    let copying = "ALTER TABLE users ADD COLUMN role text; INSERT INTO users (id) SELECT id + 1000 FROM users;";
    let found = fired(USERS, copying);
    assert!(
        found.contains(&"backfill-in-ddl-migration".to_string()),
        "{found:?}"
    );
}

#[test]
fn drop_default_severity_follows_nullability() {
    let setup = "CREATE TABLE users (id bigint PRIMARY KEY, locale text DEFAULT 'en', active boolean NOT NULL DEFAULT true);";
    let run = |deploy: &str| run_example(setup, deploy, "", true).expect("runs");
    let nullable = run("ALTER TABLE users ALTER COLUMN locale DROP DEFAULT;");
    assert_eq!(nullable[0].severity, crate::rules::Severity::Warning);
    let required = run("ALTER TABLE users ALTER COLUMN active DROP DEFAULT;");
    assert_eq!(required[0].severity, crate::rules::Severity::Error);
}

#[test]
fn enum_value_removal_through_a_new_type() {
    let setup = "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'void');
                 CREATE TABLE orders (id bigint PRIMARY KEY, status order_status NOT NULL);";
    let removal = "
        CREATE TYPE order_status_v2 AS ENUM ('pending', 'paid');
        ALTER TABLE orders ALTER COLUMN status TYPE order_status_v2 USING status::text::order_status_v2;
        DROP TYPE order_status;
        ALTER TYPE order_status_v2 RENAME TO order_status;";
    let found = fired(setup, removal);
    assert!(found.contains(&"change-enum".to_string()), "{found:?}");
    assert!(
        !found.contains(&"change-column-type".to_string()),
        "{found:?}"
    );
    let addition = "
        CREATE TYPE order_status_v2 AS ENUM ('pending', 'paid', 'void', 'refunded');
        ALTER TABLE orders ALTER COLUMN status TYPE order_status_v2 USING status::text::order_status_v2;";
    let found = fired(setup, addition);
    assert!(!found.contains(&"change-enum".to_string()), "{found:?}");
    assert!(
        !found.contains(&"change-column-type".to_string()),
        "{found:?}"
    );
}

#[test]
fn mysql_inline_enum_losing_a_value() {
    let setup = "CREATE TABLE orders (id bigint PRIMARY KEY, status ENUM('pending','paid','void') NOT NULL);";
    let config = "dialect = \"mysql\"";
    let found = rules_fired(
        setup,
        "ALTER TABLE orders MODIFY status ENUM('pending','paid') NOT NULL;",
        config,
    );
    assert!(found.contains(&"change-enum".to_string()), "{found:?}");
    let found = rules_fired(
        setup,
        "ALTER TABLE orders MODIFY status ENUM('pending','paid','void','refunded') NOT NULL;",
        config,
    );
    assert!(!found.contains(&"change-enum".to_string()), "{found:?}");
    assert!(
        !found.contains(&"change-column-type".to_string()),
        "{found:?}"
    );
}

#[test]
fn enforcing_in_a_later_migration_of_the_same_deploy_is_still_too_early() {
    let deploy = "
        ALTER TABLE users ADD COLUMN tenant_id bigint;
        UPDATE users SET tenant_id = 1 WHERE tenant_id IS NULL;
        CREATE UNIQUE INDEX CONCURRENTLY users_tenant_email ON users (tenant_id, email);";
    let found = fired(USERS, deploy);
    assert!(
        found.contains(&"enforce-before-backfill".to_string()),
        "{found:?}"
    );
    assert!(
        !found.contains(&"add-unique-constraint".to_string()),
        "{found:?}"
    );
}

#[test]
fn mysql_table_swap_is_a_rebuild() {
    let setup = "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255));";
    let swap = "
        CREATE TABLE users_new (id bigint PRIMARY KEY, email varchar(255));
        INSERT INTO users_new SELECT * FROM users;
        RENAME TABLE users TO users_old, users_new TO users;";
    let found = rules_fired(setup, swap, "dialect = \"mysql\"");
    assert!(found.is_empty(), "{found:?}");
    let plain = rules_fired(
        setup,
        "RENAME TABLE users TO accounts;",
        "dialect = \"mysql\"",
    );
    assert_eq!(plain, ["rename-table"]);
}
