"""deepnum.save / deepnum.load: round trips, refusals, integrity and atomic writes."""

import hashlib
import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import deepnum
from deepnum import nn
from deepnum.serialization import UnpicklingError
from tests.helpers import assert_close


def _roundtrip(obj, tmp_path, via="path"):
    if via == "path":
        path = tmp_path / "obj.pt"
        deepnum.save(obj, path)
        return deepnum.load(path)
    if via == "str":
        path = str(tmp_path / "obj.pt")
        deepnum.save(obj, path)
        return deepnum.load(path)
    buf = io.BytesIO()
    deepnum.save(obj, buf)
    buf.seek(0)
    return deepnum.load(buf)


VIAS = ["path", "str", "bytesio"]


@pytest.mark.parametrize("via", VIAS)
def test_tensor_round_trip_keeps_dtype_values_and_requires_grad(tmp_path, via):
    for dtype in (deepnum.float32, deepnum.float64, deepnum.int64, deepnum.bool, deepnum.uint8):
        t = deepnum.tensor(np.arange(6).reshape(2, 3) % 3, dtype=dtype)
        back = _roundtrip(t, tmp_path, via)
        assert type(back) is deepnum.Tensor and back.dtype == dtype and not back.requires_grad
        np.testing.assert_array_equal(back.numpy(), t.numpy())
    w = deepnum.randn(3, 4, requires_grad=True)
    back = _roundtrip(w, tmp_path, via)
    assert back.requires_grad and back.is_leaf and back.grad is None
    np.testing.assert_array_equal(back.detach().numpy(), w.detach().numpy())
    back.array[0, 0] = 1.0  # loaded arrays are writable


@pytest.mark.parametrize("via", VIAS)
def test_scalars_arrays_and_containers_round_trip_as_themselves(tmp_path, via):
    obj = {
        "int": 3, "float": 0.1, "nan": float("nan"), "inf": -float("inf"), "big": 2**80,
        "str": "héllo", "none": None, "true": True, "complex": 1 + 2j, "bytes": b"\x00\xff",
        "array": np.arange(5, dtype=np.int16), "np_scalar": np.float32(1.5),
        "empty": np.zeros((0, 3)), "dtype": np.dtype("float32"),
        "list": [1, [2, (3, 4.0)], {"a": None}], "tuple": (1, "two"), "set": {1, 2, 3},
        "odict": OrderedDict([("z", 1), ("a", 2)]),
        5: "int key", (1, 2): "tuple key", 2.5: "float key", None: "none key",
    }
    back = _roundtrip(obj, tmp_path, via)
    assert list(back) == list(obj)
    for key, value in obj.items():
        got = back[key]
        assert type(got) is type(value), key
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and got.shape == value.shape
            np.testing.assert_array_equal(got, value)
        elif isinstance(value, float) and np.isnan(value):
            assert np.isnan(got)
        else:
            assert got == value, key
    assert type(back["odict"]) is OrderedDict and list(back["odict"]) == ["z", "a"]
    assert type(back["list"][1][1]) is tuple


@pytest.mark.parametrize("via", VIAS)
def test_top_level_scalars_and_none(tmp_path, via):
    for obj in (None, 7, 2.5, "text", True, [], {}):
        back = _roundtrip(obj, tmp_path, via)
        assert back == obj and type(back) is type(obj)


def _model():
    return nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(4, 8)), ("act", nn.ReLU()), ("fc2", nn.Linear(8, 2)),
    ]))


@pytest.mark.parametrize("via", VIAS)
def test_state_dict_round_trip_loads_into_fresh_model(tmp_path, via):
    model = _model()
    sd = _roundtrip(model.state_dict(), tmp_path, via)
    assert type(sd) is OrderedDict and list(sd) == list(model.state_dict())
    other = _model()
    other.load_state_dict(sd)
    x = deepnum.randn(3, 4)
    assert_close(other(x), model(x))


def test_optimizer_like_state_dict_keeps_int_keys(tmp_path):
    state = {
        "state": {0: {"step": deepnum.tensor(3.0), "exp_avg": deepnum.zeros(2, 2)},
                  1: {"step": deepnum.tensor(3.0), "momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "params": [0, 1]}],
    }
    back = _roundtrip(state, tmp_path)
    assert set(back["state"]) == {0, 1} and all(type(k) is int for k in back["state"])
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["state"][1]["momentum_buffer"] is None


def test_parameter_round_trips_as_parameter(tmp_path):
    p = nn.Parameter(deepnum.randn(2, 3))
    frozen = nn.Parameter(deepnum.randn(2), requires_grad=False)
    back, back_frozen = _roundtrip((p, frozen), tmp_path)
    assert type(back) is nn.Parameter and back.requires_grad
    assert type(back_frozen) is nn.Parameter and not back_frozen.requires_grad
    np.testing.assert_array_equal(back.detach().numpy(), p.detach().numpy())


def test_shared_objects_stay_shared(tmp_path):
    t = deepnum.randn(3)
    a, b = _roundtrip([t, t], tmp_path)
    assert a is b


@pytest.mark.parametrize("via", VIAS)
def test_whole_module_round_trip(tmp_path, via):
    model = _model()
    model.eval()
    model.fc1.weight.requires_grad_(False)
    back = _roundtrip(model, tmp_path, via)
    assert type(back) is nn.Sequential and type(back.fc1) is nn.Linear
    assert not back.training and not back.fc1.training
    assert back.fc1.in_features == 4 and back.fc2.out_features == 2
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert all(type(p) is nn.Parameter for p in back.parameters())
    assert not back.fc1.weight.requires_grad and back.fc2.weight.requires_grad
    x = deepnum.randn(5, 4)
    assert_close(back(x), model(x))
    assert repr(back) == repr(model)
    back.fc3 = nn.Linear(2, 2)  # the rebuilt module still registers new children
    assert "fc3" in dict(back.named_children())


def test_module_with_tied_weights_stays_tied(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    model[1].weight = model[0].weight
    back = _roundtrip(model, tmp_path)
    assert back[0].weight is back[1].weight


class UserNet(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.hidden = hidden
        self.fc = nn.Linear(3, hidden)
        self.scale = 2.0
        self.register_buffer("running", deepnum.zeros(hidden))

    def forward(self, x):
        return self.fc(x) * self.scale + self.running


def test_user_class_refused_unless_allowed(tmp_path):
    path = tmp_path / "net.pt"
    net = UserNet()
    deepnum.save(net, path)
    with pytest.raises(UnpicklingError, match=r"UserNet.*not one of deepnum's own.*safe_globals"):
        deepnum.load(path)
    with pytest.raises(pickle.UnpicklingError):  # what PyTorch code catches
        deepnum.load(path, weights_only=False)
    with deepnum.serialization.safe_globals([UserNet]):
        back = deepnum.load(path)
    assert UserNet not in deepnum.serialization.get_safe_globals()
    assert type(back) is UserNet and back.hidden == 5 and back.scale == 2.0
    x = deepnum.randn(2, 3)
    assert_close(back(x), net(x))
    assert [n for n, _ in back.named_buffers()] == ["running"]
    deepnum.serialization.add_safe_globals([UserNet])
    try:
        assert type(deepnum.load(path)) is UserNet
    finally:
        deepnum.serialization.clear_safe_globals()


def test_load_never_calls_init(tmp_path, monkeypatch):
    path = tmp_path / "lin.pt"
    deepnum.save(nn.Linear(2, 2), path)

    def boom(self, *args, **kwargs):
        raise AssertionError("__init__ called")

    monkeypatch.setattr(nn.Linear, "__init__", boom)
    assert type(deepnum.load(path)) is nn.Linear


def test_unsupported_objects_are_refused_at_save_time(tmp_path):
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match="lambda"):
        deepnum.save({"f": lambda x: x}, path)
    with pytest.raises(TypeError, match="dtype=object"):
        deepnum.save(np.array([1, "a"], dtype=object), path)
    assert not path.exists()


def _saved_bytes(obj) -> bytes:
    buf = io.BytesIO()
    deepnum.save(obj, buf)
    return buf.getvalue()


def test_truncated_file_is_refused(tmp_path):
    data = _saved_bytes({"w": deepnum.randn(50, 50), "b": deepnum.randn(50)})
    for cut in (len(data) - 1, len(data) // 2, 100, 10):
        path = tmp_path / "x.pt"
        path.write_bytes(data[:cut])
        corrupt = r"deepnum.load: file '.*x\.pt' is corrupt or truncated"
        with pytest.raises(RuntimeError, match=corrupt):
            deepnum.load(path)


def test_any_flipped_byte_is_refused(tmp_path):
    data = _saved_bytes({"w": deepnum.randn(20, 20), "step": 3})
    path = tmp_path / "x.pt"
    rng = np.random.default_rng(0)
    positions = sorted(set(rng.integers(0, len(data), 80).tolist()) | {0, 5, 40, len(data) - 1})
    for pos in positions:
        bad = bytearray(data)
        bad[pos] ^= 0x01
        path.write_bytes(bytes(bad))
        with pytest.raises(RuntimeError, match="corrupt or truncated|not a deepnum file"):
            deepnum.load(path)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        deepnum.load(io.BytesIO(data[:30] + bytes([data[30] ^ 1]) + data[31:]))


def test_flipped_payload_byte_reports_checksum_mismatch(tmp_path):
    data = bytearray(_saved_bytes(deepnum.randn(10, 10)))
    data[len(data) // 2] ^= 0x10  # inside the array's bytes
    path = tmp_path / "x.pt"
    path.write_bytes(bytes(data))
    mismatch = r"file '.*x\.pt' is corrupt or truncated \(checksum mismatch\)"
    with pytest.raises(RuntimeError, match=mismatch):
        deepnum.load(path)


def test_consistent_looking_forgery_without_checksum_is_refused(tmp_path):
    # a rebuilt zip with correct CRCs but changed content and no checksum
    src = zipfile.ZipFile(io.BytesIO(_saved_bytes(deepnum.randn(10, 10))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            blob = bytearray(src.read(name))
            if name.endswith("0.npy"):
                blob[-1] ^= 0x10
            zf.writestr(name, bytes(blob))
    path = tmp_path / "x.pt"
    path.write_bytes(out.getvalue())
    with pytest.raises(RuntimeError, match="corrupt or truncated"):
        deepnum.load(path)


def test_file_object_name_in_error():
    data = _saved_bytes([1, 2])
    with pytest.raises(RuntimeError, match="file '<file object>' is corrupt"):
        deepnum.load(io.BytesIO(data[:-5]))


def test_not_a_deepnum_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(RuntimeError, match="not a deepnum file"):
        deepnum.load(path)
    pt = tmp_path / "torch.pt"
    with zipfile.ZipFile(pt, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02.")
    with pytest.raises(RuntimeError, match="PyTorch pickle checkpoint; deepnum never unpickles"):
        deepnum.load(pt)


def test_format_is_json_header_plus_npy_and_checksum(tmp_path):
    path = tmp_path / "x.pt"
    deepnum.save({"w": deepnum.ones(2)}, path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        header = json.loads(zf.read("deepnum/header.json"))
        array = np.load(io.BytesIO(zf.read(header["arrays"][0])), allow_pickle=False)
        comment = zf.comment
    assert names == ["deepnum/header.json", "deepnum/arrays/0.npy"]
    data = path.read_bytes()
    assert comment == b"deepnum-sha256:" + hashlib.sha256(data[:-64]).hexdigest().encode()
    assert header["format"] == "deepnum" and header["version"] == 1
    np.testing.assert_array_equal(array, np.ones(2, dtype=np.float32))


def test_failing_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    deepnum.save({"epoch": 1}, path)
    before = path.read_bytes()

    import deepnum.io as dio

    real = dio._npy_bytes
    calls = []

    def failing(array):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(array)

    monkeypatch.setattr(dio, "_npy_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        deepnum.save({"a": deepnum.ones(3), "b": deepnum.ones(3)}, path)
    assert path.read_bytes() == before
    assert deepnum.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind


def test_failing_replace_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    deepnum.save([1], path)

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        deepnum.save([2], path)
    monkeypatch.undo()
    assert deepnum.load(path) == [1]
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_saved_file_has_normal_permissions(tmp_path):
    path = tmp_path / "x.pt"
    deepnum.save(1, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_map_location(tmp_path):
    path = tmp_path / "x.pt"
    deepnum.save(deepnum.ones(2), path)
    for loc in (None, "cpu", deepnum.device("cpu")):
        assert deepnum.load(path, map_location=loc).shape == (2,)
    with pytest.raises(RuntimeError, match="CPU only"):
        deepnum.load(path, map_location="cuda:0")


def test_forged_header_cannot_reach_foreign_objects(tmp_path):
    # a valid checksum does not make a foreign class loadable: names are checked on load
    names = [("os", "system"), ("deepnum.serialization", "importlib.import_module"),
             ("deepnum.serialization", "OrderedDict")]
    for module, qualname in names:
        tree = {"$": "global", "path": f"{module}.{qualname}", "module": module,
                "qualname": qualname}
        with pytest.raises(UnpicklingError):
            deepnum.serialization.decode(tree, [])


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
        (lambda: nn.Conv2d(2, 3, 3, padding=1), (1, 2, 5, 5)),
        (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), (2, 3, 8)),
        (lambda: nn.BatchNorm1d(4), (6, 4)),
    ],
)
def test_library_modules_round_trip_and_compute_the_same(tmp_path, make, shape):
    model = make()
    x = deepnum.randn(*shape)
    model(x)  # moves BatchNorm's running statistics away from their initial values
    model.eval()
    back = _roundtrip(model, tmp_path)
    out, expected = back(x), model(x)
    out, expected = (out[0], expected[0]) if isinstance(out, tuple) else (out, expected)
    assert_close(out, expected)
    for (name, a), (_, b) in zip(model.state_dict().items(), back.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_defaultdict_and_whole_optimizer_round_trip(tmp_path):
    from collections import defaultdict

    d = defaultdict(list, {1: [2]})
    back = _roundtrip(d, tmp_path)
    assert type(back) is defaultdict and back.default_factory is list and back[1] == [2]
    model = nn.Linear(3, 2)
    opt = deepnum.optim.Adam(model.parameters(), lr=1e-2)
    model(deepnum.randn(4, 3)).sum().backward()
    opt.step()
    model2, opt2 = _roundtrip((model, opt), tmp_path)
    assert opt2.param_groups[0]["params"][0] is model2.weight  # shared objects stay shared
    assert_close(opt2.state[model2.weight]["exp_avg"], opt.state[model.weight]["exp_avg"])
    x = deepnum.randn(4, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    assert_close(model2.weight, model.weight)  # training resumes identically


def test_text_mode_file_object_is_refused(tmp_path):
    path = tmp_path / "x.pt"
    deepnum.save([1], path)
    with open(path, encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        deepnum.load(f)


def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.pt"
    link = tmp_path / "link.pt"
    deepnum.save([1], target)
    link.symlink_to(target)
    deepnum.save([2], link)
    assert link.is_symlink() and deepnum.load(target) == [2]
