"""Plain-text lines of trust results for the command line (no Qt, no TensorFlow)."""

from __future__ import annotations

from engine.trust.faithfulness import Faithfulness
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
    lines.append("faithful: the map beats both controls" if found.faithful
                 else "not faithful: a control does as well as the map")
    return lines


def sanity_lines(result: SanityResult) -> list[str]:
    """A method's verdict and its similarity curve, one stage a line."""
    lines = [f"{result.method}: {'PASS' if result.passed else 'FAIL'}: {result.reason}"]
    for stage in result.stages[1:]:
        lines.append(f"  randomised down to {stage.layer:<24} rank correlation {stage.rank_correlation:+.3f}  "
                     f"SSIM {stage.ssim:+.3f}")
    return lines
