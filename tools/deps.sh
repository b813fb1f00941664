#!/bin/sh
# Installs what dcmprep needs on Debian 12 (bookworm): build dependencies, and
# with --test the reference tools used by the cross-check tests.  Skips apt-get
# when everything is already installed.
set -eu
build_pkgs="build-essential cmake pkg-config libdcmtk-dev libopenjp2-7-dev zlib1g-dev libdeflate-dev check python3-numpy"
test_pkgs="strace python3 python3-numpy python3-scipy python3-nibabel python3-pydicom python3-torch dcmtk nifti-bin dcm2niix pigz parallel plastimatch snakemake slurm-wlm munge"
pkgs=$build_pkgs
[ "${1:-}" = "--test" ] && pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "deps: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
