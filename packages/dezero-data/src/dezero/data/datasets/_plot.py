"""Showing a grid of dataset images (matplotlib, imported only when asked for)."""

from __future__ import annotations

from typing import Any

import numpy as np


def image_grid(images: np.ndarray, row: int, col: int) -> np.ndarray:
    """Tile the first ``row * col`` images ``(N, C, H, W)`` into one ``(row*H, col*W[, C])``."""
    if row <= 0 or col <= 0:
        raise ValueError(f"show: row and col must be positive, got row={row}, col={col}")
    n, c, h, w = images.shape
    k = min(n, row * col)
    grid = np.zeros((row * col, c, h, w), dtype=images.dtype)
    grid[:k] = images[:k]
    grid = grid.reshape(row, col, c, h, w).transpose(0, 3, 1, 4, 2).reshape(row * h, col * w, c)
    return grid[..., 0] if c == 1 else grid


def show_images(images: np.ndarray, row: int, col: int, owner: str) -> Any:
    """Draw an image grid with matplotlib and show it; returns the figure."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(f"{owner}.show: needs matplotlib: pip install matplotlib") from e
    grid = image_grid(images, row, col)
    fig = plt.figure()
    plt.imshow(grid, cmap="gray" if grid.ndim == 2 else None, interpolation="nearest")
    plt.axis("off")
    plt.show()
    return fig
