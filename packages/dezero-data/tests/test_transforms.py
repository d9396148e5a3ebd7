"""Transforms: one sample and a batch, each against a plain reference."""

from __future__ import annotations

import numpy as np
import pytest

from dezero.data import transforms as T


def _batch(seed=0, shape=(6, 3, 5, 4)):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def test_compose_flatten_tofloat_normalize_matches_formula():
    xs = _batch()
    t = T.Compose([T.Flatten(), T.ToFloat(), T.Normalize(0.0, 255.0)])
    want = xs.reshape(6, -1).astype(np.float64) / 255.0
    got = t.apply_batch(xs)
    assert got.dtype == np.float32 and got.shape == (6, 60)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for i in range(6):  # the single-sample path agrees with the batch path
        one = t(xs[i])
        assert one.shape == (60,) and one.dtype == np.float32
        np.testing.assert_array_equal(one, got[i])


def test_per_channel_normalize_sample_and_batch():
    xs = _batch().astype(np.float32)
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    t = T.Normalize(mean, std)
    got = t.apply_batch(xs)
    assert got.dtype == np.float32
    for n in range(len(xs)):
        for c in range(3):
            np.testing.assert_allclose(got[n, c], (xs[n, c] - mean[c]) / std[c], rtol=1e-6)
        np.testing.assert_allclose(t(xs[n]), got[n], rtol=1e-6)


def test_astype_toint_and_errors():
    x = np.array([1.7, -2.2])
    assert T.ToInt()(x).dtype == np.int64 and T.ToInt()(x).tolist() == [1, -2]
    assert T.AsType(np.float16)(x).dtype == np.float16
    with pytest.raises(ValueError, match="ToFloat: dtype must be a floating"):
        T.ToFloat(np.int32)
    with pytest.raises(ValueError, match="ToInt: dtype must be an integer"):
        T.ToInt(np.float32)
    with pytest.raises(ValueError, match="Normalize: std must be non-zero"):
        T.Normalize(0.0, 0.0)


def test_plain_function_works_on_batches():
    xs = _batch()
    got = T.apply_batch(lambda x: x.sum(), xs)
    np.testing.assert_array_equal(got, [int(x.sum()) for x in xs])
    assert T.apply_batch(None, xs) is xs


def test_random_horizontal_flip_batch():
    xs = _batch(shape=(200, 1, 3, 4))
    out = T.RandomHorizontalFlip(p=0.5, seed=3).apply_batch(xs)
    flipped = 0
    for x, y in zip(xs, out):
        same, mirrored = np.array_equal(x, y), np.array_equal(x[..., ::-1], y)
        assert same or mirrored
        flipped += mirrored and not same
    assert 60 < flipped < 140  # about half
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(xs[0]), xs[0][..., ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0).apply_batch(xs), xs)
    assert (
        T.RandomHorizontalFlip(p=0.5, seed=5).apply_batch(xs).tolist()
        == T.RandomHorizontalFlip(p=0.5, seed=5).apply_batch(xs).tolist()
    )


def _all_crops(x, size, pad):
    """Every window a padded crop can produce (naive loops)."""
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pad, pad), (pad, pad)])
    h, w = size
    return [
        p[..., i : i + h, j : j + w]
        for i in range(p.shape[-2] - h + 1)
        for j in range(p.shape[-1] - w + 1)
    ]


@pytest.mark.parametrize("shape", [(8, 3, 6, 5), (8, 6, 5)])
def test_random_crop_batch_windows_are_valid_crops(shape):
    xs = _batch(shape=shape)
    crop = T.RandomCrop((4, 3), padding=2, seed=1)
    out = crop.apply_batch(xs)
    assert out.shape == shape[:-2] + (4, 3) and out.dtype == xs.dtype
    for x, y in zip(xs, out):
        assert any(np.array_equal(y, c) for c in _all_crops(x, (4, 3), 2))
    one = crop(xs[0])
    assert one.shape == shape[1:-2] + (4, 3)
    assert any(np.array_equal(one, c) for c in _all_crops(xs[0], (4, 3), 2))


def test_random_crop_uses_different_windows_per_sample():
    xs = np.broadcast_to(np.arange(36, dtype=np.uint8).reshape(1, 1, 6, 6), (50, 1, 6, 6))
    out = T.RandomCrop(4, padding=1, seed=0).apply_batch(np.ascontiguousarray(xs))
    assert len({o.tobytes() for o in out}) > 5


def test_random_crop_errors():
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(10).apply_batch(_batch())
    with pytest.raises(ValueError, match="at least 3 axes"):
        T.RandomCrop(2).apply_batch(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        T.RandomCrop(2, padding=-1)


def test_compose_never_overwrites_the_callers_data():
    # float32 input: ToFloat makes no copy, so Normalize must not work in place.
    xs = np.random.default_rng(0).random((4, 1, 3, 3)).astype(np.float32)
    before = xs.copy()
    out = T.Compose([T.Flatten(), T.ToFloat(), T.Normalize(0.5, 2.0)]).apply_batch(xs)
    np.testing.assert_array_equal(xs, before)
    np.testing.assert_allclose(out, (before.reshape(4, -1) - 0.5) / 2.0, rtol=1e-6)
    # uint8 input: ToFloat copies, and the in-place result matches the formula.
    u = (before * 255).astype(np.uint8)
    u_before = u.copy()
    out = T.Compose([T.ToFloat(), T.Normalize(1.0, 4.0), T.Flatten()]).apply_batch(u)
    np.testing.assert_array_equal(u, u_before)
    np.testing.assert_allclose(
        out, (u_before.reshape(4, -1).astype(np.float64) - 1.0) / 4.0, rtol=1e-6
    )


# ---------------------------------------------------------------- randomness (issue 10 §6)


def test_unseeded_random_transforms_follow_the_framework_seed():
    from dezero.core import random

    xs = _batch(shape=(40, 1, 3, 4))
    flip, crop = T.RandomHorizontalFlip(p=0.5), T.RandomCrop(2, padding=1)  # made before seed
    random.seed(0)
    a = flip.apply_batch(xs), crop.apply_batch(xs)
    random.seed(0)
    b = flip.apply_batch(xs), T.RandomCrop(2, padding=1).apply_batch(xs)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # Independent reference: seed(0) is PCG64(0); the flip draws one uniform per sample.
    flips = np.random.Generator(np.random.PCG64(0)).random(40) < 0.5
    want = np.where(flips[:, None, None, None], xs[..., ::-1], xs)
    np.testing.assert_array_equal(a[0], want)
    assert flip.state_dict() == {"type": "RandomHorizontalFlip", "rng_state": None}


def test_compose_state_round_trip_and_bad_state_changes_nothing():
    import json

    xs = _batch(shape=(30, 1, 6, 6))
    pipe = T.Compose(
        [T.RandomCrop(4, padding=1, seed=5), T.ToFloat(), T.RandomHorizontalFlip(seed=6)]
    )
    pipe.apply_batch(xs)
    state = json.loads(json.dumps(pipe.state_dict()))  # plain JSON data
    first = pipe.apply_batch(xs)
    second = pipe.apply_batch(xs)
    pipe.load_state_dict(state)
    np.testing.assert_array_equal(pipe.apply_batch(xs), first)
    # A state that fails anywhere loads nowhere: the generators keep their positions.
    bad = json.loads(json.dumps(state))
    bad["transforms"][2]["rng_state"] = {"bit_generator": "MT19937"}
    with pytest.raises(ValueError, match="step 2"):
        pipe.load_state_dict(bad)
    np.testing.assert_array_equal(pipe.apply_batch(xs), second)
    with pytest.raises(ValueError, match="holds 2 steps"):
        pipe.load_state_dict({"type": "Compose", "transforms": state["transforms"][:2]})
    with pytest.raises(ValueError, match="without a seed of its own"):
        T.RandomCrop(4, seed=1).load_state_dict({"type": "RandomCrop", "rng_state": None})


# ---------------------------------------------------------------- PIL image transforms


def _rgb(h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(3, h, w), dtype=np.uint8)


def test_topil_toarray_round_trip_against_the_pixel_layout():
    from PIL import Image

    x = _rgb()
    img = T.ToPIL()(x)
    assert isinstance(img, Image.Image) and img.size == (7, 5) and img.mode == "RGB"
    for r in range(5):
        for c in range(7):  # naive reference: pixel (column c, row r) holds x[:, r, c]
            assert img.getpixel((c, r)) == tuple(int(v) for v in x[:, r, c])
    back = T.ToArray()(img)
    assert back.dtype == np.float32 and back.shape == (3, 5, 7)
    np.testing.assert_array_equal(back, x.astype(np.float32))
    assert T.ToArray(np.uint8)(T.ToPIL()(x[:1])).shape == (1, 5, 7)  # grey: one channel
    assert T.ToArray()(x) is x  # arrays pass through, as in DeZero
    with pytest.raises(ValueError, match="ToPIL: colour images must be uint8"):
        T.ToPIL()(x.astype(np.float32))
    with pytest.raises(ValueError, match=r"ToPIL: expects an array \(C, H, W\)"):
        T.ToPIL()(x[0])


def test_resize_width_height_order_and_nearest_is_pixel_repetition():
    x = _rgb(h=3, w=4)
    img = T.Resize((8, 6), mode=0)(T.ToPIL()(x))  # 0: nearest; (width 8, height 6)
    assert img.size == (8, 6)
    want = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)  # every pixel doubled both ways
    np.testing.assert_array_equal(T.ToArray(np.uint8)(img), want)
    const = np.full((3, 9, 9), 77, np.uint8)
    out = T.ToArray(np.uint8)(T.Resize(4)(T.ToPIL()(const)))  # bilinear keeps a constant
    assert out.shape == (3, 4, 4) and (out == 77).all()
    with pytest.raises(TypeError, match="convert arrays with ToPIL"):
        T.Resize(4)(x)
    with pytest.raises(ValueError, match="size must be positive"):
        T.Resize(0)


@pytest.mark.parametrize("size, W, H", [(3, 7, 5), ((4, 2), 7, 5), ((2, 5), 6, 5)])
def test_center_crop_on_images_and_arrays(size, W, H):
    x = _rgb(h=H, w=W)
    w, h = (size, size) if isinstance(size, int) else size
    left, top = (W - w) // 2, (H - h) // 2  # DeZero's formula: odd leftovers go right/bottom
    want = x[:, top : top + h, left : left + w]
    np.testing.assert_array_equal(T.CenterCrop(size)(x), want)
    np.testing.assert_array_equal(T.ToArray(np.uint8)(T.CenterCrop(size)(T.ToPIL()(x))), want)
    batch = np.stack([x, x[:, ::-1]])
    np.testing.assert_array_equal(T.CenterCrop(size).apply_batch(batch)[1],
                                  x[:, ::-1][:, top : top + h, left : left + w])
    with pytest.raises(ValueError, match="larger than the image"):
        T.CenterCrop((W + 1, H))(x)


def test_image_pipeline_on_a_batch():
    xs = np.stack([_rgb(seed=i) for i in range(4)])
    pipe = T.Compose([T.ToPIL(), T.Resize((14, 10), mode=0), T.CenterCrop(4), T.ToArray()])
    out = pipe.apply_batch(xs)
    assert out.shape == (4, 3, 4, 4) and out.dtype == np.float32
    for i in range(4):
        np.testing.assert_array_equal(out[i], pipe(xs[i]))


def test_missing_pillow_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(ImportError, match=r"dezero-data\[image\]"):
        T.ToPIL()(_rgb())
    with pytest.raises(ImportError, match="Resize: needs Pillow"):
        T.Resize(3)(object())
