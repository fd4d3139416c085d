"""The seeds' straightforward algorithms, re-written for TF2 / Keras 3 and kept faithful.

Each function does what its seed does, call by call: seed 000 builds its gradient model on
every call; seed 001 scores masked inputs with `model.predict` after per-channel Python loops;
seed 002 builds a new gradient function for every filter and ascends 40 steps at batch 1;
seed 004 takes one gradient per interpolation step. The only changes are the ones TF2 /
Keras 3 force (K.function becomes a tf.function, `output_shape` becomes `input_shape`) and
`verbose=0` on `predict`. They run on a *linear-head copy* of the model (seed 000's
"remove last layer's softmax", done once at set-up, not per call) so their scores are the
same pre-activation logits ConvScope explains.

The tf-keras-vis side (when installed) uses the library as documented: a visualiser built
once with `ReplaceToLinear()`, called with a `CategoricalScore`.
"""

from __future__ import annotations

import numpy as np

from engine.model.backend import keras, tf


# -- set-up ---------------------------------------------------------------------------------
def linear_copy(model):
    """A copy of `model` (same weights) whose last layer's activation is removed (seed 000 set-up)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    last = copy.layers[-1]
    if type(last).__name__ in ("Activation", "Softmax"):
        return keras.Model(copy.inputs, copy.layers[-2].output)
    last.activation = None
    return copy


# -- seed 000: keras.io Grad-CAM --------------------------------------------------------------
def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    """Seed 000, line for line: a new grad model per call, an eager tape, pooled gradients."""
    grad_model = keras.models.Model(  # Keras 3: model.output is a list for list-built models,
        model.inputs[0], [model.get_layer(last_conv_layer_name).output, model.outputs[0]]
    )  # and a model built on the list `model.inputs` warns when called with one tensor
    with tf.GradientTape() as tape:
        last_conv_layer_output, preds = grad_model(img_array)
        if pred_index is None:
            pred_index = tf.argmax(preds[0])
        class_channel = preds[:, pred_index]
    grads = tape.gradient(class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap)
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return heatmap.numpy()


# -- seed 001: Score-CAM / Faster Score-CAM ---------------------------------------------------
def _predict(model, x):
    """model.predict, unwrapping the one-element list Keras 3 returns for list-built models."""
    out = model.predict(x, verbose=0)
    return out[0] if isinstance(out, list) else out


def _softmax(x):
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


def score_cam(model, img_array, layer_name, max_N=-1):  # noqa: N803 - the seed's name
    """Seed 001: per-channel cv2 resizes and masks in Python, then one `model.predict`."""
    import cv2

    cls = np.argmax(_predict(model, img_array))
    act_map_array = keras.Model(inputs=model.inputs, outputs=model.get_layer(layer_name).output).predict(
        img_array, verbose=0)
    if max_N != -1:
        act_map_std_list = [np.std(act_map_array[0, :, :, k]) for k in range(act_map_array.shape[3])]
        unsorted_max_indices = np.argpartition(-np.array(act_map_std_list), max_N)[:max_N]
        max_N_indices = unsorted_max_indices[np.argsort(-np.array(act_map_std_list)[unsorted_max_indices])]  # noqa: N806
        act_map_array = act_map_array[:, :, :, max_N_indices]
    input_shape = model.input_shape[1:]  # the seed's model.layers[0].output_shape[1:]
    act_map_resized_list = [cv2.resize(act_map_array[0, :, :, k], input_shape[:2][::-1], interpolation=cv2.INTER_LINEAR)
                            for k in range(act_map_array.shape[3])]
    act_map_normalized_list = []
    for act_map_resized in act_map_resized_list:
        if np.max(act_map_resized) - np.min(act_map_resized) != 0:
            act_map_normalized = act_map_resized / (np.max(act_map_resized) - np.min(act_map_resized))
        else:
            act_map_normalized = act_map_resized
        act_map_normalized_list.append(act_map_normalized)
    masked_input_list = []
    for act_map_normalized in act_map_normalized_list:
        masked_input = np.copy(img_array)
        for k in range(masked_input.shape[-1]):
            masked_input[0, :, :, k] *= act_map_normalized
        masked_input_list.append(masked_input)
    masked_input_array = np.concatenate(masked_input_list, axis=0)
    pred_from_masked_input_array = _softmax(_predict(model, masked_input_array))
    weights = pred_from_masked_input_array[:, cls]
    cam = np.dot(act_map_array[0, :, :, :], weights)
    cam = np.maximum(0, cam)
    cam /= np.max(cam)
    return cam


# -- seed 002: filter patterns, one filter at a time -------------------------------------------
def deprocess_image(x):
    """Seed 002's deprocessing."""
    x = x.copy()
    x -= x.mean()
    x /= (x.std() + 1e-5)
    x *= 0.1
    x += 0.5
    x = np.clip(x, 0, 1)
    x *= 255
    return np.clip(x, 0, 255).astype("uint8")


def generate_pattern(model, layer_name, filter_index, size=64, steps=40, step=1.0):
    """Seed 002: a new gradient function (K.function -> tf.function) for this one filter,
    then `steps` ascent steps on one grey noisy image."""
    layer_output = model.get_layer(layer_name).output
    extractor = keras.Model(model.inputs, layer_output)

    @tf.function
    def iterate(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(extractor(x)[:, :, :, filter_index])
        grads = tape.gradient(loss, x)
        grads /= (tf.sqrt(tf.reduce_mean(tf.square(grads))) + 1e-5)
        return loss, grads

    input_img_data = np.random.random((1, size, size, 3)) * 20 + 128.
    for _ in range(steps):
        _loss, grads_value = iterate(tf.constant(input_img_data, tf.float32))
        input_img_data += grads_value.numpy() * step
    return deprocess_image(input_img_data[0])


def pattern_grid(model, layer_name, rows=8, columns=8, size=64, steps=40, margin=5):
    """Seed 002's grid loop: filter i + j * 8 at row i, column j, one generate_pattern each."""
    results = np.zeros((rows * size + (rows - 1) * margin, columns * size + (columns - 1) * margin, 3), np.uint8)
    for i in range(rows):
        for j in range(columns):
            filter_img = generate_pattern(model, layer_name, i + (j * rows), size=size, steps=steps)
            top, left = i * (size + margin), j * (size + margin)
            results[top:top + size, left:left + size, :] = filter_img
    return results


# -- seed 004: Integrated Gradients -------------------------------------------------------------
def get_gradients(model, img_input, top_pred_idx):
    """Seed 004: the gradient of one class score for one (batch of one) image, eagerly."""
    images = tf.cast(img_input, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        preds = model(images)
        preds = preds[0] if isinstance(preds, list) else preds  # Keras 3 list-built models
        top_class = preds[:, top_pred_idx]
    return tape.gradient(top_class, images)


def get_integrated_gradients(model, img_input, top_pred_idx, preprocess_input, baseline=None, num_steps=50):
    """Seed 004: interpolate in pixel space, preprocess, one gradient per step, trapezoids."""
    if baseline is None:
        baseline = np.zeros(img_input.shape).astype(np.float32)
    else:
        baseline = baseline.astype(np.float32)
    img_input = img_input.astype(np.float32)
    interpolated_image = [baseline + (step / num_steps) * (img_input - baseline) for step in range(num_steps + 1)]
    interpolated_image = np.array(interpolated_image).astype(np.float32)
    interpolated_image = preprocess_input(interpolated_image)
    grads = []
    for img in interpolated_image:
        img = tf.expand_dims(img, axis=0)
        grad = get_gradients(model, img, top_pred_idx=top_pred_idx)
        grads.append(grad[0])
    grads = tf.convert_to_tensor(grads, dtype=tf.float32)
    grads = (grads[:-1] + grads[1:]) / 2.0
    avg_grads = tf.reduce_mean(grads, axis=0)
    return ((img_input - baseline) * avg_grads).numpy()


# -- tf-keras-vis ---------------------------------------------------------------------------
def have_tf_keras_vis() -> bool:
    """True when tf-keras-vis imports."""
    try:
        import tf_keras_vis  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken: the cases are skipped
        return False
    return True


def tf_keras_vis_methods(linear_model, layer: str, class_index: int) -> dict:
    """name -> callable(seed_input) for tf-keras-vis's visualisers, built once (as documented:
    ReplaceToLinear model modifier, CategoricalScore). They share `linear_model` (clone=False:
    it already has a linear head, which ReplaceToLinear re-sets)."""
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.layercam import Layercam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    score = CategoricalScore([class_index])

    def build(cls):
        return cls(linear_model, model_modifier=ReplaceToLinear(), clone=False)

    gradcam, plus, layercam, scorecam, saliency = (build(c) for c in (Gradcam, GradcamPlusPlus, Layercam,
                                                                        Scorecam, Saliency))
    return {
        "gradcam": lambda x: gradcam(score, x, penultimate_layer=layer),
        "gradcam++": lambda x: plus(score, x, penultimate_layer=layer),
        "layercam": lambda x: layercam(score, x, penultimate_layer=layer),
        "faster-scorecam": lambda x: scorecam(score, x, penultimate_layer=layer, max_N=10),
        "saliency": lambda x: saliency(score, x),
    }
