"""One provider per language (issue: Rust, Python, JavaScript providers
compared), run as `python3 bench/provider_languages.py target/release/pp-secrets`
or through `bench/run.sh languages`. Prints a Markdown table.

The providers, as `bash tests/run.sh` builds them:

- Rust: the `dir` provider, target/wasm32-wasip2/release/pp_secrets_dir_provider.wasm
  (one file per secret);
- Python: the `json` provider, target/components/json_provider.wasm (a
  JSON object file);
- JavaScript: the `ini` provider, target/components/ini_provider.wasm
  (`key = "value"` lines).

Each serves the same ten secrets (`db_password` = `hunter2` and nine
others) from its own directory, with default limits, as backend `b`.
Whole processes are `pp-secrets -c CONFIG get b:db_password`, timed from
spawn to exit, the languages interleaved round by round:

- size: bytes of the component file, and of its compiled code in the
  compile cache;
- first load: the process with `wasm_cache` a fresh, empty directory, so
  that it compiles the component (COLD_RUNS runs each);
- warm load: the same process with a warm compile cache (WARM_RUNS runs
  each); a native `file` backend's process is the baseline;
- memory: the smallest `limits.memory_mb` (whole MiB) with which that
  process's first get succeeds (a binary search, warm cache): what the
  host's limit counts, the instance's linear memories and tables and the
  host memory held for it; and the process's peak RSS with the defaults
  (warm cache), from `/usr/bin/time -f %M` in runs of their own beside the
  timed ones, less the native `file` backend's (without /usr/bin/time,
  `wait4`'s `ru_maxrss`, which also counts the forking Python's pages);
- in-process (host/benches/languages.rs, through `cargo bench`): the first
  `get` after building a manager from a warm cache (instantiation, the
  provider's set-up, the call), and a warm `get` on a live instance with
  the manager's cache off.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_RUNS = int(os.environ.get("PP_BENCH_COLD_RUNS", "3"))
WARM_RUNS = int(os.environ.get("PP_BENCH_WARM_RUNS", "20"))
KEY = "b:db_password"
DEFAULT_MEMORY_MB = 64
DEFAULT_TIMEOUT_MS = 1000

LANGS = {
    "rust": ("Rust (dir)", ROOT / "target/wasm32-wasip2/release/pp_secrets_dir_provider.wasm"),
    "python": ("Python (json)", ROOT / "target/components/json_provider.wasm"),
    "js": ("JavaScript (ini)", ROOT / "target/components/ini_provider.wasm"),
}
SECRETS = {"db_password": "hunter2"} | {
    f"secret_{i:02}": f"value-{i:02}-abcdefghijklmnopqrstuvwxyz" for i in range(1, 10)
}


def write_data(work: Path) -> dict[str, tuple[str, str]]:
    """Each language's data under `work`; its backend `config` and `allow`
    as YAML flow mappings."""
    for lang in LANGS:
        (work / lang).mkdir()
    for name, value in SECRETS.items():
        (work / "rust" / name).write_text(value)
    (work / "python" / "secrets.json").write_text(json.dumps(SECRETS))
    (work / "js" / "secrets.ini").write_text(
        "".join(f'{k} = "{v}"\n' for k, v in SECRETS.items())
    )
    (work / "native.yaml").write_text(
        "".join(f"{k}: {v}\n" for k, v in SECRETS.items())
    )
    q = json.dumps
    return {
        "rust": (f"{{ dir: {q(str(work / 'rust'))} }}", f"{{ dirs: [{q(str(work / 'rust'))}] }}"),
        "python": (
            f"{{ file: {q(str(work / 'python' / 'secrets.json'))} }}",
            f"{{ dirs: [{q(str(work / 'python'))}] }}",
        ),
        "js": (
            f"{{ file: {q(str(work / 'js' / 'secrets.ini'))} }}",
            f"{{ dirs: [{q(str(work / 'js'))}] }}",
        ),
    }


def write_config(path: Path, lang: str, setting: tuple[str, str], cache: Path,
                 memory_mb: int | None = None) -> Path:
    config, allow = setting
    limits = f"      limits: {{ memory_mb: {memory_mb} }}\n" if memory_mb else ""
    path.write_text(
        "secrets:\n  enabled: true\n"
        f"  wasm_cache: {json.dumps(str(cache))}\n  backends:\n"
        f"    b:\n      type: wasm\n      path: {json.dumps(str(LANGS[lang][1]))}\n"
        f"      config: {config}\n      allow: {allow}\n{limits}"
    )
    return path


TIME = Path("/usr/bin/time")


def run(cmd: list[str]) -> tuple[bool, float, int, str]:
    """Runs `cmd`: whether it exited 0, its wall time in ms, its peak RSS in
    KiB (`wait4`'s, which counts the pages of this Python process it was
    forked from), its stderr."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = (time.perf_counter() - started) * 1e3
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return status == 0, elapsed, usage.ru_maxrss, err.read().decode(errors="replace")


def checked(cmd: list[str]) -> float:
    """Wall time of `cmd` in ms; exits when it fails."""
    ok, ms, _, err = run(cmd)
    if not ok:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return ms


def peak_rss_kib(cmd: list[str]) -> int:
    """Peak RSS of `cmd` in KiB: from /usr/bin/time, which forks it from a
    small process, else from `wait4`."""
    if not TIME.exists():
        ok, _, kib, err = run(cmd)
        if not ok:
            sys.exit(f"{' '.join(cmd)} failed:\n{err}")
        return kib
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run([str(TIME), "-f", "%M", "-o", out.name, *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(out.read().split()[-1])


def cache_bytes(cache: Path) -> int:
    """Bytes of the compiled entries in a compile cache (not its key)."""
    return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file() and p.name != "key")


def smallest_memory_mb(binary: str, work: Path, lang: str, setting, cache: Path):
    """The smallest memory_mb (whole MiB) with which the first get
    succeeds, and the error of the largest that fails."""
    config = work / f"mem-{lang}.yaml"

    def fits(mb: int) -> tuple[bool, str]:
        write_config(config, lang, setting, cache, memory_mb=mb)
        ok, _, _, err = run([binary, "-c", str(config), "get", KEY])
        return ok, err

    if fits(1)[0]:
        return 1, ""
    lo, hi = 1, DEFAULT_MEMORY_MB  # lo fails
    while not fits(hi)[0]:
        lo, hi = hi, hi * 2
        if hi > 4096:
            sys.exit(f"{lang}: the first get fails even with memory_mb 4096")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid)[0]:
            hi = mid
        else:
            lo = mid
    # Confirm the boundary once more, and keep the failing run's error.
    ok_hi, _ = fits(hi)
    ok_lo, err = fits(lo)
    if not ok_hi or ok_lo:
        print(f"warning: {lang}: memory_mb boundary {lo}/{hi} did not repeat", file=sys.stderr)
    last = [line for line in err.splitlines() if line.strip()]
    return hi, last[-1] if last else ""


def in_process(cache: Path) -> dict:
    env = dict(os.environ, PP_BENCH_WASM_CACHE=str(cache))
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "pp-secrets", "--bench", "languages"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return {r["name"]: r["value"] for r in map(json.loads, filter(None, out.splitlines()))}


def main() -> None:
    binary = str(Path(sys.argv[1]).resolve())
    for lang, (_, component) in LANGS.items():
        if not component.exists():
            sys.exit(f"{component} is missing: build it first (bash tests/run.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = write_data(work)
        warm = work / "warm"
        warm.mkdir(mode=0o700)
        native = work / "native-config.yaml"
        native.write_text(
            "secrets:\n  enabled: true\n  backends:\n"
            f"    b:\n      type: file\n      path: {json.dumps(str(work / 'native.yaml'))}\n"
        )

        # First load: a fresh compile cache every run; the last round's
        # caches become the warm ones.
        cold: dict[str, list[float]] = {lang: [] for lang in LANGS}
        for r in range(COLD_RUNS):
            for lang in LANGS:
                cache = warm / lang if r == COLD_RUNS - 1 else work / f"cold-{lang}"
                shutil.rmtree(cache, ignore_errors=True)
                config = write_config(work / f"cold-{lang}.yaml", lang, settings[lang], cache)
                ms = checked([binary, "-c", str(config), "get", KEY])
                cold[lang].append(ms)
                print(f"first load {lang} run {r + 1}: {ms / 1e3:.1f} s", file=sys.stderr)
            for lang in LANGS:
                shutil.rmtree(work / f"cold-{lang}", ignore_errors=True)

        # Warm load, with the default limits.
        configs = {
            lang: write_config(work / f"warm-{lang}.yaml", lang, settings[lang], warm / lang)
            for lang in LANGS
        }
        for lang, config in configs.items():
            out = subprocess.run([binary, "-c", str(config), "get", KEY], check=True,
                                 capture_output=True, text=True).stdout
            if out.strip() != "hunter2":
                sys.exit(f"{lang}: unexpected value {out!r}")
        warm_ms: dict[str, list[float]] = {lang: [] for lang in [*LANGS, "native"]}
        rss: dict[str, list[int]] = {lang: [] for lang in [*LANGS, "native"]}
        for _ in range(WARM_RUNS):
            for lang in warm_ms:
                config = native if lang == "native" else configs[lang]
                warm_ms[lang].append(checked([binary, "-c", str(config), "get", KEY]))
                rss[lang].append(peak_rss_kib([binary, "-c", str(config), "get", KEY]))

        memory = {
            lang: smallest_memory_mb(binary, work, lang, settings[lang], warm / lang)
            for lang in LANGS
        }
        for lang, (mb, err) in memory.items():
            print(f"{lang}: memory_mb {mb}; at {mb - 1}: {err}", file=sys.stderr)
        sizes = {lang: LANGS[lang][1].stat().st_size for lang in LANGS}
        compiled = {lang: cache_bytes(warm / lang) for lang in LANGS}

        r = in_process(warm)

    med = statistics.median

    def ratios(values: dict[str, float]) -> list[str]:
        if values["rust"] <= 0:
            return ["n/a", "n/a"]
        return [f"{values[lang] / values['rust']:.1f}" for lang in ("python", "js")]

    rows = []

    def row(name: str, cells: dict[str, str], values: dict[str, float]) -> None:
        rows.append([name, *(cells[lang] for lang in LANGS), *ratios(values)])

    row("component size (bytes)", {k: f"{v:,}" for k, v in sizes.items()}, sizes)
    row("compiled code in the compile cache (bytes)",
        {k: f"{v:,}" for k, v in compiled.items()}, compiled)
    row(f"first load, empty compile cache: process `get`, median (min-max) of {COLD_RUNS}",
        {k: f"{med(v) / 1e3:.1f} s ({min(v) / 1e3:.1f}-{max(v) / 1e3:.1f})" for k, v in cold.items()},
        {k: med(v) for k, v in cold.items()})
    row(f"warm load: process `get`, warm compile cache, best / median of {WARM_RUNS}",
        {k: f"{min(warm_ms[k]):.1f} / {med(warm_ms[k]):.1f} ms" for k in LANGS},
        {k: med(warm_ms[k]) for k in LANGS})
    row("first `get` in-process, warm compile cache (instantiate, set-up, call), best / median",
        {k: f"{r[f'first_get_{k}_ms_best']:.2f} / {r[f'first_get_{k}_ms_median']:.2f} ms"
         for k in LANGS},
        {k: r[f"first_get_{k}_ms_median"] for k in LANGS})
    row("warm `get` in-process (one `stat`, value held), best round",
        {k: f"{r[f'warm_get_{k}_ns'] / 1e3:.1f} µs" for k in LANGS},
        {k: r[f"warm_get_{k}_ns"] for k in LANGS})
    row("smallest `limits.memory_mb` for the first `get` (default 64)",
        {k: f"{v[0]} MiB" for k, v in memory.items()},
        {k: v[0] for k, v in memory.items()})
    row("peak RSS of the `pp-secrets get` process, warm cache, median",
        {k: f"{med(rss[k]) / 1024:.1f} MiB" for k in LANGS},
        {k: med(rss[k]) for k in LANGS})
    above = {k: med(rss[k]) - med(rss["native"]) for k in LANGS}
    row("the same, above the native `file` backend's process",
        {k: f"{v / 1024:.1f} MiB" for k, v in above.items()}, above)

    print("| figure | " + " | ".join(name for name, _ in LANGS.values())
          + " | Python / Rust | JS / Rust |")
    print("|---|" + "---:|" * (len(LANGS) + 2))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    print()
    print(f"Baseline, a native `file` backend (no Wasm): process `get` best / median "
          f"{min(warm_ms['native']):.1f} / {med(warm_ms['native']):.1f} ms, "
          f"peak RSS {med(rss['native']) / 1024:.1f} MiB"
          f"{'' if TIME.exists() else ' (wait4: counts the forking Python)'}.")
    fit_memory = all(mb <= DEFAULT_MEMORY_MB for mb, _ in memory.values())
    worst_first = max(r[f"first_get_{k}_ms_median"] for k in LANGS)
    print(f"Default limits (memory_mb {DEFAULT_MEMORY_MB}, timeout_ms {DEFAULT_TIMEOUT_MS}): "
          f"every run above used them; memory {'fits' if fit_memory else 'does NOT fit'}, "
          f"slowest median first get {worst_first:.1f} ms.")


if __name__ == "__main__":
    main()
