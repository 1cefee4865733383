#!/bin/sh
# test/load/build.sh: build build/lhload (the lighthouse load generator)
# against the release library, without touching the Makefile.
set -e
cd "$(dirname "$0")/../.."
make build/rel/libvpn.a
mkdir -p build
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-Ilib -pthread -o build/lhload test/load/lhload.c build/rel/libvpn.a \
	-lcrypto
echo "built build/lhload"
