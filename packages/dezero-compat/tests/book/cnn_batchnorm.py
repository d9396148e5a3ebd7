# A small CNN in DeZero's style: Conv2d, BatchNorm, max pooling with padding, dropout,
# MomentumSGD with a WeightDecay hook, test_mode, weights saved and loaded.
import os
import tempfile

import numpy as np

import dezero
import dezero.functions as F
import dezero.layers as L
from dezero import Model, optimizers


class CNN(Model):
    def __init__(self):
        super().__init__()
        self.conv1 = L.Conv2d(4, kernel_size=3, stride=1, pad=1)
        self.bn1 = L.BatchNorm()
        self.conv2 = L.Conv2d(6, kernel_size=3, stride=2, pad=1)
        self.fc = L.Linear(3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.pooling(x, 2, 2, 1)
        x = F.relu(self.conv2(x))
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(x, 0.3)
        return self.fc(x)


np.random.seed(0)
x = np.random.randn(8, 2, 6, 6).astype(np.float32)
t = np.random.randint(0, 3, size=8)
model = CNN()
optimizer = optimizers.MomentumSGD(lr=0.05).setup(model)
optimizer.add_hook(optimizers.WeightDecay(1e-3))

for step in range(6):
    y = model(x)
    loss = F.softmax_cross_entropy(y, t)
    model.cleargrads()
    loss.backward()
    optimizer.update()
    print("step", step, "loss", float(loss.data), "acc", float(F.accuracy(y, t).data))

print("running mean", np.round(model.bn1.avg_mean.data, 5))
with dezero.test_mode():
    y = model(x)
print("test mode", np.round(y.data[:2], 5))

path = os.path.join(tempfile.mkdtemp(), "cnn.npz")
model.save_weights(path)
other = CNN()
other(x)
other.load_weights(path)
with dezero.test_mode():
    print("reloaded", np.allclose(other(x).data, y.data))
print("keys", sorted(np.load(path).files))
