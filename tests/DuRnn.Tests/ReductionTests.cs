using System;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// DuRNN reduces to known models: with the long-term part ignored, the short-term part is TorchSharp's nn.RNN
    /// on the same weights; with U_s = 0 and the gate saturated open, a layer is IndRNN fed by φ(W_s x + b_s).
    /// float64 throughout; tolerance rtol 1e-12, atol 1e-14: the same products summed by different kernels
    /// differ only by a few ulps over 10 steps.
    /// </summary>
    [Collection("Sequential")]
    public sealed class ReductionTests
    {
        private const long T = 10, B = 3, I = 4, S = 6;

        [Theory]
        [InlineData(ShortTermActivation.ReLU, DuRNNImplementation.Reference)]
        [InlineData(ShortTermActivation.ReLU, DuRNNImplementation.Batched)]
        [InlineData(ShortTermActivation.ReLU, DuRNNImplementation.Fused)]
        [InlineData(ShortTermActivation.Tanh, DuRNNImplementation.Reference)]
        [InlineData(ShortTermActivation.Tanh, DuRNNImplementation.Batched)]
        [InlineData(ShortTermActivation.Tanh, DuRNNImplementation.Fused)]
        public void ShortTermPartIsTorchSharpsRnn(ShortTermActivation activation, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(11);
            var layer = new DuRNNLayer(I, 5, S, activation, shortTermConstraint: ShortTermConstraint.None, dtype: ScalarType.Float64);
            layer.Implementation = implementation;
            using (torch.no_grad())
            {
                layer.ShortTerm.weight_hh.normal_(0, 0.4);
                layer.ShortTerm.bias_ih.normal_(0, 0.3);
            }
            var rnn = torch.nn.RNN(I, S, 1, activation == ShortTermActivation.ReLU ? torch.nn.NonLinearities.ReLU : torch.nn.NonLinearities.Tanh,
                dtype: ScalarType.Float64);
            using (torch.no_grad())
            {
                var p = rnn.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
                p["weight_ih_l0"].copy_(layer.ShortTerm.weight_ih);
                p["weight_hh_l0"].copy_(layer.ShortTerm.weight_hh);
                p["bias_ih_l0"].copy_(layer.ShortTerm.bias_ih);
                p["bias_hh_l0"].zero_();
            }
            var x = torch.randn(T, B, I, dtype: ScalarType.Float64);
            var s0 = torch.rand(B, S, dtype: ScalarType.Float64);
            var (rnnOut, rnnFinal) = rnn.call(x, s0.unsqueeze(0));

            // Every step of the short-term cell.
            Tensor s = s0;
            for (long t = 0; t < T; t++)
            {
                s = layer.ShortTerm.call(x[t], s);
                TensorAssert.Close(s, rnnOut[t], 1e-12, 1e-14, $"s_{t + 1}");
            }
            // The layer's final short-term state, whichever implementation runs it.
            var (_, sT, _) = layer.call(x, s0, null);
            TensorAssert.Close(sT, rnnFinal[0], 1e-12, 1e-14, "s_T from the layer");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void WithoutShortTermRecurrenceAndAnOpenGateALayerIsIndRnn(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(12);
            const long H = 5;
            var layer = new DuRNNLayer(I, H, S, dtype: ScalarType.Float64) { Implementation = implementation };
            using (torch.no_grad())
            {
                layer.ShortTerm.weight_hh.zero_();            // U_s = 0
                layer.ShortTerm.bias_ih.normal_(0, 0.3);
                layer.Gate.weight_ih.zero_();                 // g = σ(50) = 1 in float64
                layer.Gate.weight_sh.zero_();
                layer.Gate.bias.fill_(50.0);
                layer.LongTerm.weight_ih.normal_(0, 0.5);
                layer.LongTerm.bias_ih.normal_(0, 0.3);
                layer.LongTerm.weight_hh.uniform_(-1, 1);
            }
            var x = torch.randn(T, B, I, dtype: ScalarType.Float64);
            var h0 = torch.rand(B, H, dtype: ScalarType.Float64);
            var (output, _, hT) = layer.call(x, null, h0);

            // IndRNN: h_t = ReLU(W_h s_t + b_h + u ⊙ h_{t−1}) with s_t = ReLU(W_s x_t + b_s).
            var st = layer.ShortTerm;
            var lt = layer.LongTerm;
            Tensor h = h0;
            for (long t = 0; t < T; t++)
            {
                var sIn = torch.nn.functional.relu(torch.matmul(x[t], st.weight_ih.t()) + st.bias_ih);
                h = torch.nn.functional.relu(torch.matmul(sIn, lt.weight_ih.t()) + lt.bias_ih + lt.weight_hh * h);
                TensorAssert.Close(output[t], h, 1e-12, 1e-14, $"h_{t + 1}");
            }
            TensorAssert.Close(hT, h, 1e-12, 1e-14, "h_T");
            output.abs().sum().item<double>().Should().BeGreaterThan(0, "the comparison must not be between zeros");
        }
    }
}
