#!/usr/bin/env python3
"""Validate generated corpora of 300, 3,000 and 30,000 mixed Kubernetes documents with
`infraflux validate` and `kubernetes-validate` (PyPI) on the same schemas (Kubernetes
v1.33.0, strict) in one run; print wall time, documents per second, peak RSS (GNU time)
and the ratio. Needs a release build (built here), kubernetes-validate (scripts/test.sh
installs it into target/test-tools) and /usr/bin/time.

    python3 bench/validate.py [--sizes 300,3000,30000]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = os.path.join(ROOT, "..", "shared", "upstream", "kubernetes", "v1.33.0-standalone-strict")

KINDS = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n  labels: {app: web}\ndata:\n  key: value\n  other: \"42\"\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          ports: [{containerPort: 80}]\n          resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}\n          env: [{name: A, value: b}]\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  selector: {app: web}\n  ports:\n    - port: 80\n      targetPort: 8080\n",
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: NAME\nspec:\n  backoffLimit: 3\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: j, image: busybox:1.36, command: [sh, -c, \"echo hi\"]}]\n",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: NAME\nrules:\n  - apiGroups: [\"\"]\n    resources: [pods]\n    verbs: [get, list]\n",
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: NAME\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
]


def corpus(n):
    docs = []
    for i in range(n):
        doc = KINDS[i % len(KINDS)].replace("NAME", "d{}".format(i))
        if i % 10 == 9:  # one in ten is invalid
            doc = doc.replace("  name: d", "  nmae: typo\n  name: d", 1)
        docs.append("---\n" + doc)
    return "".join(docs)


def measure(cmd):
    """(wall seconds, peak RSS in MiB) of one run."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    rss_kb = int(out.stderr.strip().splitlines()[-1])
    return elapsed, rss_kb / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="300,3000,30000")
    args = ap.parse_args()
    kv = os.path.join(ROOT, "target", "test-tools", "bin", "kubernetes-validate")
    if not os.path.exists(kv):
        kv = shutil.which("kubernetes-validate") or sys.exit("kubernetes-validate not found: run scripts/test.sh once")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "infraflux"], cwd=ROOT, check=True)
    infraflux = os.path.join(ROOT, "target", "release", "infraflux")
    print("corpus: mixed core kinds, 1 in 10 invalid; Kubernetes v1.33.0 strict schemas; {} cores".format(os.cpu_count()))
    print("{:>7} {:>22} {:>26} {:>8}".format("docs", "infraflux s (docs/s, MiB)", "kubernetes-validate s (docs/s, MiB)", "ratio"))
    with tempfile.TemporaryDirectory() as d:
        for n in [int(s) for s in args.sizes.split(",")]:
            path = os.path.join(d, "corpus-{}.yaml".format(n))
            with open(path, "w") as f:
                f.write(corpus(n))
            ours, ours_rss = measure([infraflux, "validate", "--strict", "-s", SCHEMAS, path])
            theirs, theirs_rss = measure([kv, "-k", "1.33.0", "--strict", "--quiet", "--no-warn", path])
            print("{:>7} {:>9.2f} ({:>7.0f}, {:>4.0f}) {:>13.2f} ({:>7.0f}, {:>4.0f}) {:>7.1f}x".format(
                n, ours, n / ours, ours_rss, theirs, n / theirs, theirs_rss, theirs / ours))


if __name__ == "__main__":
    main()
