"""Side-by-side benchmark: pp-secrets against ProcessPype 2.1.3, same data, one run.

Run through bench/run.sh, which prepares the Python 3.13 environment and
the release build. Prints a Markdown table of figures, ratios and targets.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from processpype.config.models import SecretsConfig
from processpype.secrets.manager import create_secrets_manager

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7
GET_ROUNDS = 25
PY_CALLS = 100_000
STARTUP_RUNS = 30


def make_data(d: Path) -> None:
    """The same files for both implementations."""
    with open(d / "cached.yaml", "w") as f:
        for i in range(1000):
            f.write(f"key_{i:05}: value-{i:05}-abcdefghijklmnopqrstuvwxyz\n")
    with open(d / "preload.yaml", "w") as f, open(d / "preload.env", "w") as g:
        for i in range(10_000):
            if i % 10 == 0:
                v = '{"user": "u%05d", "password": "p-%05d-abcdefghijkl"}' % (i, i)
                f.write(f"key_{i:05}: '{v}'\n")
                g.write(f"key_{i:05}='{v}'\n")
            else:
                f.write(f"key_{i:05}: value-{i:05}-abcdefghijklmnopqrstuvwxyz\n")
                g.write(f"key_{i:05}=value-{i:05}-abcdefghijklmnopqrstuvwxyz\n")
    (d / "startup.yaml").write_text(
        "secrets:\n  enabled: true\n  backends:\n    env:\n      type: env\n"
    )


def pp_manager(backend: dict, load: list[str]):
    cfg = SecretsConfig.model_validate(
        {"enabled": True, "backends": {"b": backend}, "load": load}
    )
    return create_secrets_manager(cfg)


def py_cached_get(d: Path, key_count: int) -> tuple[float, float]:
    m = pp_manager({"type": "file", "path": str(d / "cached.yaml")}, ["b:*"])
    keys = [f"b:key_{i:05}" for i in range(key_count)]

    def loop(t: int, out: list) -> None:
        get, n = m.get, len(keys)
        start = time.perf_counter()
        for i in range(PY_CALLS):
            get(keys[(i + t * 7) % n])
        out.append(time.perf_counter() - start)

    best1 = best2 = float("inf")
    for _ in range(GET_ROUNDS):
        out: list = []
        loop(0, out)
        best1 = min(best1, out[0] / PY_CALLS * 1e9)
        out = []
        threads = [threading.Thread(target=loop, args=(t, out)) for t in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        best2 = min(best2, max(out) / PY_CALLS * 1e9)
    return best1, best2


def py_preload(backend: dict) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        m = pp_manager(backend, ["b:*"])
        times.append((time.perf_counter() - start) * 1000)
        assert len(m._cache) == 10_000, len(m._cache)
    return min(times)


def startup(cmd: list[str], env: dict) -> float:
    """Median wall time of a whole process, in ms (first runs warm the disk cache)."""
    for _ in range(3):
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    times = []
    for _ in range(STARTUP_RUNS):
        start = time.perf_counter()
        out = subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
        assert out.stdout.strip() == b"startup-secret", out.stdout
    return statistics.median(times)


def main() -> None:
    binary = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        make_data(d)
        env = dict(os.environ, PP_BENCH_DATA=str(d))
        rust = {}
        out = subprocess.run(
            ["cargo", "bench", "-q", "-p", "pp-secrets", "--bench", "secrets"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                rust[row["name"]] = row["value"]

        py = {}
        for label, count in (("hot10", 10), ("all1000", 1000)):
            py1, py2 = py_cached_get(d, count)
            py[f"cached_get_{label}_1_thread_ns"] = py1
            py[f"cached_get_{label}_2_threads_ns"] = py2
            py[f"cached_get_{label}_2_thread_speedup"] = 2 * py1 / py2
        py |= {
            "preload_yaml_10k_ms": py_preload({"type": "file", "path": str(d / "preload.yaml")}),
            "preload_dotenv_10k_ms": py_preload({"type": "dotenv", "path": str(d / "preload.env")}),
        }

        senv = dict(os.environ, BENCH_SECRET="startup-secret")
        script = (
            "import asyncio\n"
            "from processpype.config.manager import load_config\n"
            "from processpype.secrets.manager import create_secrets_manager\n"
            f"cfg = asyncio.run(load_config({str(d / 'startup.yaml')!r}))\n"
            "print(create_secrets_manager(cfg.secrets).get('env:BENCH_SECRET'))\n"
        )
        rust["startup_ms"] = startup(
            [str(binary), "-c", str(d / "startup.yaml"), "get", "env:BENCH_SECRET"], senv
        )
        py["startup_ms"] = startup([sys.executable, "-c", script], senv)

    rows = []
    for label, what in (("hot10", "10 hot keys"), ("all1000", "1,000 keys")):
        rows += [
            (f"cached `get`, {what}, 1 thread (ns/call)", f"cached_get_{label}_1_thread_ns", "lower", ">= 20x faster"),
            (f"cached `get`, {what}, 2 threads (ns/call per thread)", f"cached_get_{label}_2_threads_ns", "lower", ""),
            (f"cached `get`, {what}: 2-thread throughput / 1-thread", f"cached_get_{label}_2_thread_speedup", "higher", "pp-secrets >= 1.6x"),
        ]
    rows += [
        ("preload 10,000 keys from YAML (ms)", "preload_yaml_10k_ms", "lower", ">= 30x faster"),
        ("preload 10,000 keys from .env (ms)", "preload_dotenv_10k_ms", "lower", ">= 10x faster"),
        ("process start to first secret (ms)", "startup_ms", "lower", ""),
    ]
    print("| measure | pp-secrets | ProcessPype 2.1.3 | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for label, key, better, target in rows:
        r, p = rust[key], py[key]
        if key.endswith("_speedup"):
            ratio = "-"
        else:
            ratio = f"{p / r:.1f}x faster" if better == "lower" else f"{r / p:.1f}x"
        print(f"| {label} | {r:,.2f} | {p:,.2f} | {ratio} | {target} |")


if __name__ == "__main__":
    main()
