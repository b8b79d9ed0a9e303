"""The etcd provider against etcdctl (issue 5), run through bench/run.sh etcd.

Starts one etcd (Debian's etcd-server) on free loopback ports with a
temporary data directory, stores 1,000 keys under `bench/`, then times
whole processes in one run, interleaved round by round:

- `pp-secrets load` with one declaration `etcd:bench/*`, served by the etcd
  provider component (warm compile cache);
- `etcdctl get --prefix bench/` (Debian's etcd-client), printing the same
  keys and values;
- when curl is installed, the same range request through etcd's JSON
  gateway by `curl`: what the gateway alone costs, for reference.

Prints a Markdown table with best and median times and their ratio.
"""

import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = 1000
RUNS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(endpoint: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        endpoint + path, data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def start_etcd(data: Path) -> tuple[subprocess.Popen, str]:
    client, peer = free_port(), free_port()
    endpoint, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    etcd = subprocess.Popen(
        ["etcd", "--data-dir", str(data), "--name", "bench",
         "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
         "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
         "--initial-cluster", f"bench={peer_url}", "--logger", "zap", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            post(endpoint, "/v3/kv/range", {"key": b64("x")})
            return etcd, endpoint
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - started) * 1e3


def main() -> None:
    binary = sys.argv[1]
    component = ROOT / "target/wasm32-wasip2/release/pp_secrets_etcd_provider.wasm"
    etcdctl = shutil.which("etcdctl")
    if etcdctl is None or shutil.which("etcd") is None:
        sys.exit("etcd and etcdctl are needed: apt-get install etcd-server etcd-client")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        etcd, endpoint = start_etcd(d / "data")
        try:
            for i in range(KEYS):
                post(endpoint, "/v3/kv/put",
                     {"key": b64(f"bench/secret_{i:04}"),
                      "value": b64(f"value-{i:04}-abcdefghijklmnopqrstuvwxyz")})
            authority = endpoint.removeprefix("http://")
            (d / "config.yaml").write_text(
                "secrets:\n  enabled: true\n  wasm_cache: cache\n  backends:\n"
                f"    etcd:\n      type: wasm\n      path: {component}\n"
                f"      config: {{ endpoint: \"{endpoint}\" }}\n"
                f"      allow: {{ hosts: [\"{authority}\"] }}\n"
                "  load:\n    - \"etcd:bench/*\"\n")
            load = [binary, "-c", str(d / "config.yaml"), "load"]
            out = subprocess.run(load, check=True, capture_output=True, text=True).stdout
            assert f"{KEYS} matched, {KEYS} loaded" in out, out
            get = [etcdctl, f"--endpoints={endpoint}", "get", "--prefix", "bench/"]
            env = {"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}
            lines = subprocess.run(get, check=True, capture_output=True, text=True,
                                   env=env).stdout.count("\n")
            assert lines == 2 * KEYS, lines
            # The JSON gateway's own time for the same range, as a whole
            # process too (curl), when curl is there.
            curl = shutil.which("curl")
            gateway = [curl, "-s", "-o", "/dev/null", "-X", "POST",
                       f"{endpoint}/v3/kv/range", "-d",
                       json.dumps({"key": b64("bench/"), "range_end": b64("bench0")})]
            ours, theirs, alone = [], [], []
            for _ in range(RUNS):
                ours.append(timed(load))
                theirs.append(timed(get, env))
                if curl:
                    alone.append(timed(gateway))
            # A refresh of the 1,000 keys with nothing changed (the 0.2.0
            # change check) against reading them all again, in-process.
            out = subprocess.run(
                ["cargo", "bench", "-q", "-p", "pp-secrets", "--bench", "wasm"],
                cwd=ROOT, check=True, capture_output=True, text=True,
                env={**os.environ, "PP_BENCH_ONLY": "etcd_refresh",
                     "PP_BENCH_ETCD": endpoint},
            ).stdout
            refresh = {r["name"]: r["value"] for r in map(json.loads, out.splitlines()) if r}
        finally:
            etcd.terminate()
            etcd.wait()

    ratio_best = min(ours) / min(theirs)
    ratio_median = statistics.median(ours) / statistics.median(theirs)
    print(f"| figure ({KEYS} keys, {RUNS} runs each, interleaved) | best | median |")
    print("|---|---|---|")
    print(f"| `pp-secrets load` through the etcd component (warm compile cache) "
          f"| {min(ours):.1f} ms | {statistics.median(ours):.1f} ms |")
    print(f"| `etcdctl get --prefix` | {min(theirs):.1f} ms | {statistics.median(theirs):.1f} ms |")
    print(f"| ratio (target <= 1.5) | {ratio_best:.2f} | {ratio_median:.2f} |")
    print()
    print(f"| refresh of {KEYS} held keys, nothing changed (best) | value |")
    print("|---|---|")
    print(f"| one refresh: the provider's change check "
          f"| {refresh['etcd_refresh_1000_unchanged_ms']:.2f} ms |")
    print(f"| reading the {KEYS} keys again (a refresh without change detection) "
          f"| {refresh['etcd_reread_1000_ms']:.2f} ms |")
    print(f"| ratio | {refresh['etcd_refresh_1000_unchanged_ms'] / refresh['etcd_reread_1000_ms']:.2f} |")
    if alone:
        print(f"| the same range through the JSON gateway alone (`curl`) "
              f"| {min(alone):.1f} ms | {statistics.median(alone):.1f} ms |")
        print(f"| gateway alone / etcdctl | {min(alone) / min(theirs):.2f} "
              f"| {statistics.median(alone) / statistics.median(theirs):.2f} |")


if __name__ == "__main__":
    main()
