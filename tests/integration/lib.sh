# lib.sh: helpers for the integration tests: a fresh data folder, the real daemon on a
# free loopback port, and assertions that say what they expected.
# Usage: source it with the jejak binary as $1.
set -euo pipefail
JEJAK=${1:?usage: $0 path/to/jejak}
JEJAK=$(cd "$(dirname "$JEJAK")" && pwd)/$(basename "$JEJAK")
# The daemon's start and stop: DAEMON_PID, PORT, BASE (shared with the benchmarks).
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib-daemon.sh"
WORK=$(mktemp -d /tmp/jejak-test.XXXXXX)
export JEJAK_DATA=$WORK/data

cleanup() {
  daemon_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/daemon.log" ] && sed 's/^/  daemon: /' "$WORK/daemon.log" >&2; exit 1; }
pass() { echo "ok - $*"; }
jejak() { "$JEJAK" "$@"; }

# start_daemon [serve options...]: starts `jejak serve` on port 0 and reads the real port.
start_daemon() {
  daemon_start "$WORK/daemon.log" "$JEJAK" serve --listen 127.0.0.1:0 "$@" && return
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited at start"
  fail "daemon did not start"
}

stop_daemon() {
  daemon_stop || fail "daemon exited non-zero on SIGTERM"
}

# kill_daemon: kill -9, as a crash would.
kill_daemon() { daemon_kill; }

expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_match() { [[ "$1" =~ $2 ]] || fail "$3: '$1' does not match /$2/"; }

# A real browser's User-Agent: curl's own is (rightly) classified as a bot.
BROWSER='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'

# sign BODY SECRET [T]: prints the X-Jejak-Signature value for BODY.
sign() {
  local t=${3:-$(date +%s)}
  local mac
  mac=$(printf '%s' "$t.$1" | openssl dgst -sha256 -hmac "$2" | awk '{print $NF}')
  echo "t=$t,v1=$mac"
}

# post BODY SECRET [T]: signed POST /postback; prints "<http code> <body>".
post() {
  req -H "X-Jejak-Signature: $(sign "$1" "$2" "${3:-}")" \
      -H 'Content-Type: application/json' --data-binary "$1" "$BASE/postback"
}

# req CURL-ARGS...: prints the response body (newlines dropped), a space and the status.
req() { curl -s -w ' %{http_code}' "$@" | tr -d '\n'; }

# click SLUG JAR: follows a tracking link as a browser keeping cookies; prints the jclid.
click() {
  local loc
  loc=$(curl -s -o /dev/null -A "$BROWSER" -b "$2" -c "$2" -w '%{redirect_url}' "$BASE/l/$1")
  loc=${loc##*jclid=}
  echo "${loc%%#*}"
}
