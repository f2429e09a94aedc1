"""Readable PyTorch reference implementation of DuRNN (Dual Recurrent Neural Network).

This file is the independent reference used to produce the golden fixtures the C# tests
compare against (see make_fixtures.py). It is written for clarity, not speed: every layer
loops over time in plain Python.

Equations for one layer (x_t: (B, I), short-term size S, long-term size H):

    s_t = phi(x_t W_s^T + b_s + s_{t-1} U_s^T)            phi = relu | tanh
    g_t = sigmoid(x_t W_gx^T + s_t W_gs^T + b_g)
    h_t = relu((g_t * s_t) W_h^T + b_h + u * h_{t-1})     u: (H,), element-wise
    y_t = h_t ;  final state (s_T, h_T)

Stack of L layers (time-major internally, (T, B, .)):

    x = input
    for l in 0..L-1:
        y, s_T, h_T = layer_l(x, s0[l], h0[l])
        if residual and x.shape[-1] == H: y = y + x
        if l < L-1:
            if batch_norm: y = BatchNorm1d(H)(y.reshape(T*B, H)).reshape(T, B, H)
            if training and dropout > 0: y = y * mask, mask (1, B, H) ~ Bernoulli(1-p)/(1-p)
        x = y
    output = x ; s_n = stack(s_T) (L, B, S) ; h_n = stack(h_T) (L, B, H)

state_dict keys (per layer l):
    layers.{l}.short_term.weight_ih (S, I_l)   layers.{l}.short_term.bias_ih (S,)
    layers.{l}.short_term.weight_hh (S, S)
    layers.{l}.gate.weight_ih (S, I_l)         layers.{l}.gate.weight_sh (S, S)
    layers.{l}.gate.bias (S,)
    layers.{l}.long_term.weight_ih (H, S)      layers.{l}.long_term.bias_ih (H,)
    layers.{l}.long_term.weight_hh (H,)
    norms.{l}.{weight,bias,running_mean,running_var,num_batches_tracked}  l = 0..L-2, batch_norm only
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ShortTermCell(nn.Module):
    """s_t = phi(x_t W_s^T + b_s + s_{t-1} U_s^T)."""

    def __init__(self, input_size, short_term_size, activation="relu"):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.activation = activation
        self.weight_ih = nn.Parameter(torch.empty(short_term_size, input_size))
        self.bias_ih = nn.Parameter(torch.empty(short_term_size))
        self.weight_hh = nn.Parameter(torch.empty(short_term_size, short_term_size))

    def forward(self, x_t, s_prev):
        pre = x_t @ self.weight_ih.t() + self.bias_ih + s_prev @ self.weight_hh.t()
        return torch.relu(pre) if self.activation == "relu" else torch.tanh(pre)


class SelectionGate(nn.Module):
    """g_t = sigmoid(x_t W_gx^T + s_t W_gs^T + b_g)."""

    def __init__(self, input_size, short_term_size):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(short_term_size, input_size))
        self.weight_sh = nn.Parameter(torch.empty(short_term_size, short_term_size))
        self.bias = nn.Parameter(torch.empty(short_term_size))

    def forward(self, x_t, s_t):
        return torch.sigmoid(x_t @ self.weight_ih.t() + s_t @ self.weight_sh.t() + self.bias)


class LongTermCell(nn.Module):
    """h_t = relu(z_t W_h^T + b_h + u * h_{t-1}), z_t = g_t * s_t (IndRNN cell)."""

    def __init__(self, short_term_size, hidden_size):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, short_term_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size))

    def forward(self, z_t, h_prev):
        return torch.relu(z_t @ self.weight_ih.t() + self.bias_ih + self.weight_hh * h_prev)


class DuRNNLayer(nn.Module):
    def __init__(self, input_size, hidden_size, short_term_size=None, activation="relu"):
        super().__init__()
        if short_term_size is None:
            short_term_size = hidden_size
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.short_term_size = short_term_size
        # Registration order fixes the state_dict order.
        self.short_term = ShortTermCell(input_size, short_term_size, activation)
        self.gate = SelectionGate(input_size, short_term_size)
        self.long_term = LongTermCell(short_term_size, hidden_size)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        # A plausible default (close to the project's documented init); the fixture script
        # overwrites every parameter with random values anyway.
        nn.init.kaiming_uniform_(self.short_term.weight_ih, a=math.sqrt(5))
        self.short_term.bias_ih.zero_()
        self.short_term.weight_hh.copy_(0.9 * torch.eye(self.short_term_size))
        nn.init.kaiming_uniform_(self.gate.weight_ih, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.gate.weight_sh, a=math.sqrt(5))
        self.gate.bias.zero_()
        self.long_term.weight_ih.normal_(0.0, 0.001)
        self.long_term.bias_ih.zero_()
        self.long_term.weight_hh.uniform_(0.0, 1.0)

    def forward(self, x, s0, h0):
        """x: (T, B, I); s0: (B, S); h0: (B, H). Returns y (T, B, H), s_T (B, S), h_T (B, H)."""
        s, h = s0, h0
        ys = []
        for t in range(x.shape[0]):
            x_t = x[t]
            s = self.short_term(x_t, s)
            g = self.gate(x_t, s)
            h = self.long_term(g * s, h)
            ys.append(h)
        return torch.stack(ys, dim=0), s, h


class DuRNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, short_term_size=None,
                 activation="relu", batch_norm=False, residual=False, dropout=0.0,
                 batch_first=False):
        super().__init__()
        if short_term_size is None:
            short_term_size = hidden_size
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.short_term_size = short_term_size
        self.num_layers = num_layers
        self.activation = activation
        self.batch_norm = batch_norm
        self.residual = residual
        self.dropout = dropout
        self.batch_first = batch_first
        self.layers = nn.ModuleList([
            DuRNNLayer(input_size if l == 0 else hidden_size, hidden_size, short_term_size, activation)
            for l in range(num_layers)
        ])
        if batch_norm:
            self.norms = nn.ModuleList([nn.BatchNorm1d(hidden_size, eps=1e-5, momentum=0.1)
                                        for _ in range(num_layers - 1)])

    def forward(self, input, s0=None, h0=None):
        """input: (T, B, I), or (B, T, I) when batch_first.
        s0: (L, B, S), h0: (L, B, H) (zeros when None).
        Returns output ((T, B, H) or (B, T, H)), (s_n (L, B, S), h_n (L, B, H))."""
        x = input.transpose(0, 1) if self.batch_first else input
        T, B = x.shape[0], x.shape[1]
        L, S, H = self.num_layers, self.short_term_size, self.hidden_size
        if s0 is None:
            s0 = x.new_zeros(L, B, S)
        if h0 is None:
            h0 = x.new_zeros(L, B, H)
        s_finals, h_finals = [], []
        for l, layer in enumerate(self.layers):
            y, s_T, h_T = layer(x, s0[l], h0[l])
            s_finals.append(s_T)
            h_finals.append(h_T)
            if self.residual and x.shape[-1] == H:
                y = y + x
            if l < L - 1:
                if self.batch_norm:
                    y = self.norms[l](y.reshape(T * B, H)).reshape(T, B, H)
                if self.training and self.dropout > 0.0:
                    keep = 1.0 - self.dropout
                    mask = torch.bernoulli(y.new_full((1, B, H), keep)) / keep
                    y = y * mask
            x = y
        output = x.transpose(0, 1) if self.batch_first else x
        return output, (torch.stack(s_finals, dim=0), torch.stack(h_finals, dim=0))


def expected_state_dict_keys(num_layers, batch_norm):
    """The exact state_dict key list the C# module must reproduce."""
    keys = []
    for l in range(num_layers):
        p = f"layers.{l}."
        keys += [p + "short_term.weight_ih", p + "short_term.bias_ih", p + "short_term.weight_hh",
                 p + "gate.weight_ih", p + "gate.weight_sh", p + "gate.bias",
                 p + "long_term.weight_ih", p + "long_term.bias_ih", p + "long_term.weight_hh"]
    if batch_norm:
        for l in range(num_layers - 1):
            p = f"norms.{l}."
            keys += [p + "weight", p + "bias", p + "running_mean", p + "running_var",
                     p + "num_batches_tracked"]
    return keys
