"""What each rank runs under mpiexec for test_dist.py: every check, results in files.

Usage: python _ranks.py OUT_DIR [--kind mpi|nccl] [--gpu]. Each rank writes
OUT_DIR/<check>.rank<r>.npz (arrays) or .json; the test reads them and compares with
independent references. ``--gpu`` runs the array collectives and mean_grads on CuPy arrays
(through NCCL with ``--kind nccl``, staged through host memory with ``--kind mpi``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import dezero.core.random as drandom
from dezero.core import Variable
from dezero.data import ArrayDataset, DataLoader
from dezero.dist import (
    MultiNodeBatchNorm,
    create_communicator,
    create_multi_node_optimizer,
    evaluate,
    scatter_dataset,
    scatter_index,
)
from dezero.nn import Model
from dezero.nn import functions as F
from dezero.nn.layers import Linear
from dezero.nn.optimizers import SGD, Adam, ClipGrad, WeightDecay

OUT = Path(sys.argv[1])
KIND = sys.argv[sys.argv.index("--kind") + 1] if "--kind" in sys.argv else "mpi"
GPU = "--gpu" in sys.argv
if GPU:
    import dezero.cuda  # noqa: F401  (registers the CuPy backend in a run from source)
comm = create_communicator(KIND)
R, S = comm.rank, comm.size


def save(name: str, **arrays: object) -> None:
    np.savez(OUT / f"{name}.rank{R}.npz", **arrays)


def dump(name: str, obj: object) -> None:
    (OUT / f"{name}.rank{R}.json").write_text(json.dumps(obj))


def dev(a: np.ndarray) -> object:
    if GPU:
        import cupy

        return cupy.asarray(a)
    return a


def host(a: object) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)


# ---- collectives ---------------------------------------------------------------------
res: dict[str, np.ndarray] = {}
for dt in ("float32", "float64", "int64"):
    x = np.arange(6, dtype=dt).reshape(2, 3) * (R + 1)
    res[f"allreduce_{dt}"] = host(comm.allreduce(dev(x)))
    res[f"allreduce_max_{dt}"] = host(comm.allreduce(dev(x), op="max"))
root = S - 1
res["bcast"] = host(comm.bcast(dev(np.arange(5.0) + 100) if R == root else None, root=root))
for i, a in enumerate(comm.allgather(dev(np.full(R + 1, float(R))))):
    res[f"allgather_{i}"] = host(a)
same = comm.allgather(dev(np.full((2, 2), float(R))))
res["allgather_same"] = np.stack([host(a) for a in same])
g = comm.gather(np.full(2, R, np.int32), root=0)
if R == 0:
    assert g is not None
    for i, a in enumerate(g):
        res[f"gather_{i}"] = a
parts = [np.arange(k + 1) * 10 for k in range(S)] if R == 0 else None
res["scatter"] = comm.scatter(parts, root=0)
save("collectives", **res)
dump("objects", {
    "rank": R, "size": S, "intra": [comm.intra_rank, comm.intra_size],
    "inter": [comm.inter_rank, comm.inter_size],
    "allreduce_obj": comm.allreduce_obj(R + 1),
    "bcast_obj": comm.bcast_obj({"from": R}, root=root),
    "allgather_obj": comm.allgather_obj(R * R),
    "gather_obj": comm.gather_obj(R, root=0),
    "scatter_obj": comm.scatter_obj([f"item{k}" for k in range(S)] if R == 0 else None),
})
comm.barrier()


# ---- mean_grads --------------------------------------------------------------------------
class Mixed(Model):
    def __init__(self) -> None:
        super().__init__()
        self.a = Linear(4, in_size=3, dtype=np.float32)
        self.b = Linear(2, in_size=4, dtype=np.float64)
        self.c = Linear(2, in_size=2, dtype=np.float64)  # no gradient on any rank
        self.d = Linear(1, in_size=2, dtype=np.float32)  # a gradient on rank 0 only


m = Mixed()
if GPU:
    m.to_gpu()
for name, p in m.named_params():
    if not name.startswith("c."):
        if not name.startswith("d.") or R == 0:
            xp = np if not GPU else __import__("cupy")
            p.grad = Variable(xp.full(p.data.shape, float(R), p.data.dtype))
calls = []
for meth in ("_allreduce_flat",):
    orig = getattr(comm, meth)

    def counting(flat: object, _orig=orig) -> object:
        calls.append(str(flat.dtype))
        return _orig(flat)

    setattr(comm, meth, counting)
comm.mean_grads(m)
del comm._allreduce_flat
mg = {f"grad/{n}": host(p.grad.data) for n, p in m.named_params() if p.grad is not None}
save("mean_grads", **mg, dtypes=np.array(calls),
     none=np.array([n for n, p in m.named_params() if p.grad is None]))

# ---- scatter -----------------------------------------------------------------------------
shards = {}
for n in (0, 1, 9, 10, 11):
    for shuffle in (False, True):
        sh = scatter_index(n, comm, shuffle=shuffle, seed=7)
        shards[f"idx_{n}_{int(shuffle)}"] = sh.indices
        shards[f"pad_{n}_{int(shuffle)}"] = sh.padding
base = ArrayDataset(np.arange(11.0)[:, None] * 2, np.arange(11) * 3)
sd = scatter_dataset(base, comm, shuffle=True, seed=3)
for ep in (0, 1):
    sd.set_epoch(ep)
    shards[f"ds_idx_e{ep}"] = sd.indices.copy()
    shards[f"ds_pad_e{ep}"] = sd.padding.copy()
    xs, ts = DataLoader(sd, batch_size=4, shuffle=False).__iter__().__next__()
    shards[f"ds_first_x_e{ep}"] = xs
    shards[f"ds_first_t_e{ep}"] = ts
save("scatter", **shards)


# ---- exact evaluation --------------------------------------------------------------------
class Eval(Model):
    def __init__(self) -> None:
        super().__init__()
        self.l = Linear(3, in_size=4, dtype=np.float64)

    def forward(self, x: object) -> Variable:
        return self.l(x)


drandom.seed(123)  # the same weights on every rank, and in the test's reference
ev = Eval()
gen = np.random.default_rng(5)
ex = gen.standard_normal((11, 4))
et = gen.integers(0, 3, 11)
edata = ArrayDataset(ex, et)
res_eval = evaluate(ev, scatter_dataset(edata, comm), comm,
                    {"loss": F.softmax_cross_entropy, "accuracy": F.accuracy}, batch_size=2)
dump("evaluate", res_eval)


# ---- equivalence: S ranks x batch b == 1 process x batch S*b -----------------------------
class Lazy(Model):
    def __init__(self, bn: bool) -> None:
        super().__init__()
        # Lazily sized; no bias before BatchNorm (its gradient is zero there).
        self.l1 = Linear(8, dtype=np.float64, nobias=bn)
        self.bn = MultiNodeBatchNorm(comm) if bn else None
        self.l2 = Linear(3, dtype=np.float64)

    def forward(self, x: object) -> Variable:
        h = self.l1(x)
        if self.bn is not None:
            h = self.bn(h)
        return self.l2(F.tanh(h))


B, STEPS = 4, 12


def make_opt(kind: str) -> object:
    if kind == "sgd":
        return SGD(lr=0.5)
    # Hooks must see averaged gradients: clipping is active (small max_norm).
    return Adam(alpha=0.05).add_hook(WeightDecay(1e-2)).add_hook(ClipGrad(0.5))


data_gen = np.random.default_rng(11)
X = data_gen.standard_normal((STEPS, S * B, 5))
T = data_gen.integers(0, 3, (STEPS, S * B))
for kind in ("sgd", "adam", "sgd_bn", "nomean"):
    drandom.seed(1000 + R)  # seed + rank: lazy initial weights differ until broadcast
    model = Lazy(bn=kind == "sgd_bn")
    base_opt = make_opt("adam" if kind == "adam" else "sgd")
    if kind == "nomean":
        opt = base_opt.setup(model)
        comm.bcast_params(model)  # same start, but gradients not averaged
    else:
        opt = create_multi_node_optimizer(base_opt, comm).setup(model)
    record = {}
    for step in range(STEPS):
        x = X[step, R * B : (R + 1) * B]
        t = T[step, R * B : (R + 1) * B]
        if kind == "nomean" and step == 0:
            model(x)
            comm.bcast_params(model)
        loss = F.softmax_cross_entropy(model(x), t)
        if step == 0:
            record["first_W1"] = model.l1.W.data.copy()
        model.cleargrads()
        loss.backward()
        opt.update()
        for name, arr in model.state_dict().items():
            record[f"s{step}/{name}"] = arr
    save(f"equiv_{kind}", **record)

comm.barrier()
dump("done", {"rank": R})
