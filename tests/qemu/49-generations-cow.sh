#!/bin/bash
# 48-generations.sh on a copy-on-write export: the client's written files
# survive both restarts, the base under them does not change, it stays on
# that base across a reboot, and a reset puts it on the new image.
GEN_COW=1 exec "$(dirname "$0")/48-generations.sh"
