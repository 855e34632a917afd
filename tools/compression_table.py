"""Collect the ``python -m minitorch_cnn.compress`` results into BENCHMARKS.md ("Reduced complexity").

    .venv/bin/python tools/compression_table.py runs/compress

reads ``<dir>/<row>.json`` for the rows of ``ROWS`` (whichever exist) and writes one
table: file size on disk, ratio against the float32 ``.npz``, non-zero weights, mult-adds per image
and test accuracy, plus the command that produced each row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import md_table, write_section  # noqa: E402

ROWS = [("float", "float32 model (np.savez of the state dict)"),
        ("prune_cubic", "(a) 90% pruning: cubic schedule, convs at 50%, 4 x 700 augmented batches, cosine lr"),
        ("prune", "(a1) 90% global magnitude pruning, equal steps, 3 x 150 batches"),
        ("prune_long", "(a2) 90% global magnitude pruning, equal steps, 4 x 450 batches"),
        ("prune_800", "(a3) 90% global magnitude pruning, equal steps, 4 x 800 batches"),
        ("int8", "(b) int8 weights and activations"),
        ("kmeans_cubic", "(c) (a) + k-means 4-bit shared weights"),
        ("kmeans", "(c1) (a1) + k-means 4-bit shared weights"),
        ("kmeans_long", "(c2) (a2) + k-means 4-bit shared weights"),
        ("kmeans_800", "(c3) (a3) + k-means 4-bit shared weights"),
        ("binarize", "(d) binary weights (BWN), first and last layer float"),
        ("sparse", "pre-defined sparse, trained from scratch"),
        ("dense2", "dense, trained from scratch with the sparse row's budget")]
HEADING = "## Reduced complexity (python -m minitorch_cnn.compress)"
BASELINE = ("python -m minitorch_cnn.train --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist --epochs 15 "
            "--batch-size 128 --lr 2e-3 --scheduler onecycle --augment --out runs/fmnist-cnn --no-progress")


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "runs/compress")
    results = {k: json.loads((folder / f"{k}.json").read_text()) for k, _ in ROWS if (folder / f"{k}.json").exists()}
    if "float" not in results:
        print(f"error: {folder / 'float.json'} is missing; run the 'float' command first", file=sys.stderr)
        return 2
    ref = results["float"]["file_bytes"]
    body, commands = [], []
    for key, label in ROWS:
        if key not in results:
            continue
        r = results[key]
        t = r["total"]
        body.append([label, f"{r['file_bytes']:,}", f"{ref / r['file_bytes']:.1f}x", f"{t['nonzeros']:,}",
                     f"{t['mult_adds'] / 1e6:.1f} M", f"{100 * r['accuracy']:.2f}%"])
        commands.append(f"    {r['command']}")
    commands.insert(0, "    " + BASELINE + "   # the float model, trained once")
    limits = {c.split("--test-limit ")[1].split()[0] for c in commands if "--test-limit " in c}
    note = (f"Test accuracy on the first {', '.join(sorted(limits))} test images" if limits else
            "Test accuracy on the 10,000 test images") + "; the training budgets are in the commands below."
    text = "\n".join([HEADING, "", note, "", *md_table(["model", "file on disk (bytes)", "ratio", "non-zero weights",
                                              "mult-adds / image", "test accuracy"], body),
                      "", "Commands:", "", *commands])
    write_section(Path(__file__).resolve().parents[1] / "BENCHMARKS.md", HEADING, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
