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
    /// Variable-length batches, padded (<c>call(input, lengths, state)</c>) and packed (<c>call(PackedSequence, state)</c>):
    /// every sequence's outputs, final state and gradients equal those of running it alone, for every implementation.
    /// </summary>
    /// <remarks>
    /// Tolerances (float64): rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/>: a batch of one
    /// and a batch of five run the same operations, but BLAS may block a product differently for different row
    /// counts, which changes only the summation order (~1e-15 relative here). Padded outputs must be exactly zero.
    /// Padded input is NaN wherever it is never read, so that any use of it shows up as NaN.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class VariableLengthTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const ScalarType F64 = ScalarType.Float64;
        private const double Rtol = 1e-10, Atol = 1e-12;

        /// <summary>Unsorted, with ties, a length-1 sequence, and none spanning all T = 11 steps.</summary>
        private static readonly long[] Lengths = { 5, 9, 1, 9, 3 };
        private const long T = 11, I = 4, H = 5, S = 3, L = 3;

        public static IEnumerable<object[]> Cases =>
            from impl in Enum.GetValues<DuRNNImplementation>()
            from withState in new[] { false, true }
            from bidirectional in new[] { false, true }
            select new object[] { impl, withState, bidirectional };

        [Theory]
        [MemberData(nameof(Cases))]
        public void EachSequenceOfAPaddedBatchEqualsRunningItAlone(DuRNNImplementation implementation, bool withState, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(51);
            var model = Model(implementation, bidirectional);
            long B = Lengths.Length, D = bidirectional ? 2 : 1;
            var x = PaddedInput(Lengths, T, I, float.NaN).requires_grad_();
            var state = withState ? RandomState(L * D, B, S, H) : null;
            var rOut = torch.randn(T, B, D * H, dtype: F64);
            var rS = torch.randn(L * D, B, S, dtype: F64);
            var rH = torch.randn(L * D, B, H, dtype: F64);

            var (y, final) = model.call(x, torch.tensor(Lengths), state);
            y.shape.Should().Equal(T, B, D * H);
            final.ShortTerm.shape.Should().Equal(L * D, B, S);
            Loss(y, final, rOut, rS, rH).backward();
            var batchGrads = Gradients(model);
            var batchInputGrad = x.grad!.clone();
            (Tensor, Tensor)? batchStateGrads = state is null ? null : (state.ShortTerm.grad!.clone(), state.LongTerm.grad!.clone());

            // Every sequence alone, its own loss term: the batch loss is their sum, so its gradients are the sums.
            var summedGrads = batchGrads.ToDictionary(kv => kv.Key, kv => torch.zeros_like(kv.Value));
            for (int b = 0; b < B; b++)
            {
                long len = Lengths[b];
                string what = $"{implementation}, sequence {b} (length {len})";
                model.zero_grad();
                var xb = x.detach()[..(int)len, b..(b + 1)].clone().requires_grad_();
                DuRNNState? sb = null;
                if (state is not null)
                    sb = new DuRNNState(state.ShortTerm.detach()[.., b..(b + 1)].clone().requires_grad_(), state.LongTerm.detach()[.., b..(b + 1)].clone().requires_grad_());
                var (yb, fb) = model.call(xb, sb);
                TensorAssert.Close(y[..(int)len, b..(b + 1)], yb, Rtol, Atol, what + ": outputs");
                y[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: padded outputs are zeros");
                TensorAssert.Close(final.ShortTerm[.., b..(b + 1)], fb.ShortTerm, Rtol, Atol, what + ": final s");
                TensorAssert.Close(final.LongTerm[.., b..(b + 1)], fb.LongTerm, Rtol, Atol, what + ": final h");

                Loss(yb, fb, rOut[..(int)len, b..(b + 1)], rS[.., b..(b + 1)], rH[.., b..(b + 1)]).backward();
                foreach (var (name, g) in Gradients(model)) summedGrads[name].add_(g);
                TensorAssert.Close(batchInputGrad[..(int)len, b..(b + 1)], xb.grad!, Rtol, Atol, what + ": input gradient");
                batchInputGrad[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: no gradient reaches padded input");
                if (batchStateGrads is { } stateGrads && sb is not null)
                {
                    TensorAssert.Close(stateGrads.Item1[.., b..(b + 1)], sb.ShortTerm.grad!, Rtol, Atol, what + ": s_0 gradient");
                    TensorAssert.Close(stateGrads.Item2[.., b..(b + 1)], sb.LongTerm.grad!, Rtol, Atol, what + ": h_0 gradient");
                }
            }
            foreach (var (name, g) in batchGrads)
                TensorAssert.Close(g, summedGrads[name], Rtol, Atol, $"{implementation}: gradient of {name}");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void BatchFirstAndLongArrayLengthsGiveTheSameResult(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(52);
            var timeFirst = Model(implementation, bidirectional: true);
            var batchFirst = new DuRNN(I, H, L, shortTermSize: S, activation: ShortTermActivation.Tanh, residual: true, batchFirst: true,
                bidirectional: true, dtype: F64) { Implementation = implementation };
            batchFirst.load_state_dict(timeFirst.state_dict());
            var x = PaddedInput(Lengths, T, I, 0);
            var (y1, s1) = timeFirst.call(x, torch.tensor(Lengths), null);
            var (y2, s2) = batchFirst.call(x.transpose(0, 1).contiguous(), Lengths);
            TensorAssert.Close(y2.transpose(0, 1), y1, 0, 0, "output");
            TensorAssert.Close(s2.ShortTerm, s1.ShortTerm, 0, 0, "s_n");
            TensorAssert.Close(s2.LongTerm, s1.LongTerm, 0, 0, "h_n");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void FullLengthsEqualTheOrdinaryCall(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(53);
            var model = Model(implementation, bidirectional: true);
            var x = torch.randn(T, 3, I, dtype: F64);
            var (y1, s1) = model.call(x);
            var (y2, s2) = model.call(x, new[] { T, T, T });
            TensorAssert.Close(y2, y1, 0, 0, "output");
            TensorAssert.Close(s2.LongTerm, s1.LongTerm, 0, 0, "h_n");
        }

        [Theory]
        [InlineData(DuRNNImplementation.Reference, false)]
        [InlineData(DuRNNImplementation.Batched, false)]
        [InlineData(DuRNNImplementation.Fused, false)]
        [InlineData(DuRNNImplementation.Fused, true)]
        [InlineData(DuRNNImplementation.Batched, true)]
        public void PackedSequenceEqualsThePaddedForm(DuRNNImplementation implementation, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(54);
            var model = Model(implementation, bidirectional);
            long B = Lengths.Length, D = bidirectional ? 2 : 1;
            var x = PaddedInput(Lengths, T, I, 0).requires_grad_();
            var state = RandomState(L * D, B, S, H);
            var lengths = torch.tensor(Lengths);

            var packed = pack_padded_sequence(x, lengths, enforce_sorted: false);
            var (output, final) = model.call(packed, state);
            output.data.shape.Should().Equal(Lengths.Sum(), D * H);
            output.batch_sizes.eq(packed.batch_sizes).all().item<bool>().Should().BeTrue("the output keeps the input's batch sizes");
            output.sorted_indices.eq(packed.sorted_indices).all().item<bool>().Should().BeTrue("the output keeps the input's order");
            var (padded, outLengths) = pad_packed_sequence(output, total_length: T);
            outLengths.eq(lengths).all().item<bool>().Should().BeTrue();

            var (expected, expectedFinal) = model.call(x, lengths, state);
            TensorAssert.Close(padded, expected, Rtol, Atol, "packed output, padded");
            TensorAssert.Close(final.ShortTerm, expectedFinal.ShortTerm, Rtol, Atol, "final s (original order)");
            TensorAssert.Close(final.LongTerm, expectedFinal.LongTerm, Rtol, Atol, "final h (original order)");

            // Gradients reach the input through the packed data.
            output.data.sum().backward();
            x.grad.Should().NotBeNull();
            x.grad!.abs().sum().item<double>().Should().BeGreaterThan(0);
            x.grad![(int)T - 1].eq(0).all().item<bool>().Should().BeTrue("no sequence reaches the last step");
        }

        /// <summary>
        /// float32 through the fused kernels' float instantiation: Fused and Batched against Reference on a
        /// variable-length bidirectional batch (rtol 1e-5, atol 1e-5 × the tensor's largest magnitude, as in
        /// <see cref="ImplementationParityTests"/>).
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Fused)]
        [InlineData(DuRNNImplementation.Batched)]
        public void Float32MatchesTheReference(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            Dictionary<string, Tensor> Run(DuRNNImplementation impl)
            {
                torch.manual_seed(59);
                var model = new DuRNN(I, H, 2, shortTermSize: S, bidirectional: true) { Implementation = impl };
                ImplementationParityTests.Randomize(model);
                var x = PaddedInput(Lengths, T, I, float.NaN).to(ScalarType.Float32).requires_grad_();
                var (y, final) = model.call(x, Lengths);
                ((y * torch.randn_like(y)).sum() + (final.LongTerm * torch.randn_like(final.LongTerm)).sum()).backward();
                var result = model.named_parameters().ToDictionary(p => "grad " + p.name, p => p.parameter.grad!);
                result["output"] = y.detach();
                result["h_n"] = final.LongTerm.detach();
                result["grad input"] = x.grad!;
                return result;
            }
            var reference = Run(DuRNNImplementation.Reference);
            var other = Run(implementation);
            foreach (var (key, expected) in reference)
                TensorAssert.Close(other[key], expected, 1e-5, 1e-5 * expected.abs().max().item<float>(), $"{implementation} vs Reference (float32): {key}");
        }

        [Fact]
        public void PackedSequenceSortedByTheCallerKeepsNoIndices()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(55);
            var model = Model(DuRNNImplementation.Auto, bidirectional: false);
            long[] sorted = { 7, 4, 4, 2 };
            var x = PaddedInput(sorted, 7, I, 0);
            var packed = pack_padded_sequence(x, torch.tensor(sorted), enforce_sorted: true);
            var (output, final) = model.call(packed);
            output.sorted_indices.IsInvalid.Should().BeTrue("the input had none (enforce_sorted)");
            var (padded, _) = pad_packed_sequence(output);
            var (expected, expectedFinal) = model.call(x, sorted);
            TensorAssert.Close(padded, expected, Rtol, Atol, "output");
            TensorAssert.Close(final.LongTerm, expectedFinal.LongTerm, Rtol, Atol, "h_n");
        }

        [Fact]
        public void PackSequenceOfSeparateTensorsWorks()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(56);
            var model = Model(DuRNNImplementation.Auto, bidirectional: true);
            var sequences = new[] { torch.randn(3, I, dtype: F64), torch.randn(6, I, dtype: F64), torch.randn(1, I, dtype: F64) };
            var (output, final) = model.call(pack_sequence(sequences, enforce_sorted: false));
            var (padded, _) = pad_packed_sequence(output);
            for (int b = 0; b < sequences.Length; b++)
            {
                var (alone, aloneFinal) = model.call(sequences[b].unsqueeze(1));
                TensorAssert.Close(padded[..(int)sequences[b].shape[0], b..(b + 1)], alone, Rtol, Atol, $"sequence {b}");
                TensorAssert.Close(final.LongTerm[.., b..(b + 1)], aloneFinal.LongTerm, Rtol, Atol, $"sequence {b}: h_n");
            }
        }

        [Fact]
        public void BatchNormStatisticsIgnorePaddedSteps()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(57);
            var a = new DuRNN(I, H, 3, batchNorm: true, bidirectional: true, dtype: F64);
            ImplementationParityTests.Randomize(a);
            var b = new DuRNN(I, H, 3, batchNorm: true, bidirectional: true, dtype: F64);
            b.load_state_dict(a.state_dict());
            long[] lengths = { 4, 2, 6 };
            var x = PaddedInput(lengths, 6, I, 0);
            // The same sequences padded to 10 steps with different padding values: the same outputs and statistics.
            var longer = torch.cat(new[] { x, torch.zeros(4, 3, I, dtype: F64) }).masked_fill_(PaddingMask(lengths, 10, I), 3.0);
            var (y1, _) = a.call(x, lengths);
            var (y2, _) = b.call(longer, lengths);
            TensorAssert.Close(y2[..6], y1, Rtol, Atol, "output at the first 6 steps");
            y2[6..].eq(0).all().item<bool>().Should().BeTrue();
            foreach (var (key, value) in a.state_dict().Where(kv => kv.Key.Contains("running_")))
                TensorAssert.Close(b.state_dict()[key], value, Rtol, Atol, key);
        }

        /// <summary>
        /// Finite-difference check (see <see cref="GradientCheckTests"/> for the criterion and tolerances) of a
        /// variable-length batch through a 2-layer bidirectional stack with BatchNorm (statistics over valid steps) and
        /// residual connections, with an initial state: every parameter, the input and the state.
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        [InlineData(DuRNNImplementation.Auto)]
        public void GradientCheckOfAVariableLengthBatch(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(58);
            const long steps = 5, features = 3, hidden = 3, layers = 2;
            long[] lengths = { 4, 2, 5 };
            long batch = lengths.Length;
            using var model = new DuRNN(features, hidden, layers, batchNorm: true, residual: true, bidirectional: true,
                dtype: F64) { Implementation = implementation };
            using (torch.no_grad())
                foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.5);
            var x = PaddedInput(lengths, steps, features, 0).requires_grad_();
            var s0 = torch.rand(layers * 2, batch, hidden, dtype: F64).mul_(0.9).add_(0.1).requires_grad_();
            var h0 = torch.rand(layers * 2, batch, hidden, dtype: F64).mul_(0.9).add_(0.1).requires_grad_();
            var rOut = torch.randn(steps, batch, 2 * hidden, dtype: F64);
            var rS = torch.randn(layers * 2, batch, hidden, dtype: F64);
            var rH = torch.randn(layers * 2, batch, hidden, dtype: F64);
            var lengthsTensor = torch.tensor(lengths);

            Tensor Loss()
            {
                var (y, state) = model.call(x, lengthsTensor, new DuRNNState(s0, h0));
                return (y * rOut).sum() + (state.ShortTerm * rS).sum() + (state.LongTerm * rH).sum();
            }

            var inputs = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
                .Append(("input", x)).Append(("s0", s0)).Append(("h0", h0)).ToList();
            GradientChecker.AssertGradientsMatch(Loss, inputs);
            // Padded input never reaches the loss: its analytic gradient is exactly zero (the check above compared it
            // with the numeric one, also zero there).
            var grad = torch.autograd.grad(new[] { Loss() }, new[] { x })[0];
            grad.masked_select(PaddingMask(lengths, steps, features)).eq(0).all().item<bool>().Should().BeTrue();
        }

        [Fact]
        public void BadLengthsThrowClearExceptions()
        {
            using var scope = torch.NewDisposeScope();
            var model = new DuRNN(I, H, 2, bidirectional: true);
            var x = torch.randn(6, 3, I);

            FluentActions.Invoking(() => model.call(x, torch.tensor(new[] { 6, 2, 3 }), null))
                .Should().Throw<ArgumentException>().Where(e => e.ParamName == "lengths").WithMessage("*Int64*Int32*");
            FluentActions.Invoking(() => model.call(x, torch.tensor(new long[] { 6, 2 }), null))
                .Should().Throw<ArgumentException>().Where(e => e.ParamName == "lengths").WithMessage("*1-D of shape (3)*got shape (2)*");
            FluentActions.Invoking(() => model.call(x, torch.tensor(new long[] { 6, 2, 3 }).reshape(3, 1), null))
                .Should().Throw<ArgumentException>().Where(e => e.ParamName == "lengths").WithMessage("*1-D of shape (3)*got shape (3, 1)*");
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 0, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "lengths").WithMessage("*lengths[1] = 0*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 7, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "lengths").WithMessage("*lengths[1] = 7*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.call(x, torch.empty(3, dtype: ScalarType.Int64, device: torch.META), null))
                .Should().Throw<ArgumentException>().Where(e => e.ParamName == "lengths").WithMessage("*CPU*meta*");
            FluentActions.Invoking(() => model.call(x, (Tensor)null!, null))
                .Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "lengths");
            FluentActions.Invoking(() => model.call(x, (long[])null!))
                .Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "lengths");
            // A state for one direction only: the bidirectional stack needs numLayers·2 entries.
            var oneDirection = new DuRNNState(torch.zeros(2, 3, H), torch.zeros(2, 3, H));
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 2, 3 }, oneDirection))
                .Should().Throw<ArgumentException>().WithMessage("*state.ShortTerm*(4, 3, 5)*(2, 3, 5)*");

            using var layer = new DuRNNLayer(I, H);
            FluentActions.Invoking(() => layer.call(x, null, null, torch.tensor(new long[] { 1, 2, 9 })))
                .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "lengths").WithMessage("*lengths[2] = 9*T = 6*");
        }

        // ---------------------------------------------------------------- helpers

        private static DuRNN Model(DuRNNImplementation implementation, bool bidirectional)
        {
            var model = new DuRNN(I, H, L, shortTermSize: S, activation: ShortTermActivation.Tanh, residual: true,
                bidirectional: bidirectional, dtype: F64) { Implementation = implementation };
            ImplementationParityTests.Randomize(model);
            return model;
        }

        /// <summary>(T, B, features) float64: N(0, 1) at valid steps, <paramref name="padding"/> at padded ones.</summary>
        internal static Tensor PaddedInput(long[] lengths, long steps, long features, double padding)
        {
            var x = torch.randn(steps, lengths.Length, features, dtype: F64);
            return x.masked_fill_(PaddingMask(lengths, steps, features), padding);
        }

        /// <summary>(T, B, features) bool, true at padded steps.</summary>
        internal static Tensor PaddingMask(long[] lengths, long steps, long features) =>
            torch.arange(steps).unsqueeze(1).ge(torch.tensor(lengths).unsqueeze(0)).unsqueeze(2).expand(steps, lengths.Length, features);

        private static DuRNNState RandomState(long entries, long batch, long shortTermSize, long hiddenSize) =>
            new(torch.rand(entries, batch, shortTermSize, dtype: F64).requires_grad_(), torch.rand(entries, batch, hiddenSize, dtype: F64).requires_grad_());

        private static Tensor Loss(Tensor y, DuRNNState final, Tensor rOut, Tensor rS, Tensor rH) =>
            (y * rOut).sum() + (final.ShortTerm * rS).sum() + (final.LongTerm * rH).sum();

        private static Dictionary<string, Tensor> Gradients(torch.nn.Module model) =>
            model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? torch.zeros_like(p.parameter));
    }
}
