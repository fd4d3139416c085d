"""The `<model>.convscope.json` sidecar (engine.model.sidecar): where it sits, what it accepts,
each wrong field refused in one line naming the file, and what is written back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ModelLoadError
from engine.model.sidecar import SIDECAR_SUFFIX, Sidecar, read_sidecar, sidecar_path, write_sidecar


def _with_sidecar(tmp_path: Path, content: object) -> Path:
    model = tmp_path / "defects.keras"
    model.write_bytes(b"")
    text = content if isinstance(content, str) else json.dumps(content)
    (tmp_path / "defects.convscope.json").write_text(text, encoding="utf-8")
    return model


def test_sidecar_sits_beside_a_model_file_and_a_savedmodel_folder(tmp_path: Path) -> None:
    assert SIDECAR_SUFFIX == ".convscope.json"
    assert sidecar_path(tmp_path / "defects.keras") == tmp_path / "defects.convscope.json"
    assert sidecar_path(str(tmp_path / "a.b.h5")) == tmp_path / "a.b.convscope.json"
    folder = tmp_path / "saved.v2"
    folder.mkdir()
    assert sidecar_path(folder) == tmp_path / "saved.v2.convscope.json"


def test_no_sidecar_is_an_empty_one(tmp_path: Path) -> None:
    assert read_sidecar(tmp_path / "defects.keras") == Sidecar(None, None, None, None)
    (tmp_path / "defects.convscope.json").mkdir()  # a folder of that name is not a sidecar
    assert read_sidecar(tmp_path / "defects.keras") == Sidecar()


def test_every_field_is_read(tmp_path: Path) -> None:
    model = _with_sidecar(tmp_path, {"class_names": ["ok", "scratch"], "preprocessing": "caffe",
                                     "target_layer": "conv2", "bit_depth": 12, "unknown": 1})
    assert read_sidecar(model) == Sidecar(("ok", "scratch"), "caffe", "conv2", 12)


def test_an_empty_class_list_means_no_names(tmp_path: Path) -> None:
    assert read_sidecar(_with_sidecar(tmp_path, {"class_names": []})).class_names is None


@pytest.mark.parametrize("bits", [1, 16])
def test_bit_depth_bounds_are_accepted(tmp_path: Path, bits: int) -> None:
    assert read_sidecar(_with_sidecar(tmp_path, {"bit_depth": bits})).bit_depth == bits


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", r"^defects\.convscope\.json: not valid JSON \(Expecting property name"),
    ([1, 2], r"^defects\.convscope\.json: expected a JSON object$"),
    ({"class_names": "ok"}, r"^defects\.convscope\.json: class_names must be a list of strings$"),
    ({"class_names": ["ok", 3]}, r"^defects\.convscope\.json: class_names must be a list of strings$"),
    ({"class_names": ["b", "a", "b", "a", "c"]},
     r"^defects\.convscope\.json: class_names lists 'a', 'b' more than once$"),
    ({"preprocessing": "imagenet"},
     r"^defects\.convscope\.json: preprocessing must be one of unit, symmetric, caffe, torch, none$"),
    ({"target_layer": 3}, r"^defects\.convscope\.json: target_layer must be a layer name$"),
    ({"bit_depth": 0}, r"^defects\.convscope\.json: bit_depth must be a whole number from 1 to 16 \(significant "
                       r"bits of 16-bit images\)$"),
    ({"bit_depth": 17}, "bit_depth must be a whole number from 1 to 16"),
    ({"bit_depth": True}, "bit_depth must be a whole number from 1 to 16"),
    ({"bit_depth": 12.0}, "bit_depth must be a whole number from 1 to 16"),
    ({"bit_depth": "12"}, "bit_depth must be a whole number from 1 to 16"),
])
def test_a_wrong_sidecar_is_refused_in_one_line(tmp_path: Path, content: object, message: str) -> None:
    with pytest.raises(ModelLoadError, match=message) as refused:
        read_sidecar(_with_sidecar(tmp_path, content))
    assert "\n" not in str(refused.value)


def test_a_sidecar_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    model = _with_sidecar(tmp_path, "{}")
    (tmp_path / "defects.convscope.json").write_bytes(b'{"class_names": ["\xff"]}')
    with pytest.raises(ModelLoadError, match=r"^defects\.convscope\.json: not valid JSON \(") as refused:
        read_sidecar(model)
    assert refused.value.__suppress_context__  # the decoder's traceback is not shown under the message


def test_utf8_class_names_are_read(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    (tmp_path / "m.convscope.json").write_bytes(json.dumps({"class_names": ["défaut", "ok"]},
                                                           ensure_ascii=False).encode("utf-8"))
    assert read_sidecar(model).class_names == ("défaut", "ok")


def test_write_keeps_only_the_given_fields_and_reads_back(tmp_path: Path) -> None:
    model = tmp_path / "defects.keras"
    written = write_sidecar(model, Sidecar(("ok", "défaut"), None, "conv", None))
    assert written == tmp_path / "defects.convscope.json"
    text = written.read_text(encoding="utf-8")
    assert text == json.dumps({"class_names": ["ok", "défaut"], "target_layer": "conv"}, indent=2) + "\n"
    assert read_sidecar(model) == Sidecar(("ok", "défaut"), None, "conv", None)
    full = Sidecar(("a", "b"), "torch", "x", 10)
    write_sidecar(model, full)
    assert read_sidecar(model) == full
