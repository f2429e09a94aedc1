"""Write golden JSON fixtures for the C# IndRNN tests from the PyTorch reference.

Run (from the repository root, with Debian's python3-torch):
    /usr/bin/python3 tests/reference/make_indrnn_fixtures.py

Each case: the reference IndRNN (indrnn_reference.py) in train() mode, every parameter set to
random values, random input / initial state / loss weights (and lengths where the case has them),
one forward and backward of

    loss = (output * r_out).sum() + (h_n * r_h).sum()

and one JSON file per case in tests/DuRnn.Tests/fixtures/indrnn/<case>.json (format in README.md).
Before writing, the script runs the self-checks in check_indrnn_reference.py (gradcheck, state_dict
keys, torch.nn.RNN with diagonal recurrent weights, an independent NumPy forward); after writing,
it re-reads every file and re-runs the case from the JSON contents alone. Output is deterministic.
"""

import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from indrnn_reference import IndRNN, expected_state_dict_keys  # noqa: E402
from make_fixtures import json_tensor, tensor_json, write_fixture  # noqa: E402  (the shared JSON conventions)

FIXTURE_DIR = os.path.normpath(os.path.join(HERE, "..", "DuRnn.Tests", "fixtures", "indrnn"))


def config(**kw):
    base = dict(input_size=3, hidden_size=4, num_layers=1, batch_norm=False, residual=False,
                batch_first=False, bidirectional=False, seq_len=5, batch=2, lengths=None)
    base.update(kw)
    return base


# name, seed, config, dtype, u range
CASES = [
    ("indrnn_layer_f64", 2001, config(input_size=3, hidden_size=4, seq_len=6, batch=3),
     torch.float64, (-1.0, 1.0)),
    ("indrnn_stack2_bn_residual_f64", 2002,
     config(input_size=4, hidden_size=4, num_layers=2, batch_norm=True, residual=True, seq_len=5, batch=3),
     torch.float64, (-1.0, 1.0)),
    ("indrnn_stack2_lengths_f64", 2003,
     config(input_size=3, hidden_size=4, num_layers=2, seq_len=6, batch=4, lengths=[3, 6, 1, 4]),
     torch.float64, (-1.0, 1.0)),
    ("indrnn_bidir_bn_residual_lengths_batchfirst_f64", 2004,
     config(input_size=3, hidden_size=3, num_layers=2, batch_norm=True, residual=True, batch_first=True,
            bidirectional=True, seq_len=5, batch=3, lengths=[5, 2, 4]),
     torch.float64, (-1.0, 1.0)),
    ("indrnn_bidir_stack3_f32", 2005,
     config(input_size=3, hidden_size=5, num_layers=3, bidirectional=True, seq_len=7, batch=2),
     torch.float32, (-1.0, 1.0)),
    ("indrnn_long_f64", 2006, config(input_size=2, hidden_size=3, seq_len=60, batch=2),
     torch.float64, (0.9, 1.0)),
]

MIN_NONZERO_FRACTION = 0.3  # per layer, of the outputs at valid steps (guards against dead units)
MIN_RELU_MARGIN = 1e-4      # every ReLU pre-activation at least this far from the kink, so a
                            # different summation order in C# cannot flip a ReLU decision


def build_model(cfg, dtype):
    model = IndRNN(cfg["input_size"], cfg["hidden_size"], num_layers=cfg["num_layers"],
                   batch_norm=cfg["batch_norm"], residual=cfg["residual"], batch_first=cfg["batch_first"],
                   bidirectional=cfg["bidirectional"])
    return model.to(dtype).train()


@torch.no_grad()
def randomize_parameters(model, u_range=(-1.0, 1.0)):
    """Random O(1) values for every parameter (generated in float64, then cast).

    W: N(0, 1) / sqrt(fan_in), b: N(0, 0.1^2), u ~ U(u_range), BatchNorm weight ~ U(0.5, 1.5),
    BatchNorm bias ~ N(0, 0.1^2)."""
    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if name.startswith("norms."):
            v = (torch.rand(shape, dtype=torch.float64) + 0.5 if name.endswith(".weight")
                 else torch.randn(shape, dtype=torch.float64) * 0.1)
        elif name.endswith("weight_hh"):
            lo, hi = u_range
            v = lo + (hi - lo) * torch.rand(shape, dtype=torch.float64)
        elif name.endswith("bias_ih"):
            v = torch.randn(shape, dtype=torch.float64) * 0.1
        else:  # weight_ih (H, I_l)
            v = torch.randn(shape, dtype=torch.float64) / math.sqrt(shape[1])
        p.copy_(v.to(p.dtype))


def random_inputs(cfg, dtype):
    """input, h0, r_out, r_h (float64 draws, cast to dtype). Padded input steps are random too:
    the model must ignore them."""
    T, B, I = cfg["seq_len"], cfg["batch"], cfg["input_size"]
    L, H = cfg["num_layers"], cfg["hidden_size"]
    D = 2 if cfg["bidirectional"] else 1
    x = torch.randn(T, B, I, dtype=torch.float64)
    if cfg["batch_first"]:
        x = x.transpose(0, 1).contiguous()
    h0 = torch.randn(L * D, B, H, dtype=torch.float64).abs()
    out_shape = (B, T, D * H) if cfg["batch_first"] else (T, B, D * H)
    r_out = torch.randn(out_shape, dtype=torch.float64)
    r_h = torch.randn(L * D, B, H, dtype=torch.float64)
    return [t.to(dtype) for t in (x, h0, r_out, r_h)]


def run_case(model, cfg, x, h0, r_out, r_h):
    """Forward + backward. Returns a dict of results (tensors detached)."""
    x = x.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    output, h_n = model(x, h0, cfg["lengths"])
    loss = (output * r_out).sum() + (h_n * r_h).sum()
    loss.backward()
    return dict(output=output.detach(), h_n=h_n.detach(), loss=loss.item(),
                grad_parameters={k: p.grad.detach().clone() for k, p in model.named_parameters()},
                grad_input=x.grad.detach(), grad_h0=h0.grad.detach())


def relu_margin_and_activity(model, cfg, x, h0):
    """The smallest |pre-activation| over every torch.relu call of one forward, and per layer the
    fraction of nonzero outputs at valid steps."""
    seen = []
    orig = torch.relu

    def recording_relu(a):
        seen.append(a.detach().abs().min().item())
        return orig(a)

    activity = []
    torch.relu = recording_relu
    try:
        with torch.no_grad():
            state = {k: v.clone() for k, v in model.state_dict().items()}
            # Layer by layer: a one-layer model per depth would change the BN path; instead read the
            # outputs of each layer through a forward hook on its cell (forward direction).
            outs = {}
            hooks = [cell.register_forward_hook(lambda m, i, o, l=l: outs.setdefault(l, []).append(o))
                     for l, cell in enumerate(model.layers)]
            model(x, h0, cfg["lengths"])
            for h in hooks:
                h.remove()
            model.load_state_dict(state)  # undo the BatchNorm running-statistics update
    finally:
        torch.relu = orig
    for l in range(cfg["num_layers"]):
        ys = torch.cat(outs[l], dim=0)
        activity.append((ys != 0).double().mean().item())
    return min(seen), activity


def health_problems(res, margin, activity):
    """Reasons a random draw is a poor test (dead ReLUs, zero gradients); [] when fine."""
    problems = []
    if margin < MIN_RELU_MARGIN:
        problems.append(f"a ReLU pre-activation is {margin:.2g} from 0")
    for l, frac in enumerate(activity):
        if frac < MIN_NONZERO_FRACTION:
            problems.append(f"layer {l}: nonzero output fraction {frac:.2f}")
    for k, g in res["grad_parameters"].items():
        if (g != 0).double().mean().item() < 0.5:
            problems.append(f"grad {k} mostly zero")
    for k in ("grad_input", "grad_h0"):
        if (res[k] != 0).double().mean().item() < 0.3:
            problems.append(f"{k} mostly zero")
    for k in ("output", "h_n", "grad_input", "grad_h0"):
        if not torch.isfinite(res[k]).all():
            problems.append(f"{k} not finite")
    return problems


def make_case(name, seed, cfg, dtype, u_range, max_attempts=50):
    for attempt in range(max_attempts):
        used_seed = seed + 100000 * attempt
        torch.manual_seed(used_seed)
        model = build_model(cfg, dtype)
        randomize_parameters(model, u_range)
        params_before = {k: v.detach().clone() for k, v in model.named_parameters()}
        x, h0, r_out, r_h = random_inputs(cfg, dtype)
        margin, activity = relu_margin_and_activity(model, cfg, x, h0)
        res = run_case(model, cfg, x, h0, r_out, r_h)
        problems = health_problems(res, margin, activity)
        if problems:
            print(f"  {name}: seed {used_seed} rejected: {'; '.join(problems)}")
            continue
        break
    else:
        raise RuntimeError(f"{name}: no healthy draw in {max_attempts} attempts")

    keys = list(model.state_dict().keys())
    assert keys == expected_state_dict_keys(cfg["num_layers"], cfg["batch_norm"], cfg["bidirectional"]), keys
    buffers_after = {k: v.detach().clone() for k, v in model.state_dict().items()
                     if k.endswith("running_mean") or k.endswith("running_var")}
    fixture = {
        "name": name,
        "dtype": "float64" if dtype == torch.float64 else "float32",
        "seed": used_seed,
        "config": dict(cfg),
        "parameters": {k: tensor_json(v) for k, v in params_before.items()},
        "buffers_after": {k: tensor_json(v) for k, v in buffers_after.items()},
        "input": tensor_json(x), "h0": tensor_json(h0),
        "r_out": tensor_json(r_out), "r_h": tensor_json(r_h),
        "output": tensor_json(res["output"]), "h_n": tensor_json(res["h_n"]), "loss": float(res["loss"]),
        "grad_parameters": {k: tensor_json(v) for k, v in res["grad_parameters"].items()},
        "grad_input": tensor_json(res["grad_input"]), "grad_h0": tensor_json(res["grad_h0"]),
    }
    print(f"  {name}: seed {used_seed}, loss {res['loss']!r}, nonzero output fraction per layer "
          f"{[round(f, 2) for f in activity]}, max|output| {res['output'].abs().max().item():.3g}, "
          f"min ReLU margin {margin:.2g}")
    return fixture


def verify_fixture(path):
    """Re-read a fixture and re-run it from the JSON contents alone; results must match exactly."""
    import json
    with open(path) as f:
        fx = json.load(f)
    dtype = torch.float64 if fx["dtype"] == "float64" else torch.float32
    cfg = fx["config"]
    model = build_model(cfg, dtype)
    assert set(fx["parameters"]) == {k for k, _ in model.named_parameters()}
    with torch.no_grad():
        for k, p in model.named_parameters():
            p.copy_(json_tensor(fx["parameters"][k], dtype))
    args = [json_tensor(fx[k], dtype) for k in ("input", "h0", "r_out", "r_h")]
    res = run_case(model, cfg, *args)
    for k in ("output", "h_n", "grad_input", "grad_h0"):
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
    import check_indrnn_reference
    print("self-checks:")
    check_indrnn_reference.run_all()
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
