"""Straightforward implementations of the issue-14 methods, written from their papers the way
the seeds write theirs: a model built on every call, eager tapes, Python loops over channels,
patches and masks, `model.predict` on the stacked inputs. tf-keras-vis has none of these
methods, so these are the bench's references. They run on the linear-head copy of the model
(bench.reference.linear_copy), so their scores are the logits ConvScope explains and
probabilities are a softmax taken here.
"""

from __future__ import annotations

import numpy as np

from bench.reference import _predict, _softmax
from engine.model.backend import keras, tf


def _grad_model_maps(model, img_array, layer_name):
    """(A, dy/dA) of the top class for one image, a new gradient model per call (seed 000)."""
    grad_model = keras.models.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        activations, preds = grad_model(img_array)
        class_channel = preds[:, tf.argmax(preds[0])]
    grads = tape.gradient(class_channel, activations)
    return activations[0].numpy(), grads[0].numpy()


def _normalised(cam):
    cam = np.maximum(cam, 0)
    return cam / cam.max() if cam.max() > 0 else cam


def hirescam(model, img_array, layer_name):
    """Draelos and Carin 2020: sum_k dy/dA_k * A_k."""
    activations, grads = _grad_model_maps(model, img_array, layer_name)
    return _normalised((grads * activations).sum(axis=-1))


def gradcam_elementwise(model, img_array, layer_name):
    """sum_k ReLU(dy/dA_k * A_k)."""
    activations, grads = _grad_model_maps(model, img_array, layer_name)
    return _normalised(np.maximum(grads * activations, 0).sum(axis=-1))


def xgradcam(model, img_array, layer_name):
    """Fu et al. 2020: w_k = sum(A_k dy/dA_k) / sum(A_k)."""
    activations, grads = _grad_model_maps(model, img_array, layer_name)
    weights = (grads * activations).sum(axis=(0, 1)) / (activations.sum(axis=(0, 1)) + 1e-7)
    return _normalised((activations * weights).sum(axis=-1))


def eigencam(model, img_array, layer_name, agree_with_mean=False):
    """Muhammad and Yeasin 2020 as pytorch-grad-cam's get_2d_projection: centred SVD, first
    component, whatever sign the SVD returns (`agree_with_mean`: flipped, as ConvScope does,
    when it anti-correlates with the channel mean)."""
    activations = keras.Model(model.inputs[0], model.get_layer(layer_name).output).predict(img_array, verbose=0)[0]
    flat = activations.reshape(-1, activations.shape[-1])
    centred = flat - flat.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=True)
    projection = centred @ vt[0, :]
    if agree_with_mean and np.corrcoef(projection, flat.mean(axis=1))[0, 1] < 0:
        projection = -projection
    return _normalised(projection.reshape(activations.shape[:2]))


def ablation_cam(model, img_array, layer_name, batch_size=32):
    """Desai and Ramaswamy 2020: the graph after the target as a tail model (branches and all),
    every channel zeroed in its own copy, `predict` in batches of 32, w_k = (y_c - y_c^k) / y_c."""
    target = model.get_layer(layer_name).output
    activations = keras.Model(model.inputs[0], target).predict(img_array, verbose=0)
    tail = keras.Model(target, model.output)
    preds = _predict(model, img_array)[0]
    cls = int(np.argmax(preds))
    channels = activations.shape[-1]
    ablated = np.repeat(activations, channels, axis=0)
    for k in range(channels):
        ablated[k, :, :, k] = 0
    scores = tail.predict(ablated, batch_size=batch_size, verbose=0)[:, cls]
    weights = (preds[cls] - scores) / preds[cls]
    return _normalised(activations[0] @ weights)


def occlusion(model, img_array, patch=16, stride=8):
    """Zeiler and Fergus 2014: every patch position occluded by the image mean in its own copy,
    one `predict`, the probability drop averaged over the patches covering each pixel."""
    probs = _softmax(_predict(model, img_array))
    cls = int(np.argmax(probs[0]))
    _, height, width, _ = img_array.shape
    ys = sorted(set(range(0, height - patch + 1, stride)) | {height - patch})
    xs = sorted(set(range(0, width - patch + 1, stride)) | {width - patch})
    mean = img_array[0].mean(axis=(0, 1))
    occluded = []
    for y in ys:
        for x in xs:
            copy = img_array[0].copy()
            copy[y:y + patch, x:x + patch] = mean
            occluded.append(copy)
    drops = probs[0, cls] - _softmax(_predict(model, np.stack(occluded)))[:, cls]
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for (y, x), drop in zip([(y, x) for y in ys for x in xs], drops, strict=True):
        total[y:y + patch, x:x + patch] += drop
        count[y:y + patch, x:x + patch] += 1
    return total / count


def rise(model, img_array, n_masks=1000, s=8, p1=0.5, batch_size=100, seed=0):
    """Petsiuk et al. 2018, the authors' generate_masks and explain: scikit-image resize per mask,
    random shifts, predictions in batches of 100, saliency = P^T M / N / p1."""
    from skimage.transform import resize

    rng = np.random.default_rng(seed)
    input_size = img_array.shape[1:3]
    cell_size = np.ceil(np.array(input_size) / s)
    up_size = ((s + 1) * cell_size).astype(int)
    grid = (rng.random((n_masks, s, s)) < p1).astype("float32")
    masks = np.empty((n_masks, *input_size), "float32")
    for i in range(n_masks):
        x, y = rng.integers(0, cell_size[0]), rng.integers(0, cell_size[1])
        masks[i] = resize(grid[i], up_size, order=1, mode="reflect", anti_aliasing=False)[
            x:x + input_size[0], y:y + input_size[1]]
    preds = []
    for i in range(0, n_masks, batch_size):
        preds.append(_softmax(_predict(model, img_array * masks[i:i + batch_size, ..., None])))
    preds = np.concatenate(preds)
    cls = int(np.argmax(_predict(model, img_array)[0]))
    return (preds[:, cls] @ masks.reshape(n_masks, -1) / n_masks / p1).reshape(input_size)


def gradient_input(model, img_array):
    """Shrikumar et al. 2016: x * d y_c / dx, one eager tape per call."""
    x = tf.constant(img_array)
    with tf.GradientTape() as tape:
        tape.watch(x)
        preds = model(x)
        preds = preds[0] if isinstance(preds, list) else preds
        score = preds[:, tf.argmax(preds[0])]
    return (tape.gradient(score, x) * x).numpy()[0]
