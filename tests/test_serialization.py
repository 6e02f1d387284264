"""gdlab.save / gdlab.load: .npz without pickle (plain np.load works), nested objects,
byte-identical re-saves, atomic writes, refusal of pickles and object arrays, clear errors
for corrupt files, and .safetensors."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

import gdlab
import gdlab.nn as nn
from gdlab.serialization import load, save


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_round_trip_keys_dtypes_and_plain_numpy(tmp_path):
    sd = _model().state_dict()
    path = tmp_path / "w.npz"
    save(sd, path)
    back = load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
        np.testing.assert_array_equal(back[k], sd[k])
    with np.load(path, allow_pickle=False) as npz:  # readable without gdlab
        np.testing.assert_array_equal(npz["0.weight"], sd["0.weight"])


def test_nested_objects_round_trip(tmp_path):
    obj = {
        "model": _model().state_dict(),
        "optimizer": {"state": {0: {"step": np.float32(3.0), "exp_avg": np.ones(2)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False, "name": None}]},
        "epoch": 4,
        "tensor": gdlab.tensor([1.0, 2.0]),
    }  # fmt: skip
    save(obj, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert back["epoch"] == 4
    group = back["optimizer"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and group["params"] == [0, 1] and group["name"] is None
    state = back["optimizer"]["state"][0]
    assert isinstance(state["step"], np.float32) and state["step"] == 3.0
    np.testing.assert_array_equal(back["tensor"], [1.0, 2.0])
    assert list(back["model"]) == list(obj["model"])


def test_save_load_save_is_byte_identical(tmp_path):
    sd = _model().state_dict()
    save(sd, tmp_path / "a.npz")
    save(load(tmp_path / "a.npz"), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    nested = {"m": sd, "k": [1, 2.5]}
    save(nested, tmp_path / "c.npz")
    save(load(tmp_path / "c.npz"), tmp_path / "d.npz")
    assert (tmp_path / "c.npz").read_bytes() == (tmp_path / "d.npz").read_bytes()


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    save({"a": np.zeros(2)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"a": np.ones(2)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temp file left behind


REFUSALS = [
    ("object_array", lambda p: np.savez(p, a=np.array([{"x": 1}], dtype=object)), "w.npz",
     "object arrays"),
    ("pickle_suffix", lambda p: p.write_bytes(b"\x80\x04."), "w.pkl", "pickle"),
    ("torch_suffix", lambda p: p.write_bytes(b"PK"), "w.pt", "pickle"),
    ("truncated", lambda p: (save({"a": np.zeros(100)}, p), p.write_bytes(p.read_bytes()[:60])),
     "w.npz", "truncated or corrupt"),
    ("not_a_zip", lambda p: p.write_text("hello"), "w.npz", "w.npz"),
    ("manifest_not_json", lambda p: np.savez(p, __gdlab__=np.frombuffer(b"{x", np.uint8)),
     "w.npz", "corrupt __gdlab__ manifest"),
    ("manifest_names_a_missing_array",
     lambda p: np.savez(p, __gdlab__=np.frombuffer(b'{"__array__": "arr_9"}', np.uint8)),
     "w.npz", "corrupt __gdlab__ manifest"),
    # issue 14.8: hostile files get a ValueError naming the file, nothing else
    ("manifest_nested_too_deeply",
     lambda p: np.savez(p, __gdlab__=np.frombuffer(b"[" * 100_000 + b"]" * 100_000, np.uint8)),
     "w.npz", "w.npz has a corrupt __gdlab__ manifest"),
    ("npz_claiming_1e15_elements", lambda p: _zip_of(p, {"a.npy": _npy_header((10**15,))}),
     "w.npz", "w.npz is truncated or corrupt .*declares"),
    ("npz_member_longer_than_the_file",
     lambda p: p.write_bytes(_zip_bytes({"a.npy": _npy_header((4,)) + bytes(32)})[:-40]),
     "w.npz", "w.npz is truncated or corrupt"),
    ("npz_member_not_npy", lambda p: _zip_of(p, {"a.txt": b"hello"}), "w.npz",
     "w.npz is truncated or corrupt .*not a .npy array"),
    ("random_bytes", lambda p: p.write_bytes(bytes(range(7, 200))), "w.npz",
     "w.npz is not a .npz weight file .*unknown format"),
    ("pickle_bytes_under_npz_name", lambda p: p.write_bytes(b"\x80\x04K\x01."), "w.npz",
     "w.npz is not a .npz weight file .*a pickle"),
    ("npy_object_array", lambda p: np.save(p, np.array([{}], dtype=object)), "w.npy",
     "w.npy contains object arrays"),
    ("npy_truncated", lambda p: p.write_bytes(_npy_header((10**15,))), "w.npy",
     "w.npy declares 8000000000000128 bytes but holds 128"),
]  # fmt: skip


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_of(path, members: dict[str, bytes]) -> None:
    path.write_bytes(_zip_bytes(members))


@pytest.mark.parametrize("case", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refuses_pickles_and_reports_corrupt_files(tmp_path, case):
    _, make, name, message = case
    path = tmp_path / name
    make(path)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_a_npy_file_loads_as_its_array(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(load(tmp_path / "a.npy"), np.arange(6.0).reshape(2, 3))


def test_safetensors_checksum_detects_a_flipped_bit(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    save({"w": np.arange(16.0)}, path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 1  # inside the last float: the header still parses
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="w.safetensors is corrupt: its SHA-256"):
        load(path)


def test_save_refuses_unpicklable_free_objects(tmp_path):
    with pytest.raises(TypeError, match="object arrays"):
        save({"a": np.array([object()])}, tmp_path / "w.npz")
    with pytest.raises(TypeError, match="without pickle"):
        save({"a": {1, 2}}, tmp_path / "w.npz")
    with pytest.raises(ValueError, match="pickle-based suffix"):
        save({}, tmp_path / "w.pt")


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    sd = _model().state_dict()
    save(sd, tmp_path / "w.safetensors")
    back = load(tmp_path / "w.safetensors")
    assert set(back) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k], sd[k])
        assert back[k].shape == sd[k].shape
    with pytest.raises(TypeError, match="flat"):
        save({"a": {"b": np.zeros(1)}}, tmp_path / "n.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load(tmp_path / "bad.safetensors")


def test_loaded_weights_give_identical_outputs(tmp_path):
    a = _model().eval()
    save(a.state_dict(), tmp_path / "w.npz")
    b = _model().eval()
    b.load_state_dict(load(tmp_path / "w.npz"))
    x = gdlab.randn(5, 3, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert zipfile.is_zipfile(tmp_path / "w.npz")
