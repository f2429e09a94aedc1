"""Write the PyTorch-interop fixtures: state_dicts saved by PyTorch, with the outputs they must give.

Run (from the repository root, with Debian's python3-torch):
    /usr/bin/python3 tests/reference/make_interop_fixtures.py

For each case the reference DuRNN (durnn_reference.py) gets random parameters, a few train-mode
forwards (no_grad) give its BatchNorm layers non-default running statistics and a non-zero
num_batches_tracked, and then, in eval mode, one forward over a random input and initial state
gives the expected output and final state. Written to tests/DuRnn.Tests/fixtures/interop/:

    <case>.pt    torch.save(model.state_dict(), ...)  (PyTorch's zip/pickle format)
    <case>.json  config, the state_dict as JSON (exact values), input, s0, h0, and the eval-mode
                 output, s_n, h_n (format below)

The C# tests (InteropTests.cs) load <case>.pt into the C# DuRNN and compare. After writing, the
script re-loads every .pt with torch.load into a fresh reference model and re-runs the case from
the files alone; results must be identical. Output is deterministic (byte-identical on re-runs).

JSON format (tensors as in the other fixtures: {"shape": [...], "data": [...]}, floats repr()):
    {"name", "dtype": "float32" | "float64", "seed", "mode": "eval",
     "config": {"input_size", "hidden_size", "short_term_size", "num_layers", "activation",
                "batch_norm", "residual", "batch_first", "seq_len", "batch"},
     "state_file": "<case>.pt",
     "state_dict": {key: tensor},            # every entry of the .pt, buffers included
     "input": tensor, "s0": tensor, "h0": tensor,
     "output": tensor, "s_n": tensor, "h_n": tensor}
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from durnn_reference import expected_state_dict_keys  # noqa: E402
from make_fixtures import (build_model, json_tensor, min_relu_margin,  # noqa: E402
                           randomize_parameters, tensor_json, write_fixture)

INTEROP_DIR = os.path.normpath(os.path.join(HERE, "..", "DuRnn.Tests", "fixtures", "interop"))

# Two layers, BatchNorm between them, residual (used by layer 1, where I = H), S != H.
CONFIG = dict(input_size=3, hidden_size=5, short_term_size=4, num_layers=2, activation="relu",
              batch_norm=True, residual=True, batch_first=False, seq_len=6, batch=3)

# name, seed, dtype
CASES = [
    ("pytorch_stack2_bn_residual_f32", 2001, torch.float32),
    ("pytorch_stack2_bn_residual_f64", 2002, torch.float64),
]

WARMUP_FORWARDS = 5         # train-mode forwards that set the BatchNorm running statistics
MIN_NONZERO_FRACTION = 0.3  # per layer output and for s_n (ReLU): guards against dead units
MIN_RELU_MARGIN = 1e-4      # every ReLU pre-activation this far from 0 (summation order can't flip it)
MAX_FILE_SIZE = 200 * 1024


def random_state(cfg, dtype):
    """input (T, B, I), s0 = |N(0, 1)| (L, B, S), h0 = |N(0, 1)| (L, B, H); drawn in float64."""
    T, B, I = cfg["seq_len"], cfg["batch"], cfg["input_size"]
    L, S, H = cfg["num_layers"], cfg["short_term_size"], cfg["hidden_size"]
    x = torch.randn(T, B, I, dtype=torch.float64)
    s0 = torch.randn(L, B, S, dtype=torch.float64).abs()
    h0 = torch.randn(L, B, H, dtype=torch.float64).abs()
    return [t.to(dtype) for t in (x, s0, h0)]


@torch.no_grad()
def warm_up_batch_norm(model, cfg, dtype):
    """A few train-mode forwards on random data: running_mean/var move away from 0/1 towards the
    statistics of real activations, and num_batches_tracked counts them."""
    model.train()
    for _ in range(WARMUP_FORWARDS):
        x, s0, h0 = random_state(cfg, dtype)
        model(x, s0, h0)


@torch.no_grad()
def eval_forward(model, x, s0, h0, capture=None):
    hooks = []
    if capture is not None:
        for l, layer in enumerate(model.layers):
            hooks.append(layer.register_forward_hook(
                lambda mod, inp, out, l=l: capture.__setitem__(l, out[0].detach())))
    try:
        output, (s_n, h_n) = model(x, s0, h0)
    finally:
        for h in hooks:
            h.remove()
    return output, s_n, h_n


def health_problems(cfg, capture, s_n, margin):
    problems = []
    if margin < MIN_RELU_MARGIN:
        problems.append(f"a ReLU pre-activation is {margin:.2g} from 0")
    for l in range(cfg["num_layers"]):
        frac = (capture[l] != 0).double().mean().item()
        if frac < MIN_NONZERO_FRACTION:
            problems.append(f"layer {l}: long-term output nonzero fraction {frac:.2f}")
    if cfg["activation"] == "relu":
        frac = (s_n != 0).double().mean().item()
        if frac < MIN_NONZERO_FRACTION:
            problems.append(f"s_n nonzero fraction {frac:.2f}")
    return problems


def make_case(name, seed, cfg, dtype, max_attempts=50):
    for attempt in range(max_attempts):
        used_seed = seed + 100000 * attempt
        torch.manual_seed(used_seed)
        model = build_model(cfg, dtype)
        randomize_parameters(model)
        warm_up_batch_norm(model, cfg, dtype)
        model.eval()
        x, s0, h0 = random_state(cfg, dtype)
        margin = min_relu_margin(model, x, s0, h0)
        capture = {}
        output, s_n, h_n = eval_forward(model, x, s0, h0, capture)
        problems = health_problems(cfg, capture, s_n, margin)
        if problems:
            print(f"  {name}: seed {used_seed} rejected: {'; '.join(problems)}")
            continue
        break
    else:
        raise RuntimeError(f"{name}: no healthy draw in {max_attempts} attempts")

    state_dict = model.state_dict()
    assert list(state_dict.keys()) == expected_state_dict_keys(cfg["num_layers"], cfg["batch_norm"])
    for k, v in state_dict.items():
        if k.endswith("num_batches_tracked"):
            assert v.dtype == torch.int64 and v.item() == WARMUP_FORWARDS, (k, v)
        else:
            assert v.dtype == dtype, (k, v.dtype)
    print(f"  {name}: seed {used_seed}, max|output| {output.abs().max().item():.3g}, "
          f"min ReLU margin {margin:.2g}, running_var in "
          f"[{min(v.min().item() for k, v in state_dict.items() if k.endswith('running_var')):.3g}, "
          f"{max(v.max().item() for k, v in state_dict.items() if k.endswith('running_var')):.3g}]")
    fixture = {
        "name": name,
        "dtype": "float64" if dtype == torch.float64 else "float32",
        "seed": used_seed,
        "mode": "eval",
        "config": dict(cfg),
        "state_file": name + ".pt",
        "state_dict": {k: tensor_json(v) for k, v in state_dict.items()},
        "input": tensor_json(x), "s0": tensor_json(s0), "h0": tensor_json(h0),
        "output": tensor_json(output), "s_n": tensor_json(s_n), "h_n": tensor_json(h_n),
    }
    return model, fixture


def verify_case(json_path):
    """Re-load the .pt named in the JSON into a fresh reference model and re-run the case."""
    with open(json_path) as f:
        fx = json.load(f)
    dtype = torch.float64 if fx["dtype"] == "float64" else torch.float32
    pt_path = os.path.join(os.path.dirname(json_path), fx["state_file"])
    state_dict = torch.load(pt_path)
    assert list(state_dict.keys()) == list(fx["state_dict"].keys())
    for k, v in state_dict.items():
        expected = json_tensor(fx["state_dict"][k], v.dtype)
        assert torch.equal(v, expected), (pt_path, k)
    model = build_model(fx["config"], dtype)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    x, s0, h0 = (json_tensor(fx[k], dtype) for k in ("input", "s0", "h0"))
    output, s_n, h_n = eval_forward(model, x, s0, h0)
    for k, v in (("output", output), ("s_n", s_n), ("h_n", h_n)):
        assert torch.equal(v, json_tensor(fx[k], dtype)), (json_path, k)
    sizes = [os.path.getsize(p) for p in (json_path, pt_path)]
    assert max(sizes) < MAX_FILE_SIZE, (json_path, sizes)
    return sizes


def main():
    os.makedirs(INTEROP_DIR, exist_ok=True)
    print(f"writing interop fixtures to {INTEROP_DIR}:")
    for name, seed, dtype in CASES:
        model, fixture = make_case(name, seed, CONFIG, dtype)
        json_path = os.path.join(INTEROP_DIR, name + ".json")
        torch.save(model.state_dict(), os.path.join(INTEROP_DIR, fixture["state_file"]))
        write_fixture(fixture, json_path)
        json_size, pt_size = verify_case(json_path)
        print(f"    wrote {name}.pt ({pt_size} bytes) and {name}.json ({json_size} bytes), "
              f"re-loaded with torch.load and verified")
    print("done")


if __name__ == "__main__":
    main()
