"""Readable PyTorch reference implementation of IndRNN (Independently Recurrent Neural Network).

The independent reference behind the IndRNN golden fixtures of the C# tests (see
make_indrnn_fixtures.py). Written for clarity, not speed: every sequence of the batch runs through
its valid steps in a plain Python loop, one step at a time, so variable lengths need no masking.

One layer, one direction (x_t: (I,), hidden size H; Li et al., CVPR 2018):

    h_t = relu(W x_t + b + u * h_{t-1})       u: (H,), element-wise;  y_t = h_t
    final state h_T (the state after the sequence's last valid step)

The backward direction of a bidirectional layer runs the same equation over the sequence's valid
part reversed (x_len, ..., x_1); its output at step t is the state after reading x_t, and its final
state is the one after reading x_1.

Stack of L layers (time-major internally, (T, B, .)); D = 2 when bidirectional, else 1:

    x = input
    for l in 0..L-1:
        y = [forward y, backward y] (T, B, D*H), zero at padded steps
        if residual and x.shape[-1] == D*H: y = y + x
        if l < L-1 and batch_norm: y = BatchNorm1d(D*H) over the valid (t, b) positions only
        x = y
    output = x ;  h_n (L*D, B, H), entry l*D + direction

Dropout between layers is not modelled here: the fixtures use p = 0.

state_dict keys (per layer l; I_0 = input size, I_l = D*H):
    layers.{l}.weight_ih (H, I_l)   layers.{l}.bias_ih (H,)   layers.{l}.weight_hh (H,)
    layers_reverse.{l}.*            the same, backward direction (bidirectional only)
    norms.{l}.{weight,bias,running_mean,running_var,num_batches_tracked}  l = 0..L-2, batch_norm only

U_bound and the initialisation (IndRNN's rules) are not part of the forward pass; the fixture
script overwrites every parameter with random values.
"""

import torch
import torch.nn as nn


class IndRNNCell(nn.Module):
    """h_t = relu(x_t W^T + b + u * h_{t-1})."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size))
        with torch.no_grad():
            self.weight_ih.normal_(0.0, 0.001)
            self.bias_ih.zero_()
            self.weight_hh.uniform_(0.0, 1.0)

    def forward(self, x_t, h_prev):
        return torch.relu(x_t @ self.weight_ih.t() + self.bias_ih + self.weight_hh * h_prev)


def run_direction(cell, x, lengths, h0, reverse):
    """x: (T, B, I), h0: (B, H). Each sequence b on its own, through its first lengths[b] steps
    (backwards when reverse). Returns y (T, B, H) with zeros at padded steps, and h_T (B, H)."""
    T, B = x.shape[0], x.shape[1]
    columns, finals = [], []
    for b in range(B):
        n = lengths[b]
        h = h0[b:b + 1]
        ys = [None] * n
        steps = range(n - 1, -1, -1) if reverse else range(n)
        for t in steps:
            h = cell(x[t, b:b + 1], h)
            ys[t] = h
        pad = [x.new_zeros(1, h.shape[1])] * (T - n)
        columns.append(torch.cat(ys + pad, dim=0))  # (T, H)
        finals.append(h)
    return torch.stack(columns, dim=1), torch.cat(finals, dim=0)


class IndRNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, batch_norm=False, residual=False,
                 batch_first=False, bidirectional=False):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.batch_norm = batch_norm
        self.residual = residual
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        D = 2 if bidirectional else 1
        self.num_directions = D
        # Registration order fixes the state_dict order.
        self.layers = nn.ModuleList([
            IndRNNCell(input_size if l == 0 else D * hidden_size, hidden_size) for l in range(num_layers)])
        if bidirectional:
            self.layers_reverse = nn.ModuleList([
                IndRNNCell(input_size if l == 0 else D * hidden_size, hidden_size) for l in range(num_layers)])
        if batch_norm and num_layers > 1:
            self.norms = nn.ModuleList([nn.BatchNorm1d(D * hidden_size, eps=1e-5, momentum=0.1)
                                        for _ in range(num_layers - 1)])

    def forward(self, input, h0=None, lengths=None):
        """input: (T, B, I), or (B, T, I) when batch_first. h0: (L*D, B, H), zeros when None.
        lengths: a list of B lengths in [1, T] (any order); None means every sequence has T steps.
        Returns output ((T, B, D*H) or (B, T, D*H), zeros at padded steps) and h_n (L*D, B, H)."""
        x = input.transpose(0, 1) if self.batch_first else input
        T, B = x.shape[0], x.shape[1]
        L, H, D = self.num_layers, self.hidden_size, self.num_directions
        if lengths is None:
            lengths = [T] * B
        lengths = [int(n) for n in lengths]
        if h0 is None:
            h0 = x.new_zeros(L * D, B, H)
        valid = torch.tensor([[t < n for n in lengths] for t in range(T)])  # (T, B) bool
        x = x * valid.unsqueeze(-1).to(x.dtype)  # padded input takes no part in anything
        finals = []
        for l in range(L):
            y, h_T = run_direction(self.layers[l], x, lengths, h0[l * D], reverse=False)
            finals.append(h_T)
            if self.bidirectional:
                y_r, h_r = run_direction(self.layers_reverse[l], x, lengths, h0[l * D + 1], reverse=True)
                finals.append(h_r)
                y = torch.cat([y, y_r], dim=2)
            if self.residual and x.shape[-1] == D * H:
                y = y + x
            if l < L - 1 and self.batch_norm:
                rows = valid.reshape(T * B).nonzero().squeeze(1)  # valid (t, b), t-major
                flat = y.reshape(T * B, D * H)
                normalized = self.norms[l](flat[rows])
                y = flat.new_zeros(T * B, D * H).index_copy(0, rows, normalized).reshape(T, B, D * H)
            x = y
        output = x.transpose(0, 1) if self.batch_first else x
        return output, torch.stack(finals, dim=0)


def expected_state_dict_keys(num_layers, batch_norm, bidirectional):
    """The exact state_dict key list the C# IndRNN must reproduce."""
    keys = []
    for group in (["layers"] + (["layers_reverse"] if bidirectional else [])):
        for l in range(num_layers):
            keys += [f"{group}.{l}.weight_ih", f"{group}.{l}.bias_ih", f"{group}.{l}.weight_hh"]
    if batch_norm:
        for l in range(num_layers - 1):
            keys += [f"norms.{l}.{k}" for k in
                     ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
    return keys
