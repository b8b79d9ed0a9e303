"""AWS preload benchmark: pp-secrets against ProcessPype 2.1.3 with boto3.

Both load the same 1,000 secrets (`aws:*` under a prefix) from one moto
server, through a small proxy that counts the API calls each makes. Each is
timed as a whole process (`pp-secrets load`; a Python script that builds
ProcessPype's manager with the same declaration). Prints a Markdown table.
"""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

SECRETS = 1000
PREFIX = "bench/app"
RUST_RUNS = 7
PY_RUNS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingProxy:
    """Forwards requests to moto and counts them by X-Amz-Target."""

    def __init__(self, upstream_port: int) -> None:
        self.calls: Counter = Counter()
        lock = threading.Lock()
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                op = self.headers.get("X-Amz-Target", "unknown").rsplit(".", 1)[-1]
                with lock:
                    calls[op] += 1
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> Counter:
        snapshot = Counter(self.calls)
        self.calls.clear()
        return snapshot


def main() -> None:
    binary, moto_server = sys.argv[1], sys.argv[2]
    port = free_port()
    moto = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
        )
        os.environ.update(env)
        admin = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{port}")
        for i in range(SECRETS):
            value = '{"user": "u%04d", "password": "p%04d"}' % (i, i) if i % 10 == 0 else f"value-{i:04}"
            admin.create_secret(Name=f"{PREFIX}/key_{i:04}", SecretString=value)

        proxy = CountingProxy(port)
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "config.yaml"
            cfg.write_text(
                "secrets:\n  enabled: true\n  backends:\n    aws:\n      type: aws\n"
                f"      region_name: us-east-1\n      endpoint_url: {proxy.endpoint}\n"
                f"      prefix: {PREFIX}\n  load: [\"aws:*\"]\n"
            )
            rust_times, rust_calls = [], None
            for _ in range(RUST_RUNS):
                start = time.perf_counter()
                out = subprocess.run([binary, "-c", str(cfg), "load"], env=env, check=True, capture_output=True, text=True)
                rust_times.append(time.perf_counter() - start)
                assert out.stdout.strip() == f"aws:*\t{SECRETS} matched, {SECRETS} loaded", out.stdout
                rust_calls = proxy.take()

        script = (
            "from processpype.config.models import SecretsConfig\n"
            "from processpype.secrets.manager import create_secrets_manager\n"
            "cfg = SecretsConfig.model_validate({'enabled': True, 'backends': {'aws': {'type': 'aws', "
            f"'region_name': 'us-east-1', 'prefix': {PREFIX!r}}}}}, 'load': ['aws:*']}})\n"
            "m = create_secrets_manager(cfg)\n"
            f"assert len(m._cache) == {SECRETS}, len(m._cache)\n"
        )
        py_env = dict(env, AWS_ENDPOINT_URL=proxy.endpoint)
        py_times, py_calls = [], None
        for _ in range(PY_RUNS):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", script], env=py_env, check=True, capture_output=True)
            py_times.append(time.perf_counter() - start)
            py_calls = proxy.take()
    finally:
        moto.kill()

    def fmt(c: Counter) -> str:
        return ", ".join(f"{n} {op}" for op, n in sorted(c.items()))

    r_total, p_total = sum(rust_calls.values()), sum(py_calls.values())
    r_time, p_time = statistics.median(rust_times), statistics.median(py_times)
    print(f"| preload of {SECRETS:,} secrets (`aws:*` under a prefix), moto | pp-secrets | ProcessPype 2.1.3 + boto3 | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| API calls | {r_total} | {p_total} | 1/{p_total / r_total:.1f} | at most 1/15 |")
    print(f"| wall time, whole process (s, median of {RUST_RUNS} / {PY_RUNS}) | {r_time:.3f} | {p_time:.3f} | {p_time / r_time:.1f}x faster | at least 5x faster |")
    print()
    print(f"pp-secrets calls: {fmt(rust_calls)}; ProcessPype calls: {fmt(py_calls)}")


if __name__ == "__main__":
    main()
