//! The usage model on small in-memory repositories, one source kind at a time.

use super::*;
use crate::git::TreeFiles;

const SCHEMA_SQL: &str = "
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, legacy_email text, type text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric, status text);
CREATE TABLE audit_log (id bigint, note text);
";

fn catalog() -> Catalog {
    let mut catalog = Catalog::new(Dialect::Postgres);
    let file = crate::sql::parse_sql(SCHEMA_SQL, 0..SCHEMA_SQL.len(), Dialect::Postgres);
    for statement in &file.statements {
        catalog.apply_migration(&statement.changes, "1");
    }
    catalog
}

/// A repository of `files` read with `config`, the mention scan looking for `targets`.
struct Repo {
    files: Vec<(&'static str, &'static str)>,
    /// Files that are not UTF-8.
    bytes: Vec<(&'static str, Vec<u8>)>,
    config: UsageConfig,
    targets: Vec<&'static str>,
}

fn repo(files: &[(&'static str, &'static str)]) -> Repo {
    Repo {
        files: files.to_vec(),
        bytes: Vec::new(),
        config: UsageConfig::default(),
        targets: vec![
            "users",
            "orders",
            "legacy_email",
            "name",
            "email",
            "status",
            "audit_log",
        ],
    }
}

impl Repo {
    fn usage(&self) -> Usage {
        let files = TreeFiles {
            files: self
                .files
                .iter()
                .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
                .chain(self.bytes.iter().map(|(p, b)| (p.to_string(), b.clone())))
                .collect(),
            too_large: Vec::new(),
            total: self.files.len(),
        };
        let catalog = catalog();
        let selection = Selection::new(&self.config, "migrations").unwrap();
        let targets: BTreeSet<String> = self.targets.iter().map(|t| t.to_string()).collect();
        build(&UsageInput {
            rev: "v1",
            files: &files,
            catalog: &catalog,
            dialect: Dialect::Postgres,
            config: &self.config,
            selection: &selection,
            targets: Some(&targets),
        })
    }
}

fn users() -> QualifiedName {
    QualifiedName::new("public", "users")
}

fn orders() -> QualifiedName {
    QualifiedName::new("public", "orders")
}

/// The strong evidence for a column, as `(path, line, access)`.
fn strong(usage: &Usage, table: &QualifiedName, column: &str) -> Vec<(String, usize, Access)> {
    match usage.judge(table, Some(column)) {
        Judgement::Used(evidence) => evidence
            .into_iter()
            .filter(|e| e.access != Access::Mention)
            .map(|e| (e.path, e.line, e.access))
            .collect(),
        _ => Vec::new(),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    line_at(text, text.find(needle).unwrap())
}

const DIESEL_SCHEMA: &str = r#"// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;

    users (id) {
        id -> Int8,
        email -> Text,
        name -> Nullable<Text>,
        #[sql_name = "type"]
        kind -> Nullable<Text>,
    }
}

diesel::table! {
    #[sql_name = "orders"]
    purchases (id) {
        id -> Int8,
        user_id -> Nullable<Int8>,
        total -> Nullable<Numeric>,
        status -> Nullable<Text>,
    }
}
"#;

const DIESEL_MODELS: &str = r#"use crate::schema::{purchases, users};
use diesel::prelude::*;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    #[diesel(column_name = kind)]
    pub account_kind: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = purchases)]
pub struct NewPurchase {
    pub user_id: Option<i64>,
    pub total: Option<f64>,
}

pub fn paid(conn: &mut PgConnection) -> QueryResult<Vec<i64>> {
    purchases::table
        .filter(purchases::status.eq("paid"))
        .select(purchases::id)
        .load(conn)
}

pub fn rename(conn: &mut PgConnection, id: i64, name: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::name.eq(name))
        .execute(conn)
}
"#;

#[test]
fn diesel_structs_and_paths_map_to_database_names_and_lines() {
    let usage = repo(&[
        ("src/schema.rs", DIESEL_SCHEMA),
        ("src/models.rs", DIESEL_MODELS),
    ])
    .usage();
    assert!(usage.warnings.is_empty(), "{:?}", usage.warnings);
    let email_line = line_of(DIESEL_MODELS, "pub email");
    assert_eq!(
        strong(&usage, &users(), "email"),
        [("src/models.rs".to_string(), email_line, Access::Read)]
    );
    // `#[sql_name = "type"]` on the column, `#[diesel(column_name = kind)]` on the field.
    let kind_line = line_of(DIESEL_MODELS, "pub account_kind");
    assert_eq!(
        strong(&usage, &users(), "type"),
        [("src/models.rs".to_string(), kind_line, Access::Read)]
    );
    // A renamed table (`purchases` in Rust, `orders` in SQL).
    let status_line = line_of(DIESEL_MODELS, "purchases::status");
    assert_eq!(
        strong(&usage, &orders(), "status"),
        [("src/models.rs".to_string(), status_line, Access::Read)]
    );
    let total_line = line_of(DIESEL_MODELS, "pub total");
    assert_eq!(
        strong(&usage, &orders(), "total"),
        [("src/models.rs".to_string(), total_line, Access::Insert)]
    );
    let set_line = line_of(DIESEL_MODELS, "users::name.eq");
    assert_eq!(
        strong(&usage, &users(), "name"),
        [("src/models.rs".to_string(), set_line, Access::Update)]
    );
}

#[test]
fn a_diesel_declaration_alone_is_not_use() {
    // `legacy_email` exists in the database, `schema.rs` no longer declares it, and no code
    // names it: complete evidence that N-1 does not use it.
    let usage = repo(&[
        ("src/schema.rs", DIESEL_SCHEMA),
        ("src/models.rs", DIESEL_MODELS),
    ])
    .usage();
    match usage.judge(&users(), Some("legacy_email")) {
        Judgement::Unreferenced(summary) => {
            assert!(summary.contains("users.legacy_email"), "{summary}");
            assert!(summary.contains("src/schema.rs"), "{summary}");
            assert!(summary.contains("at v1"), "{summary}");
        }
        other => panic!("{other:?}"),
    }
    // `orders.user_id` is declared and mapped by the Insertable struct only.
    assert_eq!(strong(&usage, &orders(), "user_id").len(), 1);
}

#[test]
fn the_default_selection_reads_every_declared_column() {
    let code = "use crate::schema::users;\npub fn all(c: &mut PgConnection) -> Vec<User> {\n    users::table.load::<User>(c).unwrap()\n}\n";
    let usage = repo(&[("src/schema.rs", DIESEL_SCHEMA), ("src/db.rs", code)]).usage();
    let declared = line_of(DIESEL_SCHEMA, "name -> ");
    let evidence = strong(&usage, &users(), "name");
    assert!(
        evidence.contains(&("src/schema.rs".to_string(), declared, Access::Read)),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&("src/db.rs".to_string(), 3, Access::Read)),
        "{evidence:?}"
    );
    // Not declared, so not read, even by the default selection.
    assert!(strong(&usage, &users(), "legacy_email").is_empty());
}

#[test]
fn a_mention_in_a_raw_query_string_keeps_the_column_used() {
    let code = "pub fn legacy(c: &mut PgConnection) {\n    let q = format!(\"SELECT legacy_email FROM {}\", \"users\");\n}\n";
    let usage = repo(&[("src/schema.rs", DIESEL_SCHEMA), ("src/raw.rs", code)]).usage();
    match usage.judge(&users(), Some("legacy_email")) {
        Judgement::Used(evidence) => {
            assert_eq!(evidence[0].path, "src/raw.rs");
            assert_eq!(evidence[0].line, 2);
            assert_eq!(evidence[0].access, Access::Mention);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_schema_rs_that_does_not_parse_covers_nothing() {
    let usage = repo(&[("src/schema.rs", "diesel::table! {\n    users (id) {\n        id -> Int8,\n        email -> \n    }\n}\nfn (")]).usage();
    assert_eq!(usage.warnings.len(), 1, "{:?}", usage.warnings);
    assert!(
        usage.warnings[0].starts_with("src/schema.rs:"),
        "{}",
        usage.warnings[0]
    );
    assert_eq!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unknown
    );
}

#[test]
fn diesel_toml_names_the_schema_file() {
    let toml = "[print_schema]\nfile = \"src/db/schema.rs\"\n";
    let usage = repo(&[
        ("diesel.toml", toml),
        ("src/db/schema.rs", DIESEL_SCHEMA),
        ("src/models.rs", DIESEL_MODELS),
    ])
    .usage();
    assert!(usage
        .sources
        .contains(&(SourceKind::Diesel, "src/db/schema.rs".to_string())));
    assert_eq!(strong(&usage, &users(), "email").len(), 1);
}

const SQLX_CODE: &str = r##"pub async fn report(pool: &PgPool) {
    let rows = sqlx::query!(
        r#"WITH big AS (SELECT user_id, total FROM orders WHERE total > 100)
           SELECT u.email, b.total
           FROM users AS u
           JOIN big b ON b.user_id = u.id"#
    )
    .fetch_all(pool)
    .await;
    sqlx::query_as!(Order, "SELECT * FROM orders WHERE id = $1", 1);
}
"##;

#[test]
fn sqlx_macros_resolve_ctes_aliases_joins_and_star() {
    let usage = repo(&[("src/report.rs", SQLX_CODE)]).usage();
    assert!(usage.warnings.is_empty(), "{:?}", usage.warnings);
    let start = line_of(SQLX_CODE, "r#\"WITH");
    // `u.email` is on the query's second line.
    assert_eq!(
        strong(&usage, &users(), "email"),
        [("src/report.rs".to_string(), start + 1, Access::Read)]
    );
    let star = line_of(SQLX_CODE, "SELECT *");
    assert!(strong(&usage, &orders(), "status").contains(&(
        "src/report.rs".to_string(),
        star,
        Access::Read
    )));
    // `total` is read inside the CTE and through it; `b.total` resolves to no table.
    assert!(strong(&usage, &orders(), "total").contains(&(
        "src/report.rs".to_string(),
        start,
        Access::Read
    )));
    assert!(strong(&usage, &users(), "name").is_empty());
}

#[test]
fn sqlx_offline_data_is_read_from_the_query_field() {
    let json = "{\n  \"db_name\": \"PostgreSQL\",\n  \"query\": \"INSERT INTO audit_log (id, note)\\nSELECT id, email FROM users\",\n  \"hash\": \"ab\"\n}\n";
    let usage = repo(&[(".sqlx/query-ab.json", json)]).usage();
    assert!(usage.warnings.is_empty(), "{:?}", usage.warnings);
    let audit = QualifiedName::new("public", "audit_log");
    assert_eq!(
        strong(&usage, &audit, "note"),
        [(".sqlx/query-ab.json".to_string(), 3, Access::Insert)]
    );
    assert_eq!(strong(&usage, &users(), "email").len(), 1);
    let (inserts, complete) = usage.inserts_into(&audit);
    assert_eq!(inserts.len(), 1);
    assert!(complete);
    assert_eq!(
        inserts[0]
            .columns
            .as_ref()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        ["id", "note"]
    );
}

const SQLC_QUERIES: &str = "-- name: GetUser :one
SELECT id, email FROM users
WHERE id = $1;

-- name: CreateOrder :exec
INSERT INTO orders (user_id, total) VALUES (sqlc.arg(user_id), @total);

-- name: Broken :exec
SELEC status FROM orders;
";

#[test]
fn sqlc_config_names_query_files_resolved_with_their_lines() {
    let config = "version: \"2\"\nsql:\n  - engine: postgresql\n    queries: db/query/\n    schema: migrations\n";
    let usage = repo(&[("sqlc.yaml", config), ("db/query/users.sql", SQLC_QUERIES)]).usage();
    assert_eq!(
        strong(&usage, &users(), "email"),
        [("db/query/users.sql".to_string(), 2, Access::Read)]
    );
    assert_eq!(
        strong(&usage, &orders(), "total"),
        [("db/query/users.sql".to_string(), 6, Access::Insert)]
    );
    // The broken query is a warning with its line, and `orders.status`, which it names,
    // loses coverage: never quieter on broken input.
    assert!(
        usage
            .warnings
            .iter()
            .any(|w| w.starts_with("db/query/users.sql:9:")),
        "{:?}",
        usage.warnings
    );
    assert_eq!(usage.judge(&orders(), Some("status")), Judgement::Unknown);
    // `users.legacy_email` is named by no query and no file.
    assert!(matches!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unreferenced(_)
    ));
}

#[test]
fn plain_query_files_from_config_globs() {
    let mut repo = repo(&[("app/sql/report.sql", "SELECT o.status FROM orders o;\n")]);
    repo.config.queries = vec!["app/sql/**/*.sql".to_string(), "nothing/*.sql".to_string()];
    let usage = repo.usage();
    assert_eq!(
        strong(&usage, &orders(), "status"),
        [("app/sql/report.sql".to_string(), 1, Access::Read)]
    );
    assert!(usage
        .warnings
        .iter()
        .any(|w| w.contains("`nothing/*.sql` matches no file")));
}

#[test]
fn prisma_maps_models_and_skips_ignored_fields() {
    let schema = "model User {\n  id Int @id\n  email String @map(\"email\")\n  legacyEmail String? @map(\"legacy_email\") @ignore\n  fullName String? @map(\"name\")\n  @@map(\"users\")\n}\n";
    let usage = repo(&[("prisma/schema.prisma", schema)]).usage();
    assert_eq!(
        strong(&usage, &users(), "name"),
        [("prisma/schema.prisma".to_string(), 5, Access::Read)]
    );
    assert!(matches!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unreferenced(_)
    ));
}

#[test]
fn without_a_structured_source_the_presumption_stands() {
    let usage = repo(&[("src/main.go", "package main\n")]).usage();
    assert_eq!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unknown
    );
}

#[test]
fn mentions_in_tests_docs_and_migrations_are_not_evidence() {
    let usage = repo(&[
        ("src/schema.rs", DIESEL_SCHEMA),
        ("tests/legacy.rs", "// legacy_email\n"),
        ("docs/notes.md", "legacy_email\n"),
        (
            "migrations/1_init.sql",
            "ALTER TABLE users ADD legacy_email text;\n",
        ),
        ("src/lib.rs", "// legacy_emails are gone\n"),
    ])
    .usage();
    assert!(matches!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unreferenced(_)
    ));
}

#[test]
fn citations_read_like_the_issue_asks() {
    let usage = repo(&[
        ("src/schema.rs", DIESEL_SCHEMA),
        ("src/models.rs", DIESEL_MODELS),
    ])
    .usage();
    let Judgement::Used(evidence) = usage.judge(&users(), Some("email")) else {
        panic!()
    };
    let line = line_of(DIESEL_MODELS, "pub email");
    assert_eq!(
        cite(&users(), Some("email"), &evidence[..1]),
        format!("N-1 reads users.email: src/models.rs:{line} at v1")
    );
}

#[test]
fn diesel_inserts_name_their_columns_or_defer_to_the_struct() {
    let code = "use crate::schema::users;\npub fn add(c: &mut PgConnection) {\n    diesel::insert_into(users::table)\n        .values((users::email.eq(\"a\"), users::name.eq(\"b\")))\n        .execute(c);\n    diesel::insert_into(users::table).values(&new_user).execute(c);\n}\n";
    let usage = repo(&[("src/schema.rs", DIESEL_SCHEMA), ("src/add.rs", code)]).usage();
    let (inserts, complete) = usage.inserts_into(&users());
    assert!(complete, "every mention of users is in parsed code");
    let sites: Vec<_> = inserts
        .iter()
        .map(|s| (s.evidence.line, s.columns.clone()))
        .collect();
    let named: BTreeSet<String> = ["email", "name"].map(String::from).into();
    assert_eq!(sites, [(4, Some(named)), (6, None)]);
    assert_eq!(
        strong(&usage, &users(), "email"),
        [("src/add.rs".to_string(), 4, Access::Insert)]
    );
}

#[test]
fn a_mention_inside_a_string_makes_the_insert_list_incomplete() {
    let code = "pub const Q: &str = \"INSERT INTO users (email) VALUES ($1)\";\n";
    let usage = repo(&[("src/schema.rs", DIESEL_SCHEMA), ("src/q.rs", code)]).usage();
    let (inserts, complete) = usage.inserts_into(&users());
    assert!(inserts.is_empty());
    assert!(!complete);
}

#[test]
fn a_star_query_in_unparsed_code_leaves_a_column_open() {
    let go = "package db\n\nconst all = \"SELECT * FROM users WHERE id = $1\"\n";
    let config = "version: \"2\"\nsql:\n  - engine: postgresql\n    queries: db/query/\n";
    let usage = repo(&[
        ("sqlc.yaml", config),
        (
            "db/query/users.sql",
            "-- name: GetUser :one\nSELECT id, email FROM users WHERE id = $1;\n",
        ),
        ("internal/db/raw.go", go),
    ])
    .usage();
    assert_eq!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unknown
    );
    // The same query through sqlc is resolved: `*` reads every column.
    let usage = repo(&[
        ("sqlc.yaml", config),
        (
            "db/query/users.sql",
            "-- name: GetUser :one\nSELECT * FROM users WHERE id = $1;\n",
        ),
    ])
    .usage();
    assert_eq!(
        strong(&usage, &users(), "legacy_email"),
        [("db/query/users.sql".to_string(), 2, Access::Read)]
    );
}

#[test]
fn a_file_that_is_not_utf8_counts_the_names_in_it_as_used() {
    let mut repo = repo(&[("src/schema.rs", DIESEL_SCHEMA)]);
    // Latin-1: `é` is one byte, not UTF-8.
    let mut latin1 = b"// caf\xe9\nSELECT legacy_email FROM users;\n".to_vec();
    latin1.extend_from_slice(b"\n");
    repo.bytes.push(("app/report.php", latin1));
    let usage = repo.usage();
    assert!(
        usage
            .warnings
            .iter()
            .any(|w| w.starts_with("app/report.php: not UTF-8")),
        "{:?}",
        usage.warnings
    );
    assert_eq!(
        usage.judge(&users(), Some("legacy_email")),
        Judgement::Unknown
    );
    assert!(matches!(
        usage.judge(&orders(), Some("status")),
        Judgement::Unreferenced(_)
    ));
}

#[test]
fn the_scan_looks_for_what_the_deploy_drops_renames_or_retypes() {
    let sql = "ALTER TABLE users DROP COLUMN legacy_email;\nALTER TABLE orders RENAME COLUMN status TO state;\nDROP TABLE audit_log;\nALTER TABLE users ALTER COLUMN name TYPE varchar(10);\nCREATE INDEX users_email_idx ON users (email);\n";
    let file = crate::sql::parse_sql(sql, 0..sql.len(), Dialect::Postgres);
    let names = touched_names(file.statements.iter().flat_map(|s| s.changes.iter()));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "audit_log",
            "legacy_email",
            "name",
            "orders",
            "status",
            "users"
        ]
    );
}

#[test]
fn a_multi_file_prisma_schema_knows_relations_across_files() {
    let usage = repo(&[
        ("prisma/schema/user.prisma", "model User {\n  id Int @id\n  orders Order[]\n  @@map(\"users\")\n}\n"),
        ("prisma/schema/order.prisma", "model Order {\n  id Int @id\n  user User @relation(fields: [userId], references: [id])\n  userId Int @map(\"user_id\")\n  @@map(\"orders\")\n}\n"),
    ])
    .usage();
    assert_eq!(
        strong(&usage, &orders(), "user_id"),
        [("prisma/schema/order.prisma".to_string(), 4, Access::Read)]
    );
    // `user` and `orders` are relation fields, not columns.
    assert!(!usage.tables[&orders()].columns.contains_key("user"));
    assert!(!usage.tables[&users()].columns.contains_key("orders"));
}
