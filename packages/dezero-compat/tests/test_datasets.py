"""dezero.compat.datasets: DeZero's global reseeding and draws, ImageNet labels."""

from __future__ import annotations

import numpy as np

from dezero.compat import datasets


def _dezero_spiral(train):
    # DeZero 0.0.13's loop, written out: it seeds the *global* generator.
    np.random.seed(1984 if train else 2020)
    x = np.zeros((300, 2), np.float32)
    t = np.zeros(300, np.int64)
    for j in range(3):
        for i in range(100):
            rate = i / 100
            theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
            x[i + 100 * j] = np.array([rate * np.sin(theta), rate * np.cos(theta)]).flatten()
            t[i + 100 * j] = j
    idx = np.random.permutation(300)
    return x[idx], t[idx]


def test_get_spiral_leaves_the_global_generator_as_dezero():
    for train in (True, False):
        want_x, want_t = _dezero_spiral(train)
        want_next = np.random.rand(3)
        np.random.seed(12345)
        x, t = datasets.get_spiral(train)
        np.testing.assert_allclose(x, want_x, rtol=1e-6)
        np.testing.assert_array_equal(t, want_t)
        np.testing.assert_array_equal(np.random.rand(3), want_next)
    ds = datasets.Spiral(train=False)
    np.testing.assert_array_equal(ds.label, _dezero_spiral(False)[1])


def test_sin_curve_noise_from_the_global_generator():
    np.random.seed(3)
    ds = datasets.SinCurve(train=True)
    x = np.linspace(0, 2 * np.pi, 1000)
    y = np.sin(x) + np.random.RandomState(3).uniform(-0.05, 0.05, size=1000)
    np.testing.assert_array_equal(ds.data[:, 0], y[:-1])
    np.testing.assert_array_equal(ds.label[:, 0], y[1:])
    np.random.seed(3)
    test = datasets.SinCurve(train=False)
    np.testing.assert_array_equal(test.data[:, 0], np.cos(x)[:-1])
    # The noise is drawn for the test set too (DeZero's order of draws).
    rs = np.random.RandomState(3)
    rs.uniform(size=1000)
    np.testing.assert_array_equal(np.random.rand(2), rs.rand(2))


def test_imagenet_labels_ship_with_the_package():
    labels = datasets.ImageNet.labels()
    assert len(labels) == 1000 and sorted(labels) == list(range(1000))
    assert labels[0] == "tench, Tinca tinca"
    assert labels[1] == "goldfish, Carassius auratus"
    assert labels[999] == "toilet tissue, toilet paper, bathroom tissue"
    assert all(v.strip() == v and v for v in labels.values())


def test_default_transforms_are_dezeros():
    from dezero.compat.transforms import Compose

    mnist = datasets.MNIST.__init__.__defaults__[1]
    cifar = datasets.CIFAR10.__init__.__defaults__[1]
    assert isinstance(mnist, Compose) and isinstance(cifar, Compose)
    img = np.full((1, 28, 28), 255, np.uint8)
    out = mnist(img)
    assert out.shape == (784,) and out.dtype == np.float32 and float(out.max()) == 1.0
    np.testing.assert_allclose(cifar(np.zeros((3, 2, 2), np.uint8)), -1.0)  # (0 - 0.5) / 0.5
