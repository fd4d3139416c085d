"""Grad-CAM++, LayerCAM, HiResCAM, Grad-CAM element-wise and XGrad-CAM: gradient-weighted CAMs
sharing Grad-CAM's compiled gradients."""

from __future__ import annotations

from engine.methods.gradcam import GradientCam
from engine.model.backend import tf


def gradcam_plus_plus_map(activations, grads):
    """Grad-CAM++ (Chattopadhyay et al. 2018) with the exponential-score closed form.

    With S = exp(score), dS/dA = S g, and the second/third derivatives S g^2, S g^3, so
    alpha = g^2 / (2 g^2 + sum_ij(A) g^3) (S cancels); alphas are normalised per channel
    over space, as in the authors' code and tf-keras-vis; weights = sum_ij alpha * ReLU(g).
    The positive factor S that tf-keras-vis keeps in the weights is dropped: it scales the
    map by a constant (removed by normalisation) and overflows for large logits.
    """
    grads_2 = grads * grads
    grads_3 = grads_2 * grads
    global_sum = tf.reduce_sum(activations, axis=(1, 2), keepdims=True)
    denominator = 2.0 * grads_2 + global_sum * grads_3
    denominator += tf.cast(grads_2 == 0.0, grads.dtype)
    alphas = grads_2 / denominator
    norm = tf.reduce_sum(alphas, axis=(1, 2), keepdims=True)
    alphas /= norm + tf.cast(norm == 0.0, norm.dtype)
    weights = tf.reduce_sum(alphas * tf.nn.relu(grads), axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))


def layercam_map(activations, grads):
    """LayerCAM (Jiang et al. 2021): ReLU(sum_k ReLU(dy/dA_k) * A_k), position by position."""
    return tf.nn.relu(tf.reduce_sum(tf.nn.relu(grads) * activations, axis=-1))


class GradCamPlusPlus(GradientCam):
    """Grad-CAM++: pixel-wise weighted positive gradients."""

    name = "gradcam++"
    title = "Grad-CAM++"
    combine = staticmethod(gradcam_plus_plus_map)


class LayerCam(GradientCam):
    """LayerCAM: positive gradients weight each position; works on shallow layers too."""

    name = "layercam"
    title = "LayerCAM"
    combine = staticmethod(layercam_map)


def hirescam_map(activations, grads):
    """HiResCAM (Draelos and Carin 2020): sum_k dy/dA_k * A_k, element-wise, then ReLU.

    The paper's map is the signed sum; like pytorch-grad-cam we keep its positive part, the
    evidence for the class, as every other CAM here does (a signed map would shift its zero
    under (min, max) normalisation).
    """
    return tf.nn.relu(tf.reduce_sum(grads * activations, axis=-1))


def gradcam_elementwise_map(activations, grads):
    """Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): sum_k ReLU(dy/dA_k * A_k)."""
    return tf.reduce_sum(tf.nn.relu(grads * activations), axis=-1)


def xgradcam_map(activations, grads):
    """XGrad-CAM (Fu et al. 2020): w_k = sum_ij(A_k * dy/dA_k) / sum_ij(A_k), map ReLU(sum_k w_k A_k).

    A channel whose activations sum to zero gets weight 0 (its A_k * g is 0 as well when A >= 0).
    """
    totals = tf.reduce_sum(activations, axis=(1, 2), keepdims=True)
    weights = tf.math.divide_no_nan(tf.reduce_sum(activations * grads, axis=(1, 2), keepdims=True), totals)
    return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))


class HiResCam(GradientCam):
    """HiResCAM: gradients times activations, position by position, summed over channels."""

    name = "hirescam"
    title = "HiResCAM"
    combine = staticmethod(hirescam_map)


class GradCamElementWise(GradientCam):
    """Grad-CAM element-wise: the positive part of each gradient x activation before the sum."""

    name = "gradcam-elementwise"
    title = "Grad-CAM element-wise"
    combine = staticmethod(gradcam_elementwise_map)


class XGradCam(GradientCam):
    """XGrad-CAM: channel weights from activation-weighted gradients (axiom-based)."""

    name = "xgradcam"
    title = "XGrad-CAM"
    combine = staticmethod(xgradcam_map)
