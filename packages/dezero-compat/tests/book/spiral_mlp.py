# Steps 48-50: the spiral dataset, an MLP, SGD, a DataLoader, accuracy and test_mode.
import math

import numpy as np

import dezero
import dezero.functions as F
from dezero import DataLoader, optimizers
from dezero.models import MLP

np.random.seed(0)
max_epoch = 15
batch_size = 30
hidden_size = 10
lr = 1.0

train_set = dezero.datasets.Spiral(train=True)
test_set = dezero.datasets.Spiral(train=False)
train_loader = DataLoader(train_set, batch_size)
test_loader = DataLoader(test_set, batch_size, shuffle=False)
print("loader", len(train_set), train_loader.max_iter, math.ceil(len(train_set) / batch_size))

model = MLP((hidden_size, 3))
optimizer = optimizers.SGD(lr).setup(model)

for epoch in range(max_epoch):
    sum_loss, sum_acc = 0, 0
    for x, t in train_loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        acc = F.accuracy(y, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss.data) * len(t)
        sum_acc += float(acc.data) * len(t)
    print("epoch", epoch + 1, "train loss", sum_loss / len(train_set), "acc",
          sum_acc / len(train_set))
    sum_loss, sum_acc = 0, 0
    with dezero.no_grad():
        for x, t in test_loader:
            y = model(x)
            loss = F.softmax_cross_entropy(y, t)
            acc = F.accuracy(y, t)
            sum_loss += float(loss.data) * len(t)
            sum_acc += float(acc.data) * len(t)
    print("epoch", epoch + 1, "test loss", sum_loss / len(test_set), "acc",
          sum_acc / len(test_set))

x, t = train_loader.next()
print("next", x.shape, t.shape, train_loader.iteration)
train_loader.reset()
print("reset", train_loader.iteration)
x, t = dezero.datasets.get_spiral(train=True)
print("spiral", x.shape, t.shape, x.dtype, np.round(x[:3], 6), t[:10])
