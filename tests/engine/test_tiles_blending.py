"""Tiled explanations end to end on a stand-in model (engine.tiles): no TensorFlow, a model
whose defect score is a tile's brightness and a method whose map is a known value per tile,
so the verdict tile, the Hann-weighted blend, progress, cancel and the Explanation's fields
can be checked against a direct computation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine import tiles
from engine.errors import Cancelled
from engine.images.decoding import LoadedImage
from engine.methods.base import RawMaps
from engine.model.heads import Head

TILE = 8
SOFTMAX = Head("softmax", 2)


class _Context:
    """What tiling asks of a model context: its head, a forward pass and the chunk size."""

    def __init__(self, max_chunk: int, head: Head = SOFTMAX) -> None:
        self.heads = (head,)
        self.max_chunk = max_chunk
        self.keys: list = []

    def cached(self, key, build):
        self.keys.append(key)
        if key[0] == "forward-logits" and self.heads[0].binary:
            # one unit: its logit is low everywhere, lowest on the brightest tile's neighbours
            return lambda x: SimpleNamespace(numpy=lambda: (x.mean(axis=(1, 2, 3))[:, None] / 10 - 30).astype(np.float32))
        if key[0] == "forward-logits":
            # defect logit = the tile's mean brightness / 10: the brightest tile has the highest defect probability
            return lambda x: SimpleNamespace(numpy=lambda: np.stack([np.zeros(len(x)), x.mean(axis=(1, 2, 3)) / 10],
                                                                    axis=1).astype(np.float32))
        return None


class _Session:
    def __init__(self, max_chunk: int = 2, names: tuple[str, ...] = ("ok", "defect"),
                 head: Head = SOFTMAX) -> None:
        self.info = SimpleNamespace(input_shape=(TILE, TILE, 3), preprocessing="none", class_names=names)
        self.context = _Context(max_chunk, head)

    def class_name(self, index: int) -> str:
        return self.info.class_names[index]


class _Worker:
    """A method whose map of a tile is a known function of that tile's pixels."""

    name = "fake"

    def __init__(self, map_of) -> None:
        self.map_of = map_of
        self.jobs: list = []

    def run(self, job) -> RawMaps:
        self.jobs.append(job)
        maps = np.stack([self.map_of(x) for x in job.inputs]).astype(np.float32)
        return RawMaps(maps, np.zeros((len(maps), 2), np.float32), job.classes, notes=("from the worker",))


def _image(height: int = 16, width: int = 20, bright: tuple[int, int] = (12, 16)) -> LoadedImage:
    pixels = np.full((height, width, 3), 10.0, np.float32)
    pixels[bright[0]:, bright[1]:] = 200.0
    return LoadedImage("x.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)


OPTIONS = {"tile_overlap": 0.5, "fuse": None, "cleanup": False, "edges": False, "emphasize": False, "outline": False}


@pytest.fixture(autouse=True)
def _numpy_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiles, "tf", SimpleNamespace(constant=np.asarray))


def _explain(session, image, worker, wanted=None, options=OPTIONS, progress=None, cancel=None):
    return tiles.explain_tiled(session, image, worker, wanted, [None], 0, {"p": 1}, dict(options), progress, cancel)


def test_the_verdict_comes_from_the_brightest_tile_and_its_probability() -> None:
    image = _image()
    worker = _Worker(lambda x: x[..., 0])
    result = _explain(_Session(), image, worker)
    grid = tiles.tile_grid(16, 20, TILE, TILE, 0.5)  # tops 0, 4, 8; lefts 0, 4, 8, 12
    assert result.tile == (12, 8, TILE, TILE)  # the bottom-right tile holds the most of the bright corner
    assert result.class_index == 1 and result.class_name == "defect" and result.method == "fake"
    tile = image.pixels[8:16, 12:20]
    logit = tile.mean() / 10
    assert result.logit == pytest.approx(logit, rel=1e-5)
    assert result.probability == pytest.approx(1 / (1 + np.exp(-logit)), rel=1e-5)
    np.testing.assert_array_equal(result.raw, tile[..., 0])  # the verdict tile's own map
    assert result.layer is None and result.params == {"p": 1, **OPTIONS}
    assert result.notes == ("from the worker", tiles.tile_note(grid, 11)) and not result.empty
    assert all((job.classes == 1).all() and job.layer is None and job.params == {"p": 1} for job in worker.jobs)


def test_a_wanted_class_is_explained_from_its_most_probable_tile() -> None:
    result = _explain(_Session(), _image(), _Worker(lambda x: x[..., 0]), wanted=0)
    assert result.class_index == 0 and result.class_name == "ok"
    assert result.tile == (0, 0, TILE, TILE)  # "ok" is most probable where the tile is darkest


def test_identical_overlapping_values_blend_back_to_the_image() -> None:
    image = _image()
    result = _explain(_Session(), image, _Worker(lambda x: x[..., 0]))
    expected = image.pixels[..., 0] / image.pixels[..., 0].max()  # normalised with a floor at zero
    np.testing.assert_allclose(result.heatmap, expected, rtol=1e-5, atol=1e-6)
    assert result.heatmap.dtype == np.float32 and result.heatmap.shape == (16, 20)


def test_the_blend_is_the_hann_weighted_mean_of_the_tiles_maps() -> None:
    image = _image(16, 20)
    grid = tiles.tile_grid(16, 20, TILE, TILE, 0.5)
    value = {corner: 1.0 + i for i, corner in enumerate(grid.corner(t) for t in range(grid.count))}
    seen: list[tuple[int, int]] = []

    def tile_value(x: np.ndarray) -> np.ndarray:
        # the tile is recognised by its position, stamped into its pixels below
        top, left = int(x[0, 0, 1]), int(x[0, 0, 2])
        seen.append((top, left))
        return np.full((TILE, TILE), value[(top, left)], np.float32)

    rows, cols = np.mgrid[0:16, 0:20]
    image.pixels[..., 1], image.pixels[..., 2] = rows, cols
    result = _explain(_Session(), image, _Worker(tile_value))
    weights = np.outer(tiles.window(TILE), tiles.window(TILE)).astype(np.float64)
    total, norm = np.zeros((16, 20)), np.zeros((16, 20))
    for t in range(grid.count):
        top, left = grid.corner(t)
        total[top:top + TILE, left:left + TILE] += weights * value[(top, left)]
        norm[top:top + TILE, left:left + TILE] += weights
    blended = total / norm
    np.testing.assert_allclose(result.heatmap, blended / blended.max(), rtol=1e-4)
    assert sorted(set(seen)) == sorted(value)


def test_negative_tile_maps_count_as_zero() -> None:
    result = _explain(_Session(), _image(), _Worker(lambda x: -x[..., 0]))
    assert result.empty and not result.heatmap.any()
    assert result.notes[-1] == "no positive evidence for this class in any tile: the map is all zero"


def test_progress_counts_both_passes_in_chunks_and_cancel_stops() -> None:
    calls: list[tuple[int, int]] = []
    _explain(_Session(max_chunk=5), _image(), _Worker(lambda x: x[..., 0]),
             progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 24), (5, 24), (10, 24), (12, 24), (12, 24), (17, 24), (22, 24), (24, 24)]
    asked: list[int] = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 3

    worker = _Worker(lambda x: x[..., 0])
    with pytest.raises(Cancelled):
        _explain(_Session(max_chunk=5), _image(), worker, cancel=cancel)
    assert worker.jobs == []  # stopped during the first pass
    assert all(job.cancel is None for job in _Worker(lambda x: x).jobs)


def test_chunks_never_exceed_the_chunk_size() -> None:
    worker = _Worker(lambda x: x[..., 0])
    _explain(_Session(max_chunk=5), _image(), worker)
    assert [len(job.inputs) for job in worker.jobs] == [5, 5, 2]
    assert worker.jobs[0].inputs.shape[1:] == (TILE, TILE, 3) and worker.jobs[0].preprocessing == "none"


@pytest.mark.parametrize("finish", tiles.FINISHING)
def test_any_finishing_option_goes_through_the_map_finish(finish: str) -> None:
    from engine.maps.combine import emphasize

    image = _image(bright=(16, 20))
    image.pixels[6:8, 9:11] = 200.0  # a small bright spot: clean-up removes it, the other finishes reshape it
    plain = _explain(_Session(), image, _Worker(lambda x: x[..., 0]))
    options = {**OPTIONS, "polarity": None, "clip_percentile": 100.0, "clip_below": 0.0,
               "emphasize_threshold": 0.5, "outline_level": 0.5, finish: True}
    finished = _explain(_Session(), image, _Worker(lambda x: x[..., 0]), options=options)
    assert not np.allclose(finished.heatmap, plain.heatmap)
    if finish == "emphasize":
        np.testing.assert_allclose(finished.heatmap, emphasize(plain.heatmap, 0.5), atol=1e-4)


def test_negative_parts_of_a_tile_map_are_cut_before_blending() -> None:
    image = _image()
    image.pixels[:4, :4] = 100.0  # three levels: 10, 100 and 200
    result = _explain(_Session(), image, _Worker(lambda x: x[..., 0] - 100.0))
    assert result.heatmap[0, 0] == 0.0 and result.heatmap[8, 8] == 0.0 and result.heatmap[15, 19] == pytest.approx(1.0)


def test_the_forward_pass_is_the_chosen_outputs() -> None:
    session = _Session()
    _explain(session, _image(), _Worker(lambda x: x[..., 0]))
    assert ("forward-logits", 0) in session.context.keys


def test_a_one_unit_model_without_good_names_is_judged_on_class_1() -> None:
    session = _Session(names=("neg", "pos"), head=Head("sigmoid", 1))
    result = _explain(session, _image(), _Worker(lambda x: x[..., 0]))
    assert result.class_index == 1 and result.tile == (12, 8, TILE, TILE)


def test_tile_chunks_leave_room_for_gradients(monkeypatch: pytest.MonkeyPatch) -> None:
    # per tile: 4 bytes x (192 inputs + 2 x 6144 activations x 2 for the backward pass) = 99072 bytes
    monkeypatch.setenv("CONVSCOPE_MEMORY_BUDGET_MB", str(3 * 99072 / 2**20))
    worker = _Worker(lambda x: x[..., 0])
    _explain(_Session(max_chunk=100), _image(), worker)
    assert [len(job.inputs) for job in worker.jobs] == [3, 3, 3, 3]


def test_each_tile_job_carries_the_requests_layer_output_cancel_and_preprocessing() -> None:
    session = _Session()
    session.info.preprocessing = "unit"
    worker = _Worker(lambda x: x[..., 0])

    def cancel() -> bool:
        return False

    result = tiles.explain_tiled(session, _image(), worker, None, ["conv"], 0, {}, dict(OPTIONS), None, cancel)
    assert result.layer == "conv"
    for job in worker.jobs:
        assert (job.layer, job.output, job.cancel, job.preprocessing) == ("conv", 0, cancel, "unit")
        assert job.classes.dtype == np.int32 and job.progress is None
    np.testing.assert_allclose(worker.jobs[0].inputs[0], _image().pixels[:TILE, :TILE] / 255.0, rtol=1e-6)


def _layer_worker() -> _Worker:
    worker = _Worker(lambda x: x[..., 0])
    plain = worker.run

    def run(job):  # layer "a" sees the image, layer "b" its negative
        raw = plain(job)
        return raw if job.layer == "a" else RawMaps(255.0 - raw.maps, raw.logits, raw.classes, ("b",))

    worker.run = run
    return worker


def test_several_layers_are_fused_per_tile_as_asked() -> None:
    def fused(fuse: str | None):
        options = {**OPTIONS, "fuse": fuse}
        return tiles.explain_tiled(_Session(), _image(), _layer_worker(), None, ["a", "b"], 0, {}, options, None, None)

    default, most, mean = fused(None), fused("max"), fused("mean")
    assert default.layer == "a + b" and "b" in default.notes
    np.testing.assert_array_equal(default.heatmap, most.heatmap)  # no fuse asked: the maximum
    assert not np.allclose(mean.heatmap, most.heatmap)


def test_a_method_that_drops_a_tile_map_is_an_error() -> None:
    worker = _Worker(lambda x: x[..., 0])
    plain = worker.run
    worker.run = lambda job: (lambda raw: RawMaps(raw.maps[:-1], raw.logits, raw.classes))(plain(job))
    with pytest.raises(ValueError):
        _explain(_Session(), _image(), worker)


def test_row_blocks_give_the_same_blend(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _explain(_Session(), _image(), _Worker(lambda x: x[..., 0] * (1 + x[..., 0] % 7)))
    monkeypatch.setattr(tiles, "ROW_BLOCK", 3)
    blocks = _explain(_Session(), _image(), _Worker(lambda x: x[..., 0] * (1 + x[..., 0] % 7)))
    np.testing.assert_allclose(blocks.heatmap, whole.heatmap, rtol=1e-6)
