"""ConvScope's headless commands (`explain`, `batch`, `info`, `predict`, `activations`,
`filters`): argument parsing built from the engine's declared parameters, then the engine.

May import `engine` (TensorFlow only once a command runs: `--help` and argument errors never
load it) and, for the window, `gui.app` inside a function; never Qt at module level.
"""
