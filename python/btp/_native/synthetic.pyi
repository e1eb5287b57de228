# Type stubs of btp._native.synthetic (python/src/labelled.rs): behind
# btp.synthetic.

from typing import Tuple

import numpy as np
import numpy.typing as npt

def population(
    subjects: int,
    samples: int,
    dim: int,
    offset: float,
    between: float,
    within: float,
    seed: int,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32]]: ...
