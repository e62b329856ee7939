#!/usr/bin/env bash
# The layering of docs/architecture.md (storage < attribution < tracker < tools), checked
# twice: the build links each folder's library whole with only what that folder may use
# (jejak-layer-* beside jejak: a call across the layering does not link), and here every
# #include of every file is held against the table, since a header's types or inline code
# need no link.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$JEJAK")
for layer in storage attribution tracker; do
  [ -x "$BUILD/jejak-layer-$layer" ] || fail "jejak-layer-$layer was not built beside jejak"
done
pass "each library links whole with only the layers below it"

# folder: the folders its files may include from, and the libraries' headers it may include.
declare -A may=(
  [storage]="storage lmdb.h xxhash.h"
  [attribution]="storage attribution xxhash.h"
  [tracker]="storage attribution tracker microhttpd.h sodium.h"
)
bad=()
for folder in storage attribution tracker; do
  for f in "$ROOT/$folder"/*.[ch]; do
    while read -r inc; do
      dir=${inc%%/*}
      case " ${may[$folder]} " in
        *" $dir "* | *" $inc "*) ;;
        *) bad+=("$folder/$(basename "$f") includes $inc") ;;
      esac
    done < <(sed -n -e 's/^#include "\([^"]*\)".*/\1/p' \
      -e 's/^#include <\(lmdb\.h\|xxhash\.h\|microhttpd\.h\|sodium\.h\|cmocka\.h\)>.*/\1/p' "$f")
  done
done
[ ${#bad[@]} -eq 0 ] || fail "includes across the layering: ${bad[*]}"
# The two files that own a library: lmdb.h only in storage/store.c, microhttpd.h only in
# tracker/server.c (and the benchmark's bare responder).
lmdb=$(cd "$ROOT" && grep -l '^#include <lmdb\.h>' storage/*.[ch] attribution/*.[ch] tracker/*.[ch] tools/*.c || true)
expect_eq "$lmdb" "storage/store.c" "the files that include lmdb.h"
mhd=$(cd "$ROOT" && grep -l '^#include <microhttpd\.h>' storage/*.[ch] attribution/*.[ch] tracker/*.[ch] tools/*.c || true)
expect_eq "$mhd" "tracker/server.c" "the files that include microhttpd.h"
pass "every #include of storage/, attribution/ and tracker/ follows the layering"
