"""dezero.dist: data-parallel training on MPI and NCCL (ChainerMN's names)."""

from dezero.dist.__about__ import __version__

__all__ = ["__version__"]
