# shellcheck shell=bash
# lib-load.sh: the mixed load that the crash-safety tests put on a running daemon, and what
# it leaves for their checks; sourced by tests/integration/test_faults.sh (kill -9) and
# tools/powercut.sh (simulated power cuts), so both prove the same thing of the same load.
# Defines functions only and never exits. Needs BASE (the daemon), WORK (a folder), BROWSER
# (a browser's User-Agent), secret (shop tokoku's), and a `jejak` function.
#
#   load TAG        CLICKERS (default 2) click loops: curl, 10 clicks on /l/ayu per process
#                   and connection, each answer's "<status> <Location>" appended to
#                   answers.TAG.N; POSTERS (default 2) postback loops, each order id used
#                   once (TAG-Pn-k), odd ones naming a click already answered, even ones
#                   none, "<status> <order id> <body>" appended to pb.TAG.N. Until stop_load.
#   stop_load       ends the loops and waits for them.
#   pb_body ORDER [CLICK_ID], pb_send BODY
#                   a postback's JSON body; a signed POST of it, printing the status (000:
#                   no answer).
#   stored_ids, stored_orders
#                   the click ids in the export, and the order ids of the conversions, sorted
#                   byte-wise (compare with `LC_ALL=C comm`).
ID_RE='jclid=[0-9A-HJKMNP-TV-Z]{26}'
LOAD_PIDS=()

pb_body() {
  echo '{"shop":"tokoku","order_id":"'"$1"'"'"${2:+,\"click_id\":\"$2\"}"',"amount":"10.00","currency":"USD"}'
}

pb_send() {
  local t mac
  t=$(date +%s)
  mac=$(printf '%s' "$t.$1" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')
  curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Jejak-Signature: t=$t,v1=$mac" \
    -H 'Content-Type: application/json' --data-binary "$1" "$BASE/postback" || true
}

stored_ids() { jejak clicks export | sed -n 's/^{"click_id":"\([0-9A-Z]*\)".*/\1/p' | LC_ALL=C sort; }
stored_orders() { jejak conversions export | LC_ALL=C grep -o '"order_id":"[^"]*"' | cut -d'"' -f4 | LC_ALL=C sort; }

load() {
  rm -f "$WORK/stop"
  LOAD_PIDS=()
  local urls=() i
  for _ in $(seq 1 10); do urls+=("$BASE/l/ayu"); done
  for i in $(seq 1 "${CLICKERS:-2}"); do
    (
      while [ ! -e "$WORK/stop" ]; do
        curl -s -m 5 -A "$BROWSER" -o /dev/null -w '%{http_code} %{redirect_url}\n' "${urls[@]}" \
          >> "$WORK/answers.$1.$i" 2>/dev/null || true
      done
    ) &
    LOAD_PIDS+=($!)
  done
  for i in $(seq 1 "${POSTERS:-2}"); do
    (
      local n=0 oid cid body
      while [ ! -e "$WORK/stop" ]; do
        n=$((n + 1))
        oid="C$1-P$i-$n"
        cid=""
        if ((n % 2)); then
          cid=$(tail -n 3 "$WORK/answers.$1.1" 2>/dev/null | grep -oE "$ID_RE" | tail -1 | cut -c7- || true)
        fi
        body=$(pb_body "$oid" "$cid")
        echo "$(pb_send "$body") $oid $body" >> "$WORK/pb.$1.$i"
      done
    ) &
    LOAD_PIDS+=($!)
  done
}

stop_load() {
  touch "$WORK/stop"
  local p
  for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  LOAD_PIDS=()
}
