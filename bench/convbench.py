"""Times converters writing into a folder, and compares them (bench_convert.sh).

usage:
  convbench.py time RUNS RESULTS.tsv LABEL=COMMAND [LABEL=COMMAND ...]
  convbench.py ratio RESULTS.tsv OURS REF [--time-max X] [--size-max Y] [--what TEXT]
                     [--ref-only REGEX]
  convbench.py rss RESULTS.tsv LABEL INPUT_BYTES [--slack 0.10]
  convbench.py scan RUNS DCMPREP DIR
  convbench.py volbytes DCMPREP DIR [--all]

time: COMMAND is split like a shell word list (no shell: no pipes or
redirections) and may hold {out}, replaced by a fresh empty folder for every
run.  One untimed warm-up round, then RUNS rounds, each running every command
once in order, so machine-load drift affects them alike.  A COMMAND starting
with ? may exit with status 1 (an error on some series, others written).  For each command:
median wall time, median peak RSS (os.wait4 of that child alone), and the
files and bytes it wrote (last run).  Appends one line per command to
RESULTS.tsv for the other subcommands.

ratio: ours/ref median time (and output size) with PASS/MISS against the
targets given; with --ref-only, output size only, counting just the
reference's files whose names match REGEX (the same series and voxels).  rss: peak RSS of LABEL against INPUT_BYTES (the decoded
input volumes) + its output bytes + slack.  scan: warm-cache `dcmprep scan`
time per file, and the fixed cost (a scan of one file) apart.  volbytes: decoded bytes of the series `dcmprep convert` would
write (volumes; every kind with --all), from `dcmprep scan --json`, 16-bit
voxels.
"""
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1048576.0


def run_once(argv, out, ok=(0,)):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    argv = [a.replace("{out}", out) for a in argv]
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in ok:
            err.seek(0)
            sys.exit(f"{' '.join(argv)}: exit {p.returncode}: {err.read().decode()[-400:]}")
    files = []
    for root, _, names in os.walk(out):
        for n in names:
            files.append((os.path.relpath(os.path.join(root, n), out),
                          os.path.getsize(os.path.join(root, n))))
    return dt, ru.ru_maxrss, sorted(files)


def cmd_time(args):
    runs, tsv = int(args[0]), args[1]
    cmds = [a.split("=", 1) for a in args[2:]]
    base = os.path.join(os.path.dirname(os.path.abspath(tsv)), "out")
    res = {label: ([], [], None) for label, _ in cmds}
    for rnd in range(runs + 1):
        for i, (label, cmd) in enumerate(cmds):
            ok = (0, 1) if cmd.startswith("?") else (0,)
            dt, rss, files = run_once(shlex.split(cmd.lstrip("?")), os.path.join(base, str(i)), ok)
            if rnd == 0:
                continue  # warm-up: page cache, first-touch of the output folder
            ts, rs, _ = res[label]
            ts.append(dt)
            rs.append(rss)
            res[label] = (ts, rs, files)
    with open(tsv, "a") as f:
        for label, _ in cmds:
            ts, rs, files = res[label]
            med, rss = statistics.median(ts), statistics.median(rs)
            nii = [(n, s) for n, s in files if ".nii" in n]
            nbytes = sum(s for _, s in nii)
            print(f"  {label:<34} median {med:7.3f} s (min {min(ts):6.3f}) over {runs} runs"
                  f"   peak RSS {rss / 1024:6.0f} MiB   {len(nii)} NIfTI, {nbytes / MIB:7.2f} MiB")
            f.write("\t".join([label, f"{med:.6f}", f"{min(ts):.6f}", str(int(rss)),
                               str(nbytes), str(len(nii)),
                               ",".join(f"{n}:{s}" for n, s in nii)]) + "\n")


def load(tsv):
    rows = {}
    with open(tsv) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows[p[0]] = {"t": float(p[1]), "tmin": float(p[2]), "rss_kib": int(p[3]),
                          "bytes": int(p[4]), "n": int(p[5]),
                          "files": [(n, int(s)) for n, s in
                                    (e.rsplit(":", 1) for e in p[6].split(",") if e)]}
    return rows


def opt(args, name, conv, default=None):
    if name in args:
        i = args.index(name)
        v = conv(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def verdict(ok):
    return "PASS" if ok else "MISS"


def cmd_ratio(args):
    tmax = opt(args, "--time-max", float)
    smax = opt(args, "--size-max", float)
    what = opt(args, "--what", str, "")
    only = opt(args, "--ref-only", re.compile)
    rows = load(args[0])
    a, b = rows[args[1]], rows[args[2]]
    rt = a["t"] / b["t"]
    line = f"  RATIO {what:<22}"
    bbytes = b["bytes"]
    if only is None:
        line += f" time {rt:5.2f}x"
        if tmax is not None:
            line += f" (target <= {tmax:.2f}x: {verdict(rt <= tmax)})"
    else:  # size only, against the reference's files that hold the same voxels
        bbytes = sum(sz for n, sz in b["files"] if only.search(n))
    rs = a["bytes"] / bbytes if bbytes else float("nan")
    line += f"   size {rs:5.3f}x"
    if smax is not None:
        line += f" (target <= {smax:.2f}x: {verdict(rs <= smax)})"
    ref = args[2] + (f" files ~ /{only.pattern}/" if only is not None else "")
    print(line + f"   [{args[1]} / {ref}]")


def cmd_rss(args):
    slack = opt(args, "--slack", float, 0.10)
    rows = load(args[0])
    r, inp = rows[args[1]], int(args[2])
    rss = r["rss_kib"] * 1024
    limit = (inp + r["bytes"]) * (1 + slack)
    print(f"  PEAK RSS {args[1]:<26} {rss / MIB:7.1f} MiB = {rss / (inp + r['bytes']):.2f}x"
          f" (input volume {inp / MIB:.1f} + output {r['bytes'] / MIB:.1f} MiB);"
          f" target <= {limit / MIB:.1f} MiB (+{slack:.0%}): {verdict(rss <= limit)}")


def cmd_scan(args):
    runs, cli, d = int(args[0]), args[1], args[2]
    nfiles = sum(len(n) for _, _, n in os.walk(d))

    def t(argv):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t0

    cold = t([cli, "scan", d])  # first run: cold(er) cache
    warm = [t([cli, "scan", d]) for _ in range(max(runs, 2))]
    # fixed cost (process start, DCMTK dictionary): a scan of one of the files
    one = tempfile.mkdtemp()
    first = next(os.path.join(r, n) for r, _, ns in sorted(os.walk(d)) for n in sorted(ns)
                 if not n.upper().startswith(("DIRFILE", "DICOMDIR")))
    os.symlink(first, os.path.join(one, "f"))
    single = [t([cli, "scan", one]) for _ in range(max(runs, 2))]
    shutil.rmtree(one)
    w, s1 = statistics.median(warm), statistics.median(single)
    ms = 1000 * w / nfiles
    print(f"  SCAN {d}: {nfiles} files; first run {cold * 1000:.1f} ms,"
          f" warm median {w * 1000:.1f} ms = {ms:.3f} ms/file"
          f" (target <= 0.3: {verdict(ms <= 0.3)})")
    print(f"       fixed cost (scan of 1 file) {s1 * 1000:.1f} ms;"
          f" marginal {1000 * max(w - s1, 0) / max(nfiles - 1, 1):.3f} ms/file")


def cmd_volbytes(args):
    cli, d = args[0], args[1]
    every = "--all" in args
    j = json.loads(subprocess.run([cli, "scan", d, "--json"], capture_output=True,
                                  check=True).stdout)
    total = 0
    for s in j["series"]:
        if "no geometry" in s.get("warnings", ""):
            continue  # listed, never converted
        if s["kind"] == "volume" or every:
            n = 2
            for v in s["dims"]:
                n *= max(int(v), 1)
            total += n
    print(total)


cmd = sys.argv[1]
{"time": cmd_time, "ratio": cmd_ratio, "rss": cmd_rss, "scan": cmd_scan,
 "volbytes": cmd_volbytes}[cmd](sys.argv[2:])
