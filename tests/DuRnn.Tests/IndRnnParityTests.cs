using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.utils.rnn;

namespace DuRnn.Tests
{
    /// <summary>
    /// <see cref="IndRNN"/> against an independent form of the same computation: TorchSharp's own <c>nn.RNN</c> (ReLU)
    /// with W_hh = diag(u) and zero recurrent biases, which is an IndRNN, gives the same outputs and h_n. What both
    /// stacks share (Fused = Batched = Reference, variable lengths, packed sequences) is tested for both in
    /// <see cref="ImplementationParityTests"/> and <see cref="VariableLengthTests"/>.
    /// </summary>
    /// <remarks>
    /// Tolerances: float64 rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/> (the two run the same
    /// operations in another order, ~1e-15 relative at these sizes, so 1e-10 catches any real difference).
    /// </remarks>
    [Collection("Sequential")]
    public sealed class IndRnnParityTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const ScalarType F64 = ScalarType.Float64;
        private const double Rtol = 1e-10, Atol = 1e-12;
        private const long T = 11, I = 4, H = 5, L = 2;

        /// <summary>Unsorted, with ties, a length-1 sequence, and none spanning all T = 11 steps.</summary>
        private static readonly long[] Lengths = { 5, 9, 1, 9, 3 };

        /// <summary>
        /// TorchSharp's <c>nn.RNN</c> with ReLU, W_hh = diag(u) and b_hh = 0 computes ReLU(W x_t + b + u ⊙ h_{t−1}):
        /// an IndRNN in LibTorch's own kernel. A 2-layer bidirectional stack (no BatchNorm, no residual) on a plain and
        /// on a packed batch, with an initial state, gives the same outputs and h_n, for each implementation.
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void EqualsTorchSharpRnnWithDiagonalRecurrentWeights(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(75);
            using var model = new IndRNN(I, H, L, bidirectional: true, dtype: F64) { Implementation = implementation };
            TestData.Randomize(model);
            var rnn = torch.nn.RNN(I, H, L, torch.nn.NonLinearities.ReLU, bidirectional: true, dtype: F64);
            var rnnParameters = rnn.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            using (torch.no_grad())
            {
                for (int l = 0; l < L; l++)
                {
                    foreach (var (cell, suffix) in new[] { (model.Layers[l], ""), (model.ReverseLayers[l], "_reverse") })
                    {
                        rnnParameters[$"weight_ih_l{l}{suffix}"].copy_(cell.weight_ih);
                        rnnParameters[$"bias_ih_l{l}{suffix}"].copy_(cell.bias_ih);
                        rnnParameters[$"weight_hh_l{l}{suffix}"].copy_(torch.diag(cell.weight_hh));
                        rnnParameters[$"bias_hh_l{l}{suffix}"].zero_();
                    }
                }
            }
            long B = Lengths.Length;
            var x = TestData.PaddedInput(Lengths, T, I, 0);
            var h0 = torch.rand(L * 2, B, H, dtype: F64);

            var (y, hn) = model.call(x, h0);
            var (yRnn, hnRnn) = rnn.call(x, h0);
            TensorAssert.Close(y, yRnn, Rtol, Atol, "output, full sequences");
            TensorAssert.Close(hn, hnRnn, Rtol, Atol, "h_n, full sequences");

            var packed = pack_padded_sequence(x, torch.tensor(Lengths), enforce_sorted: false);
            var (yp, hnp) = model.call(packed, h0);
            var (ypRnn, hnpRnn) = rnn.call(packed, h0);
            TensorAssert.Close(pad_packed_sequence(yp, total_length: T).Item1, pad_packed_sequence(ypRnn, total_length: T).Item1, Rtol, Atol, "output, packed");
            TensorAssert.Close(hnp, hnpRnn, Rtol, Atol, "h_n, packed");
        }
    }
}
