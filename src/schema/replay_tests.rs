use crate::dialect::Dialect;
use crate::ir::{
    BackfillKind, Change, ConstraintKind, DefaultExpr, MaintenanceKind, QualifiedName,
    TransactionControl,
};
use crate::schema::fixtures::*;
use crate::schema::{Catalog, Table};

fn table<'a>(catalog: &'a Catalog, table: &str) -> &'a Table {
    catalog.table(&name(table)).expect("table exists")
}

fn constraint_names(table: &Table) -> Vec<&str> {
    table.constraints.iter().map(|c| c.name.as_str()).collect()
}

fn index_names(table: &Table) -> Vec<&str> {
    table.indexes.iter().map(|i| i.name.as_str()).collect()
}

fn column_names(table: &Table) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn users() -> Change {
    create_table(
        "users",
        vec![serial("id", "SERIAL"), required("email", "TEXT")],
        vec![primary_key(&["id"])],
    )
}

#[test]
fn create_table_models_what_postgres_builds() {
    let catalog = replay(&shop_changes());
    let users = table(&catalog, "users");
    let id = users.column("id").unwrap();
    assert_eq!(id.data_type, "bigint");
    assert!(!id.nullable);
    assert_eq!(
        id.default.as_ref().unwrap().sql,
        "nextval('users_id_seq'::regclass)"
    );
    assert_eq!(
        users.column("email").unwrap().data_type,
        "character varying(255)"
    );
    assert_eq!(users.created_by, "001");
    assert_eq!(constraint_names(users), ["users_pkey", "users_email_key"]);
    assert_eq!(index_names(users), ["users_pkey", "users_email_key"]);
    assert!(users.indexes.iter().all(|index| index.unique));

    let orders = table(&catalog, "orders");
    assert_eq!(
        constraint_names(orders),
        ["orders_pkey", "orders_user_id_fkey", "orders_total_check"]
    );
    assert_eq!(
        orders.constraint("orders_total_check").unwrap().columns,
        ["total"]
    );
    assert_eq!(index_names(orders), ["orders_pkey", "orders_user_id_idx"]);
    assert_eq!(orders.column("total").unwrap().data_type, "numeric(10,2)");
    assert_eq!(orders.column("status").unwrap().data_type, "order_status");
}

#[test]
fn primary_key_makes_its_columns_not_null() {
    let catalog = replay(&[
        create_table("t", vec![column("a", "int"), column("b", "int")], vec![]),
        add_constraint("t", primary_key(&["a", "b"])),
    ]);
    let t = table(&catalog, "t");
    assert!(t.columns.iter().all(|c| !c.nullable));
    assert_eq!(constraint_names(t), ["t_pkey"]);
}

#[test]
fn serial_in_another_schema_qualifies_its_sequence() {
    let mut catalog = Catalog::new(Dialect::Postgres);
    catalog.apply(
        &Change::CreateTable {
            table: QualifiedName::new("billing", "invoices"),
            columns: vec![serial("id", "serial")],
            constraints: vec![],
            if_not_exists: false,
            as_select: false,
        },
        "001",
    );
    let id = catalog
        .column(&QualifiedName::new("billing", "invoices"), "id")
        .unwrap();
    assert_eq!(
        id.default.as_ref().unwrap().sql,
        "nextval('billing.invoices_id_seq'::regclass)"
    );
}

#[test]
fn a_serial_sequence_name_taken_by_a_relation_is_numbered() {
    let catalog = replay(&[
        create_table("t_id_seq", vec![column("a", "int")], vec![]),
        create_table("t", vec![serial("id", "serial")], vec![]),
        create_table("u", vec![serial("id", "serial")], vec![]),
    ]);
    let default = |table_: &str| {
        let column = table(&catalog, table_).column("id").unwrap();
        column.default.as_ref().unwrap().sql.clone()
    };
    assert_eq!(default("t"), "nextval('t_id_seq1'::regclass)");
    assert_eq!(default("u"), "nextval('u_id_seq'::regclass)");
}

#[test]
fn a_table_renamed_aside_keeps_its_sequence_and_index_names() {
    let mut catalog = replay(&[users()]);
    catalog.apply_migration(
        &[
            Change::RenameTable {
                from: name("users"),
                to: name("users_old"),
            },
            users(),
        ],
        "002",
    );
    let users = table(&catalog, "users");
    assert_eq!(
        users.column("id").unwrap().default.as_ref().unwrap().sql,
        "nextval('users_id_seq1'::regclass)"
    );
    assert_eq!(index_names(users), ["users_pkey1"]);
    assert_eq!(constraint_names(users), ["users_pkey1"]);
}

#[test]
fn create_table_if_not_exists_keeps_the_old_table() {
    let mut catalog = replay(&[users()]);
    let again = Change::CreateTable {
        table: name("users"),
        columns: vec![column("other", "text")],
        constraints: vec![],
        if_not_exists: true,
        as_select: false,
    };
    catalog.apply(&again, "002");
    let users = table(&catalog, "users");
    assert_eq!(column_names(users), ["id", "email"]);
    assert_eq!(users.created_by, "001");

    // Without IF NOT EXISTS, the later definition wins.
    catalog.apply(
        &create_table("users", vec![column("other", "text")], vec![]),
        "003",
    );
    assert_eq!(column_names(table(&catalog, "users")), ["other"]);
}

#[test]
fn drop_table_drops_several_and_the_foreign_keys_to_them() {
    let mut catalog = replay(&shop_changes());
    catalog.apply(
        &Change::DropTable {
            tables: vec![name("users"), name("missing")],
            if_exists: true,
            cascade: true,
        },
        "002",
    );
    assert!(catalog.table(&name("users")).is_none());
    let orders = table(&catalog, "orders");
    assert_eq!(
        constraint_names(orders),
        ["orders_pkey", "orders_total_check"]
    );
    // Views are kept: we cannot see what they depend on.
    assert!(catalog.views.contains_key(&name("order_totals")));

    catalog.apply(
        &Change::DropTable {
            tables: vec![name("orders")],
            if_exists: false,
            cascade: false,
        },
        "003",
    );
    assert!(catalog.tables.is_empty());
}

#[test]
fn rename_table_keeps_columns_constraints_indexes_and_origin() {
    let mut catalog = replay(&shop_changes());
    catalog.apply(
        &Change::RenameTable {
            from: name("users"),
            to: name("customers"),
        },
        "002",
    );
    assert!(catalog.table(&name("users")).is_none());
    let customers = table(&catalog, "customers");
    assert_eq!(customers.name, name("customers"));
    assert_eq!(customers.created_by, "001");
    assert_eq!(
        column_names(customers),
        ["id", "email", "display_name", "created_at"]
    );
    // Postgres keeps the generated names of a renamed table's constraints and indexes.
    assert_eq!(
        constraint_names(customers),
        ["users_pkey", "users_email_key"]
    );
    assert_eq!(index_names(customers), ["users_pkey", "users_email_key"]);
    let fk = table(&catalog, "orders")
        .constraint("orders_user_id_fkey")
        .unwrap();
    assert!(
        matches!(&fk.kind, ConstraintKind::ForeignKey { references, .. } if *references == name("customers"))
    );
}

#[test]
fn rename_keeps_the_schema_in_postgres() {
    let mut catalog = Catalog::new(Dialect::Postgres);
    let from = QualifiedName::new("app", "users");
    catalog.apply(
        &Change::CreateTable {
            table: from.clone(),
            columns: vec![column("id", "int")],
            constraints: vec![],
            if_not_exists: false,
            as_select: false,
        },
        "001",
    );
    // `ALTER TABLE app.users RENAME TO people`: the bare name may come resolved to public.
    catalog.apply(
        &Change::RenameTable {
            from,
            to: name("people"),
        },
        "002",
    );
    assert!(catalog
        .table(&QualifiedName::new("app", "people"))
        .is_some());
}

#[test]
fn add_column_appends_and_ignores_duplicates() {
    let mut catalog = replay(&[users()]);
    catalog.apply(
        &Change::AddColumn {
            table: name("users"),
            column: with_default(required("active", "bool"), "true"),
            if_not_exists: false,
        },
        "002",
    );
    catalog.apply(
        &Change::AddColumn {
            table: name("users"),
            column: column("active", "text"),
            if_not_exists: true,
        },
        "003",
    );
    let users = table(&catalog, "users");
    assert_eq!(column_names(users), ["id", "email", "active"]);
    let active = users.column("active").unwrap();
    assert_eq!(active.data_type, "boolean");
    assert!(!active.nullable);
    assert_eq!(active.default.as_ref().unwrap().sql, "true");
    assert_eq!(active.created_by, "002");
    assert_eq!(users.created_by, "001");
}

#[test]
fn drop_column_drops_the_indexes_and_constraints_on_it() {
    let mut catalog = replay(&[
        create_table(
            "users",
            vec![
                required("id", "int"),
                column("email", "text"),
                column("org", "int"),
                column("age", "int"),
            ],
            vec![
                primary_key(&["id"]),
                unique(&["org", "email"]),
                check("age > 0 AND email <> ''", &[]),
            ],
        ),
        create_index("users", None, &["lower(email)"]),
        create_index("users", None, &["org"]),
        create_table(
            "invites",
            vec![column("email", "text")],
            vec![foreign_key(&["email"], "users", &["email"])],
        ),
    ]);
    assert_eq!(
        index_names(table(&catalog, "users")),
        [
            "users_pkey",
            "users_org_email_key",
            "users_lower_idx",
            "users_org_idx"
        ]
    );
    catalog.apply(
        &Change::DropColumn {
            table: name("users"),
            column: "email".into(),
            if_exists: false,
        },
        "002",
    );
    let users = table(&catalog, "users");
    assert_eq!(column_names(users), ["id", "org", "age"]);
    assert_eq!(constraint_names(users), ["users_pkey"]);
    assert_eq!(index_names(users), ["users_pkey", "users_org_idx"]);
    assert!(table(&catalog, "invites").constraints.is_empty());
}

#[test]
fn rename_column_follows_it_everywhere() {
    let mut catalog = replay(&[
        create_table(
            "users",
            vec![required("id", "int"), column("email", "text")],
            vec![
                primary_key(&["id"]),
                unique(&["email"]),
                check("email <> 'email'", &["email"]),
            ],
        ),
        create_index("users", Some("users_lower_email"), &["lower(email)"]),
        create_table(
            "invites",
            vec![column("email", "text")],
            vec![foreign_key(&["email"], "users", &["email"])],
        ),
    ]);
    catalog.apply(
        &Change::RenameColumn {
            table: name("users"),
            from: "email".into(),
            to: "mail".into(),
        },
        "002",
    );
    let users = table(&catalog, "users");
    assert_eq!(column_names(users), ["id", "mail"]);
    // Names are kept; what they cover follows the column.
    let key = users.constraint("users_email_key").unwrap();
    assert_eq!(key.columns, ["mail"]);
    assert_eq!(users.index("users_email_key").unwrap().columns, ["mail"]);
    assert_eq!(
        users.index("users_lower_email").unwrap().columns,
        ["lower(mail)"]
    );
    let check = users.constraint("users_email_check").unwrap();
    assert_eq!(
        check.kind,
        ConstraintKind::Check {
            expr: "mail <> 'email'".into()
        }
    );
    let fk = &table(&catalog, "invites").constraints[0];
    assert!(
        matches!(&fk.kind, ConstraintKind::ForeignKey { ref_columns, .. } if ref_columns == &["mail"])
    );
    assert_eq!(
        fk.columns,
        ["email"],
        "the referencing column is not renamed"
    );
}

#[test]
fn column_alterations() {
    let mut catalog = replay(&[users()]);
    let users_table = name("users");
    let email = || "email".to_string();
    let changes = [
        Change::AlterColumnType {
            table: users_table.clone(),
            column: email(),
            data_type: "VARCHAR(320)".into(),
            using: None,
        },
        Change::DropNotNull {
            table: users_table.clone(),
            column: email(),
        },
        Change::SetDefault {
            table: users_table.clone(),
            column: email(),
            default: DefaultExpr {
                sql: "''".into(),
                volatile: false,
            },
        },
    ];
    catalog.apply_migration(&changes, "002");
    let column = catalog.column(&users_table, "email").unwrap();
    assert_eq!(column.data_type, "character varying(320)");
    assert!(column.nullable);
    assert_eq!(column.default.as_ref().unwrap().sql, "''");

    let changes = [
        Change::SetNotNull {
            table: users_table.clone(),
            column: email(),
        },
        Change::DropDefault {
            table: users_table.clone(),
            column: email(),
        },
    ];
    catalog.apply_migration(&changes, "003");
    let column = catalog.column(&users_table, "email").unwrap();
    assert!(!column.nullable);
    assert!(column.default.is_none());
    assert_eq!(column.created_by, "001");
}

#[test]
fn a_null_default_is_no_default() {
    let null = |sql: &str| DefaultExpr {
        sql: sql.into(),
        volatile: false,
    };
    let mut catalog = replay(&[create_table(
        "t",
        vec![
            with_default(column("a", "text"), "NULL"),
            with_default(column("b", "text"), "NULL::text"),
            with_default(column("c", "text"), "'NULL'"),
        ],
        vec![],
    )]);
    let t = name("t");
    let default = |catalog: &Catalog, column: &str| {
        let column = catalog.column(&t, column).unwrap();
        column.default.as_ref().map(|d| d.sql.clone())
    };
    assert_eq!(default(&catalog, "a"), None);
    assert_eq!(default(&catalog, "b"), None);
    assert_eq!(
        default(&catalog, "c").as_deref(),
        Some("'NULL'"),
        "a string"
    );
    for (column, sql) in [("a", "(null)"), ("c", "'x'")] {
        let set = Change::SetDefault {
            table: t.clone(),
            column: column.into(),
            default: null(sql),
        };
        catalog.apply(&set, "002");
    }
    assert_eq!(default(&catalog, "a"), None);
    assert_eq!(default(&catalog, "c").as_deref(), Some("'x'"));
}

#[test]
fn constraint_names_follow_postgres() {
    let long = "a_table_name_that_goes_on_and_on_and_on_for_quite_a_while_yes";
    let catalog = replay(&[
        create_table(
            "t",
            vec![column("a", "int"), column("b", "int")],
            vec![
                unique(&["a", "b"]),
                check("a < b", &[]),
                check("a > 0", &["a"]),
                named(check("b > 0", &[]), "b_positive"),
                foreign_key(&["a", "b"], "t", &["a", "b"]),
            ],
        ),
        // A second key on the same columns, in a later statement: numbered.
        add_constraint("t", unique(&["a", "b"])),
        create_table(
            long,
            vec![column("email", "text")],
            vec![unique(&["email"])],
        ),
    ]);
    assert_eq!(
        constraint_names(table(&catalog, "t")),
        [
            "t_a_b_key",
            "t_check",
            "t_a_check",
            "b_positive",
            "t_a_b_fkey",
            "t_a_b_key1"
        ]
    );
    let key = &table(&catalog, long).constraints[0].name;
    assert_eq!(key.len(), 63);
    assert_eq!(
        key,
        "a_table_name_that_goes_on_and_on_and_on_for_quite_a_w_email_key"
    );
}

#[test]
fn a_key_repeated_in_one_create_table_is_made_once() {
    let catalog = replay(&[
        create_table(
            "t",
            vec![column("id", "int"), column("a", "int"), column("c", "int")],
            vec![
                unique(&["id"]),
                primary_key(&["id"]),
                unique(&["a"]),
                unique(&["a"]),
                named(unique(&["c"]), "c_unique"),
            ],
        ),
        create_table(
            "u",
            vec![column("id", "int")],
            vec![named(unique(&["id"]), "u_id"), primary_key(&["id"])],
        ),
    ]);
    let t = table(&catalog, "t");
    assert_eq!(constraint_names(t), ["t_pkey", "t_a_key", "c_unique"]);
    assert_eq!(index_names(t), ["t_pkey", "t_a_key", "c_unique"]);
    // The unnamed primary key takes the name of the unique key it absorbs.
    assert_eq!(constraint_names(table(&catalog, "u")), ["u_id"]);
    assert_eq!(
        table(&catalog, "u").constraints[0].kind,
        ConstraintKind::PrimaryKey
    );
}

#[test]
fn a_foreign_key_without_columns_references_the_primary_key() {
    let catalog = replay(&[
        users(),
        create_table(
            "orders",
            vec![column("user_id", "bigint"), column("parent_id", "bigint")],
            vec![
                foreign_key(&["user_id"], "users", &[]),
                foreign_key(&["parent_id"], "orders", &[]),
                primary_key(&["user_id", "parent_id"]),
            ],
        ),
        create_table(
            "keyless",
            vec![column("user_id", "bigint")],
            vec![foreign_key(&["user_id"], "nowhere", &[])],
        ),
    ]);
    let references = |table_: &str| -> Vec<Vec<String>> {
        table(&catalog, table_)
            .constraints
            .iter()
            .filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey { ref_columns, .. } => Some(ref_columns.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        references("orders"),
        [strings(&["id"]), strings(&["user_id", "parent_id"])]
    );
    assert_eq!(
        references("keyless"),
        [Vec::<String>::new()],
        "an unknown table's key stays unknown"
    );
}

#[test]
fn dropping_a_key_drops_the_foreign_keys_that_depend_on_it() {
    let mut catalog = replay(&[
        users(),
        add_constraint("users", unique(&["email"])),
        create_table(
            "orders",
            vec![column("user_id", "bigint"), column("email", "text")],
            vec![
                foreign_key(&["user_id"], "users", &["id"]),
                foreign_key(&["email"], "users", &["email"]),
            ],
        ),
    ]);
    catalog.apply(
        &Change::DropConstraint {
            table: name("users"),
            name: "users_pkey".into(),
            if_exists: false,
        },
        "002",
    );
    // The foreign key on the email key depends on another index: it stays.
    assert_eq!(
        constraint_names(table(&catalog, "orders")),
        ["orders_email_fkey"]
    );
}

#[test]
fn long_names_as_written_are_cut_to_63_bytes() {
    let long = "x".repeat(70);
    let catalog = replay(&[
        create_table(
            "t",
            vec![column("a", "int")],
            vec![named(unique(&["a"]), &long)],
        ),
        create_index("t", Some(&"i".repeat(70)), &["a"]),
    ]);
    let t = table(&catalog, "t");
    assert_eq!(t.constraints[0].name, "x".repeat(63));
    assert_eq!(index_names(t), ["x".repeat(63), "i".repeat(63)]);
}

#[test]
fn not_valid_constraints_await_validation() {
    let mut fk = foreign_key(&["user_id"], "users", &["id"]);
    fk.not_valid = true;
    let mut catalog = replay(&[
        users(),
        create_table("orders", vec![column("user_id", "int")], vec![]),
        add_constraint("orders", fk),
    ]);
    let constraint = |c: &Catalog| c.tables.get(&name("orders")).unwrap().constraints[0].clone();
    assert_eq!(constraint(&catalog).name, "orders_user_id_fkey");
    assert!(!constraint(&catalog).validated);
    catalog.apply(
        &Change::ValidateConstraint {
            table: name("orders"),
            name: "orders_user_id_fkey".into(),
        },
        "002",
    );
    assert!(constraint(&catalog).validated);
    assert_eq!(constraint(&catalog).created_by, "001");
}

#[test]
fn dropping_a_constraint_drops_its_index() {
    let mut catalog = replay(&shop_changes());
    let drop = |name_: &str| Change::DropConstraint {
        table: name("users"),
        name: name_.into(),
        if_exists: false,
    };
    catalog.apply_migration(
        &[drop("users_email_key"), drop("users_pkey"), drop("nope")],
        "002",
    );
    let users = table(&catalog, "users");
    assert!(users.constraints.is_empty());
    assert!(users.indexes.is_empty());
    assert!(
        !users.column("id").unwrap().nullable,
        "NOT NULL outlives the key"
    );
}

#[test]
fn renaming_a_constraint_renames_its_index_and_back() {
    let mut catalog = replay(&shop_changes());
    catalog.apply(
        &Change::RenameConstraint {
            table: name("users"),
            from: "users_email_key".into(),
            to: "users_email_unique".into(),
        },
        "002",
    );
    let users = table(&catalog, "users");
    assert_eq!(
        constraint_names(users),
        ["users_pkey", "users_email_unique"]
    );
    assert_eq!(index_names(users), ["users_pkey", "users_email_unique"]);

    catalog.apply(
        &Change::RenameIndex {
            from: name("users_email_unique"),
            to: "users_email_key".into(),
        },
        "003",
    );
    let users = table(&catalog, "users");
    assert_eq!(constraint_names(users), ["users_pkey", "users_email_key"]);
    assert_eq!(index_names(users), ["users_pkey", "users_email_key"]);
}

#[test]
fn unique_using_index_adopts_the_index() {
    let mut unique_index = index("users", Some("users_email_idx"), &["email"]);
    unique_index.unique = true;
    unique_index.concurrently = true;
    let mut constraint = named(unique(&[]), "users_email_key");
    constraint.using_index = Some("users_email_idx".into());
    let mut catalog = replay(&[users(), Change::CreateIndex(unique_index)]);
    catalog.apply(&add_constraint("users", constraint), "002");
    let users = table(&catalog, "users");
    assert_eq!(index_names(users), ["users_pkey", "users_email_key"]);
    let key = users.constraint("users_email_key").unwrap();
    assert_eq!(key.columns, ["email"]);
    assert_eq!(key.created_by, "002");
    assert_eq!(users.index("users_email_key").unwrap().created_by, "001");
}

#[test]
fn index_names_follow_postgres() {
    let mut if_not_exists = index("users", Some("users_email_idx"), &["id"]);
    if_not_exists.if_not_exists = true;
    let catalog = replay(&[
        users(),
        create_index("users", None, &["email"]),
        create_index("users", None, &["email"]),
        create_index("users", None, &["lower(email)", "id"]),
        create_index("users", None, &["(email || 'x')"]),
        create_index("users", None, &["lower(email)", "lower(name)"]),
        create_index("users", None, &["created_at::date"]),
        create_index("users", Some("by_email"), &["email"]),
        Change::CreateIndex(if_not_exists),
        create_index("missing", None, &["email"]),
    ]);
    let users = table(&catalog, "users");
    assert_eq!(
        index_names(users),
        [
            "users_pkey",
            "users_email_idx",
            "users_email_idx1",
            "users_lower_id_idx",
            "users_expr_idx",
            "users_lower_lower1_idx",
            "users_created_at_idx",
            "by_email"
        ]
    );
    assert_eq!(users.index("users_email_idx").unwrap().columns, ["email"]);
}

#[test]
fn drop_index_finds_its_table_within_the_schema() {
    let other_schema = QualifiedName::new("archive", "users");
    let mut catalog = replay(&[users(), create_index("users", Some("by_email"), &["email"])]);
    catalog.apply_migration(
        &[
            Change::CreateTable {
                table: other_schema.clone(),
                columns: vec![column("email", "text")],
                constraints: vec![],
                if_not_exists: false,
                as_select: false,
            },
            Change::CreateIndex(crate::ir::IndexDef {
                table: other_schema.clone(),
                ..index("users", Some("by_email"), &["email"])
            }),
        ],
        "001",
    );
    catalog.apply(
        &Change::DropIndex {
            names: vec![name("by_email"), name("users_pkey"), name("nope")],
            concurrently: true,
            if_exists: true,
        },
        "002",
    );
    // The primary key's index cannot be dropped on its own.
    assert_eq!(index_names(table(&catalog, "users")), ["users_pkey"]);
    assert_eq!(
        index_names(catalog.table(&other_schema).unwrap()),
        ["by_email"]
    );
}

#[test]
fn views_are_created_replaced_renamed_and_dropped() {
    let mut catalog = replay(&shop_changes());
    let view = |materialized, or_replace| Change::CreateView {
        name: name("order_totals"),
        materialized,
        or_replace,
    };
    catalog.apply(&view(false, true), "002");
    assert_eq!(catalog.views[&name("order_totals")].created_by, "001");

    catalog.apply(
        &Change::RenameView {
            from: name("order_totals"),
            to: name("totals"),
        },
        "003",
    );
    assert!(catalog.views.contains_key(&name("totals")));
    assert!(!catalog.views.contains_key(&name("order_totals")));

    catalog.apply(&view(true, false), "004");
    assert!(catalog.views[&name("order_totals")].materialized);
    assert!(catalog.has_relation(&name("order_totals")));

    catalog.apply(
        &Change::DropView {
            names: vec![name("order_totals"), name("totals")],
            materialized: false,
            if_exists: true,
        },
        "005",
    );
    assert!(catalog.views.is_empty());
}

#[test]
fn enum_values_are_added_where_asked() {
    let status = name("order_status");
    let add = |value: &str, position: Option<(bool, &str)>| Change::AddEnumValue {
        name: status.clone(),
        value: value.into(),
        position: position.map(|(before, anchor)| (before, anchor.to_string())),
    };
    let mut catalog = replay(&shop_changes());
    catalog.apply_migration(
        &[
            add("refunded", None),
            add("draft", Some((true, "pending"))),
            add("packed", Some((false, "paid"))),
            add("lost", Some((false, "no-such-anchor"))),
            add("paid", None),
        ],
        "002",
    );
    assert_eq!(
        catalog.enums[&status].values,
        ["draft", "pending", "paid", "packed", "shipped", "refunded"]
    );

    catalog.apply(
        &Change::RenameEnumValue {
            name: status.clone(),
            from: "packed".into(),
            to: "boxed".into(),
        },
        "003",
    );
    assert_eq!(catalog.enums[&status].values[3], "boxed");
    assert_eq!(catalog.enums[&status].created_by, "001");

    catalog.apply(
        &Change::DropType {
            names: vec![status.clone()],
            if_exists: false,
        },
        "004",
    );
    assert!(catalog.enums.is_empty());
}

#[test]
fn updates_record_their_migration_on_each_column() {
    let mut catalog = replay(&shop_changes());
    catalog.apply_migration(
        &[
            update("users", &["display_name", "email", "missing"]),
            update("users", &["display_name"]),
        ],
        "002",
    );
    catalog.apply(&update("users", &["display_name"]), "003");
    let users = table(&catalog, "users");
    assert_eq!(
        users.column("display_name").unwrap().backfilled_by,
        ["002", "003"]
    );
    assert_eq!(users.column("email").unwrap().backfilled_by, ["002"]);
    assert!(users.column("id").unwrap().backfilled_by.is_empty());
}

#[test]
fn statements_that_change_no_schema_leave_the_catalog_alone() {
    let before = replay(&shop_changes());
    let mut after = before.clone();
    let changes = [
        Change::Backfill {
            table: name("users"),
            kind: BackfillKind::Insert,
            columns: vec![],
            filtered: false,
        },
        Change::Backfill {
            table: name("users"),
            kind: BackfillKind::Delete,
            columns: vec![],
            filtered: true,
        },
        Change::Session {
            setting: "lock_timeout".into(),
            value: "'5s'".into(),
            local: false,
        },
        Change::Maintenance {
            kind: MaintenanceKind::Vacuum { full: false },
            table: Some(name("users")),
        },
        Change::Transaction(TransactionControl::Begin),
        Change::OnlineDdl {
            table: name("users"),
            options: Default::default(),
        },
        Change::NoOp {
            what: "COMMENT ON".into(),
        },
        Change::Opaque {
            what: "DO block".into(),
        },
    ];
    after.apply_migration(&changes, "002");
    // The opaque statement is counted: what it made may be missing from the catalog.
    assert_eq!(after.blind_spots, 1);
    after.blind_spots = 0;
    assert_eq!(before, after);
}

#[test]
fn changes_to_unknown_objects_are_ignored() {
    let before = replay(&shop_changes());
    let mut after = before.clone();
    let ghost = name("ghost");
    let changes = [
        Change::DropTable {
            tables: vec![ghost.clone()],
            if_exists: false,
            cascade: false,
        },
        Change::RenameTable {
            from: ghost.clone(),
            to: name("ghost2"),
        },
        Change::AddColumn {
            table: ghost.clone(),
            column: column("a", "int"),
            if_not_exists: false,
        },
        Change::DropColumn {
            table: name("users"),
            column: "ghost".into(),
            if_exists: false,
        },
        Change::RenameColumn {
            table: name("users"),
            from: "ghost".into(),
            to: "spirit".into(),
        },
        Change::RenameColumn {
            table: name("users"),
            from: "email".into(),
            to: "id".into(),
        },
        Change::SetNotNull {
            table: name("users"),
            column: "ghost".into(),
        },
        add_constraint("ghost", unique(&["a"])),
        add_constraint("users", named(unique(&["email"]), "users_pkey")),
        Change::ValidateConstraint {
            table: name("users"),
            name: "ghost".into(),
        },
        Change::RenameConstraint {
            table: name("users"),
            from: "users_pkey".into(),
            to: "users_email_key".into(),
        },
        Change::RenameIndex {
            from: name("ghost_idx"),
            to: "spirit_idx".into(),
        },
        Change::RenameIndex {
            from: name("orders_user_id_idx"),
            to: "users".into(),
        },
        Change::CreateView {
            name: name("users"),
            materialized: false,
            or_replace: false,
        },
        Change::AddEnumValue {
            name: ghost.clone(),
            value: "x".into(),
            position: None,
        },
        Change::RenameEnumValue {
            name: name("order_status"),
            from: "paid".into(),
            to: "shipped".into(),
        },
        Change::CreateEnum {
            name: name("order_status"),
            values: strings(&["other"]),
        },
        Change::DropType {
            names: vec![ghost],
            if_exists: true,
        },
    ];
    after.apply_migration(&changes, "002");
    assert_eq!(before, after);
}

#[test]
fn diff_lists_what_changed() {
    let before = replay(&shop_changes());
    let mut after = before.clone();
    let mut not_valid = check("display_name <> ''", &["display_name"]);
    not_valid.not_valid = true;
    after.apply_migration(
        &[
            Change::AlterColumnType {
                table: name("users"),
                column: "display_name".into(),
                data_type: "varchar(255)".into(),
                using: None,
            },
            Change::DropNotNull {
                table: name("users"),
                column: "email".into(),
            },
            Change::DropDefault {
                table: name("users"),
                column: "created_at".into(),
            },
            Change::AddColumn {
                table: name("orders"),
                column: column("shipped_at", "timestamptz"),
                if_not_exists: false,
            },
            Change::DropColumn {
                table: name("orders"),
                column: "note".into(),
                if_exists: false,
            },
            add_constraint("users", not_valid.clone()),
            Change::DropIndex {
                names: vec![name("orders_user_id_idx")],
                concurrently: false,
                if_exists: false,
            },
            create_index("users", None, &["created_at"]),
            Change::AddEnumValue {
                name: name("order_status"),
                value: "refunded".into(),
                position: None,
            },
            Change::DropView {
                names: vec![name("order_totals")],
                materialized: false,
                if_exists: false,
            },
            create_table("audit", vec![column("at", "timestamptz")], vec![]),
        ],
        "002",
    );
    // In name order, table by table.
    let differences: Vec<String> = before.diff(&after).iter().map(|d| d.to_string()).collect();
    assert_eq!(
        differences,
        [
            "table public.audit added",
            "column public.orders.note removed",
            "column public.orders.shipped_at added",
            "index orders_user_id_idx on public.orders removed",
            "column public.users.email: not null → nullable",
            "column public.users.display_name: type text → character varying(255)",
            "column public.users.created_at: default now() → none",
            "constraint users_display_name_check on public.users added",
            "index users_created_at_idx on public.users added",
            "view public.order_totals removed",
            "enum public.order_status: values [pending, paid, shipped] → [pending, paid, shipped, refunded]",
        ]
    );
    assert!(before.diff(&before).is_empty());
}

#[test]
fn diff_ignores_origin_and_column_order() {
    // Up drops a column; the down re-adds it in another migration, at the end.
    let before = replay(&[create_table(
        "t",
        vec![column("a", "int"), column("b", "text")],
        vec![],
    )]);
    let mut after = before.clone();
    after.apply(
        &Change::DropColumn {
            table: name("t"),
            column: "a".into(),
            if_exists: false,
        },
        "002",
    );
    after.apply(
        &Change::AddColumn {
            table: name("t"),
            column: column("a", "integer"),
            if_not_exists: false,
        },
        "002-down",
    );
    after.apply(&update("t", &["a"]), "002-down");
    assert!(before.diff(&after).is_empty());
}

#[test]
fn diff_reports_validation_and_changed_definitions() {
    let mut not_valid = check("a > 0", &["a"]);
    not_valid.not_valid = true;
    let before = replay(&[
        create_table("t", vec![column("a", "int")], vec![not_valid]),
        create_index("t", Some("t_a"), &["a"]),
    ]);
    let mut after = replay(&[
        create_table("t", vec![column("a", "int")], vec![check("a > 0", &["a"])]),
        Change::CreateIndex(crate::ir::IndexDef {
            unique: true,
            ..index("t", Some("t_a"), &["a"])
        }),
    ]);
    after.apply(
        &Change::CreateView {
            name: name("v"),
            materialized: true,
            or_replace: false,
        },
        "002",
    );
    let differences: Vec<String> = before.diff(&after).iter().map(|d| d.to_string()).collect();
    assert_eq!(
        differences,
        [
            "constraint t_a_check on public.t: not valid → validated",
            "index t_a on public.t: (a) → unique (a)",
            "view public.v added",
        ]
    );
}

#[test]
fn a_serial_spelling_is_a_serial_column() {
    let catalog = replay(&[create_table("t", vec![column("id", "smallserial")], vec![])]);
    let id = catalog.column(&name("t"), "id").unwrap();
    assert_eq!(id.data_type, "smallint");
    assert_eq!(id.generated, crate::ir::Generated::Serial);
    assert!(!id.nullable);
    assert_eq!(
        id.default.as_ref().unwrap().sql,
        "nextval('t_id_seq'::regclass)"
    );
}

/// SQLite's way to alter a table: create a new one, copy, drop the old, rename.
fn sqlite_rebuild() -> Vec<Change> {
    vec![
        create_table(
            "new_users",
            vec![
                required("id", "INTEGER"),
                required("email", "TEXT"),
                column("nickname", "TEXT"),
            ],
            vec![primary_key(&["id"])],
        ),
        Change::Backfill {
            table: name("new_users"),
            kind: BackfillKind::Insert,
            columns: vec![],
            filtered: true,
        },
        Change::DropTable {
            tables: vec![name("users")],
            if_exists: false,
            cascade: false,
        },
        Change::RenameTable {
            from: name("new_users"),
            to: name("users"),
        },
        update("users", &["nickname", "email"]),
    ]
}

#[test]
fn a_table_rebuild_is_an_alteration() {
    let mut catalog = Catalog::new(Dialect::Sqlite);
    catalog.apply_migration(
        &[
            users(),
            create_table(
                "orders",
                vec![column("user_id", "int")],
                vec![foreign_key(&["user_id"], "users", &["id"])],
            ),
        ],
        "001",
    );
    catalog.apply_migration(&[update("users", &["email"])], "002");
    catalog.apply_migration(&sqlite_rebuild(), "003");

    assert!(catalog.table(&name("new_users")).is_none());
    let users = table(&catalog, "users");
    assert_eq!(users.created_by, "001");
    let origins: Vec<(&str, &str)> = users
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.created_by.as_str()))
        .collect();
    assert_eq!(
        origins,
        [("id", "001"), ("email", "001"), ("nickname", "003")]
    );
    assert_eq!(users.column("email").unwrap().backfilled_by, ["002", "003"]);
    assert_eq!(users.constraints[0].created_by, "001");
    // SQLite leaves the foreign key to the rebuilt table in place.
    assert_eq!(table(&catalog, "orders").constraints.len(), 1);
}

#[test]
fn renaming_an_older_table_onto_a_dropped_one_is_not_a_rebuild() {
    let mut catalog = replay(&[users()]);
    catalog.apply_migration(
        &[create_table("users_v2", vec![column("id", "int")], vec![])],
        "002",
    );
    catalog.apply_migration(
        &[
            Change::DropTable {
                tables: vec![name("users")],
                if_exists: false,
                cascade: false,
            },
            Change::RenameTable {
                from: name("users_v2"),
                to: name("users"),
            },
        ],
        "003",
    );
    assert_eq!(table(&catalog, "users").created_by, "002");
}

#[test]
fn renaming_an_enum_type_renames_its_columns_types() {
    let mut catalog = Catalog::new(Dialect::Postgres);
    let billing = QualifiedName::new("billing", "state");
    let changes = [
        Change::CreateEnum {
            name: name("mood_new"),
            values: strings(&["ok"]),
        },
        Change::CreateEnum {
            name: billing.clone(),
            values: strings(&["open"]),
        },
        Change::CreateEnum {
            name: name("taken"),
            values: strings(&["x"]),
        },
        create_table(
            "t",
            vec![
                column("mood", "mood_new"),
                column("moods", "mood_new[]"),
                column("state", "billing.state"),
                column("other", "text"),
            ],
            vec![],
        ),
        Change::RenameType {
            from: name("mood_new"),
            to: name("Mood"),
        },
        Change::RenameType {
            from: billing,
            to: QualifiedName::new("billing", "State"),
        },
        Change::RenameType {
            from: name("Mood"),
            to: name("taken"),
        },
    ];
    catalog.apply_migration(&changes, "001");
    let types: Vec<&str> = table(&catalog, "t")
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(
        types,
        ["\"Mood\"", "\"Mood\"[]", "billing.\"State\"", "text"]
    );
    assert!(catalog.enums.contains_key(&name("Mood")), "a taken name");
    assert!(!catalog.enums.contains_key(&name("mood_new")));
    assert!(catalog
        .enums
        .contains_key(&QualifiedName::new("billing", "State")));
}

#[test]
fn column_types_lead_to_their_enum() {
    let mut catalog = replay(&shop_changes());
    catalog.apply(
        &Change::CreateEnum {
            name: QualifiedName::new("billing", "State"),
            values: strings(&["open"]),
        },
        "002",
    );
    let status = catalog.column(&name("orders"), "status").unwrap();
    assert_eq!(
        catalog.enum_type(&status.data_type).unwrap().name,
        name("order_status")
    );
    assert!(catalog.enum_type("order_status[]").is_some());
    assert!(catalog.enum_type("billing.\"State\"").is_some());
    assert!(catalog.enum_type("text").is_none());
}

#[test]
fn a_rebuild_that_renames_the_old_table_aside_keeps_its_origins() {
    let mut catalog = replay(&[users()]);
    catalog.apply_migration(
        &[
            Change::RenameTable {
                from: name("users"),
                to: name("users_old"),
            },
            create_table(
                "users",
                vec![required("id", "int"), column("email", "text")],
                vec![],
            ),
            Change::Backfill {
                table: name("users"),
                kind: BackfillKind::Insert,
                columns: vec![],
                filtered: true,
            },
            Change::DropTable {
                tables: vec![name("users_old")],
                if_exists: false,
                cascade: false,
            },
        ],
        "002",
    );
    let users = table(&catalog, "users");
    assert_eq!(users.created_by, "001");
    assert_eq!(users.column("email").unwrap().created_by, "001");
}

#[test]
fn a_swap_without_copying_the_rows_is_a_new_table() {
    let mut catalog = replay(&[users()]);
    catalog.apply_migration(
        &[
            create_table("users_v2", vec![required("id", "int")], vec![]),
            Change::DropTable {
                tables: vec![name("users")],
                if_exists: false,
                cascade: false,
            },
            Change::RenameTable {
                from: name("users_v2"),
                to: name("users"),
            },
        ],
        "002",
    );
    assert_eq!(table(&catalog, "users").created_by, "002");
}
