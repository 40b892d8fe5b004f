//! The compat, discipline and lock rules on real SQL, through the parser, the lowering, the
//! replay and the resolve step (`check::run_example`: a setup migration, then the deploy).
//! Each quiet case sits next to the unsafe twin that must still fire.

use rollsafe::check::run_example;
use rollsafe::rules::{self, Category, Severity};

/// The rule of every finding on `sql` run after `setup`, resolved (nothing folded).
fn rules_fired_by(setup: &str, sql: &str, config: &str, transaction: bool) -> Vec<&'static str> {
    run_example(setup, sql, config, transaction)
        .expect("example runs")
        .iter()
        .map(|f| f.finding.rule)
        .collect()
}

/// The compat and discipline rules that fire (lock rules have their own tests).
fn rules_fired(setup: &str, deploy: &str, config: &str) -> Vec<String> {
    let findings = run_example(setup, deploy, config, true).expect("example runs");
    findings
        .iter()
        .filter(|f| {
            let category = rules::meta(f.finding.rule).map(|meta| meta.category);
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
    assert_eq!(nullable[0].severity, Severity::Warning);
    let required = run("ALTER TABLE users ALTER COLUMN active DROP DEFAULT;");
    assert_eq!(required[0].severity, Severity::Error);
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

/// The lock rules: a fixed setup of users and orders, then the deploy.
mod lock {
    use rollsafe::check::run_example;

    const SETUP: &str = "
        CREATE TABLE users (id bigint PRIMARY KEY, email text, name varchar(100));
        CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount integer);
    ";

    /// The rules that fire on `sql` run after `SETUP`.
    fn fired(sql: &str, config: &str, transaction: bool) -> Vec<&'static str> {
        let findings = run_example(SETUP, sql, config, transaction).expect("example runs");
        findings.iter().map(|f| f.finding.rule).collect()
    }

    fn fires(sql: &str, config: &str, transaction: bool, rule: &str) -> bool {
        fired(sql, config, transaction).contains(&rule)
    }

    #[test]
    fn constant_defaults_rewrite_only_before_postgres_11() {
        let sql = "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;";
        assert!(fires(
            sql,
            "pg_version = 10",
            true,
            "add-column-rewrites-table"
        ));
        assert!(!fires(
            sql,
            "pg_version = 11",
            true,
            "add-column-rewrites-table"
        ));
        let serial = "ALTER TABLE users ADD COLUMN seq bigserial;";
        assert!(fires(serial, "", true, "add-column-rewrites-table"));
    }

    #[test]
    fn validate_in_the_same_transaction_counts_as_validating() {
        let sql = "
            ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
            ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
        ";
        assert!(fires(sql, "", true, "foreign-key-validates"));
        assert!(!fires(sql, "", false, "foreign-key-validates"));
        let explicit = format!("BEGIN;\n{sql}\nCOMMIT;");
        assert!(fires(&explicit, "", false, "foreign-key-validates"));
    }

    #[test]
    fn set_not_null_skips_the_scan_with_a_validated_check_from_postgres_12() {
        let setup = format!(
            "{SETUP}\nALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL);"
        );
        let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        let run = |config: &str| {
            let findings = run_example(&setup, sql, config, true).expect("example runs");
            findings
                .iter()
                .any(|f| f.finding.rule == "set-not-null-scan")
        };
        assert!(!run("pg_version = 12"));
        assert!(run("pg_version = 11"));
        assert!(
            fires(sql, "", true, "set-not-null-scan"),
            "no check in SETUP"
        );
    }

    #[test]
    fn lock_timeout_is_read_from_set_and_set_local() {
        let ddl = "ALTER TABLE users ADD COLUMN nickname text;";
        let rule = "missing-lock-timeout";
        assert!(fires(ddl, "", true, rule));
        assert!(!fires(
            &format!("SET lock_timeout = '5s';\n{ddl}"),
            "",
            true,
            rule
        ));
        let local = format!("SET LOCAL lock_timeout = '5s';\n{ddl}");
        assert!(!fires(&local, "", true, rule));
        assert!(fires(&local, "", false, rule));
        assert!(!fires(ddl, "lock_timeout_set_by_runner = true", true, rule));
    }

    #[test]
    fn binary_compatible_type_changes_do_not_rewrite() {
        let rule = "column-type-rewrite";
        assert!(!fires(
            "ALTER TABLE users ALTER COLUMN name TYPE text;",
            "",
            true,
            rule
        ));
        assert!(fires(
            "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);",
            "",
            true,
            rule
        ));
        assert!(fires(
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;",
            "",
            true,
            rule
        ));
    }

    #[test]
    fn a_table_created_in_the_deploy_takes_no_lock_findings() {
        let sql = "
            CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), total integer);
            CREATE INDEX invoices_user_idx ON invoices (user_id);
            ALTER TABLE invoices ADD CONSTRAINT invoices_total_positive CHECK (total > 0);
            ALTER TABLE invoices ADD COLUMN token uuid DEFAULT gen_random_uuid();
            ALTER TABLE invoices ALTER COLUMN total TYPE bigint;
        ";
        assert_eq!(fired(sql, "", true), Vec::<&str>::new());
    }

    #[test]
    fn concurrently_inside_a_transaction_fails_even_for_a_new_table() {
        let sql = "
            CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint);
            CREATE INDEX CONCURRENTLY invoices_user_idx ON invoices (user_id);
        ";
        assert!(fires(sql, "", true, "concurrently-in-transaction"));
        let alone = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);";
        assert!(!fires(alone, "", false, "concurrently-in-transaction"));
    }

    #[test]
    fn mysql_type_changes_copy_unless_inplace_is_asked() {
        let config = "dialect = \"mysql\"";
        let rule = "mysql-copy-algorithm";
        let modify = "ALTER TABLE orders MODIFY COLUMN amount bigint;";
        assert!(fires(modify, config, true, rule));
        let inplace = "ALTER TABLE orders MODIFY COLUMN amount bigint, ALGORITHM=INPLACE;";
        assert!(!fires(inplace, config, true, rule));
        assert!(!fires(modify, "", true, rule), "Postgres never");
        let drop_pk = "ALTER TABLE orders DROP PRIMARY KEY;";
        assert!(fires(drop_pk, config, true, rule));
        let swap_pk = "ALTER TABLE orders DROP PRIMARY KEY, ADD PRIMARY KEY (id, user_id);";
        assert!(!fires(swap_pk, config, true, rule));
    }

    #[test]
    fn sqlite_takes_no_postgres_lock_findings() {
        let sql = "CREATE INDEX users_email_idx ON users (email);";
        assert_eq!(fired(sql, "dialect = \"sqlite\"", true), Vec::<&str>::new());
    }
}

/// Inside one transaction N-1 sees only the end state: compat rules judge what the
/// transaction leaves, and each quiet case has an unsafe twin that still fires.
mod net_effect {
    use super::rules_fired_by;

    const SETUP: &str = "
        CREATE TABLE users (id bigint PRIMARY KEY, email text, status text DEFAULT 'active');
        CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount integer,
            CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
            CONSTRAINT orders_amount_positive CHECK (amount > 0));
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TABLE feelings (id bigint PRIMARY KEY, mood mood, at timestamp);
        CREATE TABLE totals (day date, amount integer);
        CREATE MATERIALIZED VIEW daily AS SELECT day, sum(amount) AS amount FROM totals GROUP BY day;
    ";

    fn fired_with(sql: &str, config: &str, transaction: bool) -> Vec<&'static str> {
        rules_fired_by(SETUP, sql, config, transaction)
    }

    fn fired(sql: &str) -> Vec<&'static str> {
        fired_with(sql, "", true)
    }

    #[test]
    fn a_default_dropped_and_set_again_in_one_transaction_is_not_dropped() {
        let again = "ALTER TABLE users ALTER COLUMN status DROP DEFAULT;
                     ALTER TABLE users ALTER COLUMN status SET DEFAULT 'new';";
        assert!(
            !fired(again).contains(&"drop-default"),
            "{:?}",
            fired(again)
        );
        let dropped = "ALTER TABLE users ALTER COLUMN status DROP DEFAULT;";
        assert!(fired(dropped).contains(&"drop-default"));
        // Outside a transaction N-1 can see the column without a default in between.
        assert!(fired_with(again, "", false).contains(&"drop-default"));
    }

    #[test]
    fn a_constraint_dropped_and_added_back_identically_is_not_new_for_n1() {
        let same_fk = "ALTER TABLE orders DROP CONSTRAINT orders_user_fk;
            ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;";
        assert!(
            !fired(same_fk).contains(&"add-foreign-key"),
            "{:?}",
            fired(same_fk)
        );
        let same_check = "ALTER TABLE orders DROP CONSTRAINT orders_amount_positive;
            ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (AMOUNT >  0) NOT VALID;";
        assert!(!fired(same_check).contains(&"add-check-constraint"));

        let tighter = "ALTER TABLE orders DROP CONSTRAINT orders_amount_positive;
            ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 10) NOT VALID;";
        assert!(fired(tighter).contains(&"add-check-constraint"));
        let other_table = "ALTER TABLE orders DROP CONSTRAINT orders_user_fk;
            ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (amount) REFERENCES users (id) NOT VALID;";
        assert!(fired(other_table).contains(&"add-foreign-key"));
    }

    #[test]
    fn a_table_dropped_and_recreated_with_its_columns_is_not_dropped() {
        let superset = "DROP TABLE totals;
            CREATE TABLE totals (day date, amount integer, currency text);";
        let found = fired_with(superset, "require_down = true", true);
        assert!(!found.contains(&"drop-table"), "{found:?}");
        assert!(!found.contains(&"irreversible-up"), "{found:?}");

        let narrower = "DROP TABLE totals;\nCREATE TABLE totals (day date);";
        let found = fired_with(narrower, "require_down = true", true);
        assert!(found.contains(&"drop-table"), "{found:?}");
        assert!(found.contains(&"irreversible-up"), "{found:?}");
    }

    #[test]
    fn lossless_type_changes_are_neither_a_break_nor_a_loss() {
        for sql in [
            "ALTER TABLE feelings ALTER COLUMN mood TYPE text;",
            "ALTER TABLE feelings ALTER COLUMN at TYPE timestamptz;",
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;",
        ] {
            let found = fired_with(sql, "require_down = true", true);
            assert!(!found.contains(&"change-column-type"), "{sql}: {found:?}");
            assert!(!found.contains(&"irreversible-up"), "{sql}: {found:?}");
        }
        let narrowing = "ALTER TABLE orders ALTER COLUMN amount TYPE smallint;";
        let found = fired_with(narrowing, "require_down = true", true);
        assert!(found.contains(&"change-column-type"), "{found:?}");
        assert!(found.contains(&"irreversible-up"), "{found:?}");
        let to_text = "ALTER TABLE feelings ALTER COLUMN at TYPE text;";
        assert!(fired(to_text).contains(&"change-column-type"));
    }

    #[test]
    fn sqlite_types_of_one_affinity_are_the_same_type() {
        let setup = "CREATE TABLE events (id integer PRIMARY KEY, at TIMESTAMP, note text);";
        let rebuild = |at: &str| {
            format!(
                "CREATE TABLE events_new (id integer PRIMARY KEY, at {at}, note text);
                 INSERT INTO events_new SELECT id, at, note FROM events;
                 DROP TABLE events;
                 ALTER TABLE events_new RENAME TO events;"
            )
        };
        let rules = |sql: &str| -> Vec<&'static str> {
            rules_fired_by(setup, sql, "dialect = \"sqlite\"", true)
        };
        assert!(!rules(&rebuild("DATETIME")).contains(&"change-column-type"));
        assert!(rules(&rebuild("BLOB")).contains(&"change-column-type"));
    }

    #[test]
    fn a_unique_index_on_a_materialized_view_restricts_no_write() {
        let on_view = "CREATE UNIQUE INDEX CONCURRENTLY daily_day ON daily (day);";
        assert!(!fired_with(on_view, "", false).contains(&"add-unique-constraint"));
        let on_table = "CREATE UNIQUE INDEX CONCURRENTLY totals_day ON totals (day);";
        assert!(fired_with(on_table, "", false).contains(&"add-unique-constraint"));
    }

    #[test]
    fn commit_then_begin_runs_what_is_between_outside_the_transaction() {
        let between = "SET lock_timeout = '5s';
            COMMIT;
            CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
            BEGIN;";
        let found = fired(between);
        assert!(!found.contains(&"concurrently-in-transaction"), "{found:?}");
        let inside = "SET lock_timeout = '5s';
            CREATE INDEX CONCURRENTLY users_email_idx ON users (email);";
        assert!(fired(inside).contains(&"concurrently-in-transaction"));
    }

    #[test]
    fn a_drop_retired_in_the_shipped_release_loses_data_on_purpose() {
        let drop = "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN email;";
        let retired =
            "require_down = true\n[[retire]]\nobject = \"users.email\"\nreason = \"moved\"";
        let found = fired_with(drop, retired, true);
        assert!(!found.contains(&"irreversible-up"), "{found:?}");
        assert!(!found.contains(&"drop-column"), "{found:?}");
        let found = fired_with(drop, "require_down = true", true);
        assert!(found.contains(&"irreversible-up"), "{found:?}");
    }
}

#[test]
fn timestamp_to_timestamptz_says_when_postgres_skips_the_rewrite() {
    let setup = "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp);";
    let sql = "SET lock_timeout = '5s';\nALTER TABLE events ALTER COLUMN at TYPE timestamptz;";
    let findings = run_example(setup, sql, "", true).expect("example runs");
    let rewrite = findings
        .iter()
        .find(|f| f.finding.rule == "column-type-rewrite")
        .expect("the lock finding stays");
    assert!(rewrite.finding.message.contains("TimeZone = 'UTC'"));
    let other = "SET lock_timeout = '5s';\nALTER TABLE events ALTER COLUMN at TYPE date;";
    let findings = run_example(setup, other, "", true).expect("example runs");
    let rewrite = findings
        .iter()
        .find(|f| f.finding.rule == "column-type-rewrite")
        .expect("a real rewrite");
    assert!(!rewrite.finding.message.contains("TimeZone"));
}

/// What the database does, known instead of presumed; each quiet case with its unsafe twin.
mod database_knowledge {
    use super::rules_fired_by;

    const SETUP: &str = "
        CREATE TABLE users (id bigint PRIMARY KEY, email text, status text);
        CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, note text);
    ";

    fn fired(sql: &str) -> Vec<&'static str> {
        rules_fired_by(SETUP, sql, "", true)
    }

    #[test]
    fn set_not_null_on_a_column_with_a_default_keeps_n1_inserts_working() {
        let with_default = "SET lock_timeout = '5s';
            ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active', ALTER COLUMN status SET NOT NULL;";
        assert!(
            !fired(with_default).contains(&"set-not-null"),
            "{:?}",
            fired(with_default)
        );
        let without =
            "SET lock_timeout = '5s';\nALTER TABLE users ALTER COLUMN status SET NOT NULL;";
        assert!(fired(without).contains(&"set-not-null"));
    }

    #[test]
    fn a_new_column_referencing_another_table_has_nothing_to_validate() {
        let new_column = "SET lock_timeout = '5s';
            ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES users (id);";
        let found = fired(new_column);
        assert!(!found.contains(&"foreign-key-validates"), "{found:?}");
        assert!(!found.contains(&"enforce-before-backfill"), "{found:?}");
        let existing = "SET lock_timeout = '5s';
            ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);";
        assert!(fired(existing).contains(&"foreign-key-validates"));
    }

    #[test]
    fn uniqueness_on_a_new_nullable_column_is_not_enforced_before_a_backfill() {
        let nullable = "SET lock_timeout = '5s';
            ALTER TABLE users ADD COLUMN handle text UNIQUE;";
        assert!(
            !fired(nullable).contains(&"enforce-before-backfill"),
            "{:?}",
            fired(nullable)
        );
        // One constant default in every row: the unique index cannot be built.
        let constant = "SET lock_timeout = '5s';
            ALTER TABLE users ADD COLUMN handle text NOT NULL DEFAULT 'x' UNIQUE;";
        assert!(
            fired(constant).contains(&"enforce-before-backfill"),
            "{:?}",
            fired(constant)
        );
    }

    #[test]
    fn a_primary_key_filled_by_its_own_sequence_needs_no_backfill() {
        let serial = "SET lock_timeout = '5s';
            ALTER TABLE orders DROP CONSTRAINT orders_pkey;
            ALTER TABLE orders ADD COLUMN seq bigserial PRIMARY KEY;";
        let found = fired(serial);
        assert!(!found.contains(&"enforce-before-backfill"), "{found:?}");
        let plain = "SET lock_timeout = '5s';
            ALTER TABLE orders DROP CONSTRAINT orders_pkey;
            ALTER TABLE orders ADD COLUMN seq bigint NOT NULL DEFAULT 0 PRIMARY KEY;";
        assert!(
            fired(plain).contains(&"enforce-before-backfill"),
            "{:?}",
            fired(plain)
        );
    }
}

/// A table emptied or replaced earlier in the same transaction is new or empty for the lock
/// rules, and TRUNCATE is not a row-by-row backfill.
mod emptied_tables {
    use super::rules_fired_by;

    const SETUP: &str = "CREATE TABLE cache (id bigint PRIMARY KEY, key text, value text);";

    fn fired(sql: &str) -> Vec<&'static str> {
        rules_fired_by(SETUP, sql, "", true)
    }

    #[test]
    fn an_index_on_a_table_truncated_in_the_same_transaction_locks_nothing_new() {
        let truncated = "SET lock_timeout = '5s';
            TRUNCATE cache;
            CREATE INDEX cache_key_idx ON cache (key);";
        let found = fired(truncated);
        assert!(
            !found.contains(&"create-index-not-concurrently"),
            "{found:?}"
        );
        let full = "SET lock_timeout = '5s';\nCREATE INDEX cache_key_idx ON cache (key);";
        assert!(fired(full).contains(&"create-index-not-concurrently"));
    }

    #[test]
    fn an_index_on_a_table_recreated_in_the_same_transaction_is_on_a_new_table() {
        let recreated = "SET lock_timeout = '5s';
            DROP TABLE cache;
            CREATE TABLE cache (id bigint PRIMARY KEY, key text, value text, hits int);
            CREATE INDEX cache_key_idx ON cache (key);";
        let found = fired(recreated);
        assert!(
            !found.contains(&"create-index-not-concurrently"),
            "{found:?}"
        );
        assert!(!found.contains(&"drop-table"), "{found:?}");
    }

    #[test]
    fn truncate_is_not_a_backfill_but_an_unfiltered_delete_is() {
        let truncate = "SET lock_timeout = '5s';\nTRUNCATE cache;";
        let found = fired(truncate);
        assert!(!found.contains(&"unbatched-backfill"), "{found:?}");
        assert!(!found.contains(&"backfill-in-ddl-migration"), "{found:?}");
        let delete = "DELETE FROM cache;";
        assert!(
            fired(delete).contains(&"unbatched-backfill"),
            "{:?}",
            fired(delete)
        );
    }
}

/// Downs compared as the database would build them.
mod downs {
    use rollsafe::check::run_example_with_down;

    const SETUP: &str =
        "CREATE TABLE users (id bigint PRIMARY KEY, status text DEFAULT 'new', note text);";

    /// Severity and message of each `down-not-inverse` finding.
    fn down_findings(up: &str, down: &str) -> Vec<(String, String)> {
        run_example_with_down(SETUP, up, Some(down), "require_down = true", true)
            .expect("example runs")
            .iter()
            .filter(|f| f.finding.rule == "down-not-inverse")
            .map(|f| (f.severity.name().to_string(), f.finding.message.clone()))
            .collect()
    }

    #[test]
    fn canonical_forms_of_a_default_are_the_same_default() {
        let up = "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';";
        for down in [
            "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'new'::text;",
            "ALTER TABLE users ALTER COLUMN status SET DEFAULT ('new');",
        ] {
            assert_eq!(down_findings(up, down), [], "{down}");
        }
        let up = "ALTER TABLE users ALTER COLUMN note SET DEFAULT 'x';";
        assert_eq!(
            down_findings(up, "ALTER TABLE users ALTER COLUMN note SET DEFAULT NULL;"),
            []
        );
        // The unsafe twin: a down that restores another default.
        let found = down_findings(
            "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';",
            "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'old';",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "warning");
    }

    #[test]
    fn a_postgres_18_named_not_null_constraint_restores_not_null() {
        let setup = format!("{SETUP}\nALTER TABLE users ALTER COLUMN status SET NOT NULL;");
        let up = "ALTER TABLE users ALTER COLUMN status DROP NOT NULL;";
        let rules = |down: &str| -> Vec<&'static str> {
            run_example_with_down(&setup, up, Some(down), "require_down = true", true)
                .expect("example runs")
                .iter()
                .map(|f| f.finding.rule)
                .collect()
        };
        let named =
            rules("ALTER TABLE users ADD CONSTRAINT users_status_not_null NOT NULL status;");
        assert!(!named.contains(&"down-not-inverse"), "{named:?}");
        assert!(!named.contains(&"unparsed-statement"), "{named:?}");
        let forgotten = rules("ALTER TABLE users ALTER COLUMN note SET NOT NULL;");
        assert!(forgotten.contains(&"down-not-inverse"), "{forgotten:?}");
    }

    #[test]
    fn a_down_rollsafe_cannot_read_is_cannot_tell_not_wrong() {
        let up = "ALTER TABLE users ADD COLUMN nickname text;";
        let found = down_findings(
            up,
            "DO $$ BEGIN EXECUTE 'ALTER TABLE users DROP COLUMN nickname'; END $$;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "info");
        assert!(found[0].1.starts_with("cannot tell"), "{}", found[0].1);
        let wrong = down_findings(up, "ALTER TABLE users DROP COLUMN note;");
        assert_eq!(wrong.len(), 1);
        assert_eq!(wrong[0].0, "warning");
    }
}

/// Prisma's enum recipe: rename the type aside, create the new one, move the column, drop
/// the old type. `change-enum` follows the column from the old values to the new ones.
#[test]
fn prisma_enum_recipe_is_judged_by_the_values_it_keeps() {
    let setup = "CREATE TYPE \"Role\" AS ENUM ('admin', 'member');
        CREATE TABLE users (id bigint PRIMARY KEY, role \"Role\" NOT NULL);";
    let recipe = |values: &str| {
        format!(
            "SET lock_timeout = '5s';
             ALTER TYPE \"Role\" RENAME TO \"Role_old\";
             CREATE TYPE \"Role\" AS ENUM ({values});
             ALTER TABLE users ALTER COLUMN role TYPE \"Role\" USING role::text::\"Role\";
             DROP TYPE \"Role_old\";"
        )
    };
    let fired = |sql: &str| -> Vec<&'static str> { rules_fired_by(setup, sql, "", true) };
    let widened = fired(&recipe("'admin', 'member', 'guest'"));
    assert!(!widened.contains(&"change-enum"), "{widened:?}");
    assert!(!widened.contains(&"opaque-statement"), "{widened:?}");
    let narrowed = fired(&recipe("'admin'"));
    assert!(narrowed.contains(&"change-enum"), "{narrowed:?}");
}

/// A default that calls a function the migrations created is volatile unless the function
/// is declared STABLE or IMMUTABLE, as Postgres reads it.
#[test]
fn a_default_calling_a_volatile_user_function_rewrites_the_table() {
    let setup = |volatility: &str| {
        format!(
            "CREATE TABLE users (id bigint PRIMARY KEY);
             CREATE FUNCTION new_token() RETURNS text AS $$ SELECT md5(random()::text) $$ LANGUAGE sql {volatility};"
        )
    };
    let sql =
        "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN token text DEFAULT new_token();";
    let rewrites = |volatility: &str| -> bool {
        run_example(&setup(volatility), sql, "", true)
            .expect("example runs")
            .iter()
            .any(|f| f.finding.rule == "add-column-rewrites-table")
    };
    assert!(rewrites(""), "undeclared: volatile");
    assert!(rewrites("VOLATILE"));
    assert!(!rewrites("STABLE"));
    assert!(!rewrites("IMMUTABLE"));
}

/// `CREATE TABLE ... AS SELECT` infers its columns through `*`, aliases, subqueries and
/// unions, so a table dropped and made again from a query is judged on the columns it has.
#[test]
fn a_table_recreated_from_a_query_with_its_columns_is_not_dropped() {
    let setup = "CREATE TABLE totals (day date, amount integer);
        CREATE TABLE totals_staging (day date, amount integer, currency text);";
    let fired = |sql: &str| -> Vec<&'static str> { rules_fired_by(setup, sql, "", true) };
    for whole in [
        "DROP TABLE totals;\nCREATE TABLE totals AS SELECT * FROM totals_staging;",
        "DROP TABLE totals;\nCREATE TABLE totals AS SELECT s.day, s.amount AS amount FROM totals_staging s;",
        "DROP TABLE totals;\nCREATE TABLE totals AS SELECT x.* FROM (SELECT day, amount FROM totals_staging UNION SELECT day, amount FROM totals_staging) x;",
    ] {
        assert!(!fired(whole).contains(&"drop-table"), "{whole}: {:?}", fired(whole));
    }
    let narrower = "DROP TABLE totals;\nCREATE TABLE totals AS SELECT day FROM totals_staging;";
    assert!(fired(narrower).contains(&"drop-table"));
}
