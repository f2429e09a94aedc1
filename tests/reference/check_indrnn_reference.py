"""Self-checks for the PyTorch IndRNN reference (run by make_indrnn_fixtures.py before it writes
anything; can also be run on its own: /usr/bin/python3 tests/reference/check_indrnn_reference.py).

1. state_dict keys and shapes equal the documented list, for several configurations.
2. torch.autograd.gradcheck (float64) of (output, h_n) with respect to the input, h0 and every
   parameter: one layer; a bidirectional BatchNorm + residual stack with variable lengths.
3. PyTorch's own torch.nn.RNN (ReLU) with the recurrent matrices set to diag(u) and zero recurrent
   biases is an IndRNN: it agrees with the reference on every fixture configuration without
   BatchNorm or residual connections (bidirectional, batch_first, variable lengths through
   pack_padded_sequence included).
4. An independent NumPy forward (written from the equations, no torch) agrees with the reference
   on every fixture configuration, including the BatchNorm running-statistics update.
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from indrnn_reference import IndRNN, expected_state_dict_keys  # noqa: E402
import make_indrnn_fixtures as mf  # noqa: E402

try:
    from torch.func import functional_call  # torch >= 2.0
except ImportError:  # torch 1.13
    from torch.nn.utils.stateless import functional_call


def check_state_dict_keys():
    literal = [
        "layers.0.weight_ih", "layers.0.bias_ih", "layers.0.weight_hh",
        "layers.1.weight_ih", "layers.1.bias_ih", "layers.1.weight_hh",
        "layers_reverse.0.weight_ih", "layers_reverse.0.bias_ih", "layers_reverse.0.weight_hh",
        "layers_reverse.1.weight_ih", "layers_reverse.1.bias_ih", "layers_reverse.1.weight_hh",
        "norms.0.weight", "norms.0.bias", "norms.0.running_mean", "norms.0.running_var",
        "norms.0.num_batches_tracked",
    ]
    assert expected_state_dict_keys(2, True, True) == literal
    for L in (1, 2, 3):
        for bn in (False, True):
            for bidir in (False, True):
                m = IndRNN(3, 4, num_layers=L, batch_norm=bn, bidirectional=bidir)
                sd = m.state_dict()
                assert list(sd.keys()) == expected_state_dict_keys(L, bn, bidir), (L, bn, bidir, list(sd))
                D = 2 if bidir else 1
                for group in ["layers"] + (["layers_reverse"] if bidir else []):
                    for l in range(L):
                        I = 3 if l == 0 else D * 4
                        assert tuple(sd[f"{group}.{l}.weight_ih"].shape) == (4, I)
                        assert tuple(sd[f"{group}.{l}.bias_ih"].shape) == (4,)
                        assert tuple(sd[f"{group}.{l}.weight_hh"].shape) == (4,)
                if bn:
                    for l in range(L - 1):
                        assert tuple(sd[f"norms.{l}.weight"].shape) == (D * 4,)
    print("  state_dict keys and shapes: ok")


def gradcheck_case(cfg, seed=7):
    torch.manual_seed(seed)
    model = mf.build_model(cfg, torch.float64)
    mf.randomize_parameters(model)
    x, h0, _, _ = mf.random_inputs(cfg, torch.float64)
    names = [k for k, _ in model.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in model.named_parameters()]
    buffers = {k: v for k, v in model.named_buffers()}

    def f(x, h0, *ps):
        state = dict(zip(names, ps))
        state.update({k: v.clone() for k, v in buffers.items()})  # keep the real buffers untouched
        return functional_call(model, state, (x, h0, cfg["lengths"]))

    inputs = (x.requires_grad_(True), h0.requires_grad_(True), *params)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    print(f"  gradcheck {describe(cfg)}: ok ({sum(p.numel() for p in params)} parameters)")


def describe(cfg):
    return (f"{cfg['num_layers']} layer(s), bn={cfg['batch_norm']}, residual={cfg['residual']}, "
            f"batch_first={cfg['batch_first']}, bidirectional={cfg['bidirectional']}, "
            f"T={cfg['seq_len']}, lengths={cfg['lengths']}")


def check_against_nn_rnn(cfg, u_range, seed=13):
    """torch.nn.RNN(relu) with W_hh = diag(u), b_hh = 0 is an IndRNN (no BN, no residual)."""
    torch.manual_seed(seed)
    model = mf.build_model(cfg, torch.float64).eval()
    mf.randomize_parameters(model, u_range)
    x, h0, _, _ = mf.random_inputs(cfg, torch.float64)
    L, H, D = cfg["num_layers"], cfg["hidden_size"], 2 if cfg["bidirectional"] else 1
    rnn = torch.nn.RNN(cfg["input_size"], H, num_layers=L, nonlinearity="relu", bias=True,
                       batch_first=cfg["batch_first"], bidirectional=cfg["bidirectional"]).double()
    with torch.no_grad():
        for l in range(L):
            for suffix, group in [("", "layers")] + ([("_reverse", "layers_reverse")] if D == 2 else []):
                cell = getattr(model, group)[l]
                getattr(rnn, f"weight_ih_l{l}{suffix}").copy_(cell.weight_ih)
                getattr(rnn, f"bias_ih_l{l}{suffix}").copy_(cell.bias_ih)
                getattr(rnn, f"weight_hh_l{l}{suffix}").copy_(torch.diag(cell.weight_hh))
                getattr(rnn, f"bias_hh_l{l}{suffix}").zero_()
        out, h_n = model(x, h0, cfg["lengths"])
        if cfg["lengths"] is None:
            r_out, r_h = rnn(x, h0)
        else:
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                x, torch.tensor(cfg["lengths"]), batch_first=cfg["batch_first"], enforce_sorted=False)
            r_packed, r_h = rnn(packed, h0)
            r_out, _ = torch.nn.utils.rnn.pad_packed_sequence(
                r_packed, batch_first=cfg["batch_first"], total_length=cfg["seq_len"])
    torch.testing.assert_close(out, r_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h_n, r_h, rtol=1e-12, atol=1e-12)
    print(f"  torch.nn.RNN with diagonal W_hh {describe(cfg)}: ok")


# ---------------------------------------------------------------- independent NumPy forward
def np_forward(sd, cfg, x, h0):
    """Plain NumPy, float64, written from the equations. Returns output, h_n, new buffers."""
    L, H = cfg["num_layers"], cfg["hidden_size"]
    D = 2 if cfg["bidirectional"] else 1
    cur = np.swapaxes(x, 0, 1) if cfg["batch_first"] else x  # (T, B, I)
    T, B = cur.shape[:2]
    lengths = cfg["lengths"] or [T] * B
    valid = np.array([[t < n for n in lengths] for t in range(T)])  # (T, B)
    cur = cur * valid[:, :, None]
    h_n, bufs = [], {}
    for l in range(L):
        ys = np.zeros((T, B, D * H))
        for d, group in enumerate(["layers", "layers_reverse"][:D]):
            W, b, u = (sd[f"{group}.{l}.{k}"] for k in ("weight_ih", "bias_ih", "weight_hh"))
            finals = np.zeros((B, H))
            for s in range(B):
                h = h0[l * D + d, s]
                order = range(lengths[s]) if d == 0 else reversed(range(lengths[s]))
                for t in order:
                    h = np.maximum(W @ cur[t, s] + b + u * h, 0.0)
                    ys[t, s, d * H:(d + 1) * H] = h
                finals[s] = h
            h_n.append(finals)
        if cfg["residual"] and cur.shape[-1] == D * H:
            ys = ys + cur
        if l < L - 1 and cfg["batch_norm"]:
            rows = ys[valid]                         # (N, D*H), the valid positions
            mean = rows.mean(axis=0)
            var_b = rows.var(axis=0)                 # biased: used to normalise
            var_u = rows.var(axis=0, ddof=1)         # unbiased: used for running_var
            normalized = (rows - mean) / np.sqrt(var_b + 1e-5) * sd[f"norms.{l}.weight"] + sd[f"norms.{l}.bias"]
            ys = np.zeros_like(ys)
            ys[valid] = normalized
            bufs[f"norms.{l}.running_mean"] = 0.1 * mean
            bufs[f"norms.{l}.running_var"] = 0.9 * 1.0 + 0.1 * var_u
        cur = ys
    out = np.swapaxes(cur, 0, 1) if cfg["batch_first"] else cur
    return out, np.stack(h_n), bufs


def check_numpy_forward(cfg, u_range, seed=11):
    torch.manual_seed(seed)
    model = mf.build_model(cfg, torch.float64)
    mf.randomize_parameters(model, u_range)
    x, h0, _, _ = mf.random_inputs(cfg, torch.float64)
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    with torch.no_grad():
        out, h_n = model(x, h0, cfg["lengths"])
    n_out, n_h, n_bufs = np_forward(sd, cfg, x.numpy(), h0.numpy())
    np.testing.assert_allclose(out.numpy(), n_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), n_h, rtol=1e-12, atol=1e-12)
    after = model.state_dict()
    for k, v in n_bufs.items():
        np.testing.assert_allclose(after[k].numpy(), v, rtol=1e-12, atol=1e-12)
    assert set(n_bufs) == {k for k in after if k.endswith("running_mean") or k.endswith("running_var")}
    print(f"  numpy forward {describe(cfg)}: ok")


def check_defaults():
    m = IndRNN(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(5, 2, 3)
    out, h_n = m(x)  # zero initial state, full lengths
    out2, h2 = m(x, torch.zeros(4, 2, 4), [5, 5])
    assert torch.equal(out, out2) and torch.equal(h_n, h2)
    assert out.shape == (5, 2, 8) and h_n.shape == (4, 2, 4)
    print("  None initial state == zeros, None lengths == full lengths: ok")


def run_all():
    check_state_dict_keys()
    check_defaults()
    gradcheck_case(mf.config())
    gradcheck_case(mf.config(num_layers=2, batch_norm=True, residual=True, bidirectional=True,
                             batch_first=True, hidden_size=3, seq_len=4, batch=3, lengths=[4, 1, 3]))
    # Bidirectional, batch_first and variable lengths together (the fixture with them has BN + residual).
    check_against_nn_rnn(mf.config(num_layers=2, bidirectional=True, batch_first=True, hidden_size=3,
                                   seq_len=5, batch=3, lengths=[5, 2, 4]), (-1.0, 1.0))
    for _, _, cfg, _, u_range in mf.CASES:
        if not cfg["batch_norm"] and not cfg["residual"]:
            check_against_nn_rnn(cfg, u_range)
        check_numpy_forward(cfg, u_range)


if __name__ == "__main__":
    run_all()
    print("all IndRNN reference checks passed")
