# DeZero's layers, losses and loaders with np.random.seed: draws, quirks, shapes.
import numpy as np

import dezero
import dezero.functions as F
import dezero.layers as L
from dezero import DataLoader, Variable, test_mode
from dezero.models import MLP, Sequential

np.random.seed(0)
lin = L.Linear(3)
y = lin(np.ones((2, 4), np.float32))
print("linear", lin.W.shape, lin.W.dtype, np.round(lin.W.data, 6), y.dtype)
conv = L.Conv2d(2, kernel_size=3, pad=1)
y = conv(np.ones((1, 2, 4, 4), np.float32))
print("conv2d", conv.W.shape, np.round(conv.W.data.sum(), 5), y.shape, np.round(y.data.sum(), 4))
deconv = L.Deconv2d(2, kernel_size=2, stride=2)
y = deconv(np.ones((1, 3, 2, 2), np.float32))
print("deconv2d", deconv.W.shape, np.round(deconv.W.data.sum(), 5), y.shape)
emb = L.EmbedID(5, 3)
print("embed", emb.W.dtype, np.round(emb(np.array([1, 3])).data, 6))
rnn = L.RNN(4)
h1 = rnn(np.ones((1, 2)))
h2 = rnn(np.ones((1, 2)))
print("rnn", np.round(h1.data, 5), np.round(h2.data, 5), rnn.h2h.W.shape)

x = np.ones((3, 5), np.float32)
y = F.dropout(x)
print("dropout", y.data)
with test_mode():
    print("dropout test", F.dropout(x).data.sum())

bn = L.BatchNorm()
x = np.random.randn(8, 3).astype(np.float32) * 2 + 1
y = bn(x)
print("batchnorm", np.round(bn.avg_mean.data, 5), np.round(bn.avg_var.data, 5), y.shape)
with test_mode():
    print("batchnorm test", np.round(bn(x).data[0], 4))

seq = Sequential(L.Linear(4), F.relu, L.Linear(2))
print("sequential", len(seq.layers), np.round(seq(np.ones((1, 3), np.float32)).data, 5))
mlp = MLP((5, 2), activation=F.relu)
print("mlp", len(mlp.layers), np.round(mlp(np.ones((2, 3), np.float32)).data, 5))

p = Variable(np.array([[0.2], [0.9], [0.9995]], np.float32))
t = np.array([0, 1, 1])
bce = F.binary_cross_entropy(p, t)
bce.backward()
print("bce", bce, np.round(p.grad.data, 5))
x = Variable(np.array([[1.0, -2.0], [0.5, 3.0]]))
sce = F.sigmoid_cross_entropy(x, np.array([[1, 0], [0, 1]]))
print("sigmoid ce", sce)
print("mse", F.mean_squared_error(np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])))
s = np.array([[0.2, 0.8, 0.0], [0.1, 0.3, 0.6], [2.0, 1.0, 0.1]])
print("softmax ce", F.softmax_cross_entropy(s, np.array([1, 2, 1])),
      F.softmax_cross_entropy_simple(s, np.array([1, 2, 1])))
print("accuracy", F.accuracy(s, np.array([1, 2, 1])))
print("softmax simple", np.round(F.softmax_simple(Variable(s)).data, 6))
print("sigmoid simple", np.round(F.sigmoid_simple(Variable(s)).data, 6))
print("mse simple", F.mean_squared_error_simple(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
print("linear simple", F.linear_simple(Variable(s), Variable(np.eye(3)), Variable(np.ones(3))))

train = dezero.datasets.Spiral()
loader = DataLoader(train, batch_size=100)
x, t = loader.next()
print("loader", x.shape, t[:8], loader.iteration, loader.max_iter)
n = 0
for _batch in loader:
    n += 1
print("loader epoch", n, loader.iteration)
x, t = next(loader)
print("loader again", t[:8])

x = np.random.randn(1, 2, 5, 5)
W = np.random.randn(3, 2, 3, 3)
print("conv2d simple", np.round(F.conv2d_simple(x, W, stride=2, pad=1).data.sum(), 6),
      np.round(F.conv2d(x, W, stride=2, pad=1).data.sum(), 6))
print("pooling simple", np.round(F.pooling_simple(x, 2, 2).data, 6).sum(),
      np.round(F.pooling(x, 2, 2).data, 6).sum())
