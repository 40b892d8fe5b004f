#!/usr/bin/env bash
# Benchmarks the usage stage (what N-1's code uses) on a generated repository:
# 2,000 migrations, a Diesel schema.rs with 300 tables, 1,000 sqlx offline query files and
# 5,000 tracked Rust source files (about 50 MB; one in five uses the Diesel DSL or a query
# macro). The deploy drops one column.
#   `check --base HEAD` with the usage stage, then with `[usage] enabled = false`.
# Prints the median wall time and peak memory of RUNS runs of each, and the `usage` stage
# time (`--timings`) of the last run.
#
# Usage: scripts/bench_usage.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=$PWD/target/release/rollsafe
work=${BENCH_DIR:-$(mktemp -d)}
# The parse cache of the runs below lives with them, not in the user's cache directory.
export XDG_CACHE_HOME="$work/cache"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo"

python3 - "$repo" <<'EOF'
import os, random, sys
random.seed(7)
root = sys.argv[1]
def write(path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
tables = 300
cols = ["id", "name", "email", "status", "note", "legacy_code", "created_at"]
# Migrations: 300 tables, then 1,700 steps on them.
for n in range(1, 2001):
    if n <= tables:
        t = f"t{n-1}"
        sql = f"CREATE TABLE {t} (id bigint PRIMARY KEY, name text NOT NULL, email text, status text, note text, legacy_code text, created_at timestamptz NOT NULL DEFAULT now());\n"
    else:
        t = f"t{random.randrange(tables)}"
        sql = random.choice([
            f"SET lock_timeout = '5s';\nALTER TABLE {t} ADD COLUMN extra_{n} text;\n",
            f"CREATE INDEX CONCURRENTLY {t}_idx_{n} ON {t} (created_at);\n",
            f"UPDATE {t} SET note = name WHERE note IS NULL AND id < 1000;\n",
        ])
    write(f"migrations/{n:04d}_step.up.sql", sql)
# Diesel schema.rs.
schema = ["// @generated automatically by Diesel CLI.\n"]
for i in range(tables):
    body = "".join(f"        {c} -> Text,\n" for c in cols)
    schema.append(f"diesel::table! {{\n    t{i} (id) {{\n{body}    }}\n}}\n")
write("src/schema.rs", "\n".join(schema))
# 1,000 sqlx offline query files.
for q in range(1000):
    t = f"t{random.randrange(tables)}"
    query = random.choice([
        f"SELECT id, name, email FROM {t} WHERE id = $1",
        f"SELECT a.*, b.note FROM {t} a JOIN t{random.randrange(tables)} b ON b.id = a.id",
        f"INSERT INTO {t} (id, name, email) VALUES ($1, $2, $3)",
        f"UPDATE {t} SET status = $1 WHERE id = $2",
    ])
    write(f".sqlx/query-{q:064x}.json", '{\n  "db_name": "PostgreSQL",\n  "query": "%s",\n  "describe": {"columns": [], "parameters": {"Left": []}, "nullable": []},\n  "hash": "%064x"\n}\n' % (query, q))
# 5,000 Rust source files of about 10 KB.
filler = "".join(
    f"/// Helper number {k}: computes a value from its inputs.\npub fn helper_{k}(a: u64, b: u64) -> u64 {{\n    let mut total = a.wrapping_mul(31).wrapping_add(b);\n    for i in 0..8 {{\n        total = total.rotate_left(3) ^ i;\n    }}\n    total\n}}\n\n"
    for k in range(50)
)
for f in range(5000):
    head = ""
    if f % 5 == 0:
        t = f"t{random.randrange(tables)}"
        head = (
            f"use crate::schema::{t};\nuse diesel::prelude::*;\n\n"
            f"#[derive(Queryable, Selectable)]\n#[diesel(table_name = {t})]\npub struct Row{f} {{\n    pub id: String,\n    pub name: String,\n}}\n\n"
            f"pub fn load_{f}(c: &mut PgConnection) -> QueryResult<Vec<String>> {{\n    {t}::table.filter({t}::status.eq(\"open\")).select({t}::name).load(c)\n}}\n\n"
            f"pub async fn raw_{f}(pool: &PgPool) {{\n    let _ = sqlx::query!(\"SELECT email FROM {t} WHERE id = $1\", 1).fetch_one(pool).await;\n}}\n\n"
        )
    write(f"src/mod_{f // 100}/file_{f}.rs", head + filler)
EOF

cd "$repo"
git init -q
git config user.email bench@example.com
git config user.name bench
git add -A
git commit -qm "release"
git gc -q # a real clone's objects are packed
printf "SET lock_timeout = '5s';\nALTER TABLE t7 DROP COLUMN legacy_code;\n" >migrations/2001_drop.up.sql
du -sh --exclude=.git . | sed 's/^/repository size: /'

measure() {
  local label=$1 times=() mems=()
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time" \
      "$bin" check --base HEAD --timings migrations >/dev/null 2>"$work/timings" || true
    times+=("$(tail -1 "$work/time" | cut -d' ' -f1)")
    mems+=("$(tail -1 "$work/time" | cut -d' ' -f2)")
  done
  local median_t median_m
  median_t=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  median_m=$(printf '%s\n' "${mems[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  echo "$label: median ${median_t}s, peak ${median_m} KB"
  grep -i "usage" "$work/timings" | sed 's/^/  /' || true
}

measure "check --base HEAD (usage stage on)"
printf '[usage]\nenabled = false\n' >rollsafe.toml
measure "check --base HEAD (usage stage off)"
