#!/bin/sh
# Every shell script of the project passes shellcheck at warning level:
# the init as POSIX sh (it runs under busybox sh and dash), the rest as
# what their first line says.
cd "$(dirname "$0")/../.." || exit 1
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck not installed (scripts/deps)"; exit 1; }
make --no-print-directory shellcheck
