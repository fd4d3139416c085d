"""`batch --ray` on a simulated two-node cluster (ray.cluster_utils.Cluster, one CPU per node):
one actor per node, and the rows of the single-process review."""

from __future__ import annotations

from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from bench.big_lot import make_lot  # noqa: E402
from cli.common import DEMO_MODEL  # noqa: E402
from engine.review import ReviewOptions, review_folder  # noqa: E402
from engine.review.outdir import open_review_output  # noqa: E402
from engine.review.ray_runner import ModelSource, review_on_ray  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_nodes():
    import ray.data
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, logging_level="error", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}})
    # Both actors must be up before the first batch: on a loaded machine the second one took so
    # long to import TensorFlow that the first reviewed all 8 batches (1 node seen, not 2).
    context = ray.data.DataContext.get_current()
    waited, context.wait_for_min_actors_s = context.wait_for_min_actors_s, 600
    yield cluster
    context.wait_for_min_actors_s = waited
    ray.shutdown()
    cluster.shutdown()


def test_two_nodes_one_actor_each_same_rows(two_nodes, tmp_path):
    from engine import Session

    session = Session.open(DEMO_MODEL)
    lot = make_lot(tmp_path / "lot", 16)
    options = ReviewOptions(batch_size=2)
    expected = review_folder(session, lot, options)
    nodes: set[str] = set()
    output = open_review_output(session, lot, tmp_path / "out", options)
    result = review_on_ray(output, lot, options, ModelSource(str(DEMO_MODEL)), session.info.class_names, actors=2,
                           on_table=lambda t: nodes.update(t.column("_node").to_pylist()))
    output.close()
    assert len(nodes) == 2  # an actor on each node (each has one CPU)
    assert [r.path for r in result.rows] == [r.path for r in expected.rows]
    for ours, theirs in zip(result.rows, expected.rows, strict=True):
        assert (ours.predicted_index, ours.peak_x, ours.peak_y, ours.pointing_hit) == \
            (theirs.predicted_index, theirs.peak_x, theirs.peak_y, theirs.pointing_hit)
        assert ours.energy_inside == pytest.approx(theirs.energy_inside, abs=1e-5)
