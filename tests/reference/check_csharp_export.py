"""Check that PyTorch reads weights saved by the C# DuRNN and gets the C# outputs.

Run (from the repository root, with Debian's python3-torch):
    /usr/bin/python3 tests/reference/check_csharp_export.py [STATE_FILE ...]

STATE_FILE is a state dict saved from C# with TorchSharp.PyBridge: a .pt file (module.save_py) or a
.safetensors file (module.save_safetensors). Beside it, <same name>.json (written by the C# test
helper, format as in make_interop_fixtures.py) holds the configuration, the state dict as exact
JSON values, an input and initial state, and the eval-mode output and final state computed in C#.
Without arguments, every csharp_export_*.pt and *.safetensors in tests/DuRnn.Tests/fixtures/interop.
To write those files from C# first:
    DURNN_WRITE_INTEROP_FIXTURES=1 dotnet test -c Release --filter "FullyQualifiedName~InteropTests.CSharpExportRoundTripsBitExactly"

For each file: torch.load (or a safetensors reader) opens it; its keys, shapes and dtypes are those
of the reference module's state_dict; its values equal the JSON copy exactly; the reference
module's load_state_dict(strict=True) accepts it; and the reference's eval-mode forward gives the
C# output and final state within the C# tests' tolerances (float32 rtol 1e-5, float64 rtol 1e-9).
Exits 1 on any failure.
"""

import glob
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from durnn_reference import expected_state_dict_keys  # noqa: E402
from make_fixtures import build_model, json_tensor, min_relu_margin  # noqa: E402

INTEROP_DIR = os.path.normpath(os.path.join(HERE, "..", "DuRnn.Tests", "fixtures", "interop"))

# (rtol, atol for the output); states use atol = rtol * max|expected| (see InteropTests.cs).
TOLERANCES = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-9, 1e-12)}

SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                      "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
                      "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path):
    """The `safetensors` package when installed, else a reader of the format itself: an 8-byte
    little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, raw data."""
    try:
        from safetensors.torch import load_file
        return load_file(path), "safetensors.torch.load_file"
    except ImportError:
        pass
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    result = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = SAFETENSORS_DTYPES[info["dtype"]]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        result[key] = t.reshape(info["shape"]).clone()
    return result, "the format reader in this script (no safetensors package)"


def close(actual, expected, rtol, atol):
    """(ok, largest |a - e| / (atol + rtol |e|))"""
    a, e = actual.double(), expected.double()
    ratio = ((a - e).abs() / (atol + rtol * e.abs())).max().item()
    return ratio <= 1.0, ratio


def check(state_path):
    json_path = os.path.splitext(state_path)[0] + ".json"
    with open(json_path) as f:
        fx = json.load(f)
    dtype = torch.float64 if fx["dtype"] == "float64" else torch.float32
    cfg = fx["config"]
    failures, notes = [], []
    print(f"{os.path.relpath(state_path)} ({os.path.getsize(state_path)} bytes; {fx['dtype']}, "
          f"{cfg['num_layers']} layers, I={cfg['input_size']} S={cfg['short_term_size']} "
          f"H={cfg['hidden_size']}, batch_norm={cfg['batch_norm']}, residual={cfg['residual']})")

    if state_path.endswith(".safetensors"):
        state_dict, how = load_safetensors(state_path)
    else:
        state_dict, how = torch.load(state_path, map_location="cpu"), "torch.load"
    print(f"  opened with {how}: {len(state_dict)} tensors")

    model = build_model(cfg, dtype)
    reference = model.state_dict()
    expected_keys = expected_state_dict_keys(cfg["num_layers"], cfg["batch_norm"])
    if set(state_dict) != set(expected_keys):
        failures.append(f"keys: missing {sorted(set(expected_keys) - set(state_dict))}, "
                        f"unexpected {sorted(set(state_dict) - set(expected_keys))}")
    elif not state_path.endswith(".safetensors") and list(state_dict) != expected_keys:
        notes.append("keys are in another order than the reference's state_dict")
    for k, v in state_dict.items():
        if k not in reference:
            continue
        if tuple(v.shape) != tuple(reference[k].shape):
            failures.append(f"{k}: shape {tuple(v.shape)}, reference {tuple(reference[k].shape)}")
        if v.dtype != reference[k].dtype:
            note = f"{k}: dtype {v.dtype}, reference {reference[k].dtype}"
            if k.endswith("num_batches_tracked") and v.dtype.is_floating_point and float(v) == int(v):
                notes.append(note + " (an integral value; load_state_dict converts it exactly)")
            else:
                failures.append(note)
        if not torch.equal(v, json_tensor(fx["state_dict"][k], v.dtype)):
            failures.append(f"{k}: values differ from the JSON copy")
    if failures:
        return failures, notes
    print(f"  keys, shapes and values: as the reference's state_dict and the JSON copy")

    model.load_state_dict(state_dict, strict=True)
    for k, v in model.state_dict().items():
        if not torch.equal(v, json_tensor(fx["state_dict"][k], v.dtype)):
            failures.append(f"{k}: after load_state_dict, values differ from the JSON copy")
    model.eval()
    x, s0, h0 = (json_tensor(fx[k], dtype) for k in ("input", "s0", "h0"))
    margin = min_relu_margin(model, x, s0, h0)
    with torch.no_grad():
        output, (s_n, h_n) = model(x, s0, h0)
    print(f"  load_state_dict(strict=True) accepted it; eval-mode forward (min ReLU margin {margin:.2g}):")
    rtol, atol = TOLERANCES[dtype]
    for name, actual in (("output", output), ("s_n", s_n), ("h_n", h_n)):
        expected = json_tensor(fx[name], dtype)
        if tuple(actual.shape) != tuple(expected.shape):
            failures.append(f"{name}: shape {tuple(actual.shape)}, C# {tuple(expected.shape)}")
            continue
        a = atol if name == "output" else rtol * expected.abs().max().item()
        ok, ratio = close(actual, expected, rtol, a)
        max_abs = (actual.double() - expected.double()).abs().max().item()
        print(f"    {name:6} {tuple(actual.shape)}: max |PyTorch - C#| = {max_abs:.3g}, "
              f"{ratio:.3g} of the tolerance (rtol {rtol:g}, atol {a:.3g}) -> {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{name} differs from the C# result")
    return failures, notes


def main(argv):
    paths = argv or sorted(glob.glob(os.path.join(INTEROP_DIR, "csharp_export_*.pt")) +
                           glob.glob(os.path.join(INTEROP_DIR, "csharp_export_*.safetensors")))
    if not paths:
        print(f"no C#-exported state files given or found in {INTEROP_DIR}")
        return 1
    failed = 0
    for path in paths:
        failures, notes = check(path)
        for n in notes:
            print(f"  note: {n}")
        for f in failures:
            print(f"  FAIL: {f}")
        failed += bool(failures)
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
