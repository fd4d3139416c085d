"""Connects the Trust view to the engine: requests on the "trust" channel, results back.

The panel describes one image, method, layer and class: when the window's selection moves
on (another image, method, layer, class or model), the panel goes back to its hint and an
answer still on its way for the old selection is dropped."""

from __future__ import annotations

from PySide6.QtCore import QObject

from gui.protocol import (
    CompareTrustResult,
    Explain,
    JobCancelled,
    JobFailed,
    ProgressReported,
    SanityDisplay,
    SanityRequest,
    TrustCheck,
    TrustComputed,
    TrustResult,
)

from .compare_faithfulness import CompareFaithfulness
from .view import TrustView

CHANNEL = "trust"
SANITY_CONTRAST = "guided-backprop"  # shown beside a CAM: the method Adebayo et al. found failing
REPLACED = "Stopped: the Compare tab's Faithfulness request replaced this check. Click again to run it."


class TrustController(QObject):
    """Sends the current image's explanation request to the engine and shows what comes back."""

    def __init__(self, view: TrustView, controller, compare_grid=None) -> None:
        super().__init__(view)
        self.view, self.controller = view, controller
        self.generation = 0
        self.pending: Explain | None = None  # the explanation the request on its way is about
        self.pending_sanity = False  # the request on its way is a sanity check: its news go in the sanity box
        self.compare: CompareFaithfulness | None = None
        if compare_grid is not None:
            self.attach_compare(compare_grid)
        view.method_title = controller.title
        signals = controller.client.signals
        signals.on(TrustComputed, self._computed)
        signals.on(JobFailed, self._failed)
        signals.on(JobCancelled, self._cancelled)
        signals.on(ProgressReported, self._progress)
        controller.stateChanged.connect(self._selection_changed)
        controller.cancelled.connect(self._stopped)
        controller.modelChanged.connect(self._model_changed)
        view.checkRequested.connect(self.check)
        view.sanityRequested.connect(self.sanity)

    def attach_compare(self, grid) -> None:
        """Put the Faithfulness button in the Compare grid (when the window builds that tab)."""
        self.compare = CompareFaithfulness(grid, self.controller.submit)
        self.compare.submitted = self._compare_submitted

    def _current(self) -> Explain | None:
        path = self.controller.path
        return self.controller.explain_request(path) if path else None

    def _submit(self, request: TrustCheck | SanityRequest, busy: str) -> None:
        """Send a request of the Trust tab (it supersedes the Compare tab's on the same channel)."""
        if self.compare is not None and self.compare.waiting:
            self.compare.settle()
        self.generation = self.controller.submit(request)  # progress, Cancel and Esc as for every long job
        self.pending = request.explain
        self.pending_sanity = isinstance(request, SanityRequest)
        self.view.show_busy(busy, self.pending_sanity)

    def check(self) -> bool:
        """Ask for the curves and the removal of the current map; False when nothing is shown."""
        request = self._current()
        if request is None:
            self.view.show_error("open a model and an image first")
            return False
        self._submit(TrustCheck(request), "Computing the deletion and insertion curves…")
        return True

    def sanity(self) -> bool:
        """Ask for the cascading randomisation test of the current method (and guided backprop)."""
        request = self._current()
        if request is None:
            self.view.show_error("open a model and an image first")
            return False
        methods = tuple(dict.fromkeys((request.method, SANITY_CONTRAST)))
        titles = ", ".join(self.controller.title(m) for m in methods)
        self._submit(SanityRequest(request, methods), f"Sanity check of {titles}: randomising the layers one by one…")
        return True

    def _compare_submitted(self) -> None:
        """The Compare tab's button superseded a request of this tab: say so instead of waiting forever."""
        if self.pending is not None:
            self.pending = None
            self.view.show_busy(REPLACED, self.pending_sanity)

    def _computed(self, reply: TrustComputed) -> None:
        generation, result = reply.generation, reply.result
        if isinstance(result, CompareTrustResult):
            if self.compare is not None:
                self.compare.show(generation, result)
            return
        if generation != self.generation or self.pending is None:
            return
        self.pending = None
        if result.request.explain != self._current():  # the selection moved on meanwhile
            return
        if isinstance(result, TrustResult):
            self.view.show_result(result)
        elif isinstance(result, SanityDisplay):
            self.view.show_sanity(result)  # its box says PASS / FAIL; the header keeps describing the panel

    def _failed(self, reply: JobFailed) -> None:
        """The channel's current request failed: say so where it was asked for."""
        if reply.channel != CHANNEL:
            return
        message = reply.message
        if self.compare is not None and self.compare.waiting:
            self.compare.show_error(message)
        elif self.pending is not None:
            self.pending = None
            self.view.show_error(message, self.pending_sanity)

    def _cancelled(self, reply: JobCancelled) -> None:
        """The engine stopped a request of the channel: the one on its way, or an older one (which
        says nothing about the newer request that superseded it)."""
        if reply.channel != CHANNEL:
            return
        if self.compare is not None and self.compare.waiting and reply.generation == self.compare.generation:
            self.compare.settle()
        if self.pending is not None and reply.generation == self.generation:
            self._stopped()

    def _stopped(self) -> None:
        """The requests on their way were cancelled (Esc or Cancel, which may drop them before they start)."""
        if self.compare is not None and self.compare.waiting:
            self.compare.settle()
        if self.pending is not None:
            self.pending = None
            self.view.show_busy("Cancelled.", self.pending_sanity)

    def _progress(self, reply: ProgressReported) -> None:
        if reply.channel != CHANNEL or not reply.total or self.pending is None:
            return
        if self.pending_sanity:
            self.view.show_busy(f"Sanity check: {reply.done} of {reply.total} layers randomised…", True)
        else:
            self.view.show_busy(f"Computing the deletion and insertion curves… {reply.done / reply.total:.0%}")

    def _selection_changed(self, _state=None) -> None:
        """Back to the hint when the panel (or the request on its way) is about another map."""
        current = self._current()
        described = {self.pending, *self.view.shown_requests()} - {None}
        if any(explain != current for explain in described):
            self._clear()

    def _model_changed(self, _info=None) -> None:
        """Another model: nothing the panel shows applies to it."""
        self._clear()

    def _clear(self) -> None:
        self.pending = None  # an answer still on its way is dropped
        self.view.reset()
