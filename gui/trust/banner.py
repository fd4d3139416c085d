"""The lot's trust verdict as a banner a reader cannot miss (rich text for a QLabel, no Qt import)."""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {"right-reason": "#d8f0d8", "shortcut-suspected": "#f8cccc", "insufficient-data": "#fff0c0"}


def banner_html(trust: Any) -> str:
    """The verdict of a review's `trust` object (summary.json or ReviewResult.trust); "" without one."""
    if not isinstance(trust, dict):
        return ""
    overall = trust.get("overall", trust)
    verdict = overall.get("verdict") if isinstance(overall, dict) else None
    if not verdict:
        return ""
    reason = overall.get("verdict_reason") or overall.get("sentence") or ""
    flagged = overall.get("flagged")
    tail = f" {flagged} image(s) flagged: see the Flag column." if flagged else ""
    colour = COLOURS.get(verdict, "#eeeeee")
    return (f"<table width='100%' cellpadding='8' bgcolor='{colour}'><tr><td>"
            f"<span style='font-size:15pt; font-weight:700'>{escape(verdict.upper())}</span><br>"
            f"{escape(reason)}.{escape(tail)}</td></tr></table>")
