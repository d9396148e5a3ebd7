# Steps 28-29 and 33: gradient descent and Newton's method on Rosenbrock and f(x).
import numpy as np

from dezero import Variable


def rosenbrock(x0, x1):
    return 100 * (x1 - x0 ** 2) ** 2 + (1 - x0) ** 2


x0, x1 = Variable(np.array(0.0)), Variable(np.array(2.0))
lr = 0.001
for i in range(1000):
    y = rosenbrock(x0, x1)
    x0.cleargrad()
    x1.cleargrad()
    y.backward()
    x0.data -= lr * x0.grad.data
    x1.data -= lr * x1.grad.data
    if i % 100 == 0:
        print("gd", i, x0, x1)


def f(x):
    return x ** 4 - 2 * x ** 2


def gx2(x):
    return 12 * x ** 2 - 4


x = Variable(np.array(2.0))
for i in range(10):
    print("newton analytic", i, x)
    y = f(x)
    x.cleargrad()
    y.backward()
    x.data -= x.grad.data / gx2(x.data)

x = Variable(np.array(2.0))
for i in range(10):
    print("newton autograd", i, x)
    y = f(x)
    x.cleargrad()
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    gx2v = x.grad
    x.data -= gx.data / gx2v.data
