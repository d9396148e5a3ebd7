"""dezero.dist: data-parallel training on MPI and NCCL (ChainerMN's names).

Importing this package neither starts MPI nor loads CuPy: MPI starts when the first
communicator is created, CuPy only with an NCCL communicator.
"""

from dezero.dist.__about__ import __version__
from dezero.dist._hook import install_except_hook
from dezero.dist.batchnorm import MultiNodeBatchNorm, allreduce_sum
from dezero.dist.communicator import Communicator, MpiCommunicator, create_communicator
from dezero.dist.evaluation import allreduce_sums, evaluate
from dezero.dist.optimizer import MultiNodeOptimizer, create_multi_node_optimizer
from dezero.dist.scatter import ScatteredDataset, Shard, scatter_dataset, scatter_index

__all__ = [
    "__version__",
    "Communicator", "MpiCommunicator", "create_communicator", "install_except_hook",
    "MultiNodeOptimizer", "create_multi_node_optimizer",
    "Shard", "ScatteredDataset", "scatter_index", "scatter_dataset",
    "allreduce_sums", "evaluate",
    "MultiNodeBatchNorm", "allreduce_sum",
]
