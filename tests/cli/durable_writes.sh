#!/bin/sh
# --fsync: convert, prep and augment sync each output and its folder to disk
# (seen as fsync/fdatasync calls under strace); without it they do not; the
# files written either way are byte-identical.
# usage: durable_writes.sh DCMPREP SYNTH WORKDIR      (exit 77 without strace)
set -u
cli=$1
synth=$2
work=$3
command -v strace >/dev/null 2>&1 || { echo "SKIP: strace not found (install strace)"; exit 77; }
rm -rf "$work"
mkdir -p "$work" || exit 1
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
"$synth" -o "$work/ct" --rows 16 --cols 12 --slices 4 >/dev/null || { echo "FAIL: synth"; exit 1; }

# syncs CMD...: number of fsync/fdatasync calls the command makes, or
# "failed" when it fails (which fails every numeric check on it)
syncs() {
  # LeakSanitizer cannot run under ptrace: off for these runs in a sanitized build
  if ! ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=fsync,fdatasync -o "$work/trace" "$@" >/dev/null 2>&1; then
    echo "command failed: $*" >&2
    echo failed
    return
  fi
  grep -cE '^[0-9]+ +f(data)?sync\(' "$work/trace"
}

n=$(syncs "$cli" convert "$work/ct" -o "$work/plain" -q)
[ "$n" -eq 0 ] || fail "convert without --fsync made $n sync calls"
n=$(syncs "$cli" convert "$work/ct" -o "$work/durable" -q --fsync)
# the NIfTI, its folder, the sidecar, its folder
[ "$n" -ge 4 ] || fail "convert --fsync made $n sync calls (want >= 4)"
for f in "$work"/plain/*; do
  cmp -s "$f" "$work/durable/$(basename "$f")" || fail "convert --fsync wrote a different $(basename "$f")"
done
nii=$(ls "$work"/plain/*.nii.gz | head -n 1)

n=$(syncs "$cli" prep "$nii" -o "$work/p1.nii.gz" -q --spacing 2)
[ "$n" -eq 0 ] || fail "prep without --fsync made $n sync calls"
n=$(syncs "$cli" prep "$nii" -o "$work/p2.nii.gz" -q --spacing 2 --fsync)
[ "$n" -ge 4 ] || fail "prep --fsync made $n sync calls (want >= 4)"
cmp -s "$work/p1.nii.gz" "$work/p2.nii.gz" || fail "prep --fsync wrote different bytes"

n=$(syncs "$cli" augment "$nii" -o "$work/a1" -n 1 --seed 3 -q --rand-rotate 10)
[ "$n" -eq 0 ] || fail "augment without --fsync made $n sync calls"
n=$(syncs "$cli" augment "$nii" -o "$work/a2" -n 1 --seed 3 -q --rand-rotate 10 --fsync)
[ "$n" -ge 4 ] || fail "augment --fsync made $n sync calls (want >= 4)"

echo "$failures failed"
[ "$failures" -eq 0 ]
