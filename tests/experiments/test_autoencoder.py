"""The MNIST autoencoder of the self-consistency tests (minde.experiments.autoencoder): codes of B_r, reproducible
bytes, the shipped file."""

import hashlib

import numpy as np
import pytest

from minde.experiments import autoencoder as ae
from minde.experiments.mnist import load_mnist


@pytest.fixture(scope="module")
def images():
    return load_mnist().images


@pytest.fixture(scope="module")
def model():
    return ae.load_autoencoder()


def test_codes_and_B_r(model, images):
    x = images[:64]
    z = ae.encode(model, x, 12)
    assert z.shape == (64, ae.LATENT) and z.dtype == np.float32
    # B_r keeps rows < r only: changing rows >= r leaves its code unchanged, changing a kept row does not
    changed = x.copy()
    changed[:, 12:] = np.random.default_rng(0).random((64, 16, 28))
    np.testing.assert_array_equal(ae.encode(model, changed, 12), z)
    assert not np.array_equal(ae.encode(model, changed, 13), ae.encode(model, x, 13))
    assert not np.allclose(ae.encode(model, x, 28), z)
    z0 = ae.encode(model, x, 0)
    assert np.ptp(z0, axis=0).max() == 0  # B_0 is the zero image: one code
    with pytest.raises(ValueError, match="r must be in 0..28"):
        ae.encode(model, x, 29)


def test_autoencoder_same_seed_same_bytes(images, tmp_path):
    kw = {"steps": 25, "batch_size": 32, "hidden": 24, "latent": 4}
    first = ae.autoencoder_bytes(ae.train_autoencoder(images[:300], seed=3, **kw))
    again = ae.autoencoder_bytes(ae.train_autoencoder(images[:300], seed=3, **kw))
    other = ae.autoencoder_bytes(ae.train_autoencoder(images[:300], seed=4, **kw))
    assert first == again and first != other
    model = ae.train_autoencoder(images[:300], seed=3, **kw)
    path = tmp_path / "ae.npz"
    sha = ae.save_autoencoder(model, path)
    assert sha == hashlib.sha256(first).hexdigest()
    loaded = ae.load_autoencoder(path, sha256=None)
    np.testing.assert_array_equal(ae.encode(loaded, images[:10]), ae.encode(model, images[:10]))
    assert loaded.info["seed"] == 3 and loaded.info["steps"] == 25
    with pytest.raises(ValueError, match="SHA-256"):
        ae.load_autoencoder(path, sha256="0" * 64)
    with pytest.raises(FileNotFoundError, match="minde.consistency autoencoder"):
        ae.load_autoencoder(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="shape"):
        ae.train_autoencoder(images[:10].reshape(10, 784), steps=1)


def test_shipped_autoencoder(model, images):
    assert model.info["sha256"] == ae.AUTOENCODER_SHA256
    assert model.info["steps"] == ae.AUTOENCODER_RECIPE["steps"]
    report = {row["r"]: row for row in ae.reconstruction_report(model, images[:1000], rows=(4, 16, 28))}
    for r in (16, 28):
        assert report[r]["r2"] > 0.8  # most of each image set's pixel variance is recovered
    for row in report.values():
        assert row["distinct_codes"] == row["distinct_images"]  # distinct inputs are not collapsed
