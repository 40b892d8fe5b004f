#!/usr/bin/env bash
# Benchmarks `rollsafe check --all --format json`: wall time and peak memory on the largest
# Postgres sets of ../shared/corpus and on a generated file of 5,000 DDL statements, cold
# (an empty parse cache) and warm (a second run, nothing changed), and, when squawk is
# installed (`pip install squawk-cli`), the same up-migration files linted by
# `squawk --reporter json`, run alternately with rollsafe so both see the same machine load.
# Then the scale cases (10,000 one-line migrations, 20,000 tables with an index each, one
# 15 MB INSERT: time and peak memory) and the git cases (scripts/bench_git.sh).
#
# Usage: scripts/bench.sh [RUNS]   (default 5 runs per tool; medians are printed)
#        SKIP_GIT=1 scripts/bench.sh   leaves out the git cases
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
corpus=../shared/corpus

cargo build --release --quiet
bin=target/release/rollsafe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median of the numbers on standard input.
median() { sort -n | awk '{a[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print a[m]; else printf "%.3f\n", (a[m]+a[m+1])/2}'; }

# Runs a command once; appends "milliseconds kilobytes" (wall time, peak memory) to file $1.
measure() {
  local out=$1 start end; shift
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/mem" "$@" >/dev/null 2>"$work/stderr" || true
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) $(tail -1 "$work/mem")" >>"$out"
}

# squawk itself, not a version manager's shim in front of it (pyenv's costs ~50 ms a run).
squawk=""
if command -v squawk >/dev/null; then
  squawk=$(command -v pyenv >/dev/null && pyenv which squawk 2>/dev/null || command -v squawk)
fi

# The up-migration files rollsafe found in a set (for squawk to lint the same files).
up_files() {
  "$bin" check --all --no-cache --format json --fail-on never "$1" |
    python3 -c 'import json,sys; [print(m["path"]) for m in json.load(sys.stdin)["migrations"]]' |
    sed "s#^#$1/#" | sort -u
}

generate_ddl() {
  local file=$1
  {
    for i in $(seq 1 1000); do
      echo "CREATE TABLE t$i (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());"
      echo "ALTER TABLE t$i ADD COLUMN email varchar(255);"
      echo "CREATE INDEX CONCURRENTLY t${i}_email_idx ON t$i (email);"
      echo "ALTER TABLE t$i ADD CONSTRAINT t${i}_name_check CHECK (name <> '') NOT VALID;"
      echo "UPDATE t$i SET email = name WHERE id < 1000;"
    done
  } >"$file"
}

ratio() { awk -v r="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.2f", r/s; else print "-" }'; }
peak_mb() { cut -d' ' -f2 "$1" | sort -n | tail -1 | awk '{printf "%.1f", $1/1024}'; }

printf '%-34s %6s %8s %8s %8s %10s %6s %6s\n' set files cold_ms warm_ms peak_MB squawk_ms cold_x warm_x
bench_set() {
  local name=$1 dir=$2
  [ -d "$dir" ] || { echo "skip $name: $dir not found"; return; }
  local files=()
  mapfile -t files < <(up_files "$dir")
  rm -f "$work/cold" "$work/warm" "$work/s"
  rm -rf "$work/cache-warm"
  XDG_CACHE_HOME="$work/cache-warm" "$bin" check --all --format json --fail-on never "$dir" >/dev/null || true
  for i in $(seq 1 "$runs"); do
    # Cold: a cache directory of its own, empty (the run parses everything and writes it).
    XDG_CACHE_HOME="$work/cache-cold-$i" measure "$work/cold" "$bin" check --all --format json --fail-on never "$dir"
    rm -rf "$work/cache-cold-$i"
    XDG_CACHE_HOME="$work/cache-warm" measure "$work/warm" "$bin" check --all --format json --fail-on never "$dir"
    if [ -n "$squawk" ] && [ ${#files[@]} -gt 0 ]; then
      measure "$work/s" "$squawk" --reporter json "${files[@]}"
    fi
  done
  local cold warm s_s=-
  cold=$(cut -d' ' -f1 "$work/cold" | median)
  warm=$(cut -d' ' -f1 "$work/warm" | median)
  [ -s "$work/s" ] && s_s=$(cut -d' ' -f1 "$work/s" | median)
  printf '%-34s %6s %8s %8s %8s %10s %6s %6s\n' "$name" "${#files[@]}" "$cold" "$warm" \
    "$(peak_mb "$work/cold")" "$s_s" "$(ratio "$cold" "$s_s")" "$(ratio "$warm" "$s_s")"
}

# A scale case: cold wall time and peak memory, with the time per stage of one run.
bench_scale() {
  local name=$1 dir=$2
  rm -f "$work/scale"
  for i in $(seq 1 "$runs"); do
    XDG_CACHE_HOME="$work/cache-scale-$i" measure "$work/scale" "$bin" check --all --format json --fail-on never "$dir"
    rm -rf "$work/cache-scale-$i"
  done
  printf '%-44s %8s ms %8s MB\n' "$name" "$(cut -d' ' -f1 "$work/scale" | median)" "$(peak_mb "$work/scale")"
}

generate_scale() {
  mkdir -p "$work/many" "$work/tables" "$work/insert"
  for i in $(seq 1 10000); do
    printf 'CREATE TABLE t%d (id bigint PRIMARY KEY);\n' "$i" >"$(printf '%s/many/%05d_m%d.up.sql' "$work" "$i" "$i")"
  done
  for i in $(seq 1 20000); do
    printf 'CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\nCREATE INDEX ON t%d (name);\n' "$i" "$i"
  done >"$work/tables/0001_tables.up.sql"
  {
    echo "CREATE TABLE seed (id bigint PRIMARY KEY, name text, note text);"
    echo "INSERT INTO seed (id, name, note) VALUES"
    # About 15 MB of rows.
    awk 'BEGIN { for (i = 0; i < 300000; i++) printf "%s(%d, '"'"'name number %d'"'"', '"'"'some note text for row %d'"'"')", (i ? ",\n" : ""), i, i, i; print ";" }'
  } >"$work/insert/0001_seed.up.sql"
}

if [ -d "$corpus" ]; then
  bench_set hatchet "$corpus/hatchet/cmd/hatchet-migrate/migrate/migrations"
  bench_set harness-postgres "$corpus/harness/app/store/database/migrate/postgres"
  bench_set cratesio "$corpus/cratesio/migrations"
  bench_set documenso "$corpus/documenso/packages/prisma/migrations"
  bench_set ente "$corpus/ente/server/migrations"
  bench_set chef-server-erchef "$corpus/chef-server/src/oc_erchef/schema"
  bench_set marquez "$corpus/marquez/api/src/main/resources/marquez/db/migration"
else
  echo "($corpus not found: corpus sets skipped)"
fi

mkdir -p "$work/generated"
generate_ddl "$work/generated/0001_five_thousand.sql"
bench_set "generated: 5,000 DDL statements" "$work/generated"
echo "cold_x, warm_x = rollsafe / squawk median wall time (targets: cold at most 0.5, warm at most 0.2)"
echo "squawk: ${squawk:-not installed}"

echo
echo "scale (cold, median of $runs; target: each under 2,000 ms, the INSERT under 300 MB)"
generate_scale
bench_scale "10,000 one-line migrations" "$work/many"
bench_scale "20,000 tables with an index each, one file" "$work/tables"
bench_scale "one $(( $(stat -c %s "$work/insert/0001_seed.up.sql") / 1000000 )) MB INSERT ... VALUES" "$work/insert"

if [ -z "${SKIP_GIT:-}" ]; then
  echo
  scripts/bench_git.sh "$runs"
fi
