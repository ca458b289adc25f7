"""What every baseline does to its input: validate (``minde.validation.check_pair``) and standardise each column."""

from __future__ import annotations

import math

import numpy as np

from ...validation import Standardizer, check_pair


def _prepare(x: object, y: object, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate (``check_pair``) and standardise each column (population std, as sklearn's StandardScaler)."""
    xa, ya = check_pair(x, y, min_samples=min_samples)
    return Standardizer.fit(xa, "x")(xa), Standardizer.fit(ya, "y")(ya)


def _n_test(fraction: float, n: int) -> int:
    """Size of the test split: ceil(fraction * n), as sklearn's train_test_split (float noise ignored)."""
    return math.ceil(fraction * n - 1e-9)


def _not_fitted(obj: object) -> RuntimeError:
    return RuntimeError(f"this {type(obj).__name__} estimator is not fitted yet: call .fit(x, y) first")
