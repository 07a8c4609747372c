"""Nothing half-written, nothing left behind: SIGTERM during `survlib run` and `survlib fetch`.

An interrupted run keeps the previous executed notebook and its headlines byte-identical and
leaves no temporary working folder or ``.tmp`` file; an interrupted download leaves no partial
file (pooch's ``tmp*``) and no target in the cache.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SLEEPY = """# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
marker = ""
seconds = 0.0

# %%
import pathlib, time
if marker:
    pathlib.Path(marker).touch()
time.sleep(seconds)
"""


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.communicate()}")
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def _terminate(proc: subprocess.Popen) -> str:
    """Send SIGTERM, wait for the process to exit (killing it if it hangs); its stderr."""
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err


def test_sigterm_during_run_keeps_previous_output_and_leaves_no_temp_files(tmp_path: Path) -> None:
    nb = tmp_path / "90_sleepy.py"
    nb.write_text(SLEEPY)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "sleepy.ipynb"
    headlines = out.with_suffix(".headlines.json")
    out.write_bytes(b'{"previous": "good output"}\n')  # the previous good run
    headlines.write_bytes(b'{"run": {}, "values": {"x": 1}}\n')
    before = (out.read_bytes(), headlines.read_bytes())
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    marker = tmp_path / "started"
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "survlib",
            "run",
            str(nb),
            "-q",
            "-o",
            str(out),
            "-p",
            "marker",
            str(marker),
            "-p",
            "seconds",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        _wait_for(marker, proc)  # the kernel is executing the notebook
    except BaseException:
        proc.kill()
        raise
    err = _terminate(proc)
    assert proc.returncode == 130, err
    # the kernel may log its own interrupted cell; survlib's process prints one line, no traceback
    assert err.strip().splitlines()[-1].startswith("error: interrupted"), err
    assert "survlib/cli.py" not in err and "survlib/runner/" not in err, err
    assert (out.read_bytes(), headlines.read_bytes()) == before
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([out.name, headlines.name])
    assert not [p for p in private_tmp.iterdir() if p.name.startswith("survlib-")]


class _StallingHandler(http.server.BaseHTTPRequestHandler):
    """Sends the headers of a 10 MB file, 64 KB of it, then stalls."""

    sent = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(10_000_000))
        self.end_headers()
        self.wfile.write(b"x" * 65536)
        self.wfile.flush()
        type(self).sent.set()
        time.sleep(20)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def stalling_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StallingHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_sigterm_during_download_leaves_no_partial_file(
    tmp_path: Path, stalling_server: str
) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        f"big:\n  url: {stalling_server}/big.bin\n  hash: null\n  size: 10 MB\n"
        "  licence: CC0\n  citation: none\n  used_by: [01_survival_primer]\n"
    )
    cache = tmp_path / "cache"
    env = {**os.environ, "SURVLIB_DATA_DIR": str(cache)}
    _StallingHandler.sent.clear()
    proc = subprocess.Popen(
        [sys.executable, "-m", "survlib", "fetch", "big", "--manifest", str(manifest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        start = time.monotonic()
        while not (_StallingHandler.sent.is_set() and list(cache.glob("big/tmp*"))):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - start < 60, "the download never started"
            time.sleep(0.05)
        time.sleep(0.2)  # pooch is now inside its streaming loop, its partial file open
    except BaseException:
        proc.kill()
        raise
    err = _terminate(proc)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    left = [p.relative_to(cache).as_posix() for p in cache.rglob("*")]
    assert not [p for p in left if p.startswith("big")], left
