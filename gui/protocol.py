"""Every message between the window and the engine loop: the requests the window sends, the
replies the engine sends back, and the values they carry. Frozen dataclasses, no Qt, no
TensorFlow; each side dispatches on the message's type.

`REQUESTS` maps each request type to the channel it runs on (its generation counter); the
engine loop has exactly one handler per entry (gui.engine_loop.HANDLERS, checked at import) and
the client refuses anything else. `REPLIES` lists every reply; the window's `EngineSignals` has
one Qt signal per entry (gui.worker, checked at construction).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
from engine.maps.combine import COMBINATIONS
from engine.params import Param

if TYPE_CHECKING:
    from engine.results import Explanation, ModelInfo, Prediction
    from engine.review.runner import ReviewOptions
    from engine.trust.faithfulness import Faithfulness

CHANNELS = ("model", "predict", "explain", "compare", "features", "review", "trust", "model_b", "explain_b")


# -- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenModel:
    """Load a model file; a failure leaves the previous model in place."""

    path: str
    trust: bool = False


@dataclass(frozen=True)
class PredictFolder:
    """Predict every image, in batches, reporting each batch as it is done."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Explain:
    """Explain one image with one method, layer and class (None = the predicted class) of one
    model output (multi-output models)."""

    path: str
    method: str
    layer: str | None
    class_index: int | None
    params: tuple[tuple[str, Any], ...] = ()
    output: int = 0
    model: str = "a"  # "b": the second model's map (its own channel, so that A's and B's never supersede)

    def key(self, model: str) -> tuple:
        """The cache key: the image file's identity and everything that changes the map."""
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime = -1
        return (model, self.path, mtime, self.method, self.layer, self.class_index, self.params, self.output)


@dataclass(frozen=True)
class Compare:
    """Several explanations of the same image, one per tile."""

    items: tuple[Explain, ...]


@dataclass(frozen=True)
class Activations:
    """The feature maps of a layer for an image, as a grid picture."""

    path: str
    layer: str


@dataclass(frozen=True)
class Patterns:
    """Filter patterns of a layer by gradient ascent; partial grids arrive as it runs."""

    layer: str
    count: int = 16
    size: int = 64
    steps: int = 40
    regularised: bool = True  # jitter, blur and pre-activation; False = seed 002's plain ascent


def _review_options() -> ReviewOptions:
    """The engine's default ReviewOptions, imported at the first review: the runner brings every
    annotation reader, which the window's first paint does not need."""
    from engine.review.runner import ReviewOptions

    return ReviewOptions()


@dataclass(frozen=True)
class ReviewFolder:
    """Review a folder like `convscope batch`: predict, explain and score every image with
    `options` (the engine's own ReviewOptions); with a report folder, also write results.csv,
    summary.json, report.html and overlays there (`resume` continues the review already there)."""

    folder: str
    options: ReviewOptions = field(default_factory=_review_options)
    report_folder: str = ""
    resume: bool = False


@dataclass(frozen=True)
class TrustCheck:
    """Deletion / insertion curves of the explanation `explain` names, and, when the image has a
    defect mask, the defect painted out and predicted again."""

    explain: Explain


@dataclass(frozen=True)
class SanityRequest:
    """The cascading randomisation test of `methods` on the image and class of `explain`."""

    explain: Explain
    methods: tuple[str, ...]


@dataclass(frozen=True)
class CompareTrust:
    """Deletion / insertion curves of every compare tile's map (one image)."""

    items: tuple[Explain, ...]


# -- comparing two models on a lot (the Review tab's comparison mode) --------------------------
@dataclass(frozen=True)
class CompareFolder:
    """Review a folder with the open model (A) and the model at `model_b`, as `main.py compare`
    does (engine.review.two_models): the same method and `options`; with a report folder, also
    write comparison.csv / .parquet / .json and report.html there. Runs on the review channel:
    a comparison and a review of the lot supersede each other."""

    folder: str
    model_b: str
    options: ReviewOptions = field(default_factory=_review_options)
    report_folder: str = ""
    trust_b: bool = False  # load model B even if safe mode refuses it (the user trusted it)


@dataclass(frozen=True)
class CompareRowsComputed:
    """The rows (engine.review.compare.ComparisonRow) of one finished comparison batch."""

    generation: int
    rows: tuple


@dataclass(frozen=True)
class CompareFinished:
    """A comparison ended: every row and comparison.json's body (`summary["complete"]` False when cancelled)."""

    generation: int
    rows: tuple
    summary: dict



# -- the second model (comparing two models in the window) -----------------------------------
@dataclass(frozen=True)
class OpenModelB:
    """Load a second model B to compare with the open one; a failure leaves B as it was."""

    path: str
    trust: bool = False


@dataclass(frozen=True)
class CloseModelB:
    """Stop comparing: forget model B."""


Request = (OpenModel | PredictFolder | Explain | Compare | Activations | Patterns | ReviewFolder
           | TrustCheck | SanityRequest | CompareTrust | CompareFolder | OpenModelB | CloseModelB)

REQUESTS: dict[type, str] = {  # request type -> its channel
    OpenModel: "model", PredictFolder: "predict", Explain: "explain", Compare: "compare",
    Activations: "features", Patterns: "features", ReviewFolder: "review",
    TrustCheck: "trust", SanityRequest: "trust", CompareTrust: "trust",
    CompareFolder: "review",
    OpenModelB: "model_b", CloseModelB: "model_b",
}
MODEL_B_CHANNELS = {"explain": "explain_b"}  # a model-B request's channel, where A's would supersede it


def channel_of(request: Request) -> str:
    """The channel a request runs on; TypeError for anything that is not a request."""
    try:
        channel = REQUESTS[type(request)]
    except KeyError:
        raise TypeError(f"not an engine request: {type(request).__name__}") from None
    return MODEL_B_CHANNELS.get(channel, channel) if getattr(request, "model", "a") == "b" else channel


# -- values the replies carry ------------------------------------------------------------------
@dataclass(frozen=True)
class MethodSpec:
    """What the window needs to know about one engine method: its declared parameters
    (engine.params.Param, frozen, so safe to send across)."""

    name: str
    title: str
    needs_layer: bool
    parameters: tuple[Param, ...] = ()
    gradient_free: bool = False  # needs only predictions: runs on a black-box export too

    def combinations(self) -> tuple[Param, ...]:
        """The map combinations that apply to this method."""
        return tuple(p for p in COMBINATIONS if p.applies(self.needs_layer))


@dataclass(frozen=True)
class FeatureResult:
    """A grid picture for the features tab."""

    image: np.ndarray  # (H, W, 3) uint8
    caption: str
    final: bool = True
    columns: int = 8
    tiles: np.ndarray | None = field(default=None, compare=False)  # (N, h, w, 3) for export
    kind: str = "activations"  # or "filters"
    path: str = ""  # the image the activations belong to ("" for filter patterns)


@dataclass(frozen=True)
class TrustResult:
    """What a TrustCheck found."""

    request: TrustCheck
    class_name: str
    faithfulness: Faithfulness
    display: np.ndarray  # the image (H, W, 3) uint8
    painted: np.ndarray | None = None  # the image with the defect painted out; None without a mask
    region: np.ndarray | None = None  # the defect region painted out
    probability_before: float | None = None
    probability_after: float | None = None  # the explained class's, after removal
    predicted_after: str = ""  # the class predicted after removal
    kept: bool | None = None
    defect_class: bool = True  # False for the defect-free class ("ok", "good", ...): removal says nothing then


@dataclass(frozen=True)
class SanityDisplay:
    """A SanityRequest's results (engine.trust.sanity.SanityResult, maps included)."""

    request: SanityRequest
    class_name: str
    results: tuple


@dataclass(frozen=True)
class CompareTrustResult:
    """Per tile, in `request.items` order: the areas (map and controls), whether it beats both controls
    (False when inconclusive) and whether its curves can rank maps at all (engine.trust.faithfulness:
    conclusive; empty: every tile conclusive)."""

    request: CompareTrust
    aucs: tuple[dict, ...]
    faithful: tuple[bool, ...]
    conclusive: tuple[bool, ...] = ()

    def is_conclusive(self, index: int) -> bool:
        """Whether tile `index`'s curves can rank maps (True when not reported)."""
        return self.conclusive[index] if index < len(self.conclusive) else True

    def best(self) -> int | None:
        """The tile whose map is most faithful: the largest insertion minus deletion area (a ranking
        of the areas only; the tiles do not mark it when its curves are inconclusive)."""
        if not self.aucs:
            return None
        scores = [a["insertion_auc"] - a["deletion_auc"] for a in self.aucs]
        return int(max(range(len(scores)), key=scores.__getitem__))


# -- replies -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineStarted:
    """TensorFlow is imported; the engine's methods."""

    specs: tuple[MethodSpec, ...]


@dataclass(frozen=True)
class EngineRestarted:
    """A new engine process replaced one that stopped unexpectedly (sent by the relay)."""


@dataclass(frozen=True)
class ModelOpened:
    """A model finished loading (`model` "b": the second model, compared with the open one)."""

    info: ModelInfo
    black_box: bool = False  # a deployed export: predictions and gradient-free methods only
    model: str = "a"


@dataclass(frozen=True)
class PredictionsComputed:
    """One batch of a PredictFolder."""

    generation: int
    predictions: tuple[Prediction, ...]


@dataclass(frozen=True)
class ImageLoaded:
    """The image of an Explain, decoded before its map is ready."""

    generation: int
    path: str
    display: np.ndarray


@dataclass(frozen=True)
class ExplanationComputed:
    """One map, of an Explain or of one Compare tile (`channel` says which)."""

    channel: str
    generation: int
    request: Explain
    explanation: Explanation
    display: np.ndarray


@dataclass(frozen=True)
class ExplanationFailed:
    """One map could not be made (a compare tile, model B's map): `message` is the engine's one line."""

    channel: str
    generation: int
    request: Explain
    message: str


@dataclass(frozen=True)
class FeaturesComputed:
    """A grid of activations or filter patterns (`result.final` False while it fills in)."""

    generation: int
    result: FeatureResult


@dataclass(frozen=True)
class ReviewRowsComputed:
    """The rows (engine.review.rows.ReviewRow) of one finished review batch."""

    generation: int
    rows: tuple


@dataclass(frozen=True)
class ReviewFinished:
    """A review ended (engine.review ReviewResult; `complete` False when cancelled)."""

    generation: int
    result: Any


@dataclass(frozen=True)
class TrustComputed:
    """The answer to one request on the "trust" channel."""

    generation: int
    result: TrustResult | SanityDisplay | CompareTrustResult


@dataclass(frozen=True)
class ProgressReported:
    """A running job's progress."""

    channel: str
    done: int
    total: int


@dataclass(frozen=True)
class JobStarted:
    """The engine began a request (the relay remembers it, to name it after a crash)."""

    channel: str
    generation: int


@dataclass(frozen=True)
class JobFailed:
    """A request failed; `unsafe` when a model was refused as unsafe (it may be trusted)."""

    channel: str
    message: str
    unsafe: bool = False


@dataclass(frozen=True)
class JobCancelled:
    """A request stopped at a cancel or when a newer one superseded it."""

    channel: str
    generation: int


@dataclass(frozen=True)
class JobFinished:
    """A request ended, however it ended."""

    channel: str
    generation: int


Reply = (EngineStarted | EngineRestarted | ModelOpened | PredictionsComputed | ImageLoaded | ExplanationComputed
         | ExplanationFailed | FeaturesComputed | ReviewRowsComputed | ReviewFinished | TrustComputed | ProgressReported
         | JobStarted | JobFailed | JobCancelled | JobFinished | CompareRowsComputed | CompareFinished)

REPLIES: tuple[type, ...] = get_args(Reply)
