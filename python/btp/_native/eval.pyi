# Type stubs of btp._native.eval (python/src/eval.rs, python/src/labelled.rs):
# the evaluation functions behind btp.eval, each returning its typed result.
# Arrays are read as numpy reads them; scalar arguments are checked by the
# native module (python/src/args.rs) and refused with InvalidParameterError.
# Labels arrive as uint32 codes (btp._labels makes them).

from typing import Any, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from btp._eval_types import (
    DetCurve,
    Differentials,
    Eer,
    FnirAtFpir,
    FnmrAtFmr,
    FnmrAtFmrs,
    IdentificationCurve,
    IdentificationPoint,
    LinkageScores,
    OperatingPoint,
    ProtectionReport,
    RocCurve,
    SplitScores,
    Unlinkability,
    UnlinkabilityDetails,
)
from btp._native import MasterKey, Protector, Scheme

_A = npt.ArrayLike
_F64 = npt.NDArray[np.float64]
_Labels = npt.NDArray[np.uint32]

def det(genuine: _A, impostor: _A) -> DetCurve: ...
def roc(genuine: _A, impostor: _A) -> RocCurve: ...
def check_scores(scores: _A, role: str) -> None: ...
def eer(genuine: _A, impostor: _A) -> Eer: ...
def threshold_at_fmr(impostor: _A, target_fmr: float) -> float: ...
def fnmr_at_fmr(genuine: _A, impostor: _A, target_fmr: float) -> FnmrAtFmr: ...
def fnmr_at_fmrs(genuine: _A, impostor: _A, targets: _A) -> FnmrAtFmrs: ...
def operating_point(genuine: _A, impostor: _A, threshold: float) -> OperatingPoint: ...
def clopper_pearson(errors: int, trials: int, confidence: float) -> Tuple[float, float]: ...
def cmc(scores: _A, mates: _A, max_rank: Optional[int] = None) -> _F64: ...
def fnir_at_fpir(scores: _A, mates: _A, rank: int, target_fpir: float) -> FnirAtFpir: ...
def identification_point(
    scores: _A, mates: _A, rank: int, threshold: float
) -> IdentificationPoint: ...
def fnir_fpir_curve(scores: _A, mates: _A, rank: int) -> IdentificationCurve: ...
def differentials(
    scores: _A,
    is_genuine: npt.NDArray[np.uint8],
    groups: _Labels,
    names: Sequence[Any],
    threshold: float,
    confidence: float,
    garbe_alpha: float,
) -> Differentials: ...
def unlinkability(
    mated: _A,
    nonmated: _A,
    bins: int,
    range: Optional[Tuple[float, float]],
    omega: float,
) -> Unlinkability: ...
def unlinkability_details(
    mated: _A,
    nonmated: _A,
    bins: int,
    range: Optional[Tuple[float, float]],
    omega: float,
) -> UnlinkabilityDetails: ...
def protection_report(
    x: _A,
    labels: _Labels,
    scheme: Scheme,
    mk: MasterKey,
    application: str,
    version: int,
    target_fmr: float,
    bins: int,
    range: Tuple[float, float],
    omega: float,
    max_nonmated_linkage_pairs: int,
) -> ProtectionReport: ...
def split_scores(
    scores: _A,
    row_labels: _Labels,
    column_labels: Optional[_Labels] = None,
) -> Tuple[_F64, _F64]: ...
def split_scores_with_pairs(
    scores: _A,
    row_labels: _Labels,
    column_labels: Optional[_Labels] = None,
) -> SplitScores: ...
def mates(probe_labels: _Labels, gallery_labels: _Labels) -> npt.NDArray[np.int64]: ...
def linkage_scores(
    prot_a: Protector,
    codes_a: _A,
    prot_b: Protector,
    codes_b: _A,
    labels: _Labels,
    max_nonmated: int,
) -> LinkageScores: ...
