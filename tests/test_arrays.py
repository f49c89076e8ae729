"""Tests for auditkit.arrays, the one reader of numeric array files: every format round-trips, bfloat16 and float16
come back as float32, torch.load refuses pickled objects, FILE#KEY (and the FILE.npz:KEY alias) pick arrays, and
every error names the file. The expected values are the arrays written with numpy/torch/safetensors themselves."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from auditkit import arrays as A
from auditkit.arrays import SUFFIXES, load_array, load_arrays, pick, sha256_file, split_spec
from auditkit.errors import InputError, ParseError

torch = pytest.importorskip("torch")

X = np.arange(12, dtype=np.float64).reshape(4, 3) / 7.0
Y = np.array([3, 1, 4, 1, 5], dtype=np.int64)


# -- every format round-trips ---------------------------------------------------------------------------------------
def test_npy_roundtrip_and_mmap(tmp_path):
    np.save(tmp_path / "x.npy", X)
    got = load_arrays(tmp_path / "x.npy")
    assert list(got) == [""]
    np.testing.assert_array_equal(got[""], X)
    assert got[""].dtype == np.float64
    m = load_array(str(tmp_path / "x.npy"), mmap=True)
    np.testing.assert_array_equal(m, X)
    assert not m.flags.writeable  # read-only memory map, not a copy


def test_npz_roundtrip_keeps_names_and_dtypes(tmp_path):
    np.savez(tmp_path / "c.npz", x=X, y=Y)
    got = load_arrays(tmp_path / "c.npz")
    assert set(got) == {"x", "y"}
    np.testing.assert_array_equal(got["x"], X)
    np.testing.assert_array_equal(got["y"], Y)
    assert got["y"].dtype == np.int64


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_torch_tensor_dict_and_list(tmp_path, suffix):
    torch.save(torch.tensor(X), tmp_path / f"one{suffix}")
    np.testing.assert_array_equal(load_array(str(tmp_path / f"one{suffix}")), X)
    torch.save({"x": torch.tensor(X), "y": torch.tensor(Y), "epoch": 3}, tmp_path / f"d{suffix}")
    got = load_arrays(tmp_path / f"d{suffix}")
    np.testing.assert_array_equal(got["x"], X)
    np.testing.assert_array_equal(got["y"], Y)
    assert got["epoch"].shape == () and int(got["epoch"]) == 3
    torch.save([torch.tensor(X), torch.tensor(Y)], tmp_path / f"l{suffix}")
    got = load_arrays(tmp_path / f"l{suffix}")
    assert list(got) == ["0", "1"]
    np.testing.assert_array_equal(got["1"], Y)


def test_torch_half_precision_becomes_float32(tmp_path):
    h = torch.tensor([[1.5, -2.25], [0.125, 65504.0]], dtype=torch.float16)
    b = torch.tensor([1.0, 3.0, -0.0078125, 2.0 ** 100], dtype=torch.bfloat16)
    torch.save({"h": h, "b": b}, tmp_path / "half.pt")
    got = load_arrays(tmp_path / "half.pt")
    assert got["h"].dtype == np.float32 and got["b"].dtype == np.float32
    np.testing.assert_array_equal(got["h"], [[1.5, -2.25], [0.125, 65504.0]])  # exactly representable in fp16
    np.testing.assert_array_equal(got["b"], [1.0, 3.0, -0.0078125, 2.0 ** 100])  # and in bf16


def test_safetensors_bfloat16_through_torch(tmp_path):
    from safetensors.torch import save_file

    vals = [0.5, -1.0, 1.0 + 2.0 ** -7, 3.0e38]  # 1 + 2^-7 is bf16's next number after 1
    save_file({"w": torch.tensor(vals, dtype=torch.bfloat16), "x": torch.tensor(X)}, str(tmp_path / "m.safetensors"))
    got = load_arrays(tmp_path / "m.safetensors")
    assert got["w"].dtype == np.float32
    # the first three are exact in bf16; 3e38 is rounded to bf16's grid (compare with torch's own rounding)
    np.testing.assert_array_equal(got["w"], torch.tensor(vals, dtype=torch.bfloat16).float().numpy())
    np.testing.assert_array_equal(got["w"][:3], np.array(vals[:3], dtype=np.float32))
    np.testing.assert_array_equal(load_array(f"{tmp_path / 'm.safetensors'}#x"), X)


def test_safetensors_without_torch_uses_safetensors_numpy(tmp_path, monkeypatch):
    from safetensors.numpy import save_file

    save_file({"x": X, "y": Y}, str(tmp_path / "n.safetensors"))
    real = A.importlib.util.find_spec
    monkeypatch.setattr(A.importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    got = load_arrays(tmp_path / "n.safetensors")
    np.testing.assert_array_equal(got["x"], X)
    np.testing.assert_array_equal(got["y"], Y)
    # proof that this branch ran: numpy has no bfloat16, so safetensors.numpy refuses a bf16 file
    from safetensors.torch import save_file as save_torch

    save_torch({"w": torch.ones(2, dtype=torch.bfloat16)}, str(tmp_path / "bf.safetensors"))
    import sys

    if "ml_dtypes" in sys.modules:  # jax (an optional test oracle elsewhere) teaches numpy bfloat16: then it reads
        assert load_arrays(tmp_path / "bf.safetensors")["w"].shape == (2,)
        return
    with pytest.raises(InputError, match=r"bf\.safetensors' cannot be read as \.safetensors"):
        load_arrays(tmp_path / "bf.safetensors")


@pytest.mark.parametrize("suffix,text", [
    (".csv", "a,b,c\n{rows}"),
    (".tsv", "a\tb\tc\n{rows}"),
    (".txt", "{rows}"),  # no header
])
def test_text_roundtrip(tmp_path, suffix, text):
    sep = {".csv": ",", ".tsv": "\t", ".txt": "  "}[suffix]
    rows = "\n".join(sep.join(repr(float(v)) for v in row) for row in X) + "\n"
    (tmp_path / f"t{suffix}").write_text(text.format(rows=rows))
    got = load_array(str(tmp_path / f"t{suffix}"))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, X)  # repr() round-trips float64 exactly


def test_sha256_file(tmp_path):
    np.save(tmp_path / "x.npy", X)
    assert sha256_file(tmp_path / "x.npy") == hashlib.sha256((tmp_path / "x.npy").read_bytes()).hexdigest()


# -- weights_only ---------------------------------------------------------------------------------------------------
class Evil:
    """Unpickling this would create a directory: torch.load(weights_only=True) must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pt_refuses_pickled_objects(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"x": torch.tensor(X), "evil": Evil(str(marker))}, tmp_path / "evil.pt")
    with pytest.raises(InputError) as err:
        load_arrays(tmp_path / "evil.pt")
    msg = str(err.value)
    assert "evil.pt" in msg and "cannot be read as .pt" in msg and "UnpicklingError" in msg
    assert not marker.exists()


def test_pt_entry_that_is_not_a_tensor(tmp_path):
    torch.save({"x": torch.tensor(X), "name": "run-7"}, tmp_path / "meta.pt")
    with pytest.raises(InputError, match=r"meta\.pt.*entry 'name'.*holds a str"):
        load_arrays(tmp_path / "meta.pt")


# -- keys -----------------------------------------------------------------------------------------------------------
def test_keys_hash_alias_and_keyword(tmp_path):
    f = str(tmp_path / "c.npz")
    np.savez(f, x=X, y=Y)
    np.testing.assert_array_equal(load_array(f + "#y"), Y)
    np.testing.assert_array_equal(load_array(f + ":y"), Y)  # the techniques plugin's older spelling
    np.testing.assert_array_equal(load_array(f, key="x"), X)
    np.testing.assert_array_equal(load_array(f + "#x", key="x"), X)
    assert split_spec(f + "#y") == (f, "y") and split_spec(f + ":y") == (f, "y") and split_spec(f) == (f, None)
    with pytest.raises(InputError, match="two keys"):
        load_array(f + "#x", key="y")


def test_several_arrays_need_a_key(tmp_path):
    f = str(tmp_path / "c.npz")
    np.savez(f, x=X, y=Y)
    with pytest.raises(InputError) as err:
        load_array(f, what="probabilities")
    msg = str(err.value)
    assert msg.startswith(f"probabilities file {f!r} holds 2 arrays (x, y)") and f"{f}#KEY" in msg
    with pytest.raises(InputError, match=r"has no array 'z'; it holds: 'x', 'y'"):
        load_array(f + "#z")
    np.testing.assert_array_equal(load_array(f, default="y"), Y)  # a default name breaks the tie
    with pytest.raises(InputError, match="or store it as 'scores'"):
        load_array(f, default="scores")


def test_existing_file_with_hash_in_its_name_is_not_split(tmp_path):
    f = tmp_path / "run#3.npy"
    np.save(f, X)
    assert split_spec(str(f)) == (str(f), None)
    np.testing.assert_array_equal(load_array(str(f)), X)


def test_pick_rejects_non_numeric(tmp_path):
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(InputError, match=r"s\.npy' holds <U1 data; expected numbers"):
        load_array(str(tmp_path / "s.npy"))
    with pytest.raises(InputError, match="complex128 data; expected numbers"):
        pick({"z": np.ones(2, dtype=complex)}, path="z.npz")


# -- errors name the file -------------------------------------------------------------------------------------------
def test_missing_and_unsupported(tmp_path):
    with pytest.raises(InputError, match=r"--real file '.*nope\.npy' does not exist"):
        load_array(str(tmp_path / "nope.npy"), what="--real")
    (tmp_path / "a.json").write_text("[]")
    with pytest.raises(InputError) as err:
        load_array(str(tmp_path / "a.json"))
    msg = str(err.value)
    assert "a.json" in msg and "unsupported file type '.json'" in msg
    assert all(s in msg for s in SUFFIXES)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pt", ".safetensors"])
def test_corrupt_file(tmp_path, suffix):
    f = tmp_path / f"bad{suffix}"
    f.write_bytes(b"this is not a real array file at all, just some bytes" * 3)
    with pytest.raises(InputError) as err:
        load_arrays(f, what="score matrix")
    msg = str(err.value)
    assert msg.startswith(f"score matrix file {str(f)!r} cannot be read as {suffix} (") and "Error" in msg


def test_text_errors_name_file_and_line(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("p0,p1\n\n0.5,0.5\n0.5,x\n")  # the blank line counts: the bad cell is on line 4
    with pytest.raises(ParseError) as err:
        load_array(str(f))
    assert err.value.line == 4 and err.value.value == "x"
    assert str(f) in str(err.value) and "line 4" in str(err.value) and "not a number" in str(err.value)
    f.write_text("1,2\n3\n")
    with pytest.raises(ParseError, match=r"p\.csv.*different numbers of columns \(\[1, 2\]\)"):
        load_array(str(f))
    f.write_text("")
    with pytest.raises(InputError, match=r"p\.csv' has no numeric rows \(it is empty\)"):
        load_array(str(f))
    f.write_text("a,b\n")
    with pytest.raises(InputError, match=r"p\.csv' has no numeric rows \(only a header\)"):
        load_array(str(f))


def test_import_does_not_load_torch():
    code = "import sys, auditkit.arrays; print('torch' in sys.modules, 'safetensors' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
