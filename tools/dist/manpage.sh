#!/usr/bin/env bash
# manpage.sh JEJAK OUT: writes the man page jejak(1) to OUT from the usage texts of the
# built program JEJAK, so the page and `jejak help` cannot drift: the overview is
# `jejak help` verbatim, and each command's section (a command, or a command and its
# subcommand: `influencer add`) is `jejak COMMAND [SUB] --help` when it answers that (exit 0,
# text on stdout), else its lines of `jejak help`.
# Runs the program in a scratch folder with JEJAK_DATA pointing into it, so that a command
# which does not know --help touches nothing. CMakeLists.txt runs it after building jejak;
# tests/integration/test_install.sh checks every option of every usage text is in the page.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: tools/dist/manpage.sh JEJAK OUT" >&2; exit 2; }
jejak=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/jejak-manpage.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Runs jejak in the scratch folder with the rest of the arguments; never waits long.
run() {
  (cd "$scratch" && JEJAK_DATA="$scratch/data" timeout 10 "$jejak" "$@" 2>/dev/null)
}

# Text to roff: backslashes and hyphens escaped, a leading . or ' neutralized.
roff() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

main=$(run help) || { echo "manpage.sh: '$jejak help' failed" >&2; exit 1; }
[ -n "$main" ] || { echo "manpage.sh: '$jejak help' printed nothing" >&2; exit 1; }
# The commands: from each line of the usage indented by exactly two spaces, the text before
# its first gap of two spaces (the description column), and of that the leading lowercase
# words, at most two: "serve", "influencer add" (a command and its subcommand).
entries() {
  printf '%s\n' "$main" | sed -n 's/^  \([a-z][^ ].*\)$/\1/p' | sed 's/  .*//' |
    awk '{ e = ""; for (i = 1; i <= NF && i <= 2 && $i ~ /^[a-z][a-z-]*$/; i++) e = e (i > 1 ? " " : "") $i
           if (e != "" && e != "help" && !seen[e]++) print e }'
}
mapfile -t commands < <(entries)
[ ${#commands[@]} -gt 0 ] || { echo "manpage.sh: no commands in '$jejak help'" >&2; exit 1; }

# An entry's lines in the main usage: those that start with it, and the lines indented
# deeper that follow them.
usage_lines() {
  printf '%s\n' "$main" | awk -v e="$1" '
    /^  [a-z]/ { line = substr($0, 3); mine = (line == e || index(line, e " ") == 1) }
    /^   / { if (mine) print; next }
    /^  [a-z]/ { if (mine) print; next }
    { mine = 0 }'
}

# One section per entry: its own --help, or its lines of the main usage. A command with
# subcommands gets a section of its own too when it answers --help.
section() {
  local text own
  # shellcheck disable=SC2086 # an entry is one or two words
  if own=$(run $1 --help) && [ -n "$own" ] && [ ! -e "$scratch/data" ]; then
    text=$own
  elif [ "$2" = required ]; then
    text=$(usage_lines "$1")
  fi
  rm -rf "$scratch/data"
  [ -n "${text:-}" ] || return 0
  printf '.SS %s\n.nf\n' "$(printf '%s' "$1" | roff)"
  printf '%s\n' "$text" | roff
  printf '.fi\n'
}

{
  cat <<'EOF'
.TH JEJAK 1 "" "jejak" "User Commands"
.SH NAME
jejak \- UTM click tracker and conversion\-attribution server
.SH SYNOPSIS
.B jejak
[\fB\-\-data\fR \fIDIR\fR] \fIcommand\fR [\fIoptions\fR]
.br
.B jejak help
.br
.B jejak
\fIcommand\fR \fB\-\-help\fR
.SH DESCRIPTION
.B jejak
is a self\-hosted UTM click tracker and conversion\-attribution server.
.B jejak serve
is the daemon: it answers tracking links with a 302 to the shop after the click is
stored, and takes conversion postbacks from shops.
All the other commands work on the same LMDB data folder, and can run while the
daemon does: registries (influencers, campaigns, links, shops, coupons, API keys),
exports, attribution reports, costs, metrics imports and checks of the store.
.SH OVERVIEW
The output of
.BR "jejak help" :
.PP
.RS 2
.nf
EOF
  printf '%s\n' "$main" | roff
  cat <<'EOF'
.fi
.RE
.SH COMMANDS
EOF
  group=""
  for entry in "${commands[@]}"; do
    if [ "${entry% *}" != "$entry" ] && [ "${entry%% *}" != "$group" ]; then
      group=${entry%% *}
      section "$group" optional
    fi
    section "$entry" required
  done
  cat <<'EOF'
.SH ENVIRONMENT
.TP
.B JEJAK_DATA
The data folder when no \fB\-\-data\fR is given (default \fI./jejak\-data\fR).
.SH FILES
.TP
.I /var/lib/jejak
The data folder of the systemd unit
.BR jejak.service ,
which runs
.B jejak serve
as a dynamic user with
.BR StateDirectory=jejak .
.TP
.I DIR/data.mdb
The LMDB store: every record of the data folder.
.SH SIGNALS
.B jejak serve
stops cleanly on SIGTERM or SIGINT: it stops accepting, answers what is in flight,
commits and closes the store.
.SH EXIT STATUS
0 on success, 1 on failure (the reason on standard error), 2 on a usage error.
.SH SEE ALSO
.BR systemd.exec (5),
and the guides in the source tree: docs/operators.md, docs/marketers.md, docs/shops.md,
docs/influencers.md.
EOF
} > "$out.tmp"
mv "$out.tmp" "$out"
