"""Connects the Trust view to the engine: requests on the "trust" channel, results back."""

from __future__ import annotations

from PySide6.QtCore import QObject

from .compare_faithfulness import CompareFaithfulness
from .requests import CompareTrustResult, SanityDisplay, SanityRequest, TrustCheck, TrustResult
from .view import TrustView

CHANNEL = "trust"
SANITY_CONTRAST = "guided-backprop"  # shown beside a CAM: the method Adebayo et al. found failing


class TrustController(QObject):
    """Sends the current image's explanation request to the engine and shows what comes back."""

    def __init__(self, view: TrustView, controller, compare_grid=None) -> None:
        super().__init__(view)
        self.view, self.controller = view, controller
        self.generation = 0
        self.compare = CompareFaithfulness(compare_grid, controller.client) if compare_grid is not None else None
        worker = controller.client.worker
        worker.trust_computed.connect(self._computed)
        worker.job_failed.connect(self._failed)
        worker.progress_reported.connect(self._progress)
        view.checkRequested.connect(self.check)
        view.sanityRequested.connect(self.sanity)

    def _current(self):
        path = self.controller.path
        return self.controller.explain_request(path) if path else None

    def check(self) -> bool:
        """Ask for the curves and the removal of the current map; False when nothing is shown."""
        request = self._current()
        if request is None:
            self.view.show_error("open a model and an image first")
            return False
        self.generation = self.controller.client.submit(CHANNEL, TrustCheck(request))
        self.view.show_busy("Computing the deletion and insertion curves…")
        return True

    def sanity(self) -> bool:
        """Ask for the cascading randomisation test of the current method (and guided backprop)."""
        request = self._current()
        if request is None:
            self.view.show_error("open a model and an image first")
            return False
        methods = tuple(dict.fromkeys((request.method, SANITY_CONTRAST)))
        self.generation = self.controller.client.submit(CHANNEL, SanityRequest(request, methods))
        self.view.show_busy(f"Sanity check of {', '.join(methods)}: randomising the layers one by one…")
        return True

    def _computed(self, generation: int, result) -> None:
        if isinstance(result, CompareTrustResult):
            if self.compare is not None:
                self.compare.show(generation, result)
            return
        if generation != self.generation:
            return
        if isinstance(result, TrustResult):
            self.view.show_result(result)
        elif isinstance(result, SanityDisplay):
            self.view.show_sanity(result)
            self.view.show_busy("Sanity check done.")

    def _failed(self, channel: str, message: str, _unsafe: bool) -> None:
        if channel == CHANNEL:
            self.view.show_error(message)

    def _progress(self, channel: str, done: int, total: int) -> None:
        if channel == CHANNEL and total:
            self.view.show_busy(f"Sanity check: {done} of {total} layers randomised…")
