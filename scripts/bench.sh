#!/usr/bin/env bash
# Benchmarks `rollsafe check --all --format json`: wall time and peak memory on the largest
# Postgres sets of ../shared/corpus, on a generated file of 5,000 DDL statements, and, when
# squawk is installed (`pip install squawk-cli`), the same up-migration files linted by
# `squawk --reporter json`, run alternately with rollsafe so both see the same machine load.
#
# Usage: scripts/bench.sh [RUNS]   (default 5 runs per tool; medians are printed)
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
  "$bin" check --all --format json --fail-on never "$1" |
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

printf '%-44s %6s %11s %8s %10s %7s\n' set files "rollsafe_ms" "peak_MB" "squawk_ms" ratio
bench_set() {
  local name=$1 dir=$2
  [ -d "$dir" ] || { echo "skip $name: $dir not found"; return; }
  local files=()
  mapfile -t files < <(up_files "$dir")
  rm -f "$work/r" "$work/s"
  for _ in $(seq 1 "$runs"); do
    measure "$work/r" "$bin" check --all --format json --fail-on never "$dir"
    if [ -n "$squawk" ] && [ ${#files[@]} -gt 0 ]; then
      measure "$work/s" "$squawk" --reporter json "${files[@]}"
    fi
  done
  local r_s r_mb s_s ratio
  r_s=$(cut -d' ' -f1 "$work/r" | median)
  r_mb=$(cut -d' ' -f2 "$work/r" | sort -n | tail -1 | awk '{printf "%.1f", $1/1024}')
  if [ -s "$work/s" ]; then
    s_s=$(cut -d' ' -f1 "$work/s" | median)
    ratio=$(awk -v r="$r_s" -v s="$s_s" 'BEGIN { if (s > 0) printf "%.2f", r/s; else print "-" }')
  else
    s_s=-; ratio=-
  fi
  printf '%-44s %6s %11s %8s %10s %7s\n' "$name" "${#files[@]}" "$r_s" "$r_mb" "$s_s" "$ratio"
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
echo "ratio = rollsafe / squawk median wall time (target: at most 0.5); squawk: ${squawk:-not installed}"
