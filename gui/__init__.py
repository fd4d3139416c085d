"""ConvScope's window: Qt widgets (PySide6, pyqtgraph) and the engine worker thread.

Views mirror the engine's concepts: the image browser, the heatmap canvas and compare grid
(`engine.maps`), the method panel built from the methods' declared parameters
(`engine.methods`), the layer tree (`engine.model`), the feature views (`engine.features`) and
`gui/review/` beside `engine/review/`. `controller` owns the one `state.ViewState` of the
user's choices and sends the engine requests `plan` says it needs; every request and reply is a
frozen dataclass of `protocol`; `worker` relays them through a QThread to `engine_loop` (in a
child process), the only code here that calls TensorFlow.

May import PySide6, pyqtgraph, numpy, OpenCV and the TensorFlow-free parts of `engine`; the
TensorFlow-backed engine modules (`engine.session`, `engine.methods`, ...) only inside the worker
thread's functions, so the window shows before TensorFlow has loaded (ruff's gui/ruff.toml and
tests/test_import_rule.py check it).
"""
