#!/bin/sh
# Runs a manifest as N shards on this machine with GNU parallel: the same
# split a cluster gets, each shard one `dcmprep batch --shard K/N`.
# usage: shards_parallel.sh MANIFEST PIPELINE OUTROOT [N]     (N default 4)
# Environment: DCMPREP (the dcmprep binary, default: dcmprep on PATH).
set -eu
manifest=$1 pipeline=$2 outroot=$3 n=${4:-4}
dcmprep=${DCMPREP:-dcmprep}
# Each shard gets one thread per core it can have; -q: one summary per shard
# in its log (OUTROOT/batch-log-K-of-N.jsonl) instead of N progress bars.
threads=$(( $(nproc) / n )); [ "$threads" -ge 1 ] || threads=1
seq 1 "$n" | parallel --will-cite --halt never -j "$n" \
  "$dcmprep" batch --manifest "$manifest" --pipeline "$pipeline" -o "$outroot" \
  --shard {}/"$n" --threads "$threads" -q
