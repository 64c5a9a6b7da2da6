#!/usr/bin/env bash
# Installs the Debian packages the project needs when one is missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu
PKGS="build-essential pkg-config verilator yosys nextpnr-ice40 fpga-icestorm \
libftdi1-dev check libgsl-dev libinih-dev libcairo2-dev libjansson-dev z3 clang python3-numpy \
libclang-rt-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "deps: missing packages; run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
