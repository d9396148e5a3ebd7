"""dezero.compat: DeZero 0.0.13's module layout and meanings over the native API.

A script written for DeZero runs when its imports name ``dezero.compat``:

```python
import dezero.compat as dezero
import dezero.compat.functions as F
import dezero.compat.layers as L
from dezero.compat import Variable, Model, optimizers, DataLoader
```

Randomness of the objects this package creates (weights, dropout masks, shuffling)
comes from NumPy's global generator with DeZero's calls, so ``np.random.seed(0)``
reproduces DeZero's numbers; native objects in the same process are unaffected.
"""

from dezero.compat import (
    cuda,
    dataloaders,
    datasets,
    functions,
    functions_conv,
    layers,
    optimizers,
    transforms,
    utils,
)
from dezero.compat.__about__ import __version__
from dezero.compat.core import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    setup_variable,
    test_mode,
    using_config,
)
from dezero.compat.dataloaders import DataLoader, SeqDataLoader
from dezero.compat.datasets import Dataset
from dezero.compat.layers import Layer
from dezero.compat.models import Model

__all__ = [
    "__version__",
    "Variable", "Parameter", "Function", "using_config", "no_grad", "test_mode", "as_array",
    "as_variable", "setup_variable", "Config", "Layer", "Model", "Dataset", "DataLoader",
    "SeqDataLoader",
    "datasets", "dataloaders", "optimizers", "functions", "functions_conv", "layers", "utils",
    "cuda", "transforms",
]

#: The DeZero release whose layout and meanings this package follows.
dezero_version = "0.0.13"
