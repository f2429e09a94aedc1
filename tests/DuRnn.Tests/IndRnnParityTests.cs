using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.utils.rnn;

namespace DuRnn.Tests
{
    /// <summary>
    /// <see cref="IndRNN"/>'s implementations agree with one another and with independent forms of the same
    /// computation: Fused = Batched = Reference (outputs, final states and every gradient); each sequence of a padded
    /// or packed batch equals running it alone; packed = padded; and TorchSharp's own <c>nn.RNN</c> (ReLU) with
    /// W_hh = diag(u) and zero recurrent biases, which is an IndRNN, gives the same outputs and h_n.
    /// </summary>
    /// <remarks>
    /// Tolerances as in <see cref="ImplementationParityTests"/>: float64 rtol 1e-10, atol 1e-12 (the paths differ only
    /// in summation order, ~1e-15 relative at these sizes, so 1e-10 catches any real difference); float32 rtol 1e-5
    /// (epsilon 1.2e-7 times a few dozen accumulated operations) with atol 1e-5 × the tensor's largest magnitude,
    /// because a gradient element is a sum of T·B·layers terms of mixed sign whose own size says nothing about the
    /// rounding it carries. Padded input is NaN wherever the model must not read it.
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

        /// <summary>Named configurations: (layers, batchFirst, bidirectional, batchNorm, residual, with h0, with lengths).</summary>
        private static readonly Dictionary<string, (int layers, bool batchFirst, bool bidirectional, bool batchNorm, bool residual, bool withState, bool withLengths)> Configurations = new()
        {
            ["one_layer"] = (1, false, false, false, false, false, false),
            ["two_layers_batch_first_h0"] = (2, true, false, false, true, true, false),
            ["three_layers_bidirectional_bn_residual"] = (3, false, true, true, true, true, false),
            ["two_layers_bidirectional_bn_lengths_h0"] = (2, false, true, true, true, true, true),
        };

        public static IEnumerable<object[]> ParityCases =>
            from impl in new[] { DuRNNImplementation.Fused, DuRNNImplementation.Batched }
            from dtype in new[] { ScalarType.Float64, ScalarType.Float32 }
            from name in Configurations.Keys
            select new object[] { impl, dtype, name };

        [Theory]
        [MemberData(nameof(ParityCases))]
        public void MatchesReference(DuRNNImplementation implementation, ScalarType dtype, string configuration)
        {
            using var scope = torch.NewDisposeScope();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            var reference = RunForParity(DuRNNImplementation.Reference, dtype, configuration);
            var other = RunForParity(implementation, dtype, configuration);
            other.Keys.Should().BeEquivalentTo(reference.Keys);
            foreach (var key in reference.Keys)
            {
                double atol = dtype == ScalarType.Float64 ? 1e-12 : rtol * reference[key].abs().max().to(F64).item<double>();
                TensorAssert.Close(other[key], reference[key], rtol, atol, $"{implementation} vs Reference ({configuration}, {dtype}), {key}");
            }
        }

        /// <summary>
        /// Under no_grad the fused recurrence runs without an autograd node, writing over its own temporary; it must
        /// still agree with the reference, with and without variable lengths.
        /// </summary>
        [Theory]
        [InlineData(ScalarType.Float64, false)]
        [InlineData(ScalarType.Float64, true)]
        [InlineData(ScalarType.Float32, false)]
        [InlineData(ScalarType.Float32, true)]
        public void InferenceWithoutGradientMatchesReference(ScalarType dtype, bool withLengths)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            torch.manual_seed(71);
            var model = new IndRNN(I, H, 2, bidirectional: true, residual: true, dtype: dtype);
            Randomize(model);
            var x = torch.randn(T, Lengths.Length, I, dtype: dtype);
            (Tensor y, Tensor hn) Call(DuRNNImplementation implementation)
            {
                model.Implementation = implementation;
                return withLengths ? model.call(x, Lengths) : model.call(x);
            }
            var (yRef, hRef) = Call(DuRNNImplementation.Reference);
            var (yFused, hFused) = Call(DuRNNImplementation.Fused);
            TensorAssert.Close(yFused, yRef, rtol, rtol * 0.01, "output");
            TensorAssert.Close(hFused, hRef, rtol, rtol * 0.01, "h_n");
        }

        public static IEnumerable<object[]> AloneCases =>
            from impl in new[] { DuRNNImplementation.Reference, DuRNNImplementation.Batched, DuRNNImplementation.Fused }
            from withState in new[] { false, true }
            from bidirectional in new[] { false, true }
            select new object[] { impl, withState, bidirectional };

        [Theory]
        [MemberData(nameof(AloneCases))]
        public void EachSequenceOfAPaddedBatchEqualsRunningItAlone(DuRNNImplementation implementation, bool withState, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(72);
            var model = Model(implementation, bidirectional);
            long B = Lengths.Length, D = bidirectional ? 2 : 1;
            var x = VariableLengthTests.PaddedInput(Lengths, T, I, double.NaN).requires_grad_();
            var h0 = withState ? torch.rand(L * D, B, H, dtype: F64).requires_grad_() : null;
            var rOut = torch.randn(T, B, D * H, dtype: F64);
            var rH = torch.randn(L * D, B, H, dtype: F64);

            var (y, hn) = model.call(x, torch.tensor(Lengths), h0);
            y.shape.Should().Equal(T, B, D * H);
            hn.shape.Should().Equal(L * D, B, H);
            ((y * rOut).sum() + (hn * rH).sum()).backward();
            var batchGrads = Gradients(model);
            var batchInputGrad = x.grad!.clone();
            var batchStateGrad = h0?.grad!.clone();

            // Every sequence alone, its own loss term: the batch loss is their sum, so its gradients are the sums.
            var summed = batchGrads.ToDictionary(kv => kv.Key, kv => torch.zeros_like(kv.Value));
            for (int b = 0; b < B; b++)
            {
                long len = Lengths[b];
                string what = $"{implementation}, sequence {b} (length {len})";
                model.zero_grad();
                var xb = x.detach()[..(int)len, b..(b + 1)].clone().requires_grad_();
                var hb = h0 is null ? null : h0.detach()[.., b..(b + 1)].clone().requires_grad_();
                var (yb, hnb) = model.call(xb, hb);
                TensorAssert.Close(y[..(int)len, b..(b + 1)], yb, Rtol, Atol, what + ": outputs");
                y[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: padded outputs are zeros");
                TensorAssert.Close(hn[.., b..(b + 1)], hnb, Rtol, Atol, what + ": h_n");

                ((yb * rOut[..(int)len, b..(b + 1)]).sum() + (hnb * rH[.., b..(b + 1)]).sum()).backward();
                foreach (var (name, g) in Gradients(model)) summed[name].add_(g);
                TensorAssert.Close(batchInputGrad[..(int)len, b..(b + 1)], xb.grad!, Rtol, Atol, what + ": input gradient");
                batchInputGrad[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: no gradient reaches padded input");
                if (batchStateGrad is not null && hb is not null)
                    TensorAssert.Close(batchStateGrad[.., b..(b + 1)], hb.grad!, Rtol, Atol, what + ": h0 gradient");
            }
            foreach (var (name, g) in batchGrads)
                TensorAssert.Close(g, summed[name], Rtol, Atol, $"{implementation}: gradient of {name}");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference, false)]
        [InlineData(DuRNNImplementation.Batched, true)]
        [InlineData(DuRNNImplementation.Fused, false)]
        [InlineData(DuRNNImplementation.Fused, true)]
        public void PackedSequenceEqualsThePaddedForm(DuRNNImplementation implementation, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(73);
            var model = Model(implementation, bidirectional);
            long B = Lengths.Length, D = bidirectional ? 2 : 1;
            var x = VariableLengthTests.PaddedInput(Lengths, T, I, 0).requires_grad_();
            var h0 = torch.rand(L * D, B, H, dtype: F64);
            var lengths = torch.tensor(Lengths);

            var packed = pack_padded_sequence(x, lengths, enforce_sorted: false);
            var (output, hn) = model.call(packed, h0);
            output.data.shape.Should().Equal(Lengths.Sum(), D * H);
            output.batch_sizes.eq(packed.batch_sizes).all().item<bool>().Should().BeTrue("the output keeps the input's batch sizes");
            output.sorted_indices.eq(packed.sorted_indices).all().item<bool>().Should().BeTrue("the output keeps the input's order");
            var (padded, outLengths) = pad_packed_sequence(output, total_length: T);
            outLengths.eq(lengths).all().item<bool>().Should().BeTrue();

            var (expected, expectedHn) = model.call(x, lengths, h0);
            TensorAssert.Close(padded, expected, Rtol, Atol, "packed output, padded");
            TensorAssert.Close(hn, expectedHn, Rtol, Atol, "h_n (original order)");

            output.data.sum().backward();
            x.grad!.abs().sum().item<double>().Should().BeGreaterThan(0, "gradients reach the input through the packed data");
            x.grad![(int)T - 1].eq(0).all().item<bool>().Should().BeTrue("no sequence reaches the last step");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Fused)]
        public void BatchFirstArrayLengthsAndFullLengthsAgreeWithTheOrdinaryForms(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(74);
            var timeFirst = Model(implementation, bidirectional: true);
            var batchFirst = new IndRNN(I, H, L, residual: true, batchFirst: true, bidirectional: true, dtype: F64) { Implementation = implementation };
            batchFirst.load_state_dict(timeFirst.state_dict());
            var x = VariableLengthTests.PaddedInput(Lengths, T, I, 0);
            var (y1, h1) = timeFirst.call(x, torch.tensor(Lengths), null);
            var (y2, h2) = batchFirst.call(x.transpose(0, 1).contiguous(), Lengths);
            TensorAssert.Close(y2.transpose(0, 1), y1, 0, 0, "batch-first output");
            TensorAssert.Close(h2, h1, 0, 0, "batch-first h_n (layers first)");

            var full = torch.randn(T, 3, I, dtype: F64);
            var (y3, h3) = timeFirst.call(full);
            var (y4, h4) = timeFirst.call(full, new[] { T, T, T });
            TensorAssert.Close(y4, y3, 0, 0, "full lengths: output");
            TensorAssert.Close(h4, h3, 0, 0, "full lengths: h_n");
        }

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
            var model = new IndRNN(I, H, L, bidirectional: true, dtype: F64) { Implementation = implementation };
            Randomize(model);
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
            var x = VariableLengthTests.PaddedInput(Lengths, T, I, 0);
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

        // ---------------------------------------------------------------- helpers

        /// <summary>Runs one seeded forward and backward; returns outputs, h_n and all gradients by name.</summary>
        private static Dictionary<string, Tensor> RunForParity(DuRNNImplementation implementation, ScalarType dtype, string configuration)
        {
            const long steps = 12, batch = 4, inputSize = 5, hidden = 5;
            var (layers, batchFirst, bidirectional, batchNorm, residual, withState, withLengths) = Configurations[configuration];
            long[] lengths = { 12, 7, 1, 9 };
            torch.manual_seed(1234);
            var model = new IndRNN(inputSize, hidden, layers, batchNorm: batchNorm, residual: residual, batchFirst: batchFirst,
                bidirectional: bidirectional, dtype: dtype) { Implementation = implementation };
            Randomize(model);
            long entries = layers * (bidirectional ? 2 : 1);
            var x = (batchFirst ? torch.randn(batch, steps, inputSize, dtype: dtype) : torch.randn(steps, batch, inputSize, dtype: dtype)).requires_grad_();
            var h0 = withState ? torch.rand(entries, batch, hidden, dtype: dtype).requires_grad_() : null;
            var (y, hn) = withLengths ? model.call(x, lengths, h0) : model.call(x, h0);
            var rOut = torch.randn_like(y);
            var rH = torch.randn_like(hn);
            ((y * rOut).sum() + (hn * rH).sum()).backward();
            var result = new Dictionary<string, Tensor> { ["output"] = y.detach(), ["h_n"] = hn.detach(), ["grad_input"] = x.grad! };
            if (h0 is not null) result["grad_h0"] = h0.grad!;
            foreach (var (name, p) in model.named_parameters())
                result["grad " + name] = p.grad!;
            foreach (var (name, buffer) in model.named_buffers())
                if (!name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) result[name] = buffer.detach();
            return result;
        }

        private static IndRNN Model(DuRNNImplementation implementation, bool bidirectional)
        {
            var model = new IndRNN(I, H, L, residual: true, bidirectional: bidirectional, dtype: F64) { Implementation = implementation };
            Randomize(model);
            return model;
        }

        /// <summary>O(1) random parameters so every path carries signal (the default W ~ N(0, 0.001²) is tiny).</summary>
        internal static void Randomize(IndRNN model)
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.EndsWith("weight_hh", StringComparison.Ordinal)) p.uniform_(0.5, 1.0);
                else if (p.dim() == 2) p.normal_(0, 1.0 / Math.Sqrt(p.shape[1]));
                else p.normal_(0, 0.1);
            }
        }

        private static Dictionary<string, Tensor> Gradients(torch.nn.Module model) =>
            model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? torch.zeros_like(p.parameter));
    }
}
