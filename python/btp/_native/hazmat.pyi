# Type stubs of btp._native.hazmat (python/src/hazmat.rs): behind
# btp.hazmat (read its warning).

from typing import Any, Tuple

import numpy.typing as npt

from btp._native import Protector

def expose_transform(protector: Protector) -> Tuple[str, npt.NDArray[Any]]: ...
