"""create_multi_node_optimizer: rank 0's starting point everywhere, averaged gradients."""

from __future__ import annotations

from typing import Any

__all__ = ["create_multi_node_optimizer", "MultiNodeOptimizer"]


class MultiNodeOptimizer:
    """Wraps an optimizer for data-parallel training; see
    [`create_multi_node_optimizer`][dezero.dist.create_multi_node_optimizer].

    Attributes other than its own (``lr``, ``hooks``, ``state``, ``t``...) are those of
    the wrapped optimizer, read and written through.
    """

    _own = ("actual_optimizer", "comm", "_synced", "_watched")

    def __init__(self, actual_optimizer: Any, comm: Any) -> None:
        object.__setattr__(self, "actual_optimizer", actual_optimizer)
        object.__setattr__(self, "comm", comm)
        object.__setattr__(self, "_synced", set())
        object.__setattr__(self, "_watched", [])
        if getattr(actual_optimizer, "target", None) is not None:
            self._sync(actual_optimizer.target)

    def __getattr__(self, name: str) -> Any:
        if name in MultiNodeOptimizer._own or name.startswith("__"):
            raise AttributeError(name)  # not set up yet (a copy in the making): no recursion
        return getattr(self.actual_optimizer, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self.actual_optimizer, name, value)

    def setup(self, target: Any) -> MultiNodeOptimizer:
        """Attach to ``target`` and broadcast rank 0's parameters and optimizer state."""
        self.actual_optimizer.setup(target)
        self._sync(target)
        return self

    def _sync(self, target: Any) -> None:
        self._unwatch()
        self.comm.bcast_params(target, root=0)
        self._synced.clear()
        self._synced.update(id(p) for p in target.params() if p.data is not None)
        opt = self.actual_optimizer
        if hasattr(opt, "state_dict"):
            state = self.comm.bcast_obj(opt.state_dict() if self.comm.rank == 0 else None)
            if self.comm.rank != 0:
                opt.load_state_dict(state)
        self._watch_lazy(target)

    # ---- lazily-sized layers -------------------------------------------------------------
    def _watch_lazy(self, target: Any) -> None:
        """Wrap ``forward`` of each layer that owns a parameter not created yet.

        The first call builds the parameter from this rank's generator; the wrapper then
        broadcasts rank 0's values and, where they differ from this rank's, runs that
        layer's forward again, so the output, and every gradient, uses rank 0's values
        from the first step on: no update is skipped.
        """
        for _, layer in target.named_layers():
            own = [layer.__dict__[n] for n in layer._children
                   if not hasattr(layer.__dict__[n], "named_params")]
            lazy = [p for p in own if p.data is None]
            if lazy:
                self._wrap(layer, own)

    def _wrap(self, layer: Any, own: list[Any]) -> None:
        original = type(layer).forward.__get__(layer)
        comm, synced = self.comm, self._synced

        def forward(*inputs: Any) -> Any:
            out = original(*inputs)
            if any(p.data is not None and id(p) not in synced for p in own):
                del layer.__dict__["forward"]
                self._watched.remove(layer)
                new = [p for p in own if p.data is not None and id(p) not in synced]
                before = [p.data for p in new]
                comm.bcast_arrays(before, 0, into=new)
                synced.update(id(p) for p in new)
                xp_equal = all(bool((a == p.data).all()) for a, p in zip(before, new))
                if not xp_equal:
                    out = original(*inputs)
            return out

        object.__setattr__(layer, "forward", forward)
        self._watched.append(layer)

    def _unwatch(self) -> None:
        for layer in self._watched:
            layer.__dict__.pop("forward", None)
        self._watched.clear()

    # ---- the step ------------------------------------------------------------------------
    def update(self) -> None:
        """Average every gradient over the ranks, then update (hooks see the averages)."""
        target = self.actual_optimizer.target
        if target is None:
            raise RuntimeError("MultiNodeOptimizer.update: call setup(model) first")
        late = [p for p in target.params() if p.data is not None and id(p) not in self._synced]
        if late:
            # Created outside a watched forward: align them now (their gradients this step
            # were computed from this rank's values).
            self.comm.bcast_arrays([p.data for p in late], 0, into=late)
            self._synced.update(id(p) for p in late)
        self.comm.mean_grads(target)
        self.actual_optimizer.update()

    def __repr__(self) -> str:
        return f"MultiNodeOptimizer({self.actual_optimizer!r}, rank={self.comm.rank})"


def create_multi_node_optimizer(optimizer: Any, comm: Any) -> MultiNodeOptimizer:
    """Make ``optimizer`` data-parallel over ``comm``.

    - At ``setup(model)`` (or now, if ``optimizer`` is already set up) every rank takes
      rank 0's parameters, persistent state and optimizer state.
    - Parameters of lazily-sized layers are broadcast right after the forward that
      creates them, before any gradient is computed from them; the first update is not
      skipped.
    - ``update()`` replaces each gradient by its mean over the ranks
      ([`mean_grads`][dezero.dist.MpiCommunicator.mean_grads], one collective per dtype), then
      runs the optimizer: hooks (gradient clipping, weight decay) see the averages.

    Examples:
        >>> opt = create_multi_node_optimizer(Adam(), comm).setup(model)
    """
    if not hasattr(optimizer, "update") or not hasattr(optimizer, "setup"):
        raise TypeError(
            "create_multi_node_optimizer: optimizer must have setup() and update(), "
            f"got {type(optimizer).__name__}"
        )
    if isinstance(optimizer, MultiNodeOptimizer):
        raise TypeError("create_multi_node_optimizer: optimizer is already multi-node")
    return MultiNodeOptimizer(optimizer, comm)

