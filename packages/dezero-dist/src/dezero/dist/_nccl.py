"""NcclCommunicator: GPU collectives through ``cupy.cuda.nccl``; MPI carries the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from dezero.dist.communicator import MpiCommunicator, _check_root, _raw

__all__ = ["NcclCommunicator"]


class NcclCommunicator(MpiCommunicator):
    """One rank per GPU: rank ``r`` uses GPU ``intra_rank`` of its machine.

    ``allreduce``, ``bcast`` and ``allgather`` of GPU arrays, ``mean_grads`` and
    ``bcast_params`` go through NCCL on the current stream; host arrays and the other
    collectives go through MPI. The NCCL unique id is made on rank 0 and broadcast over
    MPI. CuPy is imported here, when the communicator is created, never before.
    """

    kind = "nccl"

    def __init__(self, mpi_comm: Any = None) -> None:
        super().__init__(mpi_comm)
        try:
            import cupy
            from cupy.cuda import nccl
        except ImportError as e:
            raise ImportError(
                "create_communicator('nccl') needs CuPy with NCCL: "
                "pip install 'dezero-dist[cuda12]'"
            ) from e
        if not nccl.available:
            raise RuntimeError(
                "create_communicator('nccl'): this CuPy has no NCCL (cupy.cuda.nccl.available "
                "is False); install NCCL (pip install nvidia-nccl-cu12) or use kind='mpi'"
            )
        self._cupy, self._nccl = cupy, nccl
        ndev = cupy.cuda.runtime.getDeviceCount()
        if self.intra_rank >= ndev:
            raise RuntimeError(
                f"create_communicator('nccl'): rank {self.rank} is rank {self.intra_rank} on its "
                f"machine, which has {ndev} GPU(s): start one rank per GPU"
            )
        self.device = cupy.cuda.Device(self.intra_rank)
        self.device.use()
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = self.mpi_comm.bcast(uid, root=0)
        self.nccl_comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self._types = {
            np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.float32): nccl.NCCL_FLOAT32,
            np.dtype(np.float64): nccl.NCCL_FLOAT64, np.dtype(np.int32): nccl.NCCL_INT32,
            np.dtype(np.int64): nccl.NCCL_INT64, np.dtype(np.uint8): nccl.NCCL_UINT8,
        }
        self._ops = {"sum": nccl.NCCL_SUM, "prod": nccl.NCCL_PROD, "max": nccl.NCCL_MAX,
                     "min": nccl.NCCL_MIN}

    def _on_gpu(self, x: Any) -> bool:
        x = _raw(x)
        return isinstance(x, self._cupy.ndarray) and np.dtype(x.dtype) in self._types

    def _stream(self) -> int:
        return int(self._cupy.cuda.get_current_stream().ptr)

    def allreduce(self, x: Any, op: str = "sum") -> Any:
        if not self._on_gpu(x):
            return super().allreduce(x, op)
        self._op("allreduce", op)  # validates op
        x = self._cupy.ascontiguousarray(_raw(x))
        out = self._cupy.empty_like(x)
        self.nccl_comm.allReduce(x.data.ptr, out.data.ptr, x.size, self._types[np.dtype(x.dtype)],
                                 self._ops[op], self._stream())
        return out

    def bcast(self, x: Any, root: int = 0) -> Any:
        root = _check_root("bcast", root, self.size)
        on_gpu = self._on_gpu(x) if self.rank == root else True
        meta = (tuple(_raw(x).shape), np.dtype(_raw(x).dtype).str, on_gpu) \
            if self.rank == root else None
        shape, dtype, on_gpu = self.mpi_comm.bcast(meta, root=root)
        if not on_gpu:
            return super().bcast(x, root)
        if self.rank == root:
            buf = self._cupy.ascontiguousarray(_raw(x)).copy()
        else:
            buf = self._cupy.empty(shape, np.dtype(dtype))
        self.nccl_comm.bcast(buf.data.ptr, buf.size, self._types[np.dtype(dtype)], root,
                             self._stream())
        return buf

    def allgather(self, x: Any) -> list[Any]:
        raw = _raw(x)
        metas = self.mpi_comm.allgather((tuple(raw.shape), np.dtype(raw.dtype).str,
                                         self._on_gpu(raw)))
        if not all(m[2] for m in metas) or len({m[:2] for m in metas}) != 1:
            return super().allgather(x)  # ragged or host arrays: through MPI
        x = self._cupy.ascontiguousarray(raw)
        out = self._cupy.empty((self.size,) + x.shape, x.dtype)
        self.nccl_comm.allGather(x.data.ptr, out.data.ptr, x.size, self._types[np.dtype(x.dtype)],
                                 self._stream())
        return list(out)
