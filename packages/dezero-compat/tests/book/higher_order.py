# Steps 33-36: higher-order derivatives by differentiating the backward graph.
import numpy as np

import dezero.functions as F
from dezero import Variable


def f(x):
    return x ** 4 - 2 * x ** 2


x = Variable(np.array(2.0))
y = f(x)
y.backward(create_graph=True)
print("first", x.grad)
gx = x.grad
x.cleargrad()
gx.backward()
print("second", x.grad)

x = Variable(np.array(1.0))
y = F.sin(x)
y.backward(create_graph=True)
for i in range(3):
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
    print("sin", i + 2, x.grad)

x = Variable(np.array(1.0))
y = F.tanh(x)
x.name = "x"
y.name = "y"
y.backward(create_graph=True)
for _ in range(4):
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
gx = x.grad
print("tanh 5th", gx)

# Step 36: double backprop through a gradient used in a new function.
x = Variable(np.array(2.0))
y = x ** 2
y.backward(create_graph=True)
gx = x.grad
x.cleargrad()
z = gx ** 3 + y
z.backward()
print("double backprop", x.grad)

x = Variable(np.linspace(-7, 7, 5))
y = F.sin(x)
y.backward(create_graph=True)
logs = [y.data]
for _ in range(3):
    logs.append(x.grad.data)
    gx = x.grad
    x.cleargrad()
    gx.backward(create_graph=True)
for i, v in enumerate(logs):
    print("sin grads", i, np.round(v, 8))
