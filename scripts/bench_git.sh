#!/usr/bin/env bash
# Benchmarks rollsafe against git revisions: a generated repository with 2,000 migrations
# over 100 tagged releases (v1..v100, 20 migrations each).
#   1. `check --base v99` on the working tree at v100: a deploy of 20 new migrations;
#   2. the pre-commit case: one new untracked migration, base HEAD.
# Prints the median wall time and peak memory of RUNS runs, and the time per stage
# (`--timings`) of the last run.
#
# Usage: scripts/bench_git.sh [RUNS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
cargo build --release --quiet
bin=$PWD/target/release/rollsafe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

repo=$work/repo
mkdir -p "$repo/db/migrations"
cd "$repo"
git init -q
git config user.email bench@example.com
git config user.name bench

# Migration n: every fifth creates a table, the others evolve the newest table.
write_migration() {
  local n=$1 file table
  file=$(printf 'db/migrations/%04d_step_%d.up.sql' "$n" "$n")
  table="t$(( (n - 1) / 5 ))"
  case $(( n % 5 )) in
    1) printf 'CREATE TABLE %s (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n' "$table" ;;
    2) printf "SET lock_timeout = '5s';\nALTER TABLE %s ADD COLUMN email varchar(255);\n" "$table" ;;
    3) printf 'CREATE INDEX CONCURRENTLY %s_email_idx ON %s (email);\n' "$table" "$table" ;;
    4) printf "UPDATE %s SET email = name WHERE email IS NULL AND id < 10000;\n" "$table" ;;
    0) printf "SET lock_timeout = '5s';\nALTER TABLE %s ADD CONSTRAINT %s_name_check CHECK (name <> '') NOT VALID;\n" "$table" "$table" ;;
  esac >"$file"
}

for release in $(seq 1 100); do
  for step in $(seq 1 20); do
    write_migration $(( (release - 1) * 20 + step ))
  done
  git add -A
  git commit -qm "release $release"
  git tag "v$release"
done
echo "generated: $(ls db/migrations | wc -l) migrations, $(git tag | wc -l) tags"

median() { sort -n | awk '{a[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print a[m]; else printf "%.3f\n", (a[m]+a[m+1])/2}'; }

bench() {
  local label=$1; shift
  rm -f "$work/times"
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/mem" "$bin" check --format json --fail-on never "$@" >/dev/null
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) $(tail -1 "$work/mem")" >>"$work/times"
  done
  local wall peak
  wall=$(cut -d' ' -f1 "$work/times" | median)
  peak=$(cut -d' ' -f2 "$work/times" | sort -n | tail -1 | awk '{printf "%.1f", $1/1024}')
  printf '%-52s median %6.0f ms   peak %6s MB\n' "$label" "$wall" "$peak"
  "$bin" check --format json --fail-on never --timings "$@" 2>&1 >/dev/null | sed 's/^/    /'
}

bench "check --base v99 (20 new migrations of 2,000)" --base v99 db/migrations
write_migration 2001
bench "pre-commit: 1 untracked migration, base HEAD" db/migrations
printf '[rollback]\nreleases = "v*"\nwindow = 5\n' >rollsafe.toml
bench "pre-commit with a 5-release rollback window" db/migrations
