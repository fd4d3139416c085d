"""The Trust view: deletion / insertion curves with their controls, the defect painted out and
the new prediction, and the sanity check on demand.

Its requests and results are frozen dataclasses of `gui.protocol` (no Qt); `tasks`
runs them inside the engine loop (TensorFlow only inside functions); `view` and
`controller` are the Qt side (import them from their modules: the engine loop imports
`tasks` without Qt). gui/trust never imports TensorFlow at module level.
"""

from __future__ import annotations
