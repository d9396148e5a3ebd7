"""dezero.compat's layout is DeZero 0.0.13's: modules and top-level names."""

from __future__ import annotations

import importlib

import dezero.compat as dezero

MODULES = ["core", "core_simple", "functions", "functions_conv", "layers", "models",
           "optimizers", "datasets", "dataloaders", "transforms", "utils", "cuda"]
TOP = ["Variable", "Parameter", "Function", "using_config", "no_grad", "test_mode", "as_array",
       "as_variable", "setup_variable", "Config", "Layer", "Model", "Dataset", "DataLoader",
       "SeqDataLoader", "datasets", "dataloaders", "optimizers", "functions", "functions_conv",
       "layers", "utils", "cuda", "transforms"]
NAMES = {
    "layers": ["Layer", "Linear", "Conv2d", "Deconv2d", "RNN", "LSTM", "EmbedID", "BatchNorm"],
    "models": ["Model", "Sequential", "MLP", "VGG16", "ResNet", "ResNet50", "ResNet101",
               "ResNet152", "SqueezeNet"],
    "optimizers": ["Optimizer", "SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam",
                   "WeightDecay", "ClipGrad", "FreezeParam"],
    "datasets": ["Dataset", "get_spiral", "Spiral", "MNIST", "CIFAR10", "ImageNet", "SinCurve",
                 "Shakespear"],
    "dataloaders": ["DataLoader", "SeqDataLoader"],
    "transforms": ["Compose", "Convert", "Normalize", "Flatten", "AsType", "ToFloat", "ToInt",
                   "RandomHorizontalFlip"],
    "utils": ["get_dot_graph", "plot_dot_graph", "sum_to", "reshape_sum_backward", "logsumexp",
              "max_backward_shape", "gradient_check", "numerical_grad", "array_equal",
              "array_allclose", "show_progress", "get_file", "cache_dir",
              "get_deconv_outsize", "get_conv_outsize", "pair"],
    "cuda": ["gpu_enable", "get_array_module", "as_numpy", "as_cupy", "cupy"],
    "core": ["Variable", "Parameter", "Function", "Config", "using_config", "no_grad",
             "test_mode", "as_variable", "as_array", "setup_variable", "add", "sub", "rsub",
             "mul", "div", "rdiv", "neg", "pow", "Add", "Sub", "Mul", "Div", "Neg", "Pow"],
    "core_simple": ["Variable", "Function", "Config", "using_config", "no_grad",
                    "as_variable", "as_array", "setup_variable", "add", "mul", "neg", "sub",
                    "rsub", "div", "rdiv", "pow"],
}


def test_every_module_and_name():
    missing = []
    for m in MODULES:
        mod = importlib.import_module(f"dezero.compat.{m}")
        missing += [f"{m}.{n}" for n in NAMES.get(m, []) if not hasattr(mod, n)]
    missing += [n for n in TOP if not hasattr(dezero, n)]
    assert missing == []
    assert dezero.dezero_version == "0.0.13"
    assert dezero.Model is dezero.models.Model and dezero.Layer is dezero.layers.Layer
