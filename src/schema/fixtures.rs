//! Builders for IR values in the schema tests, and a small shop schema.

use super::Catalog;
use crate::dialect::Dialect;
use crate::ir::{
    BackfillKind, Change, ColumnDef, ConstraintDef, ConstraintKind, DefaultExpr, Generated,
    IndexDef, QualifiedName,
};

pub fn name(table: &str) -> QualifiedName {
    QualifiedName::new("public", table)
}

pub fn column(name: &str, data_type: &str) -> ColumnDef {
    ColumnDef {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable: true,
        default: None,
        generated: Generated::No,
    }
}

pub fn required(name: &str, data_type: &str) -> ColumnDef {
    ColumnDef {
        nullable: false,
        ..column(name, data_type)
    }
}

pub fn serial(name: &str, data_type: &str) -> ColumnDef {
    ColumnDef {
        generated: Generated::Serial,
        ..column(name, data_type)
    }
}

pub fn with_default(mut column: ColumnDef, sql: &str) -> ColumnDef {
    column.default = Some(DefaultExpr {
        sql: sql.to_string(),
        volatile: false,
    });
    column
}

pub fn constraint(kind: ConstraintKind, columns: &[&str]) -> ConstraintDef {
    ConstraintDef {
        name: None,
        kind,
        columns: strings(columns),
        not_valid: false,
        using_index: None,
    }
}

pub fn named(mut constraint: ConstraintDef, name: &str) -> ConstraintDef {
    constraint.name = Some(name.to_string());
    constraint
}

pub fn primary_key(columns: &[&str]) -> ConstraintDef {
    constraint(ConstraintKind::PrimaryKey, columns)
}

pub fn unique(columns: &[&str]) -> ConstraintDef {
    constraint(ConstraintKind::Unique, columns)
}

pub fn check(expr: &str, columns: &[&str]) -> ConstraintDef {
    constraint(
        ConstraintKind::Check {
            expr: expr.to_string(),
        },
        columns,
    )
}

pub fn foreign_key(columns: &[&str], table: &str, ref_columns: &[&str]) -> ConstraintDef {
    let kind = ConstraintKind::ForeignKey {
        references: name(table),
        ref_columns: strings(ref_columns),
    };
    constraint(kind, columns)
}

pub fn create_table(
    table: &str,
    columns: Vec<ColumnDef>,
    constraints: Vec<ConstraintDef>,
) -> Change {
    Change::CreateTable {
        table: name(table),
        columns,
        constraints,
        if_not_exists: false,
        as_select: false,
    }
}

pub fn add_constraint(table: &str, constraint: ConstraintDef) -> Change {
    Change::AddConstraint {
        table: name(table),
        constraint,
    }
}

pub fn index(table: &str, index_name: Option<&str>, columns: &[&str]) -> IndexDef {
    IndexDef {
        name: index_name.map(str::to_string),
        table: name(table),
        columns: strings(columns),
        unique: false,
        concurrently: false,
        if_not_exists: false,
        partial: false,
    }
}

pub fn create_index(table: &str, index_name: Option<&str>, columns: &[&str]) -> Change {
    Change::CreateIndex(index(table, index_name, columns))
}

pub fn update(table: &str, columns: &[&str]) -> Change {
    Change::Backfill {
        table: name(table),
        kind: BackfillKind::Update,
        columns: strings(columns),
        filtered: true,
    }
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub fn replay(changes: &[Change]) -> Catalog {
    let mut catalog = Catalog::new(Dialect::Postgres);
    catalog.apply_migration(changes, "001");
    catalog
}

/// users, orders (with a foreign key to users, a check and an index), an enum for the
/// order status, and a view.
pub fn shop_changes() -> Vec<Change> {
    vec![
        Change::CreateEnum {
            name: name("order_status"),
            values: strings(&["pending", "paid", "shipped"]),
        },
        create_table(
            "users",
            vec![
                serial("id", "BIGSERIAL"),
                required("email", "VARCHAR(255)"),
                column("display_name", "TEXT"),
                with_default(required("created_at", "TIMESTAMPTZ"), "now()"),
            ],
            vec![primary_key(&["id"]), unique(&["email"])],
        ),
        create_table(
            "orders",
            vec![
                serial("id", "BIGSERIAL"),
                required("user_id", "BIGINT"),
                with_default(
                    required("status", "order_status"),
                    "'pending'::order_status",
                ),
                required("total", "NUMERIC(10, 2)"),
                column("note", "TEXT"),
            ],
            vec![
                primary_key(&["id"]),
                foreign_key(&["user_id"], "users", &["id"]),
                check("total >= 0", &[]),
            ],
        ),
        create_index("orders", None, &["user_id"]),
        Change::CreateView {
            name: name("order_totals"),
            materialized: false,
            or_replace: false,
        },
    ]
}
