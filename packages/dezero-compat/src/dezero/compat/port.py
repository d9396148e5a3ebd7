"""``dezero-port FILE...``: rewrite a script's DeZero imports for this project.

Each ``import dezero...`` / ``from dezero... import ...`` becomes an import of the native
API where the names the script uses mean the same there, and of [`dezero.compat`][dezero.compat]
where they do not (each such case is reported with the reason). Only import statements
change; the rest of the script is left as it is.

Rules, in short:

* ``from dezero.X import a, b``: each name goes to its native home when its meaning is
  the same, else to ``dezero.compat.X``.
* ``import dezero.X as M``: native when every ``M.name`` the script uses means the same
  natively, else ``dezero.compat.X``.
* ``import dezero`` (attribute chains such as ``dezero.datasets.Spiral``): ``dezero.compat``.
* A script that calls ``random.seed`` expects DeZero's draws from NumPy's global
  generator: its layers, models, loaders and random datasets come from ``dezero.compat``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PortResult", "port_source", "main"]

_RANDOM = "draws from NumPy's global generator after random.seed (DeZero's numbers)"
_F_SAME = {
    "sin", "cos", "tanh", "exp", "log", "reshape", "expand_dims", "flatten", "sum",
    "sum_to", "broadcast_to", "matmul", "linear", "transpose", "get_item", "sigmoid", "relu",
    "softmax", "log_softmax", "leaky_relu", "mean_squared_error", "softmax_cross_entropy",
    "sigmoid_cross_entropy", "accuracy", "embed_id", "max", "min", "clip", "conv2d",
    "deconv2d", "im2col", "col2im", "average_pooling", "average",
    "add", "sub", "mul", "div", "neg", "pow",
}
_F_COMPAT = {
    "binary_cross_entropy": "DeZero clips p to [1e-15, 0.999] first",
    "dropout": "DeZero's mask comes from NumPy's global generator",
    "batch_nrom": "DeZero's spelling of batch_norm",
    "pooling": "DeZero's max pooling pads with zeros",
    "mean": "the book's alias of average",
    "rsub": "DeZero's reflected subtraction", "rdiv": "DeZero's reflected division",
}
_SIMPLE = "the book's reference version (compat only)"

#: DeZero module -> (native module, {name: None if the meaning is the same, else why not}).
#: Names not listed go to dezero.compat.
_TABLE: dict[str, tuple[str, dict[str, str | None]]] = {
    "": ("", {
        "Variable": "backward() starts from an existing .grad in DeZero",
        "as_variable": "DeZero's as_variable makes a Variable that needs a gradient",
        "Parameter": None, "Function": None, "using_config": None, "no_grad": None,
        "test_mode": None, "as_array": None, "Config": None,
        "Layer": "DeZero's weight files name parameters l0/W",
        "Model": "DeZero's weight files name parameters l0/W",
        "Dataset": None,
        "DataLoader": "DeZero's loader is its own iterator (next(), reset(), max_iter)",
        "SeqDataLoader": "DeZero's epoch is ceil(n / batch_size) steps",
        "setup_variable": "a no-op kept for DeZero's scripts",
    }),
    "functions": ("dezero.nn.functions", {
        **{n: None for n in _F_SAME}, **_F_COMPAT,
    }),
    "functions_conv": ("dezero.nn.functions", {
        n: None for n in ("conv2d", "deconv2d", "im2col", "col2im", "average_pooling")
    } | {"pooling": "DeZero's max pooling pads with zeros"}),
    "layers": ("dezero.nn.layers", {
        "Linear": None, "Conv2d": None, "Deconv2d": None, "RNN": None,
        "LSTM": "DeZero's LSTM weight files hold eight gate layers (x2f/W ... h2u/W)",
        "Layer": "DeZero's weight files name parameters l0/W",
        "EmbedID": "DeZero's EmbedID weights are float64",
        "BatchNorm": "DeZero's running statistics are Parameters (avg_mean.data)",
    }),
    "models": ("dezero.nn.models", {
        "MLP": None,
        "Model": "DeZero's weight files name parameters l0/W",
        "Sequential": "DeZero's Sequential has .layers",
        "VGG16": "DeZero's VGG16 takes pretrained= and has preprocess()",
    }),
    "optimizers": ("dezero.nn.optimizers", {
        n: None for n in ("SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam", "WeightDecay",
                          "ClipGrad", "FreezeParam")
    } | {"Optimizer": "DeZero's optimizers implement update_one(param)"}),
    "datasets": ("dezero.data.datasets", {
        "Dataset": None, "Spiral": None, "get_spiral": None, "MNIST": None, "SinCurve": None,
        "CIFAR10": "DeZero's CIFAR10 normalises the raw values with mean 0.5, std 0.5",
    }),
    "dataloaders": ("dezero.data", {
        "DataLoader": "DeZero's loader is its own iterator (next(), reset(), max_iter)",
        "SeqDataLoader": "DeZero's epoch is ceil(n / batch_size) steps",
    }),
    "transforms": ("dezero.data.transforms", {
        n: None for n in ("Compose", "Flatten", "AsType", "ToFloat", "ToInt", "Normalize",
                          "Resize", "CenterCrop", "ToArray", "ToPIL")
    } | {"RandomHorizontalFlip": "DeZero's RandomHorizontalFlip does nothing"}),
    "utils": ("dezero.core", {
        "get_dot_graph": None, "plot_dot_graph": None,
        "gradient_check": "DeZero's computes in float64 and returns False on a mismatch",
        "array_allclose": "DeZero's broadcasts its arguments",
    }),
    "cuda": ("dezero.cuda", {
        "gpu_enable": None, "get_array_module": None, "as_numpy": None, "as_cupy": None,
    }),
}
_TABLE["core"] = _TABLE[""]
# Where a name's native home is not the module's (``from dezero import Dataset``).
_HOME = {
    ("", "Parameter"): "dezero.core", ("", "Function"): "dezero.core",
    ("", "using_config"): "dezero.core", ("", "no_grad"): "dezero.core",
    ("", "test_mode"): "dezero.core", ("", "as_array"): "dezero.core",
    ("", "Config"): "dezero.core", ("", "Dataset"): "dezero.data",
    ("core", "Parameter"): "dezero.core", ("core", "Function"): "dezero.core",
    ("core", "using_config"): "dezero.core", ("core", "no_grad"): "dezero.core",
    ("core", "test_mode"): "dezero.core", ("core", "as_array"): "dezero.core",
    ("core", "Config"): "dezero.core",
    ("datasets", "Dataset"): "dezero.data",
}
_RANDOM_USERS = {
    ("layers", n) for n in ("Linear", "Conv2d", "Deconv2d", "RNN", "LSTM")
} | {("models", "MLP"), ("datasets", "Spiral"), ("datasets", "get_spiral"),
     ("datasets", "SinCurve")}
_SEED = re.compile(r"\brandom\s*\.\s*seed\s*\(")


@dataclass
class PortResult:
    """The rewritten source and one note per import: ``(line, what, why)``."""

    source: str
    notes: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.notes)


def _why_compat(module: str, name: str, seeded: bool) -> str | None:
    """None when ``dezero.<module>.<name>`` means the same natively, else the reason."""
    if name.endswith("_simple"):
        return _SIMPLE
    entry = _TABLE.get(module)
    if entry is None:
        return f"dezero.{module} exists only in dezero.compat"
    if name not in entry[1]:
        if not module and name in _TABLE:
            return f"the module {name} in DeZero's layout"
        if module in ("core", "functions", "functions_conv") and name[:1].isupper():
            return "DeZero's Function class (DeZero's constructor arguments)"
        return f"{name} exists only in dezero.compat"
    if seeded and (module, name) in _RANDOM_USERS:
        return _RANDOM
    return entry[1][name]


def _native_home(module: str, name: str) -> str:
    return _HOME.get((module, name)) or _TABLE[module][0]


def _compat_module(module: str) -> str:
    return "dezero.compat" + (f".{module}" if module else "")


def _attribute_uses(tree: ast.AST, alias: str) -> set[str] | None:
    """Names used as ``alias.name``; None when ``alias`` is also used on its own."""
    names: set[str] = set()
    attr_values = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == alias:
                names.add(node.attr)
                attr_values.add(id(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == alias and id(node) not in attr_values:
            if isinstance(node.ctx, ast.Load):
                return None
    return names


def _dezero_module(name: str | None) -> str | None:
    """``"functions"`` for ``dezero.functions``, ``""`` for ``dezero``, None otherwise."""
    if name == "dezero":
        return ""
    if name and name.startswith("dezero.") and name.count(".") == 1:
        sub = name.split(".", 1)[1]
        if sub in ("compat", "nn", "data", "train", "dist", "onnx"):
            return None  # already this project's
        return sub
    return None


def port_source(source: str, compat_only: bool = False) -> PortResult:
    """Rewrite the DeZero imports of ``source`` (see the module docstring).

    Args:
        source: a Python script.
        compat_only: send every DeZero import to ``dezero.compat`` (no native imports).

    Returns:
        The new source and one note per rewritten import.
    """
    tree = ast.parse(source)
    seeded = bool(_SEED.search(source))
    lines = source.splitlines(keepends=True)
    edits: list[tuple[ast.stmt, list[str]]] = []
    notes: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            module = _dezero_module(node.module)
            if module is None:
                continue
            native: dict[str, list[str]] = {}
            compat: list[str] = []
            modules: list[str] = []  # `from dezero import functions as F`: a module
            for a in node.names:
                text = a.name + (f" as {a.asname}" if a.asname else "")
                if not module and a.name in _TABLE and not compat_only:
                    alias = a.asname or a.name
                    uses = _attribute_uses(tree, alias)
                    if uses is not None and all(
                        _why_compat(a.name, n, seeded) is None for n in uses
                    ) and len({_native_home(a.name, n) for n in uses}) <= 1:
                        home = _TABLE[a.name][0]
                        modules.append(f"import {home} as {alias}")
                        notes.append((node.lineno, f"{a.name} -> {home}", "same meaning"))
                        continue
                why = "compat_only" if compat_only else _why_compat(module, a.name, seeded)
                if why is None:
                    native.setdefault(_native_home(module, a.name), []).append(text)
                else:
                    compat.append(text)
                    notes.append((node.lineno, f"{a.name} -> {_compat_module(module)}", why))
            stmts = modules + [f"from {home} import {', '.join(ns)}" for home, ns in native.items()]
            for home, ns in native.items():
                notes.append((node.lineno, f"{', '.join(ns)} -> {home}", "same meaning"))
            if compat:
                stmts.append(f"from {_compat_module(module)} import {', '.join(compat)}")
            edits.append((node, stmts))
        elif isinstance(node, ast.Import):
            stmts = []
            touched = False
            for a in node.names:
                module = _dezero_module(a.name)
                if module is None:
                    stmts.append(f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
                    continue
                touched = True
                if not a.asname:
                    # `import dezero` or `import dezero.X`: the name bound is `dezero`,
                    # used as `dezero.X.name`: the compat package holds every module.
                    if module:
                        stmts.append(f"import {_compat_module(module)}")
                    stmts.append("import dezero.compat as dezero")
                    notes.append((node.lineno, f"{a.name} -> dezero.compat",
                                  "`dezero.<module>.<name>` chains need DeZero's layout"))
                    continue
                uses = _attribute_uses(tree, a.asname)
                whys = (None if uses is None else
                        {n: _why_compat(module, n, seeded) for n in sorted(uses)})
                if (not compat_only and module and whys is not None
                        and all(w is None for w in whys.values())
                        and len({_native_home(module, n) for n in whys}) <= 1):
                    home = _TABLE[module][0]
                    stmts.append(f"import {home} as {a.asname}")
                    notes.append((node.lineno, f"{a.name} -> {home}", "same meaning"))
                else:
                    stmts.append(f"import {_compat_module(module)} as {a.asname}")
                    if compat_only:
                        why = "compat_only"
                    elif whys is None:
                        why = f"{a.asname} is used on its own"
                    elif not module:
                        why = "DeZero's top level"
                    else:
                        why = "; ".join(f"{a.asname}.{n}: {w}" for n, w in whys.items() if w)
                        why = why or "names with different native homes"
                    notes.append((node.lineno, f"{a.name} -> {_compat_module(module)}", why))
            if touched:
                # Drop exact repeats (`import dezero.compat as dezero` twice on one line).
                seen: list[str] = []
                for s in stmts:
                    if s not in seen:
                        seen.append(s)
                edits.append((node, seen))
    # Apply from the bottom up so that earlier positions stay valid.
    for node, stmts in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset),
                              reverse=True):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        head = lines[first][: node.col_offset]
        tail = lines[last][node.end_col_offset or 0:]
        indent = " " * len(head) if not head.strip() else ""
        sep = "\n" + indent if not head.strip() else "; "
        lines[first:last + 1] = [head + sep.join(stmts) + tail]
    notes.sort()
    return PortResult("".join(lines), notes)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``dezero-port`` command: rewrite files in place (or show the diff)."""
    parser = argparse.ArgumentParser(
        prog="dezero-port",
        description="Rewrite DeZero imports: to the native dezero API where the meaning is "
        "the same, to dezero.compat where it is not.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--diff", action="store_true",
                        help="print a unified diff instead of rewriting the files")
    parser.add_argument("--compat-only", action="store_true",
                        help="send every DeZero import to dezero.compat")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            source = path.read_text(encoding="utf-8")
            result = port_source(source, compat_only=args.compat_only)
        except (OSError, UnicodeDecodeError, SyntaxError) as e:
            print(f"dezero-port: {path}: {type(e).__name__}: {e}", file=sys.stderr)
            status = 1
            continue
        if not result.changed:
            print(f"{path}: no DeZero imports")
            continue
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                source.splitlines(keepends=True), result.source.splitlines(keepends=True),
                f"a/{path}", f"b/{path}"))
        else:
            from dezero.core.files import atomic_write_text

            atomic_write_text(path, result.source)
            print(f"{path}: rewritten")
        for line, what, why in result.notes:
            print(f"  line {line}: {what} ({why})")
    return status
