"""Write golden JSON fixtures for the C# DuRnn tests from the PyTorch reference.

Run (from the repository root, with Debian's python3-torch):
    /usr/bin/python3 tests/reference/make_fixtures.py

Each case: the reference DuRNN in train() mode (dropout 0), every parameter set to random
values, random input / initial states / loss weights, one forward and backward of

    loss = (output * r_out).sum() + (s_n * r_s).sum() + (h_n * r_h).sum()

and one JSON file per case in tests/DuRnn.Tests/fixtures/<case>.json (format in README.md).
Before writing, the script runs the self-checks in check_reference.py (gradcheck, state_dict
keys, an independent NumPy forward); after writing, it re-reads every file and re-runs the
case from the JSON contents to make sure the file is self-consistent.
"""

import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from durnn_reference import DuRNN, expected_state_dict_keys  # noqa: E402

FIXTURE_DIR = os.path.normpath(os.path.join(HERE, "..", "DuRnn.Tests", "fixtures"))

# name, seed, config, dtype, u range
CASES = [
    ("layer_relu_f64", 1001,
     dict(input_size=3, hidden_size=4, short_term_size=4, num_layers=1, activation="relu",
          batch_norm=False, residual=False, batch_first=False, seq_len=5, batch=2),
     torch.float64, (-1.0, 1.0)),
    ("layer_tanh_s3_h5_f64", 1002,
     dict(input_size=3, hidden_size=5, short_term_size=3, num_layers=1, activation="tanh",
          batch_norm=False, residual=False, batch_first=False, seq_len=6, batch=2),
     torch.float64, (-1.0, 1.0)),
    ("stack2_bn_residual_f64", 1003,
     dict(input_size=3, hidden_size=4, short_term_size=4, num_layers=2, activation="relu",
          batch_norm=True, residual=True, batch_first=False, seq_len=5, batch=3),
     torch.float64, (-1.0, 1.0)),
    ("stack3_residual_tanh_f64", 1004,
     dict(input_size=4, hidden_size=4, short_term_size=5, num_layers=3, activation="tanh",
          batch_norm=False, residual=True, batch_first=False, seq_len=4, batch=2),
     torch.float64, (-1.0, 1.0)),
    ("layer_relu_batchfirst_f64", 1005,
     dict(input_size=3, hidden_size=4, short_term_size=4, num_layers=1, activation="relu",
          batch_norm=False, residual=False, batch_first=True, seq_len=5, batch=2),
     torch.float64, (-1.0, 1.0)),
    ("stack2_relu_f32", 1006,
     dict(input_size=3, hidden_size=6, short_term_size=4, num_layers=2, activation="relu",
          batch_norm=False, residual=False, batch_first=False, seq_len=7, batch=2),
     torch.float32, (-1.0, 1.0)),
    ("long_relu_f64", 1007,
     dict(input_size=2, hidden_size=3, short_term_size=3, num_layers=1, activation="relu",
          batch_norm=False, residual=False, batch_first=False, seq_len=60, batch=2),
     torch.float64, (0.9, 1.0)),
]

MIN_NONZERO_FRACTION = 0.3  # per layer, for ReLU states (guards against dead units)
MIN_RELU_MARGIN = 1e-4      # every ReLU pre-activation at least this far from the kink, so a
                            # different summation order in C# cannot flip a ReLU decision


def build_model(cfg, dtype):
    model = DuRNN(cfg["input_size"], cfg["hidden_size"], num_layers=cfg["num_layers"],
                  short_term_size=cfg["short_term_size"], activation=cfg["activation"],
                  batch_norm=cfg["batch_norm"], residual=cfg["residual"], dropout=0.0,
                  batch_first=cfg["batch_first"])
    return model.to(dtype).train()


@torch.no_grad()
def randomize_parameters(model, u_range=(-1.0, 1.0)):
    """Random O(1) values for every parameter (generated in float64, then cast).

    Weights: N(0, 1) / sqrt(fan_in) (recurrent U_s half that), biases N(0, 0.1^2),
    u ~ U(u_range), BatchNorm weight ~ U(0.5, 1.5), BatchNorm bias ~ N(0, 0.1^2)."""
    def normal(shape, std):
        return torch.randn(shape, dtype=torch.float64) * std

    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if name.startswith("norms."):
            if name.endswith(".weight"):
                v = torch.rand(shape, dtype=torch.float64) + 0.5
            else:
                v = normal(shape, 0.1)
        elif name.endswith("long_term.weight_hh"):
            lo, hi = u_range
            v = lo + (hi - lo) * torch.rand(shape, dtype=torch.float64)
        elif name.endswith("bias_ih") or name.endswith("gate.bias"):
            v = normal(shape, 0.1)
        elif name.endswith("short_term.weight_hh"):
            v = normal(shape, 0.5 / math.sqrt(shape[1]))
        else:  # input-type weights (S,I), (S,S) gate, (H,S)
            v = normal(shape, 1.0 / math.sqrt(shape[1]))
        p.copy_(v.to(p.dtype))


def random_inputs(cfg, dtype):
    """input, s0, h0, r_out, r_s, r_h (float64 draws, cast to dtype)."""
    T, B, I = cfg["seq_len"], cfg["batch"], cfg["input_size"]
    L, S, H = cfg["num_layers"], cfg["short_term_size"], cfg["hidden_size"]
    x = torch.randn(T, B, I, dtype=torch.float64)
    if cfg["batch_first"]:
        x = x.transpose(0, 1).contiguous()
    if cfg["activation"] == "relu":
        s0 = torch.randn(L, B, S, dtype=torch.float64).abs()
    else:
        s0 = torch.rand(L, B, S, dtype=torch.float64) * 1.8 - 0.9  # in (-0.9, 0.9)
    h0 = torch.randn(L, B, H, dtype=torch.float64).abs()
    out_shape = (B, T, H) if cfg["batch_first"] else (T, B, H)
    r_out = torch.randn(out_shape, dtype=torch.float64)
    r_s = torch.randn(L, B, S, dtype=torch.float64)
    r_h = torch.randn(L, B, H, dtype=torch.float64)
    return [t.to(dtype) for t in (x, s0, h0, r_out, r_s, r_h)]


def run_case(model, x, s0, h0, r_out, r_s, r_h, capture=None):
    """Forward + backward. Returns dict of results (tensors detached)."""
    x = x.clone().requires_grad_(True)
    s0 = s0.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    hooks = []
    if capture is not None:
        for l, layer in enumerate(model.layers):
            hooks.append(layer.register_forward_hook(
                lambda mod, inp, out, l=l: capture.__setitem__(l, (out[0].detach(), inp[0].detach()))))
    output, (s_n, h_n) = model(x, s0, h0)
    for h in hooks:
        h.remove()
    loss = (output * r_out).sum() + (s_n * r_s).sum() + (h_n * r_h).sum()
    loss.backward()
    return dict(output=output.detach(), s_n=s_n.detach(), h_n=h_n.detach(), loss=loss.item(),
                grad_parameters={k: p.grad.detach().clone() for k, p in model.named_parameters()},
                grad_input=x.grad.detach(), grad_s0=s0.grad.detach(), grad_h0=h0.grad.detach())


def min_relu_margin(model, x, s0, h0):
    """Smallest |pre-activation| over every torch.relu call of one forward."""
    seen = []
    orig = torch.relu

    def recording_relu(a):
        seen.append(a.detach().abs().min().item())
        return orig(a)

    torch.relu = recording_relu
    try:
        with torch.no_grad():
            state = {k: v.clone() for k, v in model.state_dict().items()}
            model(x, s0, h0)
            model.load_state_dict(state)  # undo the BatchNorm running-stat update
    finally:
        torch.relu = orig
    return min(seen)


def health_problems(model, cfg, res, capture, margin):
    """Reasons a random draw is a poor test (dead ReLUs, zero gradients); [] when fine."""
    problems = []
    if margin < MIN_RELU_MARGIN:
        problems.append(f"a ReLU pre-activation is {margin:.2g} from 0")
    for l in range(cfg["num_layers"]):
        y, x_in = capture[l]
        frac = (y != 0).double().mean().item()
        if frac < MIN_NONZERO_FRACTION:
            problems.append(f"layer {l}: long-term output nonzero fraction {frac:.2f}")
    if cfg["activation"] == "relu":
        frac = (res["s_n"] != 0).double().mean().item()
        if frac < MIN_NONZERO_FRACTION:
            problems.append(f"s_n nonzero fraction {frac:.2f}")
    for k, g in res["grad_parameters"].items():
        if (g != 0).double().mean().item() < 0.5:
            # a mostly-zero gradient means the parameter is barely tested
            problems.append(f"grad {k} mostly zero")
    for k in ("grad_input", "grad_s0", "grad_h0"):
        if (res[k] != 0).double().mean().item() < 0.5:
            problems.append(f"{k} mostly zero")
    for k in ("output", "s_n", "h_n", "grad_input", "grad_s0", "grad_h0"):
        if not torch.isfinite(res[k]).all():
            problems.append(f"{k} not finite")
    return problems


def tensor_json(t):
    t = t.detach().cpu()
    data = [float(v) for v in t.reshape(-1).tolist()]
    for v in data:
        if not math.isfinite(v):
            raise ValueError("non-finite value in fixture")
    return {"shape": list(t.shape), "data": data}


def json_tensor(obj, dtype):
    return torch.tensor(obj["data"], dtype=dtype).reshape(obj["shape"])


def make_case(name, seed, cfg, dtype, u_range, max_attempts=50):
    for attempt in range(max_attempts):
        used_seed = seed + 100000 * attempt
        torch.manual_seed(used_seed)
        model = build_model(cfg, dtype)
        randomize_parameters(model, u_range)
        params_before = {k: v.detach().clone() for k, v in model.named_parameters()}
        x, s0, h0, r_out, r_s, r_h = random_inputs(cfg, dtype)
        margin = min_relu_margin(model, x, s0, h0)
        capture = {}
        res = run_case(model, x, s0, h0, r_out, r_s, r_h, capture)
        problems = health_problems(model, cfg, res, capture, margin)
        if problems:
            print(f"  {name}: seed {used_seed} rejected: {'; '.join(problems)}")
            continue
        break
    else:
        raise RuntimeError(f"{name}: no healthy draw in {max_attempts} attempts")

    keys = list(model.state_dict().keys())
    assert keys == expected_state_dict_keys(cfg["num_layers"], cfg["batch_norm"]), keys
    buffers_after = {k: v.detach().clone() for k, v in model.state_dict().items()
                     if k.endswith("running_mean") or k.endswith("running_var")}

    fixture = {
        "name": name,
        "dtype": "float64" if dtype == torch.float64 else "float32",
        "seed": used_seed,
        "config": dict(cfg),
        "parameters": {k: tensor_json(v) for k, v in params_before.items()},
        "buffers_after": {k: tensor_json(v) for k, v in buffers_after.items()},
        "input": tensor_json(x), "s0": tensor_json(s0), "h0": tensor_json(h0),
        "r_out": tensor_json(r_out), "r_s": tensor_json(r_s), "r_h": tensor_json(r_h),
        "output": tensor_json(res["output"]), "s_n": tensor_json(res["s_n"]),
        "h_n": tensor_json(res["h_n"]), "loss": float(res["loss"]),
        "grad_parameters": {k: tensor_json(v) for k, v in res["grad_parameters"].items()},
        "grad_input": tensor_json(res["grad_input"]),
        "grad_s0": tensor_json(res["grad_s0"]), "grad_h0": tensor_json(res["grad_h0"]),
    }
    nz = [(capture[l][0] != 0).double().mean().item() for l in range(cfg["num_layers"])]
    print(f"  {name}: seed {used_seed}, loss {res['loss']!r}, "
          f"long-term nonzero fraction per layer {[round(f, 2) for f in nz]}, "
          f"max|output| {res['output'].abs().max().item():.3g}, min ReLU margin {margin:.2g}")
    return fixture


def write_fixture(fixture, path):
    # One top-level key per line (diff-friendly), compact values; json writes floats with repr().
    lines = [f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'), allow_nan=False)}"
             for k, v in fixture.items()]
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def verify_fixture(path):
    """Re-read a fixture and re-run it from the JSON contents alone; results must match exactly."""
    with open(path) as f:
        fx = json.load(f)
    dtype = torch.float64 if fx["dtype"] == "float64" else torch.float32
    cfg = fx["config"]
    model = build_model(cfg, dtype)
    with torch.no_grad():
        for k, p in model.named_parameters():
            p.copy_(json_tensor(fx["parameters"][k], dtype))
    assert set(fx["parameters"]) == {k for k, _ in model.named_parameters()}
    args = [json_tensor(fx[k], dtype) for k in ("input", "s0", "h0", "r_out", "r_s", "r_h")]
    res = run_case(model, *args)
    for k in ("output", "s_n", "h_n", "grad_input", "grad_s0", "grad_h0"):
        assert torch.equal(res[k], json_tensor(fx[k], dtype)), (path, k)
    for k, g in res["grad_parameters"].items():
        assert torch.equal(g, json_tensor(fx["grad_parameters"][k], dtype)), (path, k)
    for k, v in model.state_dict().items():
        if k.endswith("running_mean") or k.endswith("running_var"):
            assert torch.equal(v, json_tensor(fx["buffers_after"][k], dtype)), (path, k)
    assert res["loss"] == fx["loss"], path
    size = os.path.getsize(path)
    assert size < 200 * 1024, (path, size)
    return size


def main():
    import check_reference
    print("self-checks:")
    check_reference.run_all()
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    print(f"writing fixtures to {FIXTURE_DIR}:")
    for name, seed, cfg, dtype, u_range in CASES:
        fixture = make_case(name, seed, cfg, dtype, u_range)
        path = os.path.join(FIXTURE_DIR, name + ".json")
        write_fixture(fixture, path)
        size = verify_fixture(path)
        print(f"    wrote {os.path.relpath(path)} ({size} bytes), re-read and verified")
    print("done")


if __name__ == "__main__":
    main()
