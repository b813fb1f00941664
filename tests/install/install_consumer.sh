#!/bin/sh
# Installs the build into a temporary prefix, then builds a small program
# against it twice: with find_package(dcmprep) and with pkg-config (shared and
# static), and runs each.
# usage: install_consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR
# DP_CONSUMER_FLAGS (e.g. -fsanitize=address,undefined for a sanitized
# library) are added to every compile and link of the consumer.
set -eu
build=$1 src=$2 work=$3
flags=${DP_CONSUMER_FLAGS:-}
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in bin/dcmprep include/dcmprep/dcmprep.h include/dcmprep/version.h share/man/man1/dcmprep.1; do
  test -e "$prefix/$f" || { echo "FAIL: $f not installed"; exit 1; }
done
libdir=$(ls -d "$prefix"/lib* | head -1)
ls "$libdir"/libdcmprep.so.0 "$libdir"/libdcmprep.a "$libdir"/pkgconfig/dcmprep.pc "$libdir"/cmake/dcmprep/dcmprepConfig.cmake >/dev/null

echo "== find_package(dcmprep)"
cmake -S "$src/tests/install/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/cmake.log"
cmake --build "$work/cmake-build" >"$work/cmake-build.log"
LD_LIBRARY_PATH="$libdir" "$work/cmake-build/consumer" "$work/a.nii.gz"

echo "== pkg-config, shared"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046,SC2086
cc $flags -o "$work/consumer-pc" "$src/tests/install/consumer/main.c" $(pkg-config --cflags --libs dcmprep)
LD_LIBRARY_PATH="$libdir" "$work/consumer-pc" "$work/b.nii"

echo "== pkg-config, static"
# shellcheck disable=SC2046,SC2086
cc $flags -o "$work/consumer-static" "$src/tests/install/consumer/main.c" -Wl,-Bstatic $(pkg-config --cflags --libs-only-L dcmprep) -ldcmprep -Wl,-Bdynamic $(pkg-config --static --libs-only-l dcmprep | sed 's/-ldcmprep//')
"$work/consumer-static" "$work/c.nii.gz"
if ldd "$work/consumer-static" | grep -q libdcmprep; then echo "FAIL: static consumer links libdcmprep.so"; exit 1; fi
echo "installed package works (find_package, pkg-config shared and static)"
