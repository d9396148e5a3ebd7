# Steps 23-32 use dezero.core_simple: gradients are plain arrays, operators come from
# setup_variable(); Taylor series of sin, a user-defined Function, rosenbrock.
import math

import numpy as np

from dezero.core_simple import Function, Variable, no_grad, setup_variable

setup_variable()


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * np.cos(x)


def sin(x):
    return Sin()(x)


def my_sin(x, threshold=0.0001):
    y = 0
    for i in range(100000):
        c = (-1) ** i / math.factorial(2 * i + 1)
        t = c * x ** (2 * i + 1)
        y = y + t
        if abs(t.data) < threshold:
            break
    return y


x = Variable(np.array(np.pi / 4))
y = sin(x)
y.backward()
print("sin", y.data, x.grad)

x = Variable(np.array(np.pi / 4))
y = my_sin(x)
y.backward()
print("taylor", y.data, x.grad)

x = Variable(np.array(2.0))
y = x ** 2 + 3 * x - 1 / x
y.backward()
print("poly", y.data, x.grad, isinstance(x.grad, Variable), np.ndim(x.grad))

x0, x1 = Variable(np.array(0.0)), Variable(np.array(2.0))
for _ in range(200):
    y = 100 * (x1 - x0 ** 2) ** 2 + (1 - x0) ** 2
    x0.cleargrad()
    x1.cleargrad()
    y.backward()
    x0.data -= 0.001 * x0.grad
    x1.data -= 0.001 * x1.grad
print("rosenbrock", x0.data, x1.data)

with no_grad():
    y = x0 * 2
print("no_grad", y.creator is None)
