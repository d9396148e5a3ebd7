#!/usr/bin/env python
"""GPU check, part 2: one epoch of the paper's MLP on GPU and CPU from one seed, compared.

The MLP is 784-1000-10 with a sigmoid hidden layer, softmax cross-entropy, SGD lr 0.01,
batch 100 (the DeZero/Chainer MNIST example). Each run starts from the same host-side
initial weights and sees the same batches, so the GPU run must reproduce the CPU run:
per-step losses within ``--rtol`` over the first ``--compare-steps`` steps and final test
accuracy within ``--acc-tol`` points. It prints a Markdown table of epoch times (a
hand-written NumPy/CuPy MLP as the floor, PyTorch CUDA when torch is importable).

The dezero framework run needs ``dezero.nn`` and ``dezero.data``; if they cannot be
imported the script says so and compares the hand-written reference MLP instead.
``--cpu-only`` replaces the GPU by a second CPU run, a dry run of everything but CUDA.

Exit status: 0 all checks passed, 1 a check failed, 2 could not run (no data, no GPU).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Debian's dataset-fashion-mnist package installs here (see ARCHITECTURE.md).
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
HIDDEN, CLASSES, BATCH, LR = 1000, 10, 100, 0.01


# ---------------------------------------------------------------- data


def _read_idx(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_data(args: argparse.Namespace) -> tuple[tuple[np.ndarray, ...], str]:
    """(x_train, t_train, x_test, t_test) as float32 in [0, 1] / int64, and where from."""
    candidates = [Path(args.data)] if args.data else []
    candidates += [ROOT / ".data" / "fashion-mnist", ROOT / ".data" / "mnist", SYSTEM_FASHION]
    for folder in candidates:
        paths = {k: _find_idx(folder, v) for k, v in IDX_FILES.items()}
        if all(paths.values()):
            a = {k: _read_idx(p) for k, p in paths.items() if p is not None}
            data = (
                a["train_x"].reshape(len(a["train_x"]), -1).astype(np.float32) / 255.0,
                a["train_y"].astype(np.int64),
                a["test_x"].reshape(len(a["test_x"]), -1).astype(np.float32) / 255.0,
                a["test_y"].astype(np.int64),
            )
            return data, f"IDX files in {folder.name}/"
    try:  # the MNIST sample bundled with dezero-data (5,000 images)
        from dezero.data.datasets import MNISTSample

        tr, te = MNISTSample(train=True), MNISTSample(train=False)
        data = tuple(
            np.asarray(v)
            for v in (tr.data, tr.label, te.data, te.label)  # type: ignore[attr-defined]
        )
        xtr, ttr, xte, tte = data
        xtr = xtr.reshape(len(xtr), -1).astype(np.float32)
        xte = xte.reshape(len(xte), -1).astype(np.float32)
        if xtr.max() > 1.0:
            xtr, xte = xtr / 255.0, xte / 255.0
        return (xtr, ttr.astype(np.int64), xte, tte.astype(np.int64)), "dezero MNISTSample"
    except Exception as e:
        searched = ", ".join(str(c) for c in candidates)
        raise SystemExit(
            f"gpu_check_train: no data. Copy the four Fashion-MNIST IDX files into "
            f".data/fashion-mnist/ (searched: {searched}); MNISTSample failed too: {e}"
        ) from None


# ---------------------------------------------------------------- devices


def _cupy() -> Any:
    import cupy

    return cupy


def sync(device: str) -> None:
    if device.startswith("cuda"):
        _cupy().cuda.Device().synchronize()


def gpu_name() -> str:
    try:
        cupy = _cupy()
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception as e:
        return f"unknown GPU ({e})"


# ---------------------------------------------------------------- runs


@dataclass
class Run:
    impl: str
    device: str
    epoch_s: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # the first steps of epoch 1
    accuracy: float = float("nan")  # test accuracy after epoch 1, in percent
    init: list[np.ndarray] = field(default_factory=list)  # initial weights, host copies
    error: str = ""


def _own_batches(n: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    order = np.random.default_rng([seed, epoch]).permutation(n)
    for i in range(0, n, BATCH):
        yield order[i : i + BATCH]


def reference_run(data: tuple[np.ndarray, ...], device: str, args: argparse.Namespace) -> Run:
    """The MLP written by hand with NumPy or CuPy: the floor and the fallback."""
    xp: Any = np if device == "cpu" else _cupy()
    xtr, ttr, xte, tte = data
    rng = np.random.default_rng(args.seed)
    host = [
        (rng.standard_normal((784, HIDDEN)) * np.sqrt(1 / 784)).astype(np.float32),
        np.zeros(HIDDEN, np.float32),
        (rng.standard_normal((HIDDEN, CLASSES)) * np.sqrt(1 / HIDDEN)).astype(np.float32),
        np.zeros(CLASSES, np.float32),
    ]
    run = Run("numpy/cupy by hand", device, init=[h.copy() for h in host])
    w1, b1, w2, b2 = (xp.asarray(h) for h in host)

    def forward(x: Any) -> tuple[Any, Any]:
        h = 1 / (1 + xp.exp(-(x @ w1 + b1)))
        return h, h @ w2 + b2

    recorded: list[Any] = []
    for epoch in range(args.timing_epochs):
        sync(device)
        t0 = time.perf_counter()
        for step, idx in enumerate(_own_batches(len(xtr), args.seed, epoch)):
            x, t = xp.asarray(xtr[idx]), xp.asarray(ttr[idx])
            h, z = forward(x)
            z = z - z.max(axis=1, keepdims=True)
            logp = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
            n = len(t)
            if epoch == 0 and step < args.compare_steps:
                recorded.append(-logp[xp.arange(n), t].mean())
            dz = xp.exp(logp)
            dz[xp.arange(n), t] -= 1
            dz /= n
            dh = (dz @ w2.T) * h * (1 - h)
            w2 -= LR * (h.T @ dz)
            b2 -= LR * dz.sum(axis=0)
            w1 -= LR * (x.T @ dh)
            b1 -= LR * dh.sum(axis=0)
        sync(device)
        run.epoch_s.append(time.perf_counter() - t0)
        if epoch == 0:
            run.losses = [float(v) for v in recorded]
            correct = 0
            for i in range(0, len(xte), 1000):
                _, z = forward(xp.asarray(xte[i : i + 1000]))
                correct += int((z.argmax(axis=1) == xp.asarray(tte[i : i + 1000])).sum())
            run.accuracy = 100.0 * correct / len(xte)
    return run


def _framework() -> dict[str, Any]:
    """The dezero pieces the framework run needs; ImportError/AttributeError if missing."""
    import dezero.core
    import dezero.nn.functions as F
    from dezero.core import backend, no_grad
    from dezero.core import random as drandom
    from dezero.nn.models import MLP
    from dezero.nn.optimizers import SGD

    parts: dict[str, Any] = {
        "core": dezero.core,
        "F": F,
        "backend": backend,
        "no_grad": no_grad,
        "random": drandom,
        "MLP": MLP,
        "SGD": SGD,
        "softmax_cross_entropy": F.softmax_cross_entropy,
        "sigmoid": F.sigmoid,
    }
    try:
        from dezero.data import ArrayDataset, DataLoader

        parts["ArrayDataset"], parts["DataLoader"] = ArrayDataset, DataLoader
    except ImportError:
        pass  # batches are then cut here, from a seeded permutation
    return parts


def framework_run(
    fw: dict[str, Any], data: tuple[np.ndarray, ...], device: str, args: argparse.Namespace
) -> Run:
    xtr, ttr, xte, tte = data
    b = fw["backend"]
    fw["random"].seed(args.seed)
    try:
        model = fw["MLP"]((HIDDEN, CLASSES), activation=fw["sigmoid"])
    except TypeError:
        model = fw["MLP"]((HIDDEN, CLASSES))
    with fw["no_grad"]():
        model(xtr[:2])  # layers infer their input size: create the weights on the host now
    run = Run("dezero", device, init=[b.to_cpu(p.data).copy() for p in model.params()])
    if device != "cpu":
        model.to_gpu()
    optimizer = fw["SGD"](lr=LR).setup(model)
    loss_fn = fw["softmax_cross_entropy"]

    if "DataLoader" in fw:
        loader = fw["DataLoader"](fw["ArrayDataset"](xtr, ttr), BATCH, shuffle=True, seed=args.seed)
        if device != "cpu":
            loader.to_gpu()

        def batches(epoch: int) -> Iterator[tuple[Any, Any]]:
            return iter(loader)
    else:

        def batches(epoch: int) -> Iterator[tuple[Any, Any]]:
            for idx in _own_batches(len(xtr), args.seed, epoch):
                x, t = xtr[idx], ttr[idx]
                yield (x, t) if device == "cpu" else (b.to_gpu(x), b.to_gpu(t))

    recorded: list[Any] = []
    for epoch in range(args.timing_epochs):
        sync(device)
        t0 = time.perf_counter()
        for step, (x, t) in enumerate(batches(epoch)):
            loss = loss_fn(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            if epoch == 0 and step < args.compare_steps:
                recorded.append(loss.data)  # read after the clock stops: no sync per step
        sync(device)
        run.epoch_s.append(time.perf_counter() - t0)
        if epoch == 0:
            run.losses = [float(b.to_cpu(v)) for v in recorded]
            correct = 0
            with fw["no_grad"]():
                for i in range(0, len(xte), 1000):
                    x = xte[i : i + 1000] if device == "cpu" else b.to_gpu(xte[i : i + 1000])
                    pred = b.to_cpu(model(x).data).argmax(axis=1)
                    correct += int((pred == tte[i : i + 1000]).sum())
            run.accuracy = 100.0 * correct / len(xte)
    return run


def torch_run(data: tuple[np.ndarray, ...], device: str, args: argparse.Namespace) -> Run:
    import torch

    xtr, ttr, xte, tte = data
    dev = torch.device(device)
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, HIDDEN), torch.nn.Sigmoid(), torch.nn.Linear(HIDDEN, CLASSES)
    ).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs, ts = torch.from_numpy(xtr), torch.from_numpy(ttr)
    run = Run(f"pytorch {torch.__version__}", device)

    def tsync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for epoch in range(args.timing_epochs):
        tsync()
        t0 = time.perf_counter()
        for idx in _own_batches(len(xtr), args.seed, epoch):
            i = torch.from_numpy(idx)
            x, t = xs[i].to(dev, non_blocking=True), ts[i].to(dev, non_blocking=True)
            loss = loss_fn(model(x), t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        tsync()
        run.epoch_s.append(time.perf_counter() - t0)
        if epoch == 0:
            with torch.no_grad():
                pred = model(torch.from_numpy(xte).to(dev)).argmax(1).cpu().numpy()
            run.accuracy = 100.0 * float((pred == tte).mean())
    return run


def attempt(label: str, fn: Callable[[], Run], impl: str, device: str) -> Run:
    print(f"  running {label} ...", flush=True)
    try:
        return fn()
    except Exception as e:
        traceback.print_exc()
        return Run(impl, device, error=f"{type(e).__name__}: {e}")


# ---------------------------------------------------------------- checks and report


def compare(a: Run, b: Run, args: argparse.Namespace) -> list[tuple[str, bool, str]]:
    """Checks that run ``b`` (GPU) reproduces run ``a`` (CPU)."""
    if a.error or b.error:
        return [("both runs finished", False, a.error or b.error)]
    checks: list[tuple[str, bool, str]] = []
    same_init = len(a.init) == len(b.init) and all(
        x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a.init, b.init, strict=False)
    )
    checks.append(("same initial weights", same_init, f"{len(a.init)} arrays"))
    n = min(len(a.losses), len(b.losses))
    la, lb = np.array(a.losses[:n]), np.array(b.losses[:n])
    rel = np.abs(la - lb) / np.maximum(np.abs(la), 1e-12)
    worst = int(rel.argmax()) if n else 0
    ok = n == args.compare_steps and bool((rel <= args.rtol).all())
    detail = (
        f"{n} steps, max rel diff {rel.max() if n else float('nan'):.2e} at step {worst} "
        f"({la[worst] if n else float('nan'):.6f} vs {lb[worst] if n else float('nan'):.6f})"
    )
    checks.append((f"per-step loss within rtol {args.rtol:g}", ok, detail))
    d = abs(a.accuracy - b.accuracy)
    checks.append(
        (
            f"test accuracy within {args.acc_tol:g} points",
            d <= args.acc_tol,
            f"{a.accuracy:.2f}% vs {b.accuracy:.2f}% (diff {d:.2f})",
        )
    )
    return checks


def table(runs: list[Run]) -> str:
    epochs = max((len(r.epoch_s) for r in runs), default=1)
    head = "| implementation | device | " + " | ".join(
        f"epoch {i + 1} s" + (" (incl. warm-up)" if i == 0 and epochs > 1 else "")
        for i in range(epochs)
    )
    lines = [head + " | test acc. % |", "|" + "---|" * (epochs + 3)]
    for r in runs:
        if r.error:
            cells = ["failed"] * epochs
            acc = r.error[:60]
        else:
            cells = [f"{s:.2f}" for s in r.epoch_s] + ["-"] * (epochs - len(r.epoch_s))
            acc = f"{r.accuracy:.2f}"
        lines.append(f"| {r.impl} | {r.device} | " + " | ".join(cells) + f" | {acc} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--cpu-only", action="store_true", help="dry run: a second CPU run stands in for the GPU"
    )
    p.add_argument("--data", help="folder with the four (Fashion-)MNIST IDX files")
    p.add_argument("--max-train", type=int, default=0, help="use only the first N training images")
    p.add_argument("--max-test", type=int, default=0, help="use only the first N test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare-steps", type=int, default=100)
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--acc-tol", type=float, default=0.5, help="accuracy tolerance, in points")
    p.add_argument("--timing-epochs", type=int, default=2, help="epochs timed per run (>= 1)")
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    args.timing_epochs = max(1, args.timing_epochs)

    data, source = load_data(args)
    if args.max_train:
        data = (data[0][: args.max_train], data[1][: args.max_train], data[2], data[3])
    if args.max_test:
        data = (data[0], data[1], data[2][: args.max_test], data[3][: args.max_test])
    args.compare_steps = min(args.compare_steps, -(-len(data[0]) // BATCH))

    if args.cpu_only:
        other = "cpu"
    else:
        try:
            import dezero.cuda

            if not dezero.cuda.gpu_enable():
                print(f"gpu_check_train: GPU not usable: {dezero.cuda.gpu_status()[1]}")
                return 2
        except ImportError as e:
            print(f"gpu_check_train: dezero.cuda not importable ({e}); use --cpu-only")
            return 2
        other = "cuda:0"

    print(f"data: {source}, {len(data[0])} train / {len(data[2])} test images")
    try:
        fw: dict[str, Any] | None = _framework()
    except (ImportError, AttributeError) as e:
        fw = None
        print(f"NOTE: dezero framework unavailable ({type(e).__name__}: {e});")
        print("      comparing the hand-written NumPy/CuPy reference MLP instead.")

    runs: list[Run] = []
    pairs: list[tuple[Run, Run]] = []
    ref_cpu = attempt(
        "reference on cpu", lambda: reference_run(data, "cpu", args), "by hand", "cpu"
    )
    ref_other = attempt(
        f"reference on {other}", lambda: reference_run(data, other, args), "by hand", other
    )
    runs += [ref_cpu, ref_other]
    if fw is not None:
        fw_cpu = attempt(
            "dezero on cpu", lambda: framework_run(fw, data, "cpu", args), "dezero", "cpu"
        )
        fw_other = attempt(
            f"dezero on {other}", lambda: framework_run(fw, data, other, args), "dezero", other
        )
        runs += [fw_cpu, fw_other]
        pairs.append((fw_cpu, fw_other))
    else:
        pairs.append((ref_cpu, ref_other))
    if not args.no_torch:
        try:
            import torch

            tdev = "cuda" if not args.cpu_only and torch.cuda.is_available() else "cpu"
            runs.append(
                attempt(f"pytorch on {tdev}", lambda: torch_run(data, tdev, args), "pytorch", tdev)
            )
        except ImportError:
            print("  (PyTorch not importable: no PyTorch row)")

    all_ok = True
    print()
    for a, b in pairs:
        print(f"checks: {a.impl} on {a.device} vs {b.device}")
        for name, ok, detail in compare(a, b, args):
            all_ok &= ok
            print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
    print()
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    gpu = "none (--cpu-only)" if args.cpu_only else gpu_name()
    print(
        f"{when}; GPU: {gpu}; CPU: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; NumPy {np.__version__}; data: {source}"
    )
    print(table(runs))
    print()
    print("RESULT:", "all checks passed" if all_ok else "SOME CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
