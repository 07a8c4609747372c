"""Shared pytest fixtures.

Keep this file to fixtures used by more than one test module (or that are naturally shared,
like the local HTTP server); one section per concern, each fixture documented.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# --------------------------------------------------------------------------------------------
# Local HTTP server (real downloads without the internet)
# --------------------------------------------------------------------------------------------


@dataclass
class LocalHTTPServer:
    """A real HTTP server on 127.0.0.1 serving the files in ``root``.

    Attributes:
        root: the folder served; write files into it (or use :meth:`serve`).
        base_url: ``http://127.0.0.1:<port>``.
        requests: the request paths received so far (e.g. ``"/signatures.csv"``), in order.
    """

    root: Path
    base_url: str
    requests: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        """URL of the file ``name`` (relative to ``root``)."""
        return f"{self.base_url}/{name}"

    def serve(self, name: str, content: bytes) -> str:
        """Write ``content`` to ``root / name`` (replacing it) and return its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return self.url(name)

    def hits(self, name: str) -> int:
        """How many GET requests asked for ``name``."""
        return self.requests.count(f"/{name}")


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a directory, records each request path, and logs nothing."""

    def __init__(self, *args: object, record: list[str], **kwargs: object) -> None:
        self._record = record
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        self._record.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHTTPServer]:
    """Start an HTTP server on 127.0.0.1 (free port, background thread) serving a tmp folder.

    Proxies are bypassed for 127.0.0.1 so requests reaches the server even where
    ``HTTP_PROXY`` is set.
    """
    root = tmp_path / "served"
    root.mkdir()
    record: list[str] = []
    handler = functools.partial(_RecordingHandler, record=record, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    host, port = server.server_address[:2]
    try:
        yield LocalHTTPServer(root=root, base_url=f"http://{host}:{port}", requests=record)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL on 127.0.0.1 whose port has nothing listening (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    return f"http://127.0.0.1:{port}/unreachable.csv"


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module of tiny-tensor model tests on one thread (faster than two: no sync cost).

    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --------------------------------------------------------------------------------------------
# Synthetic whole-slide images (tests/wsi, tests/plots, tests/data)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory):
    """One small synthetic slide (40x, 0.25 um/px, levels 1/4/16, 2048 px) shared by the tests."""
    from survlib.data.slides import write_synthetic_slide

    path = tmp_path_factory.mktemp("slides") / "synthetic.tif"
    return write_synthetic_slide(path, seed=3, width=2048, height=2048)


@pytest.fixture(scope="session")
def small_features(synthetic):
    """The first 12 tissue patches of ``synthetic`` (20x, 128 px) and their handcrafted features."""
    from survlib import wsi

    with wsi.Slide(synthetic.path) as slide:
        mask = wsi.tissue_mask(slide, downsample=16)
        grid = wsi.tile_grid(slide, magnification=20, patch_size=128, mask=mask)
        grid = wsi.TileGrid(
            **{
                **grid.__dict__,
                "coords": grid.coords[:12],
                "tissue_fraction": grid.tissue_fraction[:12],
            }
        )
        feats = wsi.extract_features(
            slide, grid, wsi.HandcraftedEncoder(), progress=False, patient_id="P1"
        )
    return grid, feats
