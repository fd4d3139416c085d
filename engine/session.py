"""The engine facade: one loaded model and everything derived from it.

The GUI worker, the command line, the tests and the benchmarks all go through a Session.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.errors import LayerError, MethodError
from engine.images.decoding import LoadedImage, load_image
from engine.images.preprocessing import PREPROCESSING_MODES, guess_preprocessing, to_model_input
from engine.methods import METHODS, Job, Method, RawMaps
from engine.methods.base import CancelCheck, Progress
from engine.model.context import ModelContext
from engine.model.layers import (
    LayerInfo,
    default_target_layer,
    list_layers,
    not_a_target,
    resolve_layer,
)
from engine.model.loading import open_model
from engine.model.probe import check_image_model, output_heads, output_names
from engine.model.sidecar import Sidecar, read_sidecar
from engine.results import ClassScore, Explanation, ModelInfo, Prediction
from engine.types import FloatArray, InputBatch, KerasModel


class Session:
    """A loaded model ready to predict and explain."""

    def __init__(self, model: KerasModel, path: str, sidecar: Sidecar, preprocessing: str | None = None,
                 config_text: str = "", methods: Mapping[str, type[Method]] = METHODS) -> None:
        check_image_model(model, Path(path).name)
        self.methods = methods  # the registry this session explains with (engine.methods.registry)
        self.model: KerasModel = model
        self.context = ModelContext(model, output_heads(model))
        self._methods: dict[str, Method] = {}
        self.bit_depth = sidecar.bit_depth
        self.info = _model_info(model, path, sidecar, preprocessing, config_text, self.context)

    @classmethod
    def open(cls, path: str | Path, trust: bool = False, preprocessing: str | None = None,
             methods: Mapping[str, type[Method]] = METHODS) -> Session:
        """Load a model file (safe mode unless `trust`) with its sidecar."""
        model, config, unsafe = open_model(path, trust=trust)
        session = cls(model, str(path), read_sidecar(path), preprocessing, json.dumps(config), methods)
        if unsafe:  # loaded only because the caller trusted it: keep saying why safe mode refused it
            note = f"loaded on trust: safe mode refuses layer {', '.join(unsafe)}, which runs Python code when loaded"
            session.info = replace(session.info, warnings=(note, *session.info.warnings))
        return session

    # -- inputs -------------------------------------------------------------------------
    def load_image(self, path: str | Path) -> LoadedImage:
        """Read an image file (see engine.images.decoding)."""
        return load_image(path, self.bit_depth)

    def model_input(self, image: LoadedImage) -> FloatArray:
        """The image resized, converted and preprocessed for this model: (H, W, C) float32."""
        height, width, channels = self.info.input_shape
        return to_model_input(image, (height, width), channels, self.info.preprocessing)

    def model_pixels(self, image: LoadedImage) -> FloatArray:
        """The image at the model's input size as RGB 0..255 float32, before preprocessing."""
        height, width, _ = self.info.input_shape
        return to_model_input(image, (height, width), 3, "none")

    def batch(self, images: Sequence[LoadedImage]) -> InputBatch:
        """Stack model inputs; images must share a size when the model is size-agnostic."""
        return np.stack([self.model_input(image) for image in images])

    # -- predictions --------------------------------------------------------------------
    def check_output(self, output: int | str) -> int:
        """The index of an output given by index or name; a MethodError naming the outputs if
        the model has no such output."""
        names = self.info.output_names
        if isinstance(output, str):
            output = names.index(output) if output in names else (
                int(output) if output.lstrip("-").isdigit() else output)
        if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= output < len(names):
            listing = ", ".join(f"{i} ({name})" for i, name in enumerate(names))
            raise MethodError(f"output {output!r} is out of range: the model has {len(names)} "
                              f"output{'s' if len(names) != 1 else ''}: {listing}")
        return int(output)

    def logits(self, inputs: InputBatch, output: int = 0, batch_size: int = 32) -> FloatArray:
        """Raw pre-activation outputs for a batch of model inputs."""
        output = self.check_output(output)
        probe = self.context.probe((), output)
        run = self.context.cached(("logits", output), lambda: _compiled_forward(probe, self.context))
        parts = [run(inputs[i:i + batch_size]).numpy() for i in range(0, len(inputs), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.context.heads[output].units), np.float32)

    def predict(self, images: Sequence[LoadedImage], top: int = 5, output: int = 0) -> list[Prediction]:
        """Top-k classes with probabilities for each image."""
        output = self.check_output(output)
        logits = self.logits(self.batch(images), output)
        return [self._prediction(image.path, row, top, output) for image, row in zip(images, logits, strict=True)]

    def _prediction(self, path: str, logits: np.ndarray, top: int, output: int) -> Prediction:
        head = self.context.heads[output]
        probabilities = head.probabilities(logits[None])[0]
        class_logits = head.class_logits(logits[None])[0]
        order = np.argsort(-probabilities)[: max(1, top)]
        scores = tuple(
            ClassScore(int(i), self.class_name(int(i)), float(probabilities[i]), float(class_logits[i]))
            for i in order
        )
        return Prediction(path, scores)

    # -- classes and layers -------------------------------------------------------------
    def class_name(self, index: int) -> str:
        """The display name of a class index."""
        names = self.info.class_names
        return names[index] if 0 <= index < len(names) else f"class {index}"

    def class_index(self, value: int | str, output: int = 0) -> int:
        """A class given by name ("scratch") or by index ("3"); a name wins when a class is
        named by digits (names "1", "0": "1" is the class named "1")."""
        count = self.context.heads[output].class_count
        text = str(value).strip()
        if isinstance(value, str) and text in self.info.class_names:
            index = self.info.class_names.index(text)
        elif text.lstrip("-").isdigit():
            index = int(text)
        else:
            raise MethodError(f"unknown class '{text}'; classes: {', '.join(self.info.class_names)}")
        if not 0 <= index < count:
            raise MethodError(f"class index {index} is out of range: the model has {count} classes")
        return index

    def layer(self, name: str | None) -> LayerInfo:
        """The CAM target: the named layer, or the default one."""
        if name is None:
            if self.info.default_layer is None:
                raise LayerError("the model has no layer with a spatial (4-D) output: CAMs are unavailable; "
                                 "use an input-gradient method such as saliency")
            name = self.info.default_layer
        info = resolve_layer(self.info.layers, name)
        if not info.is_cam_target:
            raise LayerError(not_a_target(info, "a CAM"))
        return info

    def method(self, name: str) -> Method:
        """The method object for a name, created once."""
        if name not in self.methods:
            raise MethodError(f"unknown method '{name}'; choose from {', '.join(self.methods)}")
        if name not in self._methods:
            self._methods[name] = self.methods[name](self.context)
        return self._methods[name]

    # -- explanations -------------------------------------------------------------------
    def explain(self, image: LoadedImage, method: str = "gradcam", layer: str | Sequence[str] | None = None,
                class_index: int | str | None = None, output: int = 0,
                progress: Progress | None = None, cancel: CancelCheck | None = None,
                **params) -> Explanation:
        """Explain one image; the class defaults to the predicted one."""
        return self.explain_batch([image], method, layer, [class_index], output, progress, cancel, **params)[0]

    def target_layers(self, layer: str | Sequence[str] | None, fuse: str | None = None) -> list[str]:
        """CAM target paths: one layer, several (a sequence, or names joined by commas: fused),
        or, when `fuse` is set and at most one layer is named, the default fusion set
        (engine.methods.fusion.default_layers)."""
        from engine.methods.fusion import default_layers

        names = [n.strip() for n in layer.split(",")] if isinstance(layer, str) else list(layer or [])
        names = [n for n in names if n]
        if fuse is not None and len(names) <= 1:
            last = self.layer(names[0] if names else None).path
            return default_layers(self.info.layers, last) or [last]
        paths = [self.layer(name).path for name in names] if names else [self.layer(None).path]
        return list(dict.fromkeys(paths))

    def explain_batch(self, images: Sequence[LoadedImage], method: str = "gradcam",
                      layer: str | Sequence[str] | None = None,
                      classes: Sequence[int | str | None] | None = None, output: int = 0,
                      progress: Progress | None = None, cancel: CancelCheck | None = None,
                      **params) -> list[Explanation]:
        """Explain a batch of images in one pass of the method's compiled function.

        `params` holds the method's parameters and the combinations of engine.maps.combine
        (guided, edges, emphasize, outline, cleanup, polarity, clip_percentile, ...), with
        `fuse` (several layers: `layer` a sequence or comma-separated, fused per
        engine.methods.fusion) and `tiles` / `tile_overlap` (engine.tiles).
        """
        from engine import tiles
        from engine.maps import combine
        from engine.methods import fusion

        output = self.check_output(output)
        started = time.perf_counter()
        worker = self.method(method)
        chosen, options = combine.check_request(worker, params)
        targets: list[str | None] = list(self.target_layers(layer, options["fuse"])) if worker.needs_layer else [None]
        wanted = np.array([-1 if c is None else self.class_index(c, output) for c in (classes or [None] * len(images))],
                          dtype=np.int32)
        if options["tiles"]:
            tiles.check_tiles(options)
            return [self._tiled(image, worker, int(c), targets, output, chosen, options, progress, cancel)
                    for image, c in zip(images, wanted, strict=True)]
        if len(targets) > 1 and options["fuse"] is None:
            options = {**options, "fuse": "max"}
        job = Job(self.batch(images), wanted, targets[0], output, chosen, progress, cancel, self.info.preprocessing)
        if len(targets) > 1:
            raw = fusion.run_fused(worker, job, targets, options["fuse"])
            job = replace(job, layer=" + ".join(str(t) for t in targets))
        else:
            raw = worker.run(job)
        guided = None
        if options["guided"]:
            guided = self.method("guided-backprop").run(Job(job.inputs, raw.classes, None, output, {}, progress, cancel,
                                                            job.preprocessing))
            raw = RawMaps(raw.maps, raw.logits, raw.classes, raw.notes + guided.notes, raw.attributions)
        seconds = (time.perf_counter() - started) / max(1, len(images))
        return [self._explanation(image, raw, i, job, method, seconds, options,
                                  None if guided is None else guided.maps[i]) for i, image in enumerate(images)]

    def _tiled(self, image: LoadedImage, worker: Method, wanted: int, targets: list[str | None], output: int,
               params: dict, options: dict, progress: Progress | None, cancel: CancelCheck | None) -> Explanation:
        """One image explained tile by tile, or whole (with a note) when it cannot be tiled."""
        from engine import tiles

        reason = tiles.unfit(self, image)
        if reason:
            whole = self.explain_batch([image], worker.name, [t for t in targets if t is not None] or None,
                                       [None if wanted < 0 else wanted], output, progress, cancel,
                                       **{**params, **options, "tiles": False})[0]
            return replace(whole, params={**whole.params, "tiles": True}, notes=(*whole.notes, reason))
        return tiles.explain_tiled(self, image, worker, None if wanted < 0 else wanted, targets, output, params,
                                   options, progress, cancel)

    def _explanation(self, image: LoadedImage, raw: RawMaps, i: int, job: Job, method: str,
                     seconds: float, options: dict, guided: np.ndarray | None) -> Explanation:
        from engine.maps import combine

        attributions = None if raw.attributions is None else raw.attributions[i]
        heatmap, empty = combine.finish(raw.maps[i], attributions, image.display, options, guided,
                                        self.method(method).floor)
        head = self.context.heads[job.output]
        index = int(raw.classes[i])
        probabilities = head.probabilities(raw.logits[i][None])[0]
        class_logits = head.class_logits(raw.logits[i][None])[0]
        notes = raw.notes + ((_empty_note(raw.maps[i]),) if empty else ())
        return Explanation(method, job.layer, index, self.class_name(index), float(probabilities[index]),
                           float(class_logits[index]), heatmap, raw.maps[i] if attributions is None else attributions,
                           seconds, {**job.params, **options}, empty, notes)


def _empty_note(raw_map: np.ndarray) -> str:
    """Why a map came out blank: no positive values, or values too small to tell apart (a score
    that does not depend on the input: an untrained, saturated or wrongly loaded model)."""
    from engine.maps.normalise import normalise

    peak = float(np.nan_to_num(np.max(raw_map, initial=0.0)))
    if peak <= 0.0 or not normalise(raw_map)[1]:
        return "no positive evidence for this class: the map is all zero"
    return (f"the map is flat (largest value {peak:.1e}): the class score barely depends on the input; "
            "an untrained, saturated or wrongly loaded model?")


def _compiled_forward(probe, context: ModelContext):
    from engine.model.backend import tf

    @tf.function(input_signature=[context.input_spec()])
    def run(x):
        outputs = probe(x, training=False)
        return outputs[-1] if isinstance(outputs, (list, tuple)) else outputs

    return run


def _model_info(model, path: str, sidecar: Sidecar, preprocessing: str | None, config_text: str,
                context: ModelContext) -> ModelInfo:
    layers = list_layers(model)
    heads = context.heads
    warnings: list[str] = []
    class_count = heads[0].class_count
    names = sidecar.class_names
    if names is not None and len(names) != class_count:
        warnings.append(f"the sidecar names {len(names)} classes but the model has {class_count}; names ignored")
        names = None
    mode, source = _preprocessing(sidecar, preprocessing, config_text)
    default = _default_layer(layers, sidecar, class_count, warnings)
    if default is None:
        warnings.append("no layer with a spatial (4-D) output: CAMs are unavailable, input-gradient methods work")
    return ModelInfo(
        path=str(path), name=Path(path).name, input_shape=context.input_shape,
        class_names=tuple(names or (f"class {i}" for i in range(class_count))), heads=heads,
        output_names=output_names(model), preprocessing=mode, preprocessing_source=source,
        default_layer=default, layers=layers, params=int(model.count_params()), warnings=tuple(warnings),
    )


def _preprocessing(sidecar: Sidecar, option: str | None, config_text: str) -> tuple[str, str]:
    if option is not None:
        if option not in PREPROCESSING_MODES:
            raise MethodError(f"preprocessing must be one of {', '.join(PREPROCESSING_MODES)}")
        return option, "option"
    if sidecar.preprocessing is not None:
        return sidecar.preprocessing, "sidecar"
    return guess_preprocessing(config_text), "guess"


def _default_layer(layers, sidecar: Sidecar, class_count: int, warnings: list[str]) -> str | None:
    if sidecar.target_layer is not None:
        try:
            info = resolve_layer(layers, sidecar.target_layer)
            if info.is_spatial:
                return info.path
            warnings.append(f"sidecar target layer '{sidecar.target_layer}' has no spatial output; ignored")
        except LayerError as exc:
            warnings.append(f"sidecar target layer ignored: {exc}")
    found = default_target_layer(layers, class_count)
    return found.path if found else None
