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
    /// Variable-length batches in both stacks, padded (<c>call(input, lengths, state)</c>) and packed
    /// (<c>call(PackedSequence, state)</c>): every sequence's outputs, final state and gradients equal those of running
    /// it alone, for every implementation; packed = padded; batch-first, array and full lengths agree with the ordinary
    /// forms; BatchNorm's statistics ignore padded steps. (The gradient check of a variable-length batch is in
    /// <see cref="StackGradientCheckTests"/>, bad lengths in <see cref="InputValidationTests"/>.)
    /// </summary>
    /// <remarks>
    /// Tolerances (float64): rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/>: a batch of one
    /// and a batch of five run the same operations, but BLAS may block a product differently for different row
    /// counts, which changes only the summation order (~1e-15 relative here). Padded outputs must be exactly zero.
    /// Padded input is NaN wherever it is never read, so that any use of it shows up as NaN. The stacks: a 3-layer
    /// DuRNN (S 3, tanh) and a 2-layer IndRNN, both with residual connections, I 4, H 5.
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
        private const long T = 11, I = 4, H = 5;

        public static IEnumerable<object[]> AloneCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), TestData.Implementations.Cast<object>(), new object[] { false, true }, new object[] { false, true });

        public static IEnumerable<object[]> PackedCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), TestData.Implementations.Cast<object>(), new object[] { false, true });

        [Theory]
        [MemberData(nameof(AloneCases))]
        public void EachSequenceOfAPaddedBatchEqualsRunningItAlone(StackKind kind, DuRNNImplementation implementation, bool withState, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 51 : 72);
            using var model = Model(kind, implementation, bidirectional);
            long B = Lengths.Length, D = model.Directions, entries = model.Entries;
            var x = TestData.PaddedInput(Lengths, T, I, double.NaN).requires_grad_();
            var state = withState ? model.StateSizes.Select(size => torch.rand(entries, B, size, dtype: F64).requires_grad_()).ToArray() : null;
            var rOut = torch.randn(T, B, D * H, dtype: F64);
            var rState = model.StateSizes.Select(size => torch.randn(entries, B, size, dtype: F64)).ToArray();

            var (y, final) = model.Call(x, torch.tensor(Lengths), state);
            y.shape.Should().Equal(T, B, D * H);
            for (int p = 0; p < final.Length; p++)
                final[p].shape.Should().Equal(entries, B, model.StateSizes[p]);
            Loss(y, final, rOut, rState).backward();
            var batchGrads = TestData.Gradients(model.Module);
            var batchInputGrad = x.grad!.clone();
            var batchStateGrads = state?.Select(part => part.grad!.clone()).ToArray();

            // Every sequence alone, its own loss term: the batch loss is their sum, so its gradients are the sums.
            var summedGrads = batchGrads.ToDictionary(kv => kv.Key, kv => torch.zeros_like(kv.Value));
            for (int b = 0; b < B; b++)
            {
                long len = Lengths[b];
                string what = $"{kind} {implementation}, sequence {b} (length {len})";
                model.zero_grad();
                var xb = x.detach()[..(int)len, b..(b + 1)].clone().requires_grad_();
                var sb = state?.Select(part => part.detach()[.., b..(b + 1)].clone().requires_grad_()).ToArray();
                var (yb, fb) = model.Call(xb, sb);
                TensorAssert.Close(y[..(int)len, b..(b + 1)], yb, Rtol, Atol, what + ": outputs");
                y[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: padded outputs are zeros");
                for (int p = 0; p < final.Length; p++)
                    TensorAssert.Close(final[p][.., b..(b + 1)], fb[p], Rtol, Atol, $"{what}: final {model.StateLabels[p]}");

                Loss(yb, fb, rOut[..(int)len, b..(b + 1)], rState.Select(r => r[.., b..(b + 1)]).ToArray()).backward();
                foreach (var (name, g) in TestData.Gradients(model.Module)) summedGrads[name].add_(g);
                TensorAssert.Close(batchInputGrad[..(int)len, b..(b + 1)], xb.grad!, Rtol, Atol, what + ": input gradient");
                batchInputGrad[(int)len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: no gradient reaches padded input");
                if (batchStateGrads is not null && sb is not null)
                {
                    for (int p = 0; p < sb.Length; p++)
                        TensorAssert.Close(batchStateGrads[p][.., b..(b + 1)], sb[p].grad!, Rtol, Atol, $"{what}: {model.StateLabels[p]}_0 gradient");
                }
            }
            foreach (var (name, g) in batchGrads)
                TensorAssert.Close(g, summedGrads[name], Rtol, Atol, $"{kind} {implementation}: gradient of {name}");
        }

        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void BatchFirstAndLongArrayLengthsGiveTheSameResult(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 52 : 74);
            using var timeFirst = Model(kind, implementation, bidirectional: true);
            using var batchFirst = Model(kind, implementation, bidirectional: true, batchFirst: true, randomize: false);
            batchFirst.Module.load_state_dict(timeFirst.state_dict());
            var x = TestData.PaddedInput(Lengths, T, I, 0);
            var (y1, s1) = timeFirst.Call(x, torch.tensor(Lengths), null);
            var (y2, s2) = batchFirst.Call(x.transpose(0, 1).contiguous(), Lengths);
            TensorAssert.Close(y2.transpose(0, 1), y1, 0, 0, "batch-first output");
            for (int p = 0; p < s1.Length; p++)
                TensorAssert.Close(s2[p], s1[p], 0, 0, $"batch-first {timeFirst.StateLabels[p]}_n (layers first)");
        }

        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void FullLengthsEqualTheOrdinaryCall(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(53);
            using var model = Model(kind, implementation, bidirectional: true);
            var x = torch.randn(T, 3, I, dtype: F64);
            var (y1, s1) = model.Call(x);
            var (y2, s2) = model.Call(x, new[] { T, T, T });
            TensorAssert.Close(y2, y1, 0, 0, "full lengths: output");
            for (int p = 0; p < s1.Length; p++)
                TensorAssert.Close(s2[p], s1[p], 0, 0, $"full lengths: {model.StateLabels[p]}_n");
        }

        [Theory]
        [MemberData(nameof(PackedCases))]
        public void PackedSequenceEqualsThePaddedForm(StackKind kind, DuRNNImplementation implementation, bool bidirectional)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 54 : 73);
            using var model = Model(kind, implementation, bidirectional);
            long B = Lengths.Length, D = model.Directions;
            var x = TestData.PaddedInput(Lengths, T, I, 0).requires_grad_();
            var state = model.StateSizes.Select(size => torch.rand(model.Entries, B, size, dtype: F64).requires_grad_()).ToArray();
            var lengths = torch.tensor(Lengths);

            var packed = pack_padded_sequence(x, lengths, enforce_sorted: false);
            var (output, final) = model.Call(packed, state);
            output.data.shape.Should().Equal(Lengths.Sum(), D * H);
            output.batch_sizes.eq(packed.batch_sizes).all().item<bool>().Should().BeTrue("the output keeps the input's batch sizes");
            output.sorted_indices.eq(packed.sorted_indices).all().item<bool>().Should().BeTrue("the output keeps the input's order");
            var (padded, outLengths) = pad_packed_sequence(output, total_length: T);
            outLengths.eq(lengths).all().item<bool>().Should().BeTrue();

            var (expected, expectedFinal) = model.Call(x, lengths, state);
            TensorAssert.Close(padded, expected, Rtol, Atol, "packed output, padded");
            for (int p = 0; p < final.Length; p++)
                TensorAssert.Close(final[p], expectedFinal[p], Rtol, Atol, $"final {model.StateLabels[p]} (original order)");

            // Gradients reach the input through the packed data.
            output.data.sum().backward();
            x.grad.Should().NotBeNull();
            x.grad!.abs().sum().item<double>().Should().BeGreaterThan(0, "gradients reach the input through the packed data");
            x.grad![(int)T - 1].eq(0).all().item<bool>().Should().BeTrue("no sequence reaches the last step");
        }

        /// <summary>
        /// float32 through the fused kernels' float instantiation: Fused and Batched against Reference on a
        /// variable-length bidirectional batch, 2 layers (rtol 1e-5, atol 1e-5 × the tensor's largest magnitude, as in
        /// <see cref="ImplementationParityTests"/>).
        /// </summary>
        [Theory]
        [MemberData(nameof(Float32Cases))]
        public void Float32MatchesTheReference(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            Dictionary<string, Tensor> Run(DuRNNImplementation impl)
            {
                torch.manual_seed(59);
                var spec = kind == StackKind.DuRNN ? new StackSpec(I, H, 2) { ShortTermSize = 3, Bidirectional = true } : new StackSpec(I, H, 2) { Bidirectional = true };
                var model = StackUnderTest.Create(kind, spec);
                model.Implementation = impl;
                model.Randomize();
                var x = TestData.PaddedInput(Lengths, T, I, float.NaN).to(ScalarType.Float32).requires_grad_();
                var (y, final) = model.Call(x, Lengths);
                ((y * torch.randn_like(y)).sum() + (final[^1] * torch.randn_like(final[^1])).sum()).backward();
                var result = model.named_parameters().ToDictionary(p => "grad " + p.name, p => (Tensor)p.parameter.grad!);
                result["output"] = y.detach();
                for (int p = 0; p < final.Length; p++)
                    result[model.StateLabels[p] + "_n"] = final[p].detach();
                result["grad input"] = x.grad!;
                return result;
            }
            var reference = Run(DuRNNImplementation.Reference);
            var other = Run(implementation);
            foreach (var (key, expected) in reference)
                TensorAssert.Close(other[key], expected, 1e-5, 1e-5 * expected.abs().max().item<float>(), $"{kind} {implementation} vs Reference (float32): {key}");
        }

        public static IEnumerable<object[]> Float32Cases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { DuRNNImplementation.Fused, DuRNNImplementation.Batched });

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void PackedSequenceSortedByTheCallerKeepsNoIndices(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(55);
            using var model = Model(kind, DuRNNImplementation.Auto, bidirectional: false);
            long[] sorted = { 7, 4, 4, 2 };
            var x = TestData.PaddedInput(sorted, 7, I, 0);
            var packed = pack_padded_sequence(x, torch.tensor(sorted), enforce_sorted: true);
            var (output, final) = model.Call(packed);
            output.sorted_indices.IsInvalid.Should().BeTrue("the input had none (enforce_sorted)");
            var (padded, _) = pad_packed_sequence(output);
            var (expected, expectedFinal) = model.Call(x, sorted);
            TensorAssert.Close(padded, expected, Rtol, Atol, "output");
            for (int p = 0; p < final.Length; p++)
                TensorAssert.Close(final[p], expectedFinal[p], Rtol, Atol, $"{model.StateLabels[p]}_n");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void PackSequenceOfSeparateTensorsWorks(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(56);
            using var model = Model(kind, DuRNNImplementation.Auto, bidirectional: true);
            var sequences = new[] { torch.randn(3, I, dtype: F64), torch.randn(6, I, dtype: F64), torch.randn(1, I, dtype: F64) };
            var (output, final) = model.Call(pack_sequence(sequences, enforce_sorted: false));
            var (padded, _) = pad_packed_sequence(output);
            for (int b = 0; b < sequences.Length; b++)
            {
                var (alone, aloneFinal) = model.Call(sequences[b].unsqueeze(1));
                TensorAssert.Close(padded[..(int)sequences[b].shape[0], b..(b + 1)], alone, Rtol, Atol, $"sequence {b}");
                for (int p = 0; p < final.Length; p++)
                    TensorAssert.Close(final[p][.., b..(b + 1)], aloneFinal[p], Rtol, Atol, $"sequence {b}: {model.StateLabels[p]}_n");
            }
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void BatchNormStatisticsIgnorePaddedSteps(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(57);
            var spec = new StackSpec(I, H, 3) { BatchNorm = true, Bidirectional = true, DType = F64 };
            using var a = StackUnderTest.Create(kind, spec);
            a.Randomize();
            using var b = StackUnderTest.Create(kind, spec);
            b.Module.load_state_dict(a.state_dict());
            long[] lengths = { 4, 2, 6 };
            var x = TestData.PaddedInput(lengths, 6, I, 0);
            // The same sequences padded to 10 steps with different padding values: the same outputs and statistics.
            var longer = torch.cat(new[] { x, torch.zeros(4, 3, I, dtype: F64) }).masked_fill_(TestData.PaddingMask(lengths, 10, I), 3.0);
            var (y1, _) = a.Call(x, lengths);
            var (y2, _) = b.Call(longer, lengths);
            TensorAssert.Close(y2[..6], y1, Rtol, Atol, "output at the first 6 steps");
            y2[6..].eq(0).all().item<bool>().Should().BeTrue();
            var runningStatistics = a.state_dict().Where(kv => kv.Key.Contains("running_")).ToList();
            runningStatistics.Should().NotBeEmpty();
            foreach (var (key, value) in runningStatistics)
                TensorAssert.Close(b.state_dict()[key], value, Rtol, Atol, key);
        }

        // ---------------------------------------------------------------- helpers

        /// <summary>
        /// The stack of these tests, float64: a 3-layer DuRNN (S 3, tanh) or a 2-layer IndRNN, with residual connections;
        /// randomized (<see cref="TestData.Randomize"/>) unless <paramref name="randomize"/> is false.
        /// </summary>
        private static StackUnderTest Model(StackKind kind, DuRNNImplementation implementation, bool bidirectional, bool batchFirst = false,
            bool randomize = true)
        {
            var spec = kind == StackKind.DuRNN
                ? new StackSpec(I, H, 3) { ShortTermSize = 3, Activation = ShortTermActivation.Tanh }
                : new StackSpec(I, H, 2);
            var model = StackUnderTest.Create(kind, spec with { Residual = true, Bidirectional = bidirectional, BatchFirst = batchFirst, DType = F64 });
            model.Implementation = implementation;
            if (randomize) model.Randomize();
            return model;
        }

        private static Tensor Loss(Tensor y, Tensor[] final, Tensor rOut, Tensor[] rState)
        {
            var loss = (y * rOut).sum();
            for (int p = 0; p < final.Length; p++)
                loss = loss + (final[p] * rState[p]).sum();
            return loss;
        }
    }
}
