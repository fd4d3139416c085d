"""Plain-text lines of trust results for the command line (no Qt, no TensorFlow)."""

from __future__ import annotations

from engine.trust.faithfulness import MIN_SCORE_DROP, Faithfulness
from engine.trust.sanity import SanityResult


def faithfulness_lines(found: Faithfulness) -> list[str]:
    """The four (six) areas and whether the map beats the controls."""
    a = found.aucs()
    lines = [f"deletion AUC {a['deletion_auc']:.3f} (random {a['random_deletion_auc']:.3f}"
             + (f", edges {a['edges_deletion_auc']:.3f}" if a["edges_deletion_auc"] is not None else "")
             + ") lower is better",
             f"insertion AUC {a['insertion_auc']:.3f} (random {a['random_insertion_auc']:.3f}"
             + (f", edges {a['edges_insertion_auc']:.3f}" if a["edges_insertion_auc"] is not None else "")
             + ") higher is better"]
    lines.append(verdict_sentence(found))
    return lines


def verdict_sentence(found: Faithfulness) -> str:
    """The outcome in one sentence: faithful, not faithful, or inconclusive (and why)."""
    if not found.conclusive:
        return (f"inconclusive: removing pixels barely moves the score (random order keeps p >= "
                f"{found.random_lowest:.2f}, a fall under {MIN_SCORE_DROP:g} from p={found.random.deletion[0]:.2f}), "
                "so the curves cannot rank this map")
    return ("faithful: the map beats both controls" if found.faithful
            else "not faithful: a control does as well as the map")


def sanity_lines(result: SanityResult) -> list[str]:
    """A method's verdict and its similarity curve, one stage a line."""
    lines = [f"{result.method}: {'PASS' if result.passed else 'FAIL'}: {result.reason}"]
    for stage in result.stages[1:]:
        lines.append(f"  randomised down to {stage.layer:<24} rank correlation {stage.rank_correlation:+.3f}  "
                     f"SSIM {stage.ssim:+.3f}")
    return lines
