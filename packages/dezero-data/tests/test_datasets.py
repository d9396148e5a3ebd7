"""Built-in datasets, against independent references (DeZero's loops, hand-built files)."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import numpy as np
import pytest

from dezero.data import datasets
from dezero.data.datasets._plot import image_grid
from dezero.data.datasets.cifar import parse_cifar10_tar
from dezero.data.download import DatasetNotFoundError, RemoteFile


def _dezero_spiral(train):
    """DeZero's get_spiral, verbatim in algorithm (global NumPy state saved and restored)."""
    saved = np.random.get_state()
    try:
        np.random.seed(seed=1984 if train else 2020)
        num_data, num_class, input_dim = 100, 3, 2
        x = np.zeros((num_data * num_class, input_dim), dtype=np.float32)
        t = np.zeros(num_data * num_class, dtype=np.int64)
        for j in range(num_class):
            for i in range(num_data):
                rate = i / num_data
                radius = 1.0 * rate
                theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
                ix = num_data * j + i
                x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)]).flatten()
                t[ix] = j
        indices = np.random.permutation(num_data * num_class)
        return x[indices], t[indices]
    finally:
        np.random.set_state(saved)


def _same_global_state(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("train", [True, False])
def test_spiral_equals_dezero_and_leaves_global_state_alone(train):
    np.random.seed(123)
    np.random.random(5)  # mid-stream, so a stray draw would move the position
    before = np.random.get_state()
    ds = datasets.Spiral(train=train)
    other = datasets.Spiral(train=train, seed=7)
    datasets.get_spiral(train)
    assert _same_global_state(np.random.get_state(), before)
    # The next global draw is still the one a fresh RandomState(123) gives after 5 draws.
    ref_rs = np.random.RandomState(123)
    ref_rs.random_sample(5)
    assert np.random.random() == ref_rs.random_sample()
    assert not np.array_equal(other.data, ds.data) and len(other) == 300
    np.testing.assert_array_equal(other.data, datasets.Spiral(train=train, seed=7).data)
    ref_x, ref_t = _dezero_spiral(train)
    np.testing.assert_allclose(ds.data, ref_x, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(ds.label, ref_t)
    assert ds.data.dtype == np.float32 and ds.label.dtype == np.int64 and len(ds) == 300


def test_sincurve():
    train, test = datasets.SinCurve(), datasets.SinCurve(train=False)
    x = np.linspace(0, 2 * np.pi, 1000)
    assert train.data.shape == (999, 1) and train.label.shape == (999, 1)
    np.testing.assert_array_equal(train.data[1:], train.label[:-1])  # label is the next step
    assert np.abs(train.data[:, 0] - np.sin(x[:-1])).max() <= 0.05
    np.testing.assert_allclose(test.data[:, 0], np.cos(x[:-1]))
    np.testing.assert_array_equal(datasets.SinCurve(seed=3).data, datasets.SinCurve(seed=3).data)
    assert not np.array_equal(datasets.SinCurve(seed=3).data, datasets.SinCurve(seed=4).data)


def test_mnist_sample_split():
    tr, te = datasets.MNISTSample(), datasets.MNISTSample(train=False)
    assert (len(tr), len(te)) == (4000, 1000)
    for ds, per_class in ((tr, 400), (te, 100)):
        assert ds.data.shape == (len(ds), 1, 28, 28) and ds.data.dtype == np.uint8
        assert ds.label.dtype == np.int64
        assert np.bincount(ds.label, minlength=10).tolist() == [per_class] * 10
    train_rows = {r.tobytes() for r in tr.data.reshape(4000, -1)}
    assert not any(r.tobytes() in train_rows for r in te.data.reshape(1000, -1))  # disjoint
    assert 50 < tr.data.reshape(4000, -1).astype(bool).sum(axis=1).mean() < 300  # digits, not noise
    x, t = tr[0]
    assert x.shape == (784,) and x.dtype == np.float32
    np.testing.assert_allclose(x, tr.data[0].reshape(-1) / 255.0, rtol=1e-6)
    xs, ts = tr[np.arange(5)]
    assert xs.shape == (5, 784) and ts.tolist() == tr.label[:5].tolist()


def _tiny_fashion(idx_files, idx_bytes, name="tiny-fashion"):
    files = {}
    for part, n in (("train", 12), ("test", 4)):
        imgs, labs = idx_files.images[:n], idx_files.labels[:n]
        img_name, lab_name = (
            f"{'train' if part == 'train' else 't10k'}-{k}"
            for k in ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")
        )
        files[part] = (
            (
                img_name,
                imgs,
                RemoteFile(img_name, sha256=hashlib.sha256(idx_bytes(imgs)).hexdigest()),
            ),
            (
                lab_name,
                labs,
                RemoteFile(lab_name, sha256=hashlib.sha256(idx_bytes(labs)).hexdigest()),
            ),
        )

    class TinyFashion(datasets.FashionMNIST):
        pass

    TinyFashion.name = name
    TinyFashion.files = {p: (v[0][2], v[1][2]) for p, v in files.items()}
    return TinyFashion, files


def test_mnist_family_downloads_and_loads(server, idx_files, isolated_data_dirs, make_idx):
    idx_bytes = make_idx
    Tiny, files = _tiny_fashion(idx_files, idx_bytes)
    for part in files.values():
        for fname, arr, _ in part:
            server.files[f"/fm/{fname}"] = gzip.compress(idx_bytes(arr))
    ds = Tiny(mirrors=["http://127.0.0.1:9/", server.url + "/fm/"], progress=False)
    assert ds.data.shape == (12, 1, 28, 28) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data[:, 0], idx_files.images)
    assert ds.label.dtype == np.int64 and ds.label.tolist() == idx_files.labels.tolist()
    test = Tiny(train=False, mirrors=[server.url + "/fm/"], transform=None)
    assert len(test) == 4 and test[0][0].dtype == np.uint8
    # Now cached: works with no mirror at all.
    assert len(Tiny(mirrors=[], download=False)) == 12
    assert sorted(
        p.name for p in (isolated_data_dirs["cache"] / "tiny-fashion").iterdir()
    ) == sorted(f for part in files.values() for f, _, _ in part)


def test_real_datasets_without_data_or_network_say_what_to_do(isolated_data_dirs):
    for cls, fname in (
        (datasets.MNIST, "train-images-idx3-ubyte.gz"),
        (datasets.FashionMNIST, "train-images-idx3-ubyte.gz"),
        (datasets.CIFAR10, "cifar-10-binary.tar.gz"),
        (datasets.CIFAR100, "cifar-100-binary.tar.gz"),
    ):
        with pytest.raises(DatasetNotFoundError) as e:
            cls(download=False)
        msg = str(e.value)
        assert msg.startswith(f"{cls.__name__}: ") and fname in msg
        assert str(isolated_data_dirs["cache"]) in msg and "root=" in msg


def _cifar_tar(rng, n_per_file=3):
    buf = io.BytesIO()
    records = {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name in names:
            rec = rng.integers(0, 256, size=(n_per_file, 3073), dtype=np.uint8)
            rec[:, 0] %= 10
            records[name] = rec
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = rec.size
            tar.addfile(info, io.BytesIO(rec.tobytes()))
    return buf.getvalue(), records


def test_cifar10_binary_parse_and_download(server, isolated_data_dirs):
    archive, records = _cifar_tar(np.random.default_rng(0))
    x, t = parse_cifar10_tar(gzip.decompress(archive), train=True)
    assert x.shape == (15, 3, 32, 32) and x.dtype == np.uint8 and t.dtype == np.int64
    k = 0
    for i in range(1, 6):  # naive reference: record by record, pixel planes R, G, B
        for rec in records[f"data_batch_{i}.bin"]:
            assert t[k] == rec[0]
            for c in range(3):
                np.testing.assert_array_equal(
                    x[k, c], rec[1 + 1024 * c : 1 + 1024 * (c + 1)].reshape(32, 32)
                )
            k += 1

    class TinyCIFAR(datasets.CIFAR10):
        name = "tiny-cifar"
        file = RemoteFile(
            "cifar-10-binary.tar.gz", archive_sha256=hashlib.sha256(archive).hexdigest()
        )

    server.files["/k/cifar-10-binary.tar.gz"] = archive
    test = TinyCIFAR(train=False, mirrors=[server.url + "/k/"], progress=False)
    assert len(test) == 3 and test.label.tolist() == records["test_batch.bin"][:, 0].tolist()
    xi, _ = test[0]
    assert xi.shape == (3, 32, 32) and xi.dtype == np.float32 and 0 <= xi.min() and xi.max() <= 1
    with pytest.raises(ValueError, match="no member"):
        parse_cifar10_tar(b"\0" * 1024, train=True)


def test_labels_and_image_grid():
    assert datasets.FashionMNIST.labels()[9] == "Ankle boot"
    assert datasets.CIFAR10.labels()[0] == "airplane" and datasets.MNIST.labels()[3] == "3"
    imgs = np.random.default_rng(0).integers(0, 256, size=(5, 1, 2, 3), dtype=np.uint8)
    grid = image_grid(imgs, row=2, col=3)
    assert grid.shape == (4, 9)
    for k in range(6):
        r, c = divmod(k, 3)
        want = imgs[k, 0] if k < 5 else np.zeros((2, 3), np.uint8)
        np.testing.assert_array_equal(grid[2 * r : 2 * r + 2, 3 * c : 3 * c + 3], want)


def test_cifar100_binary_fine_and_coarse_labels(server, isolated_data_dirs):
    rng = np.random.default_rng(1)
    buf, records = io.BytesIO(), {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for part, n in (("train", 5), ("test", 3)):
            rec = rng.integers(0, 256, size=(n, 2 + 3072), dtype=np.uint8)
            rec[:, 0] %= 20
            rec[:, 1] %= 100
            records[part] = rec
            info = tarfile.TarInfo(f"cifar-100-binary/{part}.bin")
            info.size = rec.size
            tar.addfile(info, io.BytesIO(rec.tobytes()))
    archive = buf.getvalue()

    class TinyCIFAR100(datasets.CIFAR100):
        name = "tiny-cifar-100"
        file = RemoteFile(
            "cifar-100-binary.tar.gz", archive_sha256=hashlib.sha256(archive).hexdigest()
        )

    server.files["/c100/cifar-100-binary.tar.gz"] = archive
    mirrors = [server.url + "/c100/"]
    for part, train in (("train", True), ("test", False)):
        for label_type, byte in (("fine", 1), ("coarse", 0)):
            ds = TinyCIFAR100(train=train, label_type=label_type, mirrors=mirrors,
                              transform=None, progress=False)
            rec = records[part]
            assert len(ds) == len(rec) and ds.label.dtype == np.int64
            for k in range(len(rec)):  # naive reference: record by record
                assert ds.label[k] == rec[k, byte]
                for c in range(3):
                    np.testing.assert_array_equal(
                        ds.data[k, c], rec[k, 2 + 1024 * c : 2 + 1024 * (c + 1)].reshape(32, 32)
                    )
    assert server.hits["/c100/cifar-100-binary.tar.gz"] == 1  # then found in the cache
    x, _ = TinyCIFAR100(mirrors=[])[0]
    assert x.dtype == np.float32 and x.shape == (3, 32, 32) and 0 <= x.min() <= x.max() <= 1
    with pytest.raises(ValueError, match="label_type must be 'fine' or 'coarse'"):
        TinyCIFAR100(label_type="medium", mirrors=[])
    assert datasets.CIFAR100.labels()[99] == "worm" and len(datasets.CIFAR100.labels()) == 100
    assert datasets.CIFAR100.labels("coarse")[19] == "vehicles_2"
