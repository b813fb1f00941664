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
echo "== Python module"
pkg=$(find "$prefix" -name _libpath.txt -path '*/dcmprep/*' | head -1)
if [ -z "$pkg" ]; then echo "FAIL: the Python package (dcmprep/_libpath.txt) is not installed"; exit 1; fi
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  # moved as a whole: the package finds the library by its relative path
  mv "$prefix" "$work/moved"
  pydir=$(dirname "$(dirname "$pkg")" | sed "s|^$prefix|$work/moved|")
  # shellcheck disable=SC2086
  (cd "$work" && env -u DCMPREP_LIBRARY PYTHONPATH="$pydir" ${DP_PY_ENV:-} /usr/bin/python3 -c "
import numpy as np, dcmprep
assert dcmprep.library_path.startswith('$work/moved/'), dcmprep.library_path
v = dcmprep.Volume.from_numpy(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.diag([2, 2, 2, 1.0]))
v.save('d.nii.gz')
w = dcmprep.load('d.nii.gz')
assert (w.array == v.array).all() and w.spacing == (2, 2, 2)
print('python: dcmprep', dcmprep.__version__, 'from', dcmprep.library_path)
")
  mv "$work/moved" "$prefix"
  pyok=", Python"
else
  echo "python: numpy absent, import not tried (installed: $pkg)"
  pyok=""
fi
echo "installed package works (find_package, pkg-config shared and static$pyok)"
