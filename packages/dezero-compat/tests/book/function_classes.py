# DeZero's Function classes called directly and subclassed: forward values and gradients.
import numpy as np

import dezero.functions as F
import dezero.functions_conv as FC
from dezero import Variable
from dezero.core import Add, Div, Function, Mul, Neg, Pow, Sub

rs = np.random.RandomState(0)
a, b = Variable(rs.randn(2, 3)), Variable(rs.uniform(0.5, 2.0, (2, 3)))
for f in (Add(), Sub(), Mul(), Div()):
    a.cleargrad()
    b.cleargrad()
    y = f(a, b)
    y.backward()
    print(type(f).__name__, np.round(y.data, 6), np.round(a.grad.data, 6), np.round(b.grad.data, 6))
for f in (Neg(), Pow(3), F.Sin(), F.Cos(), F.Tanh(), F.Exp(), F.Sigmoid(), F.ReLU(),
          F.Softmax(), F.LogSoftmax(axis=0), F.LeakyReLU(0.1), F.Clip(-0.5, 0.5),
          F.Sum(1, True), F.Max(axis=1), F.Min(), F.Reshape((3, 2)), F.Transpose(),
          F.BroadcastTo((4, 2, 3)), F.SumTo((1, 3)), F.GetItem((slice(None), 1))):
    a.cleargrad()
    y = f(a)
    y.backward()
    print(type(f).__name__, np.round(y.data, 6), np.round(a.grad.data, 6))
b.cleargrad()
print("Log", np.round(F.Log()(b).data, 6))
W = Variable(rs.randn(3, 4))
bias = Variable(rs.randn(4))
y = F.Linear()(a, W, bias)
y.backward()
print("Linear", np.round(y.data, 6), np.round(W.grad.data, 6), np.round(bias.grad.data, 6))
print("MatMul", np.round(F.MatMul()(a, W).data, 6))
t = np.array([2, 0])
loss = F.SoftmaxCrossEntropy()(a, t)
print("SoftmaxCrossEntropy", round(float(loss.data), 6))
print("MeanSquaredError", round(float(F.MeanSquaredError()(a, b).data), 6))
mean, var = np.zeros(3), np.ones(3)
y = F.BatchNorm(mean, var, 0.9, 2e-5)(a, Variable(np.ones(3)), Variable(np.zeros(3)))
print("BatchNorm", np.round(y.data, 5), np.round(mean, 6), np.round(var, 6))

x = Variable(rs.randn(1, 2, 5, 5))
Wc = Variable(rs.randn(3, 2, 3, 3))
conv = FC.Conv2d(stride=2, pad=1)
y = conv(x, Wc, Variable(np.zeros(3)))
y.backward()
print("Conv2d", y.shape, np.round(y.data.sum(), 6), np.round(x.grad.data.sum(), 6))
gW = FC.Conv2DGradW(conv)(x, Variable(np.ones(y.shape)))
print("Conv2DGradW", gW.shape, np.round(gW.data, 6).sum())
y = FC.Deconv2d(stride=2, pad=1)(x, Variable(rs.randn(2, 3, 3, 3)), None)
print("Deconv2d", y.shape, np.round(y.data.sum(), 6))
pool = FC.Pooling(3, stride=2, pad=1)
y = pool(x - 1.0)
print("Pooling", np.round(y.data, 6))
gy = Variable(rs.randn(*y.shape))
print("Pooling2DGrad", np.round(FC.Pooling2DGrad(pool)(gy).data, 6))
print("Pooling2DWithIndexes", np.round(FC.Pooling2DWithIndexes(pool)(x).data, 6))
print("AveragePooling", np.round(FC.AveragePooling(2, stride=2, pad=1)(x).data, 6))
col = FC.Im2col(3, 2, 1, True)(x)
print("Im2col", col.shape, np.round(col.data.sum(), 6))
print("Col2im", np.round(FC.Col2im(x.shape, 3, 2, 1, True)(col).data.sum(), 6))


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x, = self.inputs
        return 2 * x * gy


z = Variable(np.array(3.0))
y = Square()(z)
y.backward()
print("Square", y.data, z.grad.data)
