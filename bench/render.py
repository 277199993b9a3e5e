#!/usr/bin/env python3
"""Time `infraflux render` of a platform with 50 workload clusters (the render issue's goal:
under 200 ms and 100 MB peak RSS on this machine), next to the homelab example in the same
run: wall time (median of runs) and peak RSS (GNU time), for a fresh tree and for a re-render
over an up-to-date tree (`--check`). The last row renders the 50 clusters with what they
encrypt: the Proxmox credentials Secret from its variable, and the three management
nodes' Talos configs from a secrets bundle opened with an age identity.

    python3 bench/render.py [--clusters 50] [--runs 7]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def spec(clusters):
    """The multi-cluster example's platform with `clusters` workload clusters."""
    head = """apiVersion: infraflux.dev/v1alpha1
kind: Platform
metadata:
  name: fleet
spec:
  git:
    repoURL: https://git.example.com/platform/fleet.git
  secrets:
    age:
      recipients:
        - age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  proxmox:
    endpoint: https://pve1.example.com:8006
    tokenID: capi@pve!fleet
    tokenSecret: { env: PROXMOX_TOKEN_SECRET }
    nodes: [pve1, pve2, pve3]
  talos:
    version: v1.11.6
    kubernetesVersion: v1.33.4
  network:
    nodeCIDR: 10.0.0.0/16
    gateway: 10.0.0.1
    podCIDR: 10.244.0.0/16
    serviceCIDR: 10.96.0.0/12
    loadBalancer:
      pools: [10.0.255.200-10.0.255.250]
  management:
    endpoint: { vip: 10.0.0.10 }
    controlPlanes:
      - { name: mgmt-cp-1, ip: 10.0.0.11, proxmoxNode: pve1 }
      - { name: mgmt-cp-2, ip: 10.0.0.12, proxmoxNode: pve2 }
      - { name: mgmt-cp-3, ip: 10.0.0.13, proxmoxNode: pve3 }
  clusters:
"""
    body = []
    for i in range(clusters):
        n = i + 1
        body.append(f"""    - name: c{n:02d}
      size: medium
      endpoint: {{ vip: 10.0.{n}.10 }}
      ipPool: 10.0.{n}.11-10.0.{n}.79
      podCIDR: 10.{128 + i}.0.0/16
      controlPlane: {{ replicas: 3 }}
      workerPools:
        - {{ name: general, replicas: 3 }}
        - {{ name: large, replicas: 2, size: large, labels: {{ example.com/tier: large }} }}
""")
    return head + "".join(body) + "  components:\n    longhorn: { enabled: true, replicas: 2 }\n    tetragon: { enabled: true, policies: [process-exec, sensitive-files] }\n"


def measure(cmd, env=None):
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return elapsed, int(out.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusters", type=int, default=50)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "infraflux"], cwd=ROOT, check=True)
    infraflux = os.path.join(ROOT, "target", "release", "infraflux")
    with tempfile.TemporaryDirectory() as d:
        fleet = os.path.join(d, "fleet.yaml")
        with open(fleet, "w") as f:
            f.write(spec(args.clusters))
        subprocess.run([infraflux, "check", fleet], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"{os.cpu_count()} cores; median of {args.runs} runs")
        print(f"{'spec':<28} {'fresh tree':>22} {'re-render, --check':>22} {'files':>6}")
        # An identity, the spec encrypted for it, and a Talos secrets bundle.
        keys = os.path.join(d, "keys.txt")
        env = dict(os.environ, SOPS_AGE_KEY_FILE=keys, PROXMOX_TOKEN_SECRET="bench-token-secret")
        recipient = subprocess.run([infraflux, "secrets", "keygen"], env=env, check=True,
                                   capture_output=True, text=True).stdout.strip()
        sealed = os.path.join(d, "sealed.yaml")
        with open(sealed, "w") as f:
            f.write(spec(args.clusters).replace("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", recipient))
        bundle = os.path.join(d, "secrets.sops.yaml")
        subprocess.run([infraflux, "talos", "gen", "secrets", "--age", recipient, "-o", bundle],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, path, with_secrets in [
                ("homelab example", os.path.join(ROOT, "examples", "homelab.yaml"), False),
                (f"{args.clusters} workload clusters", fleet, False),
                (f"{args.clusters} clusters, encrypting", sealed, True)]:
            fresh, check = [], []
            for r in range(args.runs):
                out = os.path.join(d, f"out-{name.split()[0]}-{with_secrets}-{r}")
                if with_secrets:
                    os.makedirs(os.path.join(out, "bootstrap", "talos"))
                    with open(bundle) as src, open(os.path.join(out, "bootstrap", "talos", "secrets.sops.yaml"), "w") as dst:
                        dst.write(src.read())
                fresh.append(measure([infraflux, "render", path, "-o", out], env if with_secrets else None))
                check.append(measure([infraflux, "render", path, "-o", out, "--check"]))
            files = sum(len(fs) for _, _, fs in os.walk(out))
            med = lambda xs: (statistics.median(x[0] for x in xs) * 1000, max(x[1] for x in xs))
            (ft, fr), (ct, cr) = med(fresh), med(check)
            print(f"{name:<28} {ft:>8.1f} ms {fr:>7.1f} MiB {ct:>8.1f} ms {cr:>7.1f} MiB {files:>6}")
        print("goal for the 50-cluster render: < 200 ms and < 100 MB peak RSS")


if __name__ == "__main__":
    main()
