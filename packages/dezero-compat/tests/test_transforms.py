"""dezero.compat.transforms: DeZero's names over dezero.data.transforms; Convert."""

from __future__ import annotations

import numpy as np

from dezero.compat import transforms as T


def test_convert_modes():
    from PIL import Image

    rgb = np.random.RandomState(0).randint(0, 256, size=(4, 3, 3)).astype(np.uint8)
    img = Image.fromarray(rgb)
    bgr = np.asarray(T.Convert("BGR")(img))
    np.testing.assert_array_equal(bgr, rgb[:, :, ::-1])
    gray = T.Convert("L")(img)
    assert gray.mode == "L" and gray.size == (3, 4)


def test_array_transforms():
    x = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    f = T.Compose([T.ToFloat(), T.Normalize(mean=[1.0, 2.0, 3.0], std=2.0), T.Flatten()])
    np.testing.assert_allclose(f(x), ((x - np.array([1, 2, 3])[:, None, None]) / 2).ravel())
    assert T.ToInt()(np.array([1.7])).dtype == np.int64
    assert T.AsType(np.float64)(x).dtype == np.float64
    assert T.Compose()(x) is x
