"""The ``dezero-onnx`` command: build a bundled architecture, load a weight file, export it."""

from __future__ import annotations

import argparse
import importlib
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "build_parser", "build_model"]

ARCHITECTURES = ("mlp", "vgg16", "resnet18", "resnet34", "resnet50")
ACTIVATIONS = ("sigmoid", "relu", "tanh")


class CLIError(Exception):
    """A user error: printed as one line, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dezero-onnx",
        description="Export a model of a bundled architecture, with weights from a file "
        "written by save_weights (dezero-train's weights.npz, say), to ONNX.",
    )
    p.add_argument("arch", choices=ARCHITECTURES,
                   help="the architecture: mlp (as dezero-train trains it), vgg16, resnet18, "
                        "resnet34, resnet50")
    p.add_argument("weights", help="the weight file (.npz, as save_weights writes)")
    p.add_argument("-o", "--out", default=None,
                   help="the .onnx file to write (default: the weight file's name with .onnx)")
    p.add_argument("--input-shape", type=int, nargs="+", default=None, metavar="N",
                   help="one sample's shape, without the batch axis (mlp: read from the "
                        "weights; vgg16/resnet: default 3 224 224)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="sigmoid",
                   help="mlp only: the activation between layers (default sigmoid, as "
                        "dezero-train)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--static-batch", action="store_true",
                   help="fix the batch size to --batch instead of a symbolic one")
    p.add_argument("--batch", type=int, default=2,
                   help="batch size of the example input (default 2)")
    return p


def _read_weights(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise CLIError(f"the weight file {path} does not exist")
    if path.suffix == ".safetensors":
        try:
            load_file = importlib.import_module("safetensors.numpy").load_file
        except ImportError:
            raise CLIError(
                f"{path} is a .safetensors file; reading it needs the safetensors package "
                f"(pip install safetensors)"
            ) from None
        return dict(load_file(str(path)))
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise CLIError(f"cannot read {path} as an .npz weight file: {e}") from None


def _shape(weights: Mapping[str, np.ndarray], name: str, arch: str) -> tuple[int, ...]:
    if name not in weights:
        raise CLIError(
            f"the weights do not fit {arch}: {name!r} is missing (the file holds "
            f"{sorted(weights)[:6]}{'...' if len(weights) > 6 else ''})"
        )
    return tuple(weights[name].shape)


def build_model(arch: str, weights: Mapping[str, np.ndarray], input_shape: Sequence[int] | None,
                activation: str = "sigmoid") -> tuple[Any, tuple[int, ...]]:
    """The model of ``arch`` sized to fit ``weights``, and one sample's input shape."""
    from dezero.nn import functions as F
    from dezero.nn import models

    if arch == "mlp":
        sizes, i = [], 0
        while f"l{i}.W" in weights:
            sizes.append(_shape(weights, f"l{i}.W", arch)[1])
            i += 1
        if not sizes:
            raise CLIError(f"the weights do not fit mlp: no 'l0.W' (the file holds "
                           f"{sorted(weights)[:6]})")
        act = {"sigmoid": F.sigmoid, "relu": F.relu, "tanh": F.tanh}[activation]
        model: Any = models.MLP(sizes, activation=act)
        shape = tuple(input_shape) if input_shape else (_shape(weights, "l0.W", arch)[0],)
        return model, shape
    shape = tuple(input_shape) if input_shape else (3, 224, 224)
    if arch == "vgg16":
        n_classes = _shape(weights, "fc8.b", arch)[0]
        fc_size = _shape(weights, "fc6.b", arch)[0]
        model = models.VGG16(n_classes=n_classes, fc_size=fc_size)
    else:
        n_classes = _shape(weights, "fc.b", arch)[0]
        model = models.ResNet(int(arch[len("resnet"):]), n_classes=n_classes)
    return model, shape


def run(args: argparse.Namespace) -> Path:
    """Export as ``args`` say; return the written path."""
    import dezero.onnx

    weights_path = Path(args.weights)
    out = Path(args.out) if args.out else weights_path.with_suffix(".onnx")
    if args.batch < 1:
        raise CLIError(f"--batch must be a positive integer, got {args.batch}")
    weights = _read_weights(weights_path)
    model, shape = build_model(args.arch, weights, args.input_shape, args.activation)
    try:
        model.load_state_dict(weights, strict=True)
    except (ValueError, TypeError) as e:
        raise CLIError(f"the weights do not fit {args.arch}: {e}") from None
    dtype = next(iter(weights.values())).dtype if weights else np.float32
    x = np.zeros((args.batch, *shape), dtype=dtype)
    try:
        return dezero.onnx.export(model, x, out, opset=args.opset,
                                  dynamic_batch=not args.static_batch)
    except ValueError as e:
        if isinstance(e, dezero.onnx.ExportError):
            raise
        raise CLIError(f"the input shape {shape} does not fit {args.arch}: {e}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dezero-onnx``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        path = run(args)
    except (CLIError, OSError, ValueError) as e:
        print(f"dezero-onnx: error: {e}", file=sys.stderr)
        return 1
    print(f"dezero-onnx: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
