"""A scikit-learn transformer that protects feature vectors.

``ProtectTransformer`` is a transformer in scikit-learn's sense: ``fit``
learns the centring (the mean of the training features, as
:func:`btp.fit_centre`), ``transform`` protects each row into a cancellable
template, and the scheme's parameters (``scheme``, ``hashes``, ``window``,
``order``, ``bits``, ``centre``, ``l2``) are constructor parameters, so that
``GridSearchCV`` can tune them inside a ``Pipeline``::

    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from btp.sklearn import ProtectTransformer

    pipe = Pipeline([
        ("protect", ProtectTransformer(output="elements", random_state=0)),
        ("knn", KNeighborsClassifier(n_neighbors=1, metric="hamming")),
    ])
    GridSearchCV(pipe, {"protect__hashes": [256, 512], "protect__window": [8, 16]}).fit(X, y)

scikit-learn is an optional dependency: ``import btp`` never imports it,
``import btp.sklearn`` does.

Keys. ``key=mk`` protects under that master key (for deployment-like
measurements; ``application`` and ``version`` select the transform as for
:class:`btp.Protector`). With ``key=None`` the key comes from
``random_state``, as scikit-learn's random projections do: an integer gives
a reproducible key **derived from that integer, which is not a secret**
(for experiments and grid searches only), and ``None`` a fresh random key at
every ``fit``. Keys never pickle (the project's rule), so:

- a transformer built with ``key=mk`` clones (the clone shares the key) but
  does not pickle (``TypeError``): ``GridSearchCV(n_jobs=1)``;
- one with an integer ``random_state`` pickles, and rebuilds its protector
  from ``random_state`` when unpickled;
- one fitted with a fresh random key refuses to pickle (``TypeError``).

Output. ``output="codes"``: packed codes ``(n, words)`` ``uint64``, the
layout of :meth:`btp.Protector.protect_batch`; ``output="elements"``: one
``uint8`` per IoM index or BioHash bit ``(n, code_len)`` (for a Hamming-
metric estimator downstream).

scikit-learn's own estimator checks (``parametrize_with_checks``) run on
this class in ``python/tests/test_sklearn.py`` and pass, for IoM-GRP,
IoM-URP and BioHash. Two do not apply: the dtype-preservation check, which
the tags switch off (``preserves_dtype = []``: outputs are integer codes
whatever the input's float type), and the array-API check, which
scikit-learn itself skips unless ``SCIPY_ARRAY_API=1`` (btp reads numpy
arrays only).
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any, Optional

import numpy as np
import numpy.typing as npt
# scikit-learn ships no type information: its names are Any here.
from sklearn.base import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_random_state  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sklearn.utils.validation import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    check_is_fitted,
    validate_data,
)

from btp import _native
from btp._labels import param_error

__all__ = ["ProtectTransformer"]

_SCHEMES = ("iom-grp", "iom-urp", "biohash")
_OUTPUTS = ("codes", "elements")


def _validated(estimator: Any, X: Any, reset: bool) -> npt.NDArray[Any]:
    """``X`` as scikit-learn's ``validate_data`` checks it. Its refusals are
    ``ValueError``s that quote the data: they become the btp error of their
    kind (NaN and infinities :class:`btp.NonFiniteError`, types
    :class:`btp.InvalidParameterError`, shapes :class:`btp.DimensionError`;
    each a ``ValueError``) with scikit-learn's sentences, which its estimator
    checks match, and without the data."""
    try:
        data: npt.NDArray[Any] = validate_data(estimator, X, dtype=[np.float32, np.float64], reset=reset)
    except _native.BtpError:
        raise
    except OverflowError:  # an integer past float64
        raise _native.InvalidParameterError("X holds a number too large for float64") from None
    except ValueError as e:
        lines = [line for line in str(e).splitlines() if line and not line.startswith(("array=", " ", "["))]
        message = re.sub(r"(could not convert \w+ to \w+): .*", r"\1", " ".join(lines))
        if re.search(r"NaN|infinity", message):
            raise _native.NonFiniteError(message) from None
        if re.search(r"convert|dtype|[Cc]omplex", message):
            raise _native.InvalidParameterError(message) from None
        raise _native.DimensionError(message) from None
    return data


class ProtectTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc,unused-ignore]
    """Protects feature vectors with a btp scheme (see the module docs).

    Parameters
    ----------
    key : btp.MasterKey or None
        The master key; None derives one from ``random_state``.
    scheme : {"iom-grp", "iom-urp", "biohash"}
    hashes, window : int
        IoM parameters (``1 <= hashes <= 65536``, ``2 <= window <= 256``,
        for ``"iom-urp"`` also ``window <= n_features``).
    order : int
        IoM-URP permutations per hash (``1..=16``).
    bits : int or None
        BioHash bits, ``1 <= bits <= n_features`` (None: ``n_features``).
    centre : bool
        Learn the mean of the training features in ``fit`` and subtract it.
    l2 : bool
        Scale each (centred) vector to unit length.
    application : str
        Application name of the transform key.
    version : int
        Transform key version (``0..2**32``).
    random_state : int, RandomState or None
        Source of the key when ``key`` is None (not a secret).
    output : {"codes", "elements"}

    Attributes
    ----------
    scheme_ : btp.Scheme
        The scheme with the learnt centre.
    protector_ : btp.Protector
    centre_ : ndarray of shape (n_features,) or None
    n_features_in_ : int
    """

    def __init__(
        self,
        key: Optional[_native.MasterKey] = None,
        *,
        scheme: str = "iom-grp",
        hashes: int = 512,
        window: int = 16,
        order: int = 2,
        bits: Optional[int] = None,
        centre: bool = True,
        l2: bool = False,
        application: str = "sklearn",
        version: int = 1,
        random_state: Any = None,
        output: str = "codes",
    ) -> None:
        self.key = key
        self.scheme = scheme
        self.hashes = hashes
        self.window = window
        self.order = order
        self.bits = bits
        self.centre = centre
        self.l2 = l2
        self.application = application
        self.version = version
        self.random_state = random_state
        self.output = output

    # ------------------------------------------------------------------
    # scikit-learn protocol

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_clone__(self) -> ProtectTransformer:
        # As scikit-learn's clone, except that the key is shared, not
        # deep-copied: a MasterKey never copies or pickles, and it is
        # immutable, so clones may use the same one.
        params = {
            name: value if name == "key" else clone(value, safe=False)
            for name, value in self.get_params(deep=False).items()
        }
        new = type(self)(**params)
        for attr in ("_metadata_request", "_sklearn_output_config"):
            if attr in self.__dict__:
                setattr(new, attr, copy.deepcopy(self.__dict__[attr]))
        return new

    def fit(self, X: npt.ArrayLike, y: Any = None) -> ProtectTransformer:
        """Learns the centring (if ``centre``) and builds the protector."""
        data = _validated(self, X, reset=True)
        self._check_params()
        self.centre_ = _native.fit_centre(data) if self.centre else None
        self.scheme_ = self._make_scheme(data.shape[1], self.centre_)
        self._fresh_key = self.key is None and self.random_state is None
        self.protector_ = _native.Protector(
            self.scheme_, self._master_key(), self.application, self.version
        )
        self._n_features_out = self.scheme_.words if self.output == "codes" else self.scheme_.code_len
        return self

    def transform(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """Packed codes ``(n, words)`` ``uint64``, or elements ``(n,
        code_len)`` ``uint8`` with ``output="elements"``."""
        check_is_fitted(self, "protector_")
        data = _validated(self, X, reset=False)
        codes = self.protector_.protect_batch(data)
        return codes if self.output == "codes" else self.protector_.unpack(codes)

    # ------------------------------------------------------------------
    # pickling: the key never travels

    def __getstate__(self) -> Any:
        if self.key is not None:
            raise TypeError(
                "a ProtectTransformer holding a MasterKey does not pickle: keys never leave the "
                "process (clone it, or rebuild it where the key is)"
            )
        state = dict(super().__getstate__())
        if "protector_" in state:
            if state.get("_fresh_key") or not isinstance(self.random_state, (int, np.integer)):
                raise TypeError(
                    "a ProtectTransformer fitted with a random key does not pickle: keys never "
                    "leave the process (pass an integer random_state for a reproducible, "
                    "non-secret key)"
                )
            del state["protector_"]
        return state

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state)
        if "scheme_" in state and "protector_" not in state:
            self.protector_ = _native.Protector(
                self.scheme_, self._master_key(), self.application, self.version
            )

    # ------------------------------------------------------------------

    def _check_params(self) -> None:
        if not isinstance(self.scheme, str) or self.scheme not in _SCHEMES:
            raise param_error("scheme", f"must be one of {', '.join(_SCHEMES)}")
        if not isinstance(self.output, str) or self.output not in _OUTPUTS:
            raise param_error("output", f"must be one of {', '.join(_OUTPUTS)}")
        if not isinstance(self.centre, (bool, np.bool_)):
            raise param_error("centre", "must be True or False")
        if self.key is not None and not isinstance(self.key, _native.MasterKey):
            raise param_error("key", "must be a btp.MasterKey or None")

    def _make_scheme(self, dim: int, centre: Optional[npt.NDArray[np.float32]]) -> _native.Scheme:
        try:
            if self.scheme == "biohash":
                return _native.Scheme.biohash(dim, self.bits, centre=centre, l2=self.l2)
            method = "grp" if self.scheme == "iom-grp" else "urp"
            order = self.order if method == "urp" else None
            return _native.Scheme.iom(dim, self.hashes, self.window, method, order, centre=centre, l2=self.l2)
        except _native.InvalidParameterError as e:
            # The dimension is the data's: say so (bits and an IoM-URP
            # window are bounded by it).
            raise type(e)(f"{e} (X has {dim} feature(s))") from e

    def _master_key(self) -> _native.MasterKey:
        if self.key is not None:
            return self.key
        if self.random_state is None:
            return _native.MasterKey.generate()
        if isinstance(self.random_state, (int, np.integer)):
            seed = str(int(self.random_state)).encode()
            return _native.MasterKey.from_bytes(hashlib.sha256(b"btp.sklearn random_state v1:" + seed).digest())
        try:
            rng = check_random_state(self.random_state)
        except ValueError:
            raise param_error("random_state", "must be None, an integer or a numpy RandomState") from None
        return _native.MasterKey.from_bytes(rng.bytes(32))
