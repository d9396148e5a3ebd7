# Steps 1-24 and 37-42 of the book, in DeZero's style: define-by-run graphs, backward,
# generations, retain_grad, no_grad, operators, shapes, broadcasting, matmul.
import numpy as np

import dezero
import dezero.functions as F
from dezero import Function, Variable, no_grad, using_config
from dezero.utils import array_allclose, gradient_check


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.inputs[0]
        return 2 * x * gy


def square(x):
    return Square()(x)


x = Variable(np.array(0.5))
y = square(F.exp(square(x)))
y.backward()
print("step9", y, x.grad)

x = Variable(np.array(2.0))
a = square(x)
y = a * a + a  # a branch: generations decide the order
y.backward()
print("step16", y.data, x.grad.data)

x0, x1 = Variable(np.array(1.0)), Variable(np.array(1.0))
t = x0 + x1
y = x0 + t
y.backward(retain_grad=True)
print("step18", y.grad, t.grad, x0.grad, x1.grad)

with no_grad():
    y = square(Variable(np.array(2.0)))
print("no_grad", y, y.creator is None)
with using_config("enable_backprop", False):
    print("config", dezero.Config.enable_backprop)
print("config", dezero.Config.enable_backprop)

a = Variable(np.array(3.0))
b = Variable(np.array(2.0))
y = a * b + 1.0 - b / a + a ** 2 - (-a)
y.backward()
print("operators", y, a.grad, b.grad)
print("reflected", 3.0 * a, np.array(2.0) + a, 1 / b, 2.0 - a)


def sphere(x, y):
    return x ** 2 + y ** 2


def matyas(x, y):
    return 0.26 * (x ** 2 + y ** 2) - 0.48 * x * y


def goldstein(x, y):
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2)
    return a * b


for f in (sphere, matyas, goldstein):
    x, y = Variable(np.array(1.0)), Variable(np.array(1.0))
    z = f(x, y)
    z.backward()
    print("step24", f.__name__, z.data, x.grad, y.grad)

x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
y = F.reshape(x, (6,))
y.backward(retain_grad=True)
print("reshape", y, x.grad)
y = x.reshape(3, 2).T
print("transpose", y, y.shape, x.transpose().shape, len(x), x.size, x.ndim)
x = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
y = F.sum(x, axis=0, keepdims=True)
y.backward()
print("sum", y, x.grad)
x0 = Variable(np.array([1.0, 2.0, 3.0]))
x1 = Variable(np.array([10.0]))
y = x0 + x1
y.backward()
print("broadcast", y, x1.grad)
x = Variable(np.random.RandomState(0).randn(2, 3))
W = Variable(np.random.RandomState(1).randn(3, 4))
y = F.matmul(x, W)
y.backward()
print("matmul", x.grad.shape, W.grad.shape, np.round(x.grad.data, 6), np.round(W.grad.data, 6))
x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
y = F.get_item(x, 1)
y.backward()
print("get_item", y, x.grad)
print("slices", x[:, 2], x[np.array([0, 0, 1])])

# DeZero starts backward from an existing .grad.
x = Variable(np.array(3.0))
y = x * x
y.grad = Variable(np.array(10.0))
y.backward()
print("existing grad", x.grad)

x = np.random.RandomState(2).randn(3, 2)
print("gradient_check", gradient_check(F.tanh, x),
      gradient_check(F.sigmoid, x.astype(np.float32)))
print("allclose broadcasts", array_allclose(np.ones((2, 3)), np.ones(3)))
print("as_variable", dezero.as_variable(np.array(1.0)), dezero.as_array(1.5))
