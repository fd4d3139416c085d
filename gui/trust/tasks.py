"""The Trust view's requests, run inside the engine loop (gui.engine_loop registers them)."""

from __future__ import annotations

from collections.abc import Callable

from gui.protocol import (
    CompareTrust,
    CompareTrustResult,
    SanityDisplay,
    SanityRequest,
    TrustCheck,
    TrustComputed,
    TrustResult,
)

COMPARE_SEEDS = 2  # random orders per tile (the tiles share the image, so the controls barely differ)
# Requests that wait for a trust job to end; the others (an explanation of a newly selected image,
# folder predictions) run between its steps (gui.engine_loop.EngineLoop.stepping).
NOT_DURING_TRUST = ("model", "review", "features", "compare", "trust")


def is_defect_class(session, class_index: int, output: int = 0) -> bool:
    """False for a class named like a good part ("ok", "good", "normal", ...: engine.model.heads),
    the one whose prediction painting a defect out says nothing about."""
    from engine.model.heads import defect_classes

    heads = getattr(session.context, "heads", ())
    binary = bool(heads[output].binary) if output < len(heads) else False
    return class_index in set(defect_classes(tuple(session.info.class_names), binary).tolist())


def run_trust_check(loop, envelope, request: TrustCheck) -> None:
    """Explain, compute the curves with both controls, and paint the defect out if there is a mask."""
    from engine.review.masks import class_mask
    from engine.trust.faithfulness import faithfulness
    from engine.trust.removal import remove_defects

    session, cancel = loop.session, loop.cancel_check(envelope)
    image = session.load_image(request.explain.path)
    explanation, display = loop.explain_one(envelope, request.explain, image=image)
    found = faithfulness(session, [image], [explanation.heatmap], [explanation.class_index], cancel=cancel,
                         progress=loop.stepping(envelope, NOT_DURING_TRUST))[0]
    defect = is_defect_class(session, explanation.class_index, request.explain.output)
    result = TrustResult(request, explanation.class_name, found, display, defect_class=defect)
    # removal tests defect predictions only; drawn regions count as soon as they are saved
    truth = ground_truth(request.explain.path, image, tuple(session.info.class_names)) if defect else None
    if truth is not None:
        region = class_mask(truth.mask, explanation.class_index, len(session.info.class_names))[0]
        if region.any():
            removal = remove_defects(session, [image], [region], [explanation.class_index],
                                     [explanation.probability])[0]
            result = TrustResult(request, explanation.class_name, found, display, removal.painted.display, region,
                                 explanation.probability, removal.probability_after,
                                 session.class_name(removal.predicted_after), removal.kept)
    loop.emit(TrustComputed(envelope.generation, result))


def ground_truth(path: str, image, class_names: tuple[str, ...]):
    """The image's FoundMask (pixel mask or annotated regions), None without one or when its file
    is unreadable (the Trust view then shows no removal, as without a mask)."""
    from engine.annotations.single import image_ground_truth
    from engine.errors import ConvScopeError

    try:
        return image_ground_truth(path, image.height, image.width, class_names)
    except ConvScopeError:
        return None


def run_sanity(loop, envelope, request: SanityRequest) -> None:
    """The cascade on a copy of the model, with progress per layer."""
    from engine.trust.sanity import sanity_check

    session, explain = loop.session, request.explain
    image = session.load_image(explain.path)
    params = {m: dict(explain.params) for m in request.methods if m == explain.method}
    results = sanity_check(session, image, request.methods, explain.layer, explain.class_index, params,
                           progress=loop.stepping(envelope, NOT_DURING_TRUST), cancel=loop.cancel_check(envelope))
    loop.emit(TrustComputed(envelope.generation,
                            SanityDisplay(request, session.class_name(results[0].class_index), tuple(results))))


def run_compare_trust(loop, envelope, request: CompareTrust) -> None:
    """Explain every tile again and compute all their curves in one batched call."""
    from engine.trust.faithfulness import faithfulness

    if not request.items:
        return
    session = loop.session
    image = session.load_image(request.items[0].path)
    steps = loop.stepping(envelope, NOT_DURING_TRUST)
    explained = []
    for done, item in enumerate(request.items):  # the tiles again, then every curve in one batched call
        explained.append(loop.explain_one(envelope, item, image=image)[0])
        steps(done + 1, len(request.items))
    found = faithfulness(session, [image] * len(explained), [e.heatmap for e in explained],
                         [e.class_index for e in explained], seeds=COMPARE_SEEDS, cancel=loop.cancel_check(envelope),
                         progress=steps)
    loop.emit(TrustComputed(envelope.generation,
                            CompareTrustResult(request, tuple(f.aucs() for f in found), tuple(f.faithful for f in found),
                                               tuple(f.conclusive for f in found))))


TRUST_HANDLERS: dict[type, Callable[..., None]] = {TrustCheck: run_trust_check, SanityRequest: run_sanity,
                                                  CompareTrust: run_compare_trust}
