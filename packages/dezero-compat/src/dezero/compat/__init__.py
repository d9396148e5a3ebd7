"""dezero.compat: DeZero 0.0.13's layout and meanings over the native API."""

from dezero.compat.__about__ import __version__

__all__ = ["__version__"]
