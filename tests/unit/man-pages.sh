#!/bin/bash
# Every man page renders without a groff warning at 80 columns
# (man --warnings), and every command's usage names the same options as
# its page's SYNOPSIS: option names are compared, not wording, so usage
# texts may be reworded freely.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
command -v man >/dev/null || { echo "man-pages: SKIP: man not installed (man-db)"; exit 77; }
export MANWIDTH=80 LC_ALL=C.UTF-8
failed=0
bad() {
	echo "FAIL: $*"
	failed=1
}

pages=(man/*.[1-8] initramfs/nbdroot.7)
for p in "${pages[@]}"; do
	w=$(man --warnings -l "$p" 2>&1 >/dev/null)
	if [ -n "$w" ]; then
		bad "$p: man --warnings:"
		echo "$w" | sed 's/^/    /'
	else
		echo "ok: $p renders without warnings"
	fi
done

# Each command, the page that documents it, and how it prints its usage.
commands=(
	"man/nbd-server.8 server/nbd-server -h"
	"man/nbd-client.8 client/nbd-client -h"
	"man/nbdroot-mkinitrd.8 initramfs/mkinitrd --help"
	"man/nbdroot-mkpxe.8 scripts/mkpxe --help"
	"man/nbdroot-mkrootfs.8 scripts/mkrootfs --help"
	"man/nbdroot-kconfig-check.8 scripts/kconfig-check --help"
)

# the option names (-x, --long, -long) in text, one a line, sorted, help
# options left out (a usage line need not name itself)
options() {
	grep -oE '(^|[][ |])--?[A-Za-z][A-Za-z0-9-]*' |
		sed 's/^[][ |]*//' | grep -vxE -- '-h|--?help' | sort -u
}

# the usage lines of $2's output: those starting with the program
# (after "Usage:"), and the '[' continuation lines right after them
usage_lines() {
	awk -v prog="$1" '
		{ line = $0; sub(/^[ \t]*([Uu]sage:[ \t]*)?/, "", line)
		  split(line, w, /[ \t]+/); n = split(w[1], parts, "/")
		  if (parts[n] == prog) { print line; cont = 1; next }
		  if (cont && line ~ /^\[/) { print line; next }
		  cont = 0 }'
}

for c in "${commands[@]}"; do
	read -r page cmd arg <<<"$c"
	[ -x "$cmd" ] || { bad "$cmd not built (run make)"; continue; }
	prog=${cmd##*/}
	out=$("$cmd" "$arg" 2>&1)
	usage=$(printf '%s\n' "$out" | usage_lines "$prog")
	[ -n "$usage" ] || { bad "$cmd $arg printed no usage line for $prog"; continue; }
	synopsis=$(man -l "$page" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/,/^[A-Z]/{/^[A-Z]/!p}')
	[ -n "$synopsis" ] || { bad "$page has no SYNOPSIS"; continue; }
	u=$(printf '%s\n' "$usage" | options)
	s=$(printf '%s\n' "$synopsis" | options)
	if [ "$u" != "$s" ]; then
		bad "$cmd usage and $page SYNOPSIS name different options"
		diff <(echo "$u") <(echo "$s") | grep '^[<>]' |
			sed 's/^</    only in the usage:/; s/^>/    only in the SYNOPSIS:/'
	else
		echo "ok: $cmd usage and $page SYNOPSIS: $(echo "${u:-no options}" | tr '\n' ' ')"
	fi
done
exit $failed
