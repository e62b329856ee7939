#!/usr/bin/env bash
# bench-report.sh: how fast `jejak report` answers over a big store, against SQLite running
# the equivalent GROUP BY over the same raw clicks and conversions. A benchmark, not a test
# (ctest does not run it).
#
# Builds a Release tree in build-bench/ (or uses $JEJAK_BUILD), seeds a fresh temporary
# data folder with jejak-seed (tools/bench/seed.c: CLICKS clicks and CONVERSIONS
# conversions over DAYS days, written through the daemon's own write path, progress on
# stderr), which also writes the same raw records as CSV. Times `jejak report --by
# influencer` and `--by day` over the whole seeded period; loads the CSVs into SQLite
# (sqlite3 CLI, .import, indexes on ts and influencer, ANALYZE) and times the equivalent
# queries the same way (hyperfine with warm-up when installed, else a loop, median).
# Checks that jejak's and SQLite's numbers agree (clicks, unique, bots, conversions and
# revenue per influencer and per day), then prints the times, their ratio, the store size
# and the seed time. Temporary files are removed on exit (KEEP=1 keeps them).
#
# Environment: CLICKS (default 10000000), CONVERSIONS (200000), DAYS (30), INFLUENCERS (200),
# LINKS_PER (2), SEED (PRNG seed, default random), BATCH (clicks per transaction, see
# seed.c), RUNS (timed runs per jejak query, 10), WARMUP (3), SQLITE_RUNS (5),
# SQLITE_WARMUP (1), SQLITE_TUNED (1: also time SQLite with covering indexes made for these
# two queries, beyond what the ratio is judged on), SEED_TIMEOUT (seconds the seed may take,
# 1800), JEJAK_BUILD (a build folder to use instead of build-bench/), NO_HYPERFINE=1 (time
# with the shell loop even when hyperfine is installed), KEEP=1, TMPDIR (where the temporary
# folder goes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CLICKS=${CLICKS:-10000000}
CONVERSIONS=${CONVERSIONS:-200000}
DAYS=${DAYS:-30}
INFLUENCERS=${INFLUENCERS:-200}
LINKS_PER=${LINKS_PER:-2}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-3}
SQLITE_RUNS=${SQLITE_RUNS:-5}
SQLITE_WARMUP=${SQLITE_WARMUP:-1}
SQLITE_TUNED=${SQLITE_TUNED:-1}
SEED_TIMEOUT=${SEED_TIMEOUT:-1800}
KEEP=${KEEP:-0}
# Targets printed beside the figures (the issue's).
TARGET_MS=100
TARGET_RATIO=100

for n in CLICKS CONVERSIONS DAYS INFLUENCERS LINKS_PER RUNS WARMUP SQLITE_RUNS SQLITE_WARMUP SEED_TIMEOUT; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "bench-report: $n must be a whole number" >&2; exit 2; }
done
for n in DAYS INFLUENCERS LINKS_PER RUNS SQLITE_RUNS; do
  [ "${!n}" -gt 0 ] || { echo "bench-report: $n must be positive" >&2; exit 2; }
done
[ "$CONVERSIONS" -le "$CLICKS" ] || { echo "bench-report: CONVERSIONS must not exceed CLICKS" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench-report: sqlite3 is not installed (apt-get install sqlite3)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench-report: jq is not installed (apt-get install jq)" >&2; exit 2; }
HYPERFINE=$(command -v hyperfine || true)
[ "${NO_HYPERFINE:-0}" = 1 ] && HYPERFINE=""

TMP=$(mktemp -d "${TMPDIR:-/tmp}/jejak-bench-report.XXXXXX")
cleanup() {
  if [ "$KEEP" = 1 ]; then echo "bench-report: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Room for the store, the CSVs and the SQLite file: about 700 bytes a click, all told.
NEED_KIB=$(( CLICKS * 700 / 1024 + 65536 ))
FREE_KIB=$(df -Pk "$TMP" | awk 'NR == 2 {print $4}')
if [ "$FREE_KIB" -lt "$NEED_KIB" ]; then
  echo "bench-report: $TMP has $((FREE_KIB / 1024)) MiB free, about $((NEED_KIB / 1024)) MiB needed" >&2
  exit 2
fi

# ---- build ------------------------------------------------------------------------------
if [ -n "${JEJAK_BUILD:-}" ]; then
  BUILD=$(cd "$JEJAK_BUILD" && pwd)
else
  BUILD=$ROOT/build-bench
  echo "building Release in build-bench/ ..."
  if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DJEJAK_BENCH=ON >/dev/null &&
         cmake --build "$BUILD" -j"$(nproc)" --target jejak jejak-seed >"$TMP/build.log" 2>&1; }; then
    cat "$TMP/build.log" >&2
    exit 1
  fi
fi
JEJAK=$BUILD/jejak
SEEDER=$BUILD/jejak-seed
[ -x "$JEJAK" ] && [ -x "$SEEDER" ] || { echo "bench-report: no jejak or jejak-seed in $BUILD" >&2; exit 1; }
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)

now_ns() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN {printf "%.1f", (b - a) / 1e6}'; }

# ---- seed -------------------------------------------------------------------------------
mkdir -p "$TMP/csv"
echo "seeding $CLICKS clicks and $CONVERSIONS conversions over $DAYS days into $TMP/data" \
     "(at most ${SEED_TIMEOUT}s) ..."
seed_args=(--data "$TMP/data" --clicks "$CLICKS" --conversions "$CONVERSIONS" --days "$DAYS"
           --influencers "$INFLUENCERS" --links-per "$LINKS_PER" --csv-dir "$TMP/csv")
[ -n "${SEED:-}" ] && seed_args+=(--seed "$SEED")
[ -n "${BATCH:-}" ] && seed_args+=(--batch "$BATCH")
t0=$(now_ns)
rc=0
timeout "$SEED_TIMEOUT" "$SEEDER" "${seed_args[@]}" > "$TMP/seed.out" || rc=$?
SEED_MS=$(ms_since "$t0")
if [ "$rc" = 124 ]; then
  echo "bench-report: the seed did not finish within ${SEED_TIMEOUT}s (SEED_TIMEOUT); try a smaller CLICKS" >&2
  exit 1
elif [ "$rc" != 0 ]; then
  echo "bench-report: jejak-seed failed (exit $rc)" >&2
  exit 1
fi
declare -A S # the seed's key=value summary
while IFS='=' read -r k v; do S[$k]=$v; done < "$TMP/seed.out"
FROM=${S[from]}
TO=${S[to]}
# The period in UTC milliseconds, [FROM_MS, TO_MS), for SQLite.
FROM_MS=$(( $(date -u -d "$FROM" +%s) * 1000 ))
TO_MS=$(( ($(date -u -d "$TO" +%s) + 86400) * 1000 ))
STORE_KIB=$(du -sk "$TMP/data" | cut -f1)
STORE_APPARENT=$(du -sb --apparent-size "$TMP/data" | cut -f1)
ROLLUP_ROWS=$(command -v mdb_stat >/dev/null && mdb_stat -s rollups "$TMP/data" 2>/dev/null |
              awk '/Entries:/ {print $2}' || true)

# ---- SQLite -----------------------------------------------------------------------------
DB=$TMP/raw.sqlite
echo "loading the same raw records into SQLite ($(sqlite3 --version | cut -d' ' -f1)) ..."
t0=$(now_ns)
{ sqlite3 "$DB" <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE clicks (click_id TEXT NOT NULL, ts INTEGER NOT NULL, link TEXT NOT NULL,
                     influencer TEXT NOT NULL, campaign TEXT NOT NULL, bot INTEGER NOT NULL,
                     uniq INTEGER NOT NULL, susp INTEGER NOT NULL);
CREATE TABLE conversions (id TEXT NOT NULL, ts INTEGER NOT NULL, amount INTEGER NOT NULL,
                          currency TEXT NOT NULL, status TEXT NOT NULL, influencer TEXT NOT NULL,
                          campaign TEXT NOT NULL, link TEXT NOT NULL);
.import --csv --skip 1 $TMP/csv/clicks.csv clicks
.import --csv --skip 1 $TMP/csv/conversions.csv conversions
SQL
} >/dev/null
SQLITE_IMPORT_MS=$(ms_since "$t0")
t0=$(now_ns)
# The indexes a fair user would make for reports over a period and per influencer.
sqlite3 "$DB" <<SQL
CREATE INDEX clicks_ts ON clicks (ts);
CREATE INDEX clicks_influencer ON clicks (influencer);
CREATE INDEX conversions_ts ON conversions (ts);
CREATE INDEX conversions_influencer ON conversions (influencer);
ANALYZE;
SQL
SQLITE_INDEX_MS=$(ms_since "$t0")
SQLITE_KIB=$(du -sk "$DB" | cut -f1)
CSV_KIB=$(du -sk "$TMP/csv" | cut -f1)

# The report's counting rules (attribution/report.h): clicks are non-bot, non-suspicious;
# unique among them; bots beside; conversions and revenue of approved conversions, credited
# to the last click (the conversions table holds that credit, as jejak stored it).
cat > "$TMP/by-influencer.sql" <<SQL
WITH c AS (SELECT influencer, SUM(bot = 0 AND susp = 0) AS clicks,
                  SUM(bot = 0 AND susp = 0 AND uniq = 1) AS unique_clicks, SUM(bot) AS bot_clicks
           FROM clicks WHERE ts >= $FROM_MS AND ts < $TO_MS GROUP BY influencer),
     v AS (SELECT influencer, COUNT(*) AS conversions, SUM(amount) AS revenue
           FROM conversions WHERE status = 'approved' AND ts >= $FROM_MS AND ts < $TO_MS
           GROUP BY influencer)
SELECT c.influencer, c.clicks, c.unique_clicks, c.bot_clicks, COALESCE(v.conversions, 0),
       COALESCE(v.revenue, 0)
FROM c LEFT JOIN v USING (influencer) ORDER BY c.influencer;
SQL
cat > "$TMP/by-day.sql" <<SQL
WITH c AS (SELECT ts / 86400000 AS d, SUM(bot = 0 AND susp = 0) AS clicks,
                  SUM(bot = 0 AND susp = 0 AND uniq = 1) AS unique_clicks, SUM(bot) AS bot_clicks
           FROM clicks WHERE ts >= $FROM_MS AND ts < $TO_MS GROUP BY d),
     v AS (SELECT ts / 86400000 AS d, COUNT(*) AS conversions, SUM(amount) AS revenue
           FROM conversions WHERE status = 'approved' AND ts >= $FROM_MS AND ts < $TO_MS
           GROUP BY d)
SELECT date(c.d * 86400, 'unixepoch'), c.clicks, c.unique_clicks, c.bot_clicks,
       COALESCE(v.conversions, 0), COALESCE(v.revenue, 0)
FROM c LEFT JOIN v USING (d) ORDER BY c.d;
SQL

# ---- agreement --------------------------------------------------------------------------
REPORT=("$JEJAK" report --data "$TMP/data" --from "$FROM" --to "$TO" --tz UTC)
# jejak's JSON as the same CSV lines: revenue in minor units (IDR has two decimals).
jejak_rows() {
  "${REPORT[@]}" --by "$1" --format json |
    jq -r --arg k "$1" '.rows[] | [.[$k], .clicks, .unique_clicks, .bot_clicks, .conversions,
                                   ((.revenue // "0") | sub("\\."; "") | tonumber)] | @csv' |
    tr -d '"'
}
check() {
  local by=$1 sql=$2
  jejak_rows "$by" > "$TMP/jejak-$by.csv"
  sqlite3 -csv "$DB" ".read $sql" > "$TMP/sqlite-$by.csv"
  if cmp -s "$TMP/jejak-$by.csv" "$TMP/sqlite-$by.csv"; then
    echo "ok ($(wc -l < "$TMP/jejak-$by.csv") rows equal)"
  else
    echo "MISMATCH ($(diff "$TMP/jejak-$by.csv" "$TMP/sqlite-$by.csv" | grep -c '^[<>]') lines differ)"
    diff "$TMP/jejak-$by.csv" "$TMP/sqlite-$by.csv" | head -10 | sed 's/^/  /' >&2
  fi
}
echo "checking that jejak and SQLite agree ..."
CHECK_INF=$(check influencer "$TMP/by-influencer.sql")
CHECK_DAY=$(check day "$TMP/by-day.sql")
sums() { awk -F, '{c += $2; u += $3; b += $4; v += $5; r += $6}
                  END {printf "clicks %d, unique %d, bots %d, conversions %d, revenue %.2f IDR",
                       c, u, b, v, r / 100}' "$1"; }
JEJAK_SUMS=$(sums "$TMP/jejak-influencer.csv")
SQLITE_SUMS=$(sums "$TMP/sqlite-influencer.csv")

# ---- timing -----------------------------------------------------------------------------
# time_ms NAME RUNS CMD...: "median min max" wall time of CMD in ms, output discarded, after
# $warmup untimed runs.
warmup=$WARMUP
time_ms() {
  local name=$1 runs=$2
  shift 2
  if [ -n "$HYPERFINE" ]; then
    local args=() a
    for a in "$@"; do args+=("$(printf '%q' "$a")"); done
    "$HYPERFINE" -N --warmup "$warmup" --runs "$runs" --export-json "$TMP/hf-$name.json" \
      --style none "${args[*]}" >/dev/null 2>"$TMP/hf-$name.err" ||
      { cat "$TMP/hf-$name.err" >&2; exit 1; }
    jq -r '.results[0] | "\(.median * 1000) \(.min * 1000) \(.max * 1000)"' "$TMP/hf-$name.json" |
      awk '{printf "%.1f %.1f %.1f\n", $1, $2, $3}'
  else
    local i t0 ts=()
    for ((i = 0; i < warmup; i++)); do "$@" >/dev/null; done
    for ((i = 0; i < runs; i++)); do
      t0=$(now_ns)
      "$@" >/dev/null
      ts+=("$(ms_since "$t0")")
    done
    printf '%s\n' "${ts[@]}" | sort -n |
      awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                             printf "%.1f %.1f %.1f\n", m, v[1], v[NR]}'
  fi
}
if [ -n "$HYPERFINE" ]; then
  METHOD="hyperfine $("$HYPERFINE" --version | cut -d' ' -f2) (no shell), median"
else
  METHOD="shell loop (no hyperfine), median"
fi
echo "timing ($METHOD) ..."
read -r J_INF J_INF_MIN J_INF_MAX <<< "$(time_ms jejak-influencer "$RUNS" "${REPORT[@]}" --by influencer)"
read -r J_DAY J_DAY_MIN J_DAY_MAX <<< "$(time_ms jejak-day "$RUNS" "${REPORT[@]}" --by day)"
# For scale: the same report over the last seeded day only (a report's cost follows its
# rollup rows: links x quarter hours in the period).
read -r J_LAST _ _ <<< "$(time_ms jejak-last-day "$RUNS" "$JEJAK" report --data "$TMP/data" \
                          --from "$TO" --to "$TO" --tz UTC --by influencer)"
warmup=$SQLITE_WARMUP
read -r S_INF S_INF_MIN S_INF_MAX <<< "$(time_ms sqlite-influencer "$SQLITE_RUNS" sqlite3 "$DB" ".read $TMP/by-influencer.sql")"
read -r S_DAY S_DAY_MIN S_DAY_MAX <<< "$(time_ms sqlite-day "$SQLITE_RUNS" sqlite3 "$DB" ".read $TMP/by-day.sql")"
plan() { sqlite3 "$DB" "EXPLAIN QUERY PLAN $(cat "$1")" | sed -n 's/^[|` -]*//p' | paste -sd';' | sed 's/;/; /g'; }
PLAN_INF=$(plan "$TMP/by-influencer.sql")
PLAN_DAY=$(plan "$TMP/by-day.sql")
# Beyond a fair user: covering indexes made for exactly these two queries (SQLite's best case).
if [ "$SQLITE_TUNED" = 1 ]; then
  echo "timing SQLite again with covering indexes for these two queries ..."
  sqlite3 "$DB" "CREATE INDEX clicks_cover_inf ON clicks (influencer, ts, bot, uniq, susp);
                 CREATE INDEX clicks_cover_ts ON clicks (ts, bot, uniq, susp); ANALYZE;"
  read -r T_INF _ _ <<< "$(time_ms sqlite-tuned-influencer "$SQLITE_RUNS" sqlite3 "$DB" ".read $TMP/by-influencer.sql")"
  read -r T_DAY _ _ <<< "$(time_ms sqlite-tuned-day "$SQLITE_RUNS" sqlite3 "$DB" ".read $TMP/by-day.sql")"
fi

for v in J_INF J_DAY J_LAST S_INF S_DAY ${SQLITE_TUNED/#1/T_INF T_DAY}; do
  [[ ${!v:-} =~ ^[0-9.]+$ ]] || { echo "bench-report: timing failed ($v)" >&2; exit 1; }
done

# ---- report -----------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b / a}'; }
verdict() { if awk -v a="$1" -v b="$2" "BEGIN {exit !(a $3 b)}"; then echo ok; else echo MISSED; fi; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }
R_INF=$(ratio "$J_INF" "$S_INF")
R_DAY=$(ratio "$J_DAY" "$S_DAY")

echo
echo "== bench-report: ${S[clicks]} clicks (${S[bot_clicks]} bots), ${S[conversions]} conversions," \
     "$FROM..$TO ($DAYS days), ${S[links]} links of ${S[influencers]} influencers," \
     "$(nproc) CPUs, ${BUILD_TYPE:-?} =="
echo "timing: $METHOD of $RUNS runs after $WARMUP warm-up (jejak), $SQLITE_RUNS after $SQLITE_WARMUP (sqlite3);" \
     "each run a new process, page cache warm"
printf '%-26s %14s %14s %10s   %-20s %s\n' query "jejak ms" "sqlite ms" ratio "jejak < $TARGET_MS ms" "ratio >= $TARGET_RATIO"
printf '%-26s %14s %14s %10s   %-20s %s\n' "report --by influencer" "$J_INF" "$S_INF" "${R_INF}x" \
  "$(verdict "$J_INF" "$TARGET_MS" '<')" "$(verdict "$R_INF" "$TARGET_RATIO" '>=')"
printf '%-26s %14s %14s %10s   %-20s %s\n' "report --by day" "$J_DAY" "$S_DAY" "${R_DAY}x" \
  "$(verdict "$J_DAY" "$TARGET_MS" '<')" "$(verdict "$R_DAY" "$TARGET_RATIO" '>=')"
printf '%-26s %14s %14s\n' "  (min..max, influencer)" "$J_INF_MIN..$J_INF_MAX" "$S_INF_MIN..$S_INF_MAX"
printf '%-26s %14s %14s\n' "  (min..max, day)" "$J_DAY_MIN..$J_DAY_MAX" "$S_DAY_MIN..$S_DAY_MAX"
printf '%-26s %14s\n' "  --by influencer, 1 day" "$J_LAST"
if [ "$SQLITE_TUNED" = 1 ]; then
  printf '%-26s %14s %14s %10s   (SQLite with covering indexes for these queries)\n' \
    "  tuned, --by influencer" "$J_INF" "$T_INF" "$(ratio "$J_INF" "$T_INF")x"
  printf '%-26s %14s %14s %10s\n' "  tuned, --by day" "$J_DAY" "$T_DAY" "$(ratio "$J_DAY" "$T_DAY")x"
fi
echo
printf '%-44s %s\n' "jejak and SQLite agree, --by influencer" "$CHECK_INF"
printf '%-44s %s\n' "jejak and SQLite agree, --by day" "$CHECK_DAY"
printf '%-44s %s\n' "  jejak totals (--by influencer rows)" "$JEJAK_SUMS"
printf '%-44s %s\n' "  SQLite totals" "$SQLITE_SUMS"
printf '%-44s %s\n' "  seeded (jejak-seed's own count)" \
  "clicks $((S[clicks] - S[bot_clicks] - S[suspicious_clicks])) (+${S[bot_clicks]} bots, ${S[suspicious_clicks]} suspicious), conversions ${S[conversions]} (${S[unattributed]} unattributed), revenue $(awk -v r="${S[revenue_minor]}" 'BEGIN {printf "%.2f", r / 100}') IDR"
printf '%-44s %s\n' "seed time (jejak-seed, CSVs included)" \
  "$(awk -v m="$SEED_MS" 'BEGIN {printf "%.1f s", m / 1000}'): clicks ${S[clicks_seconds]} s (${S[clicks_per_second]}/s), conversions ${S[conversions_seconds]} s (${S[conversions_per_second]}/s), ${S[commits]} commits"
printf '%-44s %s\n' "jejak store on disk (du / apparent)" "$(mib "$STORE_KIB") / $(mib $((STORE_APPARENT / 1024))), LMDB map $(mib $((S[map_bytes] / 1024)))"
[ -n "$ROLLUP_ROWS" ] && printf '%-44s %s\n' "rollup rows in the store (mdb_stat)" "$ROLLUP_ROWS"
printf '%-44s %s\n' "SQLite file / CSVs" "$(mib "$SQLITE_KIB") / $(mib "$CSV_KIB")"
printf '%-44s %s\n' "SQLite .import / indexes + ANALYZE" \
  "$(awk -v a="$SQLITE_IMPORT_MS" -v b="$SQLITE_INDEX_MS" 'BEGIN {printf "%.1f s / %.1f s", a / 1000, b / 1000}')"
printf '%-44s %s\n' "SQLite plan, --by influencer" "$PLAN_INF"
printf '%-44s %s\n' "SQLite plan, --by day" "$PLAN_DAY"
case "$CHECK_INF$CHECK_DAY" in *MISMATCH*) exit 1 ;; esac
exit 0
