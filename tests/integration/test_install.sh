#!/usr/bin/env bash
# Installing like a Debian program: `cmake --install` into a scratch prefix puts exactly
# bin/jejak, share/man/man1/jejak.1 and lib/systemd/system/jejak.service there; the man page
# is the one the program's usage texts make today (tools/dist/manpage.sh) and names every command
# and option of `jejak help` and of each `jejak COMMAND [SUB] --help`; `systemd-analyze verify`
# accepts the unit, whose command line really starts the daemon, which stops cleanly on
# SIGTERM. Then the program builds without cmocka: a configure with BUILD_TESTING=OFF and a
# pkg-config path holding every .pc file but cmocka's succeeds, and its jejak links no cmocka.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$JEJAK")
PREFIX=$WORK/prefix

# --- the layout
cmake --install "$BUILD" --prefix "$PREFIX" > "$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "cmake --install failed"; }
got=$(cd "$PREFIX" && find . -type f -o -type l | sed 's|^\./||' | sort | tr '\n' ' ')
expect_eq "$got" "bin/jejak lib/systemd/system/jejak.service share/man/man1/jejak.1 " \
  "the files cmake --install puts under the prefix"
[ -x "$PREFIX/bin/jejak" ] || fail "bin/jejak is not executable"
"$PREFIX/bin/jejak" help > /dev/null || fail "the installed jejak does not run"
pass "cmake --install puts bin/jejak, the man page and the unit, nothing else"

# --- the man page
PAGE=$PREFIX/share/man/man1/jejak.1
bash "$ROOT/tools/dist/manpage.sh" "$JEJAK" "$WORK/fresh.1"
cmp -s "$PAGE" "$WORK/fresh.1" ||
  fail "the installed man page is not what jejak's usage texts make now (rebuild the manpage target)"
# What the page says, as text: roff escapes undone.
sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' "$PAGE" > "$WORK/page.txt"
scratch=$WORK/help
mkdir -p "$scratch"
texts=("$(jejak help)")
# The commands of jejak help: "serve", "influencer add", ... (the leading lowercase words,
# at most two, of each line indented two spaces, before its description column).
mapfile -t commands < <(jejak help | sed -n 's/^  \([a-z][^ ].*\)$/\1/p' | sed 's/  .*//' |
  awk '{ e = $1; if ($2 ~ /^[a-z][a-z-]*$/) e = e " " $2; if (e != "help") print e }' | sort -u)
[ ${#commands[@]} -ge 15 ] || fail "jejak help lists only ${#commands[@]} commands"
for cmd in "${commands[@]}"; do
  grep -qxF ".SS $(printf '%s' "$cmd" | sed 's/-/\\-/g')" "$PAGE" ||
    fail "the man page has no section for '$cmd'"
  for c in "${cmd%% *}" "$cmd"; do
    # shellcheck disable=SC2086 # one or two words
    if own=$(cd "$scratch" && JEJAK_DATA=$scratch/data timeout 10 "$JEJAK" $c --help 2> /dev/null) &&
      [ -n "$own" ]; then
      texts+=("$own")
    fi
    rm -rf "$scratch/data"
  done
done
nopts=0
for text in "${texts[@]}"; do
  while read -r opt; do
    grep -qF -- "$opt" "$WORK/page.txt" || fail "the man page does not name $opt"
    nopts=$((nopts + 1))
  done < <(printf '%s\n' "$text" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
done
[ "$nopts" -ge 30 ] || fail "only $nopts options found in the usage texts"
groff -man -ww -z "$PAGE" 2> "$WORK/groff.log" || fail "groff cannot read the man page"
[ ! -s "$WORK/groff.log" ] || fail "groff warns about the man page: $(cat "$WORK/groff.log")"
if command -v man > /dev/null; then
  MANWIDTH=100 man -l "$PAGE" 2> /dev/null | grep -q -- "--lookback-days" ||
    fail "man -l does not render the page's options"
  MANPATH=$PREFIX/share/man man -w jejak > /dev/null 2>&1 ||
    fail "man does not find jejak(1) under the prefix's share/man"
fi
pass "the man page has a section for each of the ${#commands[@]} commands, names the $nopts options of their usage texts, and renders"

# --- the unit
UNIT=$PREFIX/lib/systemd/system/jejak.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
expect_match "$exec_start" "^$PREFIX/bin/jejak serve --data /var/lib/jejak --listen " \
  "the unit's ExecStart"
for want in DynamicUser=yes StateDirectory=jejak ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes CapabilityBoundingSet= \
  MemoryDenyWriteExecute=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
  SystemCallFilter=@system-service UMask=0077 KillSignal=SIGTERM Restart=on-failure; do
  grep -qxF -- "$want" "$UNIT" || fail "the unit lacks $want"
done
! grep -q '^ExecReload=' "$UNIT" || fail "the unit has an ExecReload"
# docs/operators.md shows the unit (abridged): each line it shows is in the unit.
shown=$(awk '/^### As a systemd service/ { s = 1 } s && /^```text$/ { t = 1; next }
  t && /^```$/ { exit } t' "$ROOT/docs/operators.md")
[ "$(printf '%s\n' "$shown" | grep -c .)" -ge 20 ] || fail "docs/operators.md shows no unit"
while IFS= read -r line; do
  [ -z "$line" ] || [ "$line" = ... ] && continue
  line=${line/#ExecStart=\/usr\/bin\/jejak/ExecStart=$PREFIX/bin/jejak}
  grep -qxF -- "$line" "$UNIT" || fail "docs/operators.md shows '$line', not in the unit"
done <<< "$shown"
command -v systemd-analyze > /dev/null || fail "systemd-analyze is missing (tools/deps.sh installs systemd)"
MANPATH=$PREFIX/share/man systemd-analyze verify "$UNIT" > "$WORK/verify.log" 2>&1 ||
  fail "systemd-analyze verify refuses the unit: $(cat "$WORK/verify.log")"
[ ! -s "$WORK/verify.log" ] || fail "systemd-analyze verify warns: $(cat "$WORK/verify.log")"
# The unit's command line, with a scratch folder for /var/lib/jejak and port 0 (and the demo
# link, to have a click to store): it serves, and SIGTERM (the unit's KillSignal) stops it
# cleanly, exit 0. Under strace when there is one: every system call it makes, from start to
# stop, is one the unit's SystemCallFilter= lets through.
read -r -a argv <<< "$exec_start"
for i in "${!argv[@]}"; do
  [ "${argv[$i]}" = /var/lib/jejak ] && argv[$i]=$WORK/state
  [[ "${argv[$i]}" == *:8080 ]] && argv[$i]=${argv[$i]%:8080}:0
done
argv+=(--demo)
# (Not a sanitizer build: LeakSanitizer refuses to run under ptrace, and ASan's runtime makes
# calls of its own.)
sanitized=0
grep -qE '^JEJAK_(SANITIZE|TSAN):BOOL=ON' "$BUILD/CMakeCache.txt" && sanitized=1
tracer=()
if [ $sanitized = 0 ] && command -v strace > /dev/null && strace -f -qq -o /dev/null true 2> /dev/null; then
  tracer=(strace -f -qq -o "$WORK/strace.log")
fi
${tracer[@]+"${tracer[@]}"} "${argv[@]}" > "$WORK/unit.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  grep -q "^jejak: listening on" "$WORK/unit.log" && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.05
done
grep -q "^jejak: listening on .*(data in $WORK/state)" "$WORK/unit.log" ||
  { cat "$WORK/unit.log" >&2; fail "the unit's command line does not serve"; }
link=$(sed -n 's/^jejak: demo tracking link: //p' "$WORK/unit.log")
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$BROWSER" "$link")
expect_eq "$code" 302 "a click on the unit's jejak serve"
serve=$pid
[ ${#tracer[@]} -eq 0 ] || serve=$(pgrep -P "$pid" -x jejak)
kill -TERM "$serve"
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 0 "exit status of the unit's jejak serve on SIGTERM"
grep -q "stopped cleanly" "$WORK/unit.log" || fail "no clean stop on SIGTERM: $(cat "$WORK/unit.log")"
if [ ${#tracer[@]} -gt 0 ]; then
  # The filter: @system-service, less @privileged, each group expanded to its calls.
  calls() {
    systemd-analyze syscall-filter "$1" 2> /dev/null | sed 1d | grep -v '^ *#' | tr -s ' ' '\n' |
      grep -v '^$' | while read -r c; do case $c in @*) calls "$c" ;; *) echo "$c" ;; esac; done
  }
  sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$UNIT" | tr ' ' '\n' | while read -r g; do calls "$g"; done |
    sort -u > "$WORK/allowed"
  sed -n 's/^SystemCallFilter=~//p' "$UNIT" | tr ' ' '\n' | while read -r g; do calls "$g"; done |
    sort -u > "$WORK/denied"
  sed -E -n 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$WORK/strace.log" | sort -u > "$WORK/used"
  [ "$(wc -l < "$WORK/used")" -ge 20 ] || fail "strace saw only $(wc -l < "$WORK/used") system calls"
  outside=$( (comm -23 "$WORK/used" "$WORK/allowed"; comm -12 "$WORK/used" "$WORK/denied") | tr '\n' ' ')
  [ -z "$outside" ] || fail "jejak serve makes system calls the unit's filter refuses: $outside"
  pass "the $(wc -l < "$WORK/used") system calls of jejak serve, start to stop, all pass the unit's filter"
fi
pass "systemd-analyze verify accepts the unit; its jejak serve starts and stops cleanly on SIGTERM"

# --- the daemon without cmocka (the sanitizer builds leave this to the plain one)
if [ $sanitized = 1 ]; then
  pass "build without cmocka: checked in the plain build"
  exit 0
fi
grep -q cmocka "$BUILD/CMakeFiles/jejak.dir/link.txt" && fail "the jejak target links cmocka"
# A pkg-config path with every .pc file of the default one, but cmocka's.
PC=$WORK/pkgconfig
mkdir -p "$PC"
IFS=: read -r -a pcdirs <<< "$(pkg-config --variable pc_path pkg-config)"
for d in "${pcdirs[@]}"; do
  for f in "$d"/*.pc; do
    [ -e "$f" ] && [ "$(basename "$f")" != cmocka.pc ] && ln -sf "$f" "$PC/"
  done
done
export PKG_CONFIG_LIBDIR=$PC PKG_CONFIG_PATH=
! pkg-config --exists cmocka || fail "cmocka is still visible to pkg-config"
B=$WORK/build-notest
if cmake -S "$ROOT" -B "$WORK/build-test" -DBUILD_TESTING=ON > "$WORK/test-conf.log" 2>&1; then
  fail "configure with the tests but without cmocka succeeded: the hiding does not work"
fi
grep -q cmocka "$WORK/test-conf.log" || fail "configure without cmocka failed, but not for cmocka"
cmake -S "$ROOT" -B "$B" -DBUILD_TESTING=OFF -DJEJAK_WERROR=ON > "$WORK/conf.log" 2>&1 ||
  { cat "$WORK/conf.log" >&2; fail "configure with BUILD_TESTING=OFF and no cmocka failed"; }
cmake --build "$B" --target jejak -j2 > "$WORK/build.log" 2>&1 ||
  { tail -20 "$WORK/build.log" >&2; fail "jejak does not build without cmocka"; }
ldd "$B/jejak" | grep -q cmocka && fail "jejak built without the tests links cmocka"
! grep -q cmocka "$B/CMakeFiles/jejak.dir/link.txt" || fail "jejak's link line names cmocka"
"$B/jejak" help > /dev/null || fail "jejak built without the tests does not run"
pass "with BUILD_TESTING=OFF, jejak configures and builds with no cmocka in sight"
