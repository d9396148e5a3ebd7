"""dezero.compat.core_simple: the book's steps 23-32 core, gradients as plain arrays."""

from __future__ import annotations

import numpy as np

from dezero.compat import core_simple as S


def test_gradients_are_arrays():
    x = S.Variable(np.array(2.0))
    y = S.add(S.mul(x, x), x)  # x^2 + x
    y.backward()
    assert type(x.grad) is np.ndarray and float(x.grad) == 5.0  # 2x + 1
    assert str(x.grad) == "5.0"  # what the book prints


def test_existing_grad_is_the_start_and_grads_accumulate():
    x = S.Variable(np.array(3.0))
    y = x * x
    y.grad = np.array(2.0)
    y.backward()
    assert float(x.grad) == 12.0
    x.cleargrad()
    assert x.grad is None


def test_book_step_functions():
    # Step 24's sphere and matyas, against their closed-form gradients.
    x, y = S.Variable(np.array(1.0)), S.Variable(np.array(2.0))
    z = 0.26 * (x ** 2 + y ** 2) - 0.48 * x * y
    z.backward()
    assert np.isclose(x.grad, 0.52 * 1.0 - 0.48 * 2.0)
    assert np.isclose(y.grad, 0.52 * 2.0 - 0.48 * 1.0)
    assert float(S.rsub(x, 5.0).data) == 4.0 and float(S.rdiv(y, 1.0).data) == 0.5
    assert isinstance(S.as_variable(np.array(1.0)), S.Variable)
    with S.no_grad():
        assert (x * 2).creator is None
