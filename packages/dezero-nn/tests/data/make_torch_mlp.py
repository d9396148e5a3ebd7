"""Make torch_mlp.safetensors and torch_mlp_outputs.npz with PyTorch itself (run once).

The files are committed; the test that reads them needs neither torch nor this script.
They were made in a separate virtual environment (never a hatch one, whose installer would
fetch PyTorch's CUDA build):

    python3 -m venv torch-env
    torch-env/bin/pip install torch==2.13.0 safetensors numpy
    torch-env/bin/python make_torch_mlp.py

The network is PyTorch's ``nn.Sequential(Linear(4, 8), Sigmoid(), Linear(8, 3))`` with
PyTorch's own seeded initialisation; its weights are written by PyTorch's own
``safetensors.torch.save_file`` under PyTorch's names (``0.weight``, ``0.bias``,
``2.weight``, ``2.bias``; ``weight`` is ``(out, in)``). The outputs on fixed inputs are
PyTorch's forward pass, saved beside the inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

HERE = Path(__file__).resolve().parent

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 3))
save_file(net.state_dict(), str(HERE / "torch_mlp.safetensors"))
x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    y = net(x)
np.savez(HERE / "torch_mlp_outputs.npz", x=x.numpy(), y=y.numpy(),
         torch_version=np.array(torch.__version__))
print("torch", torch.__version__, "outputs", tuple(y.shape))
