"""The second model B that the window compares with the open one (A): opening and closing it,
and showing its map in the Heatmap tab's B pane.

The controller keeps A's logic; this keeps B's: the state's `model_b`, the engine's facts about
B (`EngineFacts.info_b`), B's pane, and the one line a map B cannot make (a gradient method on a
black box) leaves in its pane instead of an error dialog."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .plan import explain_request_b
from .protocol import (
    CloseModelB,
    Explain,
    ExplanationComputed,
    ExplanationFailed,
    JobFailed,
    ModelOpened,
    OpenModelB,
)

if TYPE_CHECKING:
    from .canvas import HeatmapCanvas
    from .controller import Controller


class SecondModel(QObject):
    """Model B's side of the controller."""

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.c = controller
        self.pending: str | None = None  # the path asked for, until it opens or fails
        self.running: Explain | None = None  # B's explanation on its way
        self.refused: dict[tuple, str] = {}  # cache key -> why the engine could not make that map

    @property
    def pane(self) -> HeatmapCanvas | None:
        """B's canvas while comparing, else None."""
        pair = self.c.window.pair
        return pair.canvas_b if pair.comparing else None

    def open(self, path: str, trust: bool = False) -> None:
        """Load `path` as model B (A stays; a failure keeps B as it was)."""
        self.pending = str(path)
        self.c.window.status(f"Opening {Path(path).name} to compare with…")
        self.c.submit(OpenModelB(str(path), trust))

    def stop(self) -> None:
        """Back to one model: forget B in the engine and in the window."""
        if self.c.state.model_b is None and self.c.facts.info_b is None:
            return
        self.c.drop("explain_b")
        self.c.client.submit(CloseModelB())
        self.c.facts = replace(self.c.facts, info_b=None, black_box=self.c.facts.black_box - {"b"})
        self.c.update(model_b=None)
        self.c.window.pair.stop_comparing()
        self.c.window.comparing_changed(None)
        self.c.refresh()  # A's title no longer names its model (its map is cached: shown at once)
        self.c.window.status(self.c.window.ready_text())

    def opened(self, reply: ModelOpened) -> None:
        """B loaded: show its pane beside A's and explain the current image with it."""
        info, facts = reply.info, self.c.facts
        black_box = facts.black_box | {"b"} if reply.black_box else facts.black_box - {"b"}
        self.c.facts = replace(facts, info_b=info, black_box=black_box)
        self.refused.clear()
        self.c.update(model_b=info.path)
        name_a = self.c.info.name if self.c.info else "—"
        self.c.window.pair.compare(name_a, info.name)
        self.c.window.comparing_changed(info)
        self.c.window.status(f"Comparing {name_a} (A) with {info.name} (B)"
                             + (f"; B: {'; '.join(info.warnings)}" if info.warnings else ""))
        self.c.refresh()

    def failed(self, reply: JobFailed) -> None:
        """B did not open: the same dialog as for A (a model refused as unsafe may be trusted)."""
        self.c.window.model_failed(reply.message, reply.unsafe, self.pending, second=True)

    def show(self, request: Explain | None) -> None:
        """B's pane for the state's image: its map when known, the reason when refused, else a note."""
        pane = self.pane
        if pane is None or request is None:
            return
        key = self.c.key_of(request)
        cached = self.c.cache.get(key) if key is not None else None
        if cached is not None:
            self._show_map(pane, request, *cached)
        elif key in self.refused:
            self._show_refusal(pane, request, self.refused[key])
        else:  # B's map of earlier settings would pass for this one's
            self._show_image(pane, request.path, f"{self.tag()} · {Path(request.path).name} · explaining…")

    def cancelled(self) -> None:
        """Esc: B's pane, if it waited for a map, says the map was cancelled (selecting the image again asks)."""
        pane, path = self.pane, self.c.state.image
        if pane is not None and path and not pane.shows_map_of(path):
            self._show_image(pane, path, f"{self.tag()} · {Path(path).name} · cancelled: select the image again")

    def computed(self, reply: ExplanationComputed) -> None:
        """B's map of the current image arrived."""
        if self.c.client.is_current(reply.channel, reply.generation) and reply.request.path == self.c.state.image:
            pane = self.pane
            if pane is not None:
                self._show_map(pane, reply.request, reply.explanation, reply.display)

    def refusal(self, reply: ExplanationFailed) -> None:
        """B could not make the map: remember why (asking again would give the same answer) and say it."""
        key = self.c.key_of(reply.request)
        if key is None:  # B closed meanwhile
            return
        self.refused[key] = reply.message
        pane = self.pane
        if pane is not None and reply.request.path == self.c.state.image:
            self._show_refusal(pane, reply.request, reply.message)

    def request_for(self, request: Explain | None) -> Explain | None:
        """B's counterpart of A's explanation (None when not comparing)."""
        return explain_request_b(self.c.state, self.c.facts, request)

    def tag(self) -> str:
        """"B · model name", the start of every title in B's pane."""
        info = self.c.facts.info_b
        return f"B · {info.name}" if info else "B"

    def _show_map(self, pane: HeatmapCanvas, request: Explain, explanation, display) -> None:
        spec = self.c.spec_of(explanation.method)
        pane.title.setToolTip("")  # a refusal's whole message no longer applies
        pane.show_explanation(request.path, display, explanation, f"{self.tag()} · {self.c.title(explanation.method)}",
                              spec.parameters if spec else ())

    def _show_refusal(self, pane: HeatmapCanvas, request: Explain, message: str) -> None:
        """One line: the engine's, or for a method a black box cannot run, which ones it can (whole in the tip)."""
        self._show_image(pane, request.path, "")
        method, facts = self.c.title(request.method), self.c.facts
        if not facts.runs("b", request.method):
            usable = " or ".join(s.title for s in facts.specs if s.gradient_free)
            message = f"a black box (deployed export) cannot run {method}; {usable} can"
        pane.show_map_error(f"{self.tag()} · {method}: {message}")
        pane.title.setToolTip(self.refused.get(self.c.key_of(request) or (), message))

    def _show_image(self, pane: HeatmapCanvas, path: str, text: str) -> None:
        """The image without a map (A's decoded copy when A shows it), and `text` as the title."""
        canvas = self.c.window.canvas
        if canvas.path == path and canvas.image is not None:
            pane.show_loading(path, canvas.image)
            pane.title.setText(text)
        else:
            pane.show_note(path, text)
