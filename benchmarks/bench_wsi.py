"""Benchmark the slide-to-bag pipeline: patches per second for reading, encoding, and both.

A synthetic slide (``survlib.data.slides.write_synthetic_slide``) is tiled at the requested
magnification; then three timings are taken on the same tissue patches:

- ``read``: ``iter_patches`` alone (OpenSlide read at the chosen level + resize);
- ``encode``: the encoder on patches already in memory;
- ``read_encode``: ``extract_features`` (what a user runs).

Each is repeated and the median reported. The result is a JSON file with the machine, the
library versions, the parameters and the timings::

    .venv/bin/python benchmarks/bench_wsi.py                       # -> benchmarks/results/
    .venv/bin/python benchmarks/bench_wsi.py --slide-size 2048 --out /tmp/wsi.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from survlib import wsi
from survlib._core.io import atomic_write_json
from survlib.bench import machine_info as _machine_info
from survlib.data.slides import write_synthetic_slide

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """Where the numbers were measured (survlib.bench.machine_info + the OpenSlide library)."""
    import openslide

    info = _machine_info(
        (
            "survlib",
            "numpy",
            "scikit-image",
            "openslide-python",
            "openslide-bin",
            "tifffile",
            "h5py",
        )
    )
    info["openslide_library"] = openslide.__library_version__
    return info


def _median_rate(run: Callable[[], int], repeats: int) -> dict[str, float]:
    """Run ``run`` (which returns a patch count) ``repeats`` times; median patches per second."""
    seconds, count = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = run()
        seconds.append(time.perf_counter() - t0)
    median = statistics.median(seconds)
    return {
        "patches": count,
        "seconds_median": median,
        "seconds_all": seconds,
        "patches_per_second": count / median if median > 0 else float("inf"),
    }


def bench(
    slide_size: int,
    magnification: float,
    patch_size: int,
    encoder_name: str,
    batch_size: int,
    repeats: int,
    max_patches: int | None,
    seed: int,
) -> dict[str, Any]:
    """Write a synthetic slide, tile it, and time read / encode / read + encode."""
    encoder = wsi.get_encoder(encoder_name)
    with tempfile.TemporaryDirectory(prefix="bench_wsi_") as tmp:
        t0 = time.perf_counter()
        synthetic = write_synthetic_slide(
            Path(tmp) / "bench.tif", seed=seed, width=slide_size, height=slide_size
        )
        write_seconds = time.perf_counter() - t0
        slide_mb = synthetic.path.stat().st_size / 1e6
        with wsi.Slide(synthetic.path) as slide:
            t0 = time.perf_counter()
            mask = wsi.tissue_mask(slide)
            mask_seconds = time.perf_counter() - t0
            grid = wsi.tile_grid(
                slide, magnification=magnification, patch_size=patch_size, mask=mask
            )
            if max_patches is not None and len(grid) > max_patches:
                grid = wsi.TileGrid(
                    **{
                        **grid.__dict__,
                        "coords": grid.coords[:max_patches],
                        "tissue_fraction": grid.tissue_fraction[:max_patches],
                    }
                )

            def read() -> int:
                return sum(
                    len(b.index)
                    for b in wsi.iter_patches(slide, grid, batch_size=batch_size, progress=False)
                )

            batches = list(wsi.iter_patches(slide, grid, batch_size=batch_size, progress=False))

            def encode() -> int:
                return sum(len(encoder.encode(b)) for b in batches)

            def read_encode() -> int:
                return len(
                    wsi.extract_features(
                        slide, grid, encoder, batch_size=batch_size, progress=False
                    )
                )

            results = {
                "read": _median_rate(read, repeats),
                "encode": _median_rate(encode, repeats),
                "read_encode": _median_rate(read_encode, repeats),
            }
            geometry = {
                "n_patches": len(grid),
                "level": grid.level,
                "read_size": grid.read_size,
                "size_level0": grid.size_level0,
            }
    return {
        "slide": {
            "size": slide_size,
            "file_mb": slide_mb,
            "write_seconds": write_seconds,
            "tissue_mask_seconds": mask_seconds,
            **geometry,
        },
        "encoder": {"name": encoder.name, "version": encoder.version, "dim": encoder.dim},
        "results": results,
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--slide-size", type=int, default=4096, help="level-0 side of the synthetic slide (px)"
    )
    parser.add_argument("--magnification", type=float, default=20.0)
    parser.add_argument("--patch-size", type=int, default=256)
    parser.add_argument("--encoder", default="handcrafted", help="handcrafted | uni | conch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-patches", type=int, default=None, help="cap on patches timed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default benchmarks/results/)"
    )
    args = parser.parse_args(argv)

    record = {
        "benchmark": "bench_wsi",
        "timestamp": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        **bench(
            args.slide_size,
            args.magnification,
            args.patch_size,
            args.encoder,
            args.batch_size,
            args.repeats,
            args.max_patches,
            args.seed,
        ),
    }
    out = args.out
    if out is None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = RESULTS_DIR / f"bench_wsi_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, record)
    rates = {k: round(v["patches_per_second"], 1) for k, v in record["results"].items()}
    print(
        f"bench_wsi: {record['slide']['n_patches']} patches of {args.patch_size} px at "
        f"{args.magnification:g}x; patches/s {rates} -> {out}"
    )
    return out


if __name__ == "__main__":
    main()
