"""Cost of the Wasm backend (issue 4) and of Wasm apps' secrets import
(issue 6), run through bench/run.sh wasm.

Runs the `wasm` bench binary (warm calls against the same provider code
compiled natively, in-process loads with an empty and a warm compile
cache), then whole `pp-secrets get` processes: a secret served by the dir
provider component (warm compile cache) against the same secret from a
native `file` backend. Prints a Markdown table.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30


def bench_binary() -> dict:
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "pp-secrets", "--bench", "wasm"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return {r["name"]: r["value"] for r in map(json.loads, out.splitlines()) if r}


def process_ms(cmd: list[str]) -> tuple[float, float]:
    """Best and median wall time of RUNS runs, in ms."""
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - t) * 1e3)
    return min(times), statistics.median(times)


def main() -> None:
    binary = sys.argv[1]
    r = bench_binary()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "mount").mkdir()
        (d / "mount" / "token").write_text("t0ken-abcdefghijklmnopqrstuvwxyz")
        (d / "secrets.yaml").write_text("token: t0ken-abcdefghijklmnopqrstuvwxyz\n")
        wasm = ROOT / "target/wasm32-wasip2/release/pp_secrets_dir_provider.wasm"
        (d / "config.yaml").write_text(
            "secrets:\n  enabled: true\n  wasm_cache: cache\n  backends:\n"
            f"    mounted:\n      type: wasm\n      path: {wasm}\n"
            f"      config: {{ dir: {d / 'mount'} }}\n      allow: {{ dirs: [{d / 'mount'}] }}\n"
            "    local:\n      type: file\n      path: secrets.yaml\n"
        )
        (d / "native.yaml").write_text(
            "secrets:\n  enabled: true\n  backends:\n"
            "    local:\n      type: file\n      path: secrets.yaml\n"
        )
        wasm_proc = process_ms([binary, "-c", str(d / "config.yaml"), "get", "mounted:token"])
        native_proc = process_ms([binary, "-c", str(d / "native.yaml"), "get", "local:token"])

    rows = [
        ("warm `get_raw`, dir provider component", f"{r['dir_get_wasm_ns']:.0f} ns", ""),
        ("warm `get_raw`, same provider code native", f"{r['dir_get_native_ns']:.0f} ns", ""),
        ("overhead per call (dir provider)", f"{r['dir_get_overhead_ns']:.0f} ns", "<= 1,000 ns"),
        ("warm `get_raw`, dir provider built against WIT 0.2.0",
         f"{r['dir_get_0_2_0_ns']:.0f} ns", ""),
        ("warm `get_raw`, the same provider built against WIT 0.1.0",
         f"{r['dir_get_0_1_0_ns']:.0f} ns", ""),
        ("0.2.0 / 0.1.0", f"{r['dir_get_0_2_0_ns'] / r['dir_get_0_1_0_ns']:.2f}", ""),
        ("warm `get_raw`, no-I/O guest call", f"{r['bare_get_wasm_ns']:.0f} ns", ""),
        ("warm `get_raw`, same work native", f"{r['bare_get_native_ns']:.0f} ns", ""),
        ("overhead per call (no I/O)", f"{r['bare_get_overhead_ns']:.0f} ns", "<= 1,000 ns"),
        ("load a backend, empty compile cache", f"{r['load_empty_cache_ms']:.1f} ms", ""),
        ("load a backend, warm compile cache", f"{r['load_warm_cache_ms']:.2f} ms", "<= 5 ms"),
        ("load + first call (instantiate, setup), warm cache",
         f"{r['load_and_first_get_warm_cache_ms']:.2f} ms", ""),
        ("app: cached `get` through the manager import", f"{r['app_get_import_ns']:.0f} ns", ""),
        ("same cached `get` from Rust", f"{r['app_get_rust_ns']:.0f} ns", ""),
        ("overhead per call (app import)", f"{r['app_get_overhead_ns']:.0f} ns", "<= 1,000 ns"),
        ("process: `pp-secrets get` from the component, warm cache (best / median)",
         f"{wasm_proc[0]:.1f} / {wasm_proc[1]:.1f} ms", ""),
        ("process: `pp-secrets get` from a native file backend (best / median)",
         f"{native_proc[0]:.1f} / {native_proc[1]:.1f} ms", ""),
    ]
    print("| figure | value | target |")
    print("|---|---|---|")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
