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
  [attribution]="storage attribution"
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
# Each library's own header in one folder only: lmdb.h in storage/ (store.c), microhttpd.h
# in tracker/; the program and the test helpers reach them only through those folders.
lmdb=$(cd "$ROOT" && grep -l '^#include <lmdb\.h>' attribution/*.[ch] tracker/*.[ch] tools/*.[ch] || true)
expect_eq "$lmdb" "" "the files outside storage/ that include lmdb.h"
mhd=$(cd "$ROOT" && grep -l '^#include <microhttpd\.h>' storage/*.[ch] attribution/*.[ch] tools/*.[ch] || true)
expect_eq "$mhd" "" "the files outside tracker/ that include microhttpd.h"
pass "every #include of storage/, attribution/ and tracker/ follows the layering"
