"""bench.responsiveness: the gap figures from recorded ticks (no window, no timing asserts)."""

from __future__ import annotations

import numpy as np


def test_gaps_run_from_the_scenarios_start_to_its_end(qapp):
    from bench.responsiveness import GOAL_MS, TickRecorder

    recorder = TickRecorder()
    recorder.ticks = [0.5, 1.000, 1.005, 1.010, 1.200, 1.205, 2.0]  # 0.5 and 2.0 lie outside
    gaps = recorder.gaps("scenario", 1.0, 1.3)
    expected = np.array([0.0, 5.0, 5.0, 190.0, 5.0, 95.0])  # from 1.0 to the first tick ... to 1.3
    assert gaps.ticks == 5 and gaps.seconds == 0.3
    assert gaps.longest_ms == 190.0 and gaps.over_goal == 2 and GOAL_MS == 50.0  # 190 and 95 ms
    assert abs(gaps.p99_ms - np.percentile(expected, 99)) <= 0.1  # rounded to 0.1 ms
    assert "2 gap(s) over 50 ms" in gaps.line()
    assert recorder.gaps("quiet", 1.0, 1.01).line().endswith("ok")
