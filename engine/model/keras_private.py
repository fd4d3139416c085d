"""Every use of Keras internals (`keras.src`, underscore methods) in the engine, in one place.

Keras does not promise to keep these between minor versions; each is wrapped in one small
function here, with the reason no public API does the job, so that a Keras upgrade that
breaks one of them breaks it here (tests/engine/test_models.py covers the legacy .h5 path,
tests/engine/test_layers.py and the method tests cover the graph replay). The supported
Keras versions are bounded in pyproject.toml; CI runs the engine tests at the lowest one.

Imports of `keras.src` happen inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.types import KerasModel


def model_from_legacy_h5(config: dict[str, Any], weights_group: Any, trust: bool) -> KerasModel:
    """A model rebuilt from a Keras 2 / tf.keras .h5 `config` (already adapted to Keras 3),
    with the weights of `weights_group` (the file's "model_weights" h5py group) by layer order.

    Public `keras.saving.load_model` reads the config from the file itself; ConvScope must
    first rewrite it (renumbered nested-model nodes, cleaned dtype policies), and Keras has no
    public "config + h5 weights" entry point. Used:
    - `legacy.saving.saving_options.keras_option_scope(use_legacy_config=True)`: read Keras 2
      layer configs the way load_model does for .h5 files;
    - `saving.serialization_lib.SafeModeScope`: keep safe mode (no Lambda bytecode) on while
      deserialising, as load_model(safe_mode=True) does;
    - `legacy.saving.saving_utils.model_from_config`: the .h5 path's config deserialiser;
    - `legacy.saving.legacy_h5_format.load_weights_from_hdf5_group`: the .h5 weight reader.
    """
    from keras.src.legacy.saving import legacy_h5_format, saving_options, saving_utils
    from keras.src.saving import serialization_lib

    with saving_options.keras_option_scope(use_legacy_config=True), \
            serialization_lib.SafeModeScope(not trust):
        model = saving_utils.model_from_config(config)
        legacy_h5_format.load_weights_from_hdf5_group(weights_group, model)
    return model


def run_through_graph(model: KerasModel, inputs: Any, call: Callable[..., Any]) -> Any:
    """Outputs of a functional `model`'s graph on `inputs`, calling `call(layer, *args,
    **kwargs)` for each layer instead of the layer itself.

    `Functional._run_through_graph` is what `keras.models.clone_model` uses to replay a graph;
    the public `clone_model(clone_function=...)` would build a new model from an Input layer
    and cannot record intermediate outputs or replace a nested model's call.
    """
    return model._run_through_graph(inputs, operation_fn=lambda op: op, call_fn=call)
