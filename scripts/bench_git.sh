#!/usr/bin/env bash
# Benchmarks rollsafe against git revisions: a generated repository with 2,000 migrations
# over 100 tagged releases (v1..v100, 20 migrations each).
#   1. `check --base v99` on the working tree at v100: a deploy of 20 new migrations;
#   2. the pre-commit case: one new untracked migration, base HEAD.
# Prints the median wall time and peak memory of RUNS runs, cold (an empty parse cache) and
# warm (the cache filled by an earlier run), and the time per stage (`--timings`) of a
# warm run. Targets: the pre-commit case under 100 ms cold and 50 ms warm, the rollback
# window case under 300 ms, peak memory under 100 MB.
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

# Runs the check RUNS times; appends "milliseconds kilobytes" per run to file $1. The cache
# directory is $cache (a fresh one per run when $cold is set).
run_times() {
  local out=$1 start end cache_dir; shift
  rm -f "$out"
  for i in $(seq 1 "$runs"); do
    cache_dir=$work/cache-warm
    [ -n "${cold:-}" ] && cache_dir=$work/cache-cold-$i
    start=$(date +%s%N)
    XDG_CACHE_HOME=$cache_dir /usr/bin/time -f "%M" -o "$work/mem" "$bin" check --format json --fail-on never "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    [ -n "${cold:-}" ] && rm -rf "$cache_dir"
    echo "$(( (end - start) / 1000000 )) $(tail -1 "$work/mem")" >>"$out"
  done
}

bench() {
  local label=$1; shift
  rm -rf "$work/cache-warm"
  XDG_CACHE_HOME=$work/cache-warm "$bin" check --format json --fail-on never "$@" >/dev/null 2>&1
  cold=1 run_times "$work/cold" "$@"
  cold='' run_times "$work/warm" "$@"
  local peak
  peak=$(cat "$work/cold" "$work/warm" | cut -d' ' -f2 | sort -n | tail -1 | awk '{printf "%.1f", $1/1024}')
  printf '%-52s cold %5.0f ms   warm %5.0f ms   peak %6s MB\n' "$label" \
    "$(cut -d' ' -f1 "$work/cold" | median)" "$(cut -d' ' -f1 "$work/warm" | median)" "$peak"
  XDG_CACHE_HOME=$work/cache-warm "$bin" check --format json --fail-on never --timings "$@" 2>&1 >/dev/null | sed 's/^/    /'
}

bench "check --base v99 (20 new migrations of 2,000)" --base v99 db/migrations
write_migration 2001
bench "pre-commit: 1 untracked migration, base HEAD" --base HEAD db/migrations
printf '[rollback]\nreleases = "v*"\nwindow = 5\n' >rollsafe.toml
bench "pre-commit with a 5-release rollback window" --base HEAD db/migrations
