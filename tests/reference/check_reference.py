"""Self-checks for the PyTorch DuRNN reference (run by make_fixtures.py before it writes anything;
can also be run on its own: /usr/bin/python3 tests/reference/check_reference.py).

1. state_dict keys equal the documented list, for several configurations.
2. torch.autograd.gradcheck (float64) of (output, s_n, h_n) with respect to the input, s0, h0 and
   every parameter, for a one-layer ReLU case, a BatchNorm+residual stack, and a batch_first
   tanh stack with S != H.
3. An independent NumPy forward (written from the equations, no torch) agrees with the module,
   including the BatchNorm running-statistics update.
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from durnn_reference import DuRNN, expected_state_dict_keys  # noqa: E402
import make_fixtures as mf  # noqa: E402

try:
    from torch.func import functional_call  # torch >= 2.0
except ImportError:  # torch 1.13
    from torch.nn.utils.stateless import functional_call


def cfg(**kw):
    base = dict(input_size=3, hidden_size=4, short_term_size=4, num_layers=1, activation="relu",
                batch_norm=False, residual=False, batch_first=False, seq_len=5, batch=2)
    base.update(kw)
    return base


def check_state_dict_keys():
    literal = [
        "layers.0.short_term.weight_ih", "layers.0.short_term.bias_ih", "layers.0.short_term.weight_hh",
        "layers.0.gate.weight_ih", "layers.0.gate.weight_sh", "layers.0.gate.bias",
        "layers.0.long_term.weight_ih", "layers.0.long_term.bias_ih", "layers.0.long_term.weight_hh",
        "layers.1.short_term.weight_ih", "layers.1.short_term.bias_ih", "layers.1.short_term.weight_hh",
        "layers.1.gate.weight_ih", "layers.1.gate.weight_sh", "layers.1.gate.bias",
        "layers.1.long_term.weight_ih", "layers.1.long_term.bias_ih", "layers.1.long_term.weight_hh",
        "norms.0.weight", "norms.0.bias", "norms.0.running_mean", "norms.0.running_var",
        "norms.0.num_batches_tracked",
    ]
    assert expected_state_dict_keys(2, True) == literal
    for L in (1, 2, 3):
        for bn in (False, True):
            m = DuRNN(3, 4, num_layers=L, short_term_size=5, batch_norm=bn)
            keys = list(m.state_dict().keys())
            assert keys == expected_state_dict_keys(L, bn), (L, bn, keys)
            sd = m.state_dict()
            for l in range(L):
                I = 3 if l == 0 else 4
                shapes = {"short_term.weight_ih": (5, I), "short_term.bias_ih": (5,),
                          "short_term.weight_hh": (5, 5), "gate.weight_ih": (5, I),
                          "gate.weight_sh": (5, 5), "gate.bias": (5,),
                          "long_term.weight_ih": (4, 5), "long_term.bias_ih": (4,),
                          "long_term.weight_hh": (4,)}
                for k, shp in shapes.items():
                    assert tuple(sd[f"layers.{l}.{k}"].shape) == shp, (l, k)
            if bn:
                for l in range(L - 1):
                    assert tuple(sd[f"norms.{l}.weight"].shape) == (4,)
    print("  state_dict keys and shapes: ok")


def gradcheck_case(c, u_range=(-1.0, 1.0), seed=7):
    torch.manual_seed(seed)
    model = mf.build_model(c, torch.float64)
    mf.randomize_parameters(model, u_range)
    x, s0, h0, _, _, _ = mf.random_inputs(c, torch.float64)
    names = [k for k, _ in model.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in model.named_parameters()]
    buffers = {k: v for k, v in model.named_buffers()}

    def f(x, s0, h0, *ps):
        state = dict(zip(names, ps))
        state.update({k: v.clone() for k, v in buffers.items()})  # keep real buffers untouched
        out, (s_n, h_n) = functional_call(model, state, (x, s0, h0))
        return out, s_n, h_n

    inputs = (x.requires_grad_(True), s0.requires_grad_(True), h0.requires_grad_(True), *params)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    print(f"  gradcheck {c['num_layers']} layer(s), {c['activation']}, bn={c['batch_norm']}, "
          f"residual={c['residual']}, batch_first={c['batch_first']}: ok "
          f"({sum(p.numel() for p in params)} parameters)")


# ---------------------------------------------------------------- independent NumPy forward
def np_forward(sd, c, x, s0, h0):
    """Plain NumPy, float64, written from the equations. Returns output, s_n, h_n, new buffers."""
    relu = lambda a: np.maximum(a, 0.0)
    sigmoid = lambda a: 1.0 / (1.0 + np.exp(-a))
    phi = relu if c["activation"] == "relu" else np.tanh
    L, H = c["num_layers"], c["hidden_size"]
    cur = np.swapaxes(x, 0, 1) if c["batch_first"] else x  # (T, B, I)
    T, B = cur.shape[:2]
    s_n, h_n, bufs = [], [], {}
    for l in range(L):
        g = lambda k: sd[f"layers.{l}.{k}"]
        Ws, bs, Us = g("short_term.weight_ih"), g("short_term.bias_ih"), g("short_term.weight_hh")
        Wgx, Wgs, bg = g("gate.weight_ih"), g("gate.weight_sh"), g("gate.bias")
        Wh, bh, u = g("long_term.weight_ih"), g("long_term.bias_ih"), g("long_term.weight_hh")
        s, h = s0[l], h0[l]
        ys = np.zeros((T, B, H))
        for t in range(T):
            xt = cur[t]
            s = phi(xt @ Ws.T + bs + s @ Us.T)
            gt = sigmoid(xt @ Wgx.T + s @ Wgs.T + bg)
            h = relu((gt * s) @ Wh.T + bh + u * h)
            ys[t] = h
        s_n.append(s)
        h_n.append(h)
        if c["residual"] and cur.shape[-1] == H:
            ys = ys + cur
        if l < L - 1 and c["batch_norm"]:
            flat = ys.reshape(T * B, H)
            mean = flat.mean(axis=0)
            var_b = flat.var(axis=0)                 # biased: used to normalise
            var_u = flat.var(axis=0, ddof=1)         # unbiased: used for running_var
            flat = (flat - mean) / np.sqrt(var_b + 1e-5) * sd[f"norms.{l}.weight"] + sd[f"norms.{l}.bias"]
            ys = flat.reshape(T, B, H)
            bufs[f"norms.{l}.running_mean"] = 0.9 * 0.0 + 0.1 * mean
            bufs[f"norms.{l}.running_var"] = 0.9 * 1.0 + 0.1 * var_u
        cur = ys
    out = np.swapaxes(cur, 0, 1) if c["batch_first"] else cur
    return out, np.stack(s_n), np.stack(h_n), bufs


def check_numpy_forward(c, u_range=(-1.0, 1.0), seed=11):
    torch.manual_seed(seed)
    model = mf.build_model(c, torch.float64)
    mf.randomize_parameters(model, u_range)
    x, s0, h0, _, _, _ = mf.random_inputs(c, torch.float64)
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    with torch.no_grad():
        out, (s_n, h_n) = model(x, s0, h0)
    n_out, n_s, n_h, n_bufs = np_forward(sd, c, x.numpy(), s0.numpy(), h0.numpy())
    np.testing.assert_allclose(out.numpy(), n_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s_n.numpy(), n_s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), n_h, rtol=1e-12, atol=1e-12)
    after = model.state_dict()
    for k, v in n_bufs.items():
        np.testing.assert_allclose(after[k].numpy(), v, rtol=1e-12, atol=1e-12)
    print(f"  numpy forward {c['num_layers']} layer(s), {c['activation']}, bn={c['batch_norm']}, "
          f"residual={c['residual']}, batch_first={c['batch_first']}, T={c['seq_len']}: ok")


def check_defaults():
    m = DuRNN(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3)
    out, (s_n, h_n) = m(x)  # zero initial states
    out2, (s2, h2) = m(x, torch.zeros(2, 2, 4), torch.zeros(2, 2, 4))
    assert torch.equal(out, out2) and torch.equal(s_n, s2) and torch.equal(h_n, h2)
    assert out.shape == (5, 2, 4) and s_n.shape == (2, 2, 4) and h_n.shape == (2, 2, 4)
    print("  None initial states == zeros: ok")


def run_all():
    check_state_dict_keys()
    check_defaults()
    gradcheck_case(cfg())
    gradcheck_case(cfg(num_layers=2, batch_norm=True, residual=True, batch=3, seq_len=4))
    gradcheck_case(cfg(num_layers=2, activation="tanh", short_term_size=3, hidden_size=5,
                       batch_first=True, residual=True, seq_len=4))
    for c, ur in [(mf.CASES[i][2], mf.CASES[i][4]) for i in range(len(mf.CASES))]:
        check_numpy_forward(c, ur)


if __name__ == "__main__":
    run_all()
    print("all reference checks passed")
