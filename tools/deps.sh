#!/usr/bin/env bash
# Installs what jejak needs to build, test and benchmark on Debian 12, if anything is
# missing. Uses sudo when not root.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev liblmdb-dev libxxhash-dev
      libcmocka-dev libsodium-dev curl wrk clang sqlite3 clang-format cppcheck jq openssl
      lmdb-utils tzdata systemd man-db groff-base strace)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
