#!/bin/sh
# CLI contract: exit codes, usage, help, version, error messages, convert
# round trips and atomic outputs.  usage: cli_basics.sh DCMPREP WORKDIR
set -u
cli=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { # expect_rc WANT DESCRIPTION CMD...
  want=$1 what=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"; rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want ($(head -c 300 "$work/err"))"; fi
}
contains() { # contains FILE TEXT DESCRIPTION
  if grep -q -- "$2" "$1"; then ok; else bad "$3: '$2' not in $(head -c 300 "$1")"; fi
}

expect_rc 2 "no arguments" "$cli"
contains "$work/err" "usage: dcmprep" "usage on stderr"
expect_rc 2 "unknown command" "$cli" frobnicate
contains "$work/err" "no command 'frobnicate'" "unknown command named"
expect_rc 0 "--version" "$cli" --version
contains "$work/out" "^dcmprep [0-9]" "version line"
contains "$work/out" "DCMTK 3\." "DCMTK version"
contains "$work/out" "1.2.840.10008.1.2.4.80" "JPEG-LS listed"
contains "$work/out" "1.2.840.10008.1.2.5 RLE" "RLE listed"
expect_rc 0 "help" "$cli" help
contains "$work/out" "convert" "command list"
for c in info convert preview; do
  expect_rc 0 "help $c" "$cli" help "$c"
  contains "$work/out" "usage: dcmprep $c" "help $c text"
  expect_rc 0 "$c --help" "$cli" "$c" --help
done
expect_rc 2 "help of unknown command" "$cli" help nope
expect_rc 2 "info without file" "$cli" info
expect_rc 2 "info bad option" "$cli" info --bogus x.nii
expect_rc 1 "info missing file" "$cli" info "$work/missing.nii.gz"
contains "$work/err" "^dcmprep: .*missing.nii.gz" "error names the file"
printf 'not a nifti file at all, just text that is long enough to be read as a header ....' >"$work/junk.nii"
head -c 400 /dev/zero >>"$work/junk.nii"
expect_rc 1 "info junk" "$cli" info "$work/junk.nii"
contains "$work/err" "junk.nii" "junk error names the file"

expect_rc 2 "convert without -o" "$cli" convert "$work/junk.nii"
expect_rc 2 "convert bad level" "$cli" convert "$work/junk.nii" -o "$work/x.nii" --level 99
expect_rc 2 "convert bad threads" "$cli" convert "$work/junk.nii" -o "$work/x.nii" --threads zero
expect_rc 2 "convert non-NIfTI output name" "$cli" convert "$work/junk.nii" -o "$work/x.img"
expect_rc 1 "convert junk input" "$cli" convert "$work/junk.nii" -o "$work/x.nii.gz"
if ls "$work" | grep -q -e '^x\.' -e '\.tmp$'; then bad "failed convert left files: $(ls "$work")"; else ok; fi

echo "cli_basics: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
