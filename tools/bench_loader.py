"""Benchmark ``minitorch_cnn.utils.data.DataLoader``: one epoch of the train CLI's augmented input,
``num_workers=0`` vs ``num_workers=2``.

    python tools/bench_loader.py                 # prints the table
    python tools/bench_loader.py --write         # ... and appends it to BENCHMARKS.md

Data: the built-in data set (``GlyphsInClutter``, the train CLI's default size, seed 0) with the
pipeline ``python -m minitorch_cnn.train --augment`` builds: ``T.image_transforms(normalize,
augment=True, flip=False)`` = ToTensor -> RandomCrop(28, padding=2) -> Normalize (no flip on the
built-in set). One epoch = ``DataLoader(ds, batch_size=128, shuffle=True, num_workers=w)`` iterated
to the end, worker start-up included; batches built by ``get_batch`` (the fast path) or, with
``collate_fn=default_collate``, sample by sample. Method:
every round starts one fresh child process per setting, alternating; cells are medians over the
rounds (min-max).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def child(workers: int, per_sample: bool) -> dict:
    import numpy as np

    from minitorch_cnn.data import GlyphsInClutter
    from minitorch_cnn.data import transforms as T
    from minitorch_cnn.train import BUILTIN_DEFAULT_TRAIN_SIZE
    from minitorch_cnn.utils.data import DataLoader, default_collate

    ds = GlyphsInClutter(train=True, size=BUILTIN_DEFAULT_TRAIN_SIZE, seed=0)
    pixels = ds.data
    ds.transform = T.image_transforms((float(pixels.mean() / 255), float(pixels.std() / 255)), augment=True, flip=False)
    collate = default_collate if per_sample else None  # a collate_fn turns the get_batch fast path off
    loader = DataLoader(ds, batch_size=128, shuffle=True, num_workers=workers, generator=0, collate_fn=collate)
    start = time.perf_counter()
    n = 0
    for images, _labels in loader:
        n += images.shape[0]
    seconds = time.perf_counter() - start
    assert n == len(ds) and np.isfinite(seconds)
    return {"seconds": seconds, "images": n, "batches": len(loader)}


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    import os

    return f"{model}, {len(os.sched_getaffinity(0))} cores"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--write", action="store_true", help="append the table to BENCHMARKS.md")
    p.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child[0], bool(args.child[1]))))
        return
    settings = ((0, 0), (2, 0), (0, 1), (2, 1))  # (num_workers, per-sample path)
    results: dict[tuple, list[dict]] = {w: [] for w in settings}
    for r in range(args.rounds):
        for w in settings:
            out = subprocess.run([sys.executable, __file__, "--child", str(w[0]), str(w[1])], capture_output=True, text=True,
                                 cwd=REPO, check=True).stdout
            results[w].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {r + 1}: num_workers, per-sample={w}: {results[w][-1]['seconds']:.3f} s", file=sys.stderr)
    first = results[settings[0]][0]
    lines = [
        "",
        "## DataLoader workers (tools/bench_loader.py)",
        "",
        f"{machine()}; {datetime.date.today().isoformat()}; Python {sys.version.split()[0]}. One epoch of the",
        f"built-in data set ({first['images']} images, {first['batches']} batches of 128, shuffled) through the",
        "train CLI's `--augment` pipeline (ToTensor -> RandomCrop(28, padding=2) -> Normalize); batches built",
        "by one `get_batch` call (fast path) or per sample + `default_collate` (`collate_fn=` given); worker",
        f"start-up included. Median of {args.rounds} fresh processes per setting, alternating (min-max).",
        "",
        "| batches built | num_workers | epoch (s) | images/s | vs num_workers=0 |",
        "|---|---|---|---|---|",
    ]
    for w in settings:
        secs = [x["seconds"] for x in results[w]]
        med = statistics.median(secs)
        base = statistics.median(x["seconds"] for x in results[(0, w[1])])
        path = "per sample" if w[1] else "`get_batch`"
        lines.append(f"| {path} | {w[0]} | {med:.3f} ({min(secs):.3f}-{max(secs):.3f}) | {first['images'] / med:,.0f} | "
                     f"{base / med:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        with open(REPO / "BENCHMARKS.md", "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
