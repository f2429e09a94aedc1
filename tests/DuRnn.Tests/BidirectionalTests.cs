using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// <c>bidirectional: true</c> in both stacks: the backward direction is the reversed sequence (only the valid part of
    /// each sequence with lengths) run through one-direction layers holding the <c>layers_reverse.{l}</c> weights (a
    /// <see cref="DuRNNLayer"/> for a DuRNN, a one-layer IndRNN for an IndRNN); outputs are [forward, backward] (2H),
    /// the state is (numLayers·2, B, ·) with index layer·2 + direction, layer l+1 reads 2H features, BatchNorm
    /// normalises 2H features and the residual connection applies where sizes match.
    /// </summary>
    /// <remarks>
    /// Tolerances (float64): rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/> (the separate
    /// layers run the same operations; only BLAS blocking for different shapes can change the summation order). The
    /// stacks: a DuRNN with S 3 and tanh, an IndRNN, both H 4.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class BidirectionalTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const ScalarType F64 = ScalarType.Float64;
        private const double Rtol = 1e-10, Atol = 1e-12;
        private const long T = 9, B = 4, H = 4, S = 3;

        public static IEnumerable<object[]> WithStateCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), TestData.Implementations.Cast<object>(), new object[] { false, true });

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void ShapesStateLayoutAndParameters(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            const long I = 5, L = 3;
            var spec = new StackSpec(I, H, L) { BatchNorm = true };
            using var model = StackUnderTest.Create(kind, (kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec) with { Bidirectional = true });
            model.Bidirectional.Should().BeTrue();
            model.OutputSize.Should().Be(2 * H);
            model.ReverseLayers.Should().HaveCount((int)L);
            var (y, state) = model.Call(torch.randn(T, B, I));
            y.shape.Should().Equal(T, B, 2 * H);
            for (int p = 0; p < state.Length; p++)
                state[p].shape.Should().Equal(2 * L, B, model.StateSizes[p]);
            if (model.Module is DuRNN duRnn)
                DuRNNState.Zeros(duRnn, B).LongTerm.shape.Should().Equal(2 * L, B, H);

            var sd = model.state_dict();
            for (int l = 0; l < L; l++)
            {
                var forward = sd.Keys.Where(k => k.StartsWith($"layers.{l}.", StringComparison.Ordinal)).ToList();
                forward.Should().HaveCount(model.LayerParameterCount);
                foreach (var key in forward)
                {
                    var reverse = "layers_reverse." + key["layers.".Length..];
                    sd.Should().ContainKey(reverse);
                    sd[reverse].shape.Should().Equal(sd[key].shape, $"{reverse} has the shape of {key}");
                    // A DuRNN's long-term W_h reads the gated short-term state (S features); every other W reads the layer's input.
                    if (key.EndsWith("long_term.weight_ih", StringComparison.Ordinal))
                        sd[key].shape[1].Should().Be(S, $"{key} reads g ⊙ s");
                    else if (key.EndsWith("weight_ih", StringComparison.Ordinal))
                        sd[key].shape[1].Should().Be(l == 0 ? I : 2 * H, $"{key}: layer {l} reads {(l == 0 ? "the input" : "both directions' 2H features")}");
                }
            }
            sd["norms.1.weight"].shape.Should().Equal(2 * H);
            sd.Keys.Count(k => k.StartsWith("layers_reverse.")).Should().Be(sd.Keys.Count(k => k.StartsWith("layers.")));

            using var oneDirection = StackUnderTest.Create(kind, spec);
            oneDirection.Bidirectional.Should().BeFalse();
            oneDirection.OutputSize.Should().Be(H);
            oneDirection.ReverseLayers.Should().BeEmpty();
            oneDirection.state_dict().Keys.Should().NotContain(k => k.StartsWith("layers_reverse."));
        }

        [Theory]
        [MemberData(nameof(WithStateCases))]
        public void EachDirectionEqualsASeparateLayerWithItsWeights(StackKind kind, DuRNNImplementation implementation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(61);
            const long I = 5;
            using var model = Model(kind, I, 1, implementation);
            var forward = model.SeparateLayer("layers.0.", I);
            var backward = model.SeparateLayer("layers_reverse.0.", I);
            var x = torch.randn(T, B, I, dtype: F64);
            var state = withState ? model.StateSizes.Select(size => torch.rand(2, B, size, dtype: F64)).ToArray() : null;

            var (y, final) = model.Call(x, state);

            var (yf, ff) = forward(x, state?.Select(part => part[0]).ToArray());
            var (yb, fb) = backward(x.flip(0), state?.Select(part => part[1]).ToArray());
            TensorAssert.Close(y[.., .., ..(int)H], yf, Rtol, Atol, "forward half of the output");
            TensorAssert.Close(y[.., .., (int)H..], yb.flip(0), Rtol, Atol, "backward half of the output (reversed back)");
            for (int p = 0; p < final.Length; p++)
            {
                string n = model.StateLabels[p];
                TensorAssert.Close(final[p][0], ff[p], Rtol, Atol, $"{n}_n[layer 0, forward]");
                TensorAssert.Close(final[p][1], fb[p], Rtol, Atol, $"{n}_n[layer 0, backward]");
            }
        }

        [Theory]
        [MemberData(nameof(WithStateCases))]
        public void WithLengthsTheBackwardDirectionReadsOnlyTheValidPartReversed(StackKind kind, DuRNNImplementation implementation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(62);
            const long I = 5;
            long[] lengths = { 6, 9, 2, 6 };
            using var model = Model(kind, I, 1, implementation);
            var forward = model.SeparateLayer("layers.0.", I);
            var backward = model.SeparateLayer("layers_reverse.0.", I);
            var x = TestData.PaddedInput(lengths, T, I, float.NaN);
            var state = withState ? model.StateSizes.Select(size => torch.rand(2, B, size, dtype: F64)).ToArray() : null;

            var (y, final) = model.Call(x, lengths, state);

            for (int b = 0; b < B; b++)
            {
                int len = (int)lengths[b];
                string what = $"{kind} {implementation}, sequence {b} (length {len})";
                var xb = x[..len, b..(b + 1)];
                var (yf, ff) = forward(xb, state?.Select(part => part[0, b..(b + 1)]).ToArray());
                var (yb, fb) = backward(xb.flip(0), state?.Select(part => part[1, b..(b + 1)]).ToArray());
                TensorAssert.Close(y[..len, b..(b + 1), ..(int)H], yf, Rtol, Atol, what + ": forward half");
                TensorAssert.Close(y[..len, b..(b + 1), (int)H..], yb.flip(0), Rtol, Atol, what + ": backward half");
                y[len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: padded outputs are zeros");
                for (int p = 0; p < final.Length; p++)
                {
                    string n = model.StateLabels[p];
                    TensorAssert.Close(final[p][0, b..(b + 1)], ff[p], Rtol, Atol, $"{what}: {n}_n forward");
                    TensorAssert.Close(final[p][1, b..(b + 1)], fb[p], Rtol, Atol, $"{what}: {n}_n backward");
                }
            }
        }

        /// <summary>
        /// Two layers with residual connections (I = 2H, so layer 0 has one too) and BatchNorm in eval mode (random
        /// running statistics), composed by hand from separate layers: cat, residual, BatchNorm over 2H features,
        /// then layer 1 on the 2H features.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void ATwoLayerStackIsTheCompositionOfItsDirections(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(63);
            const long I = 2 * H;
            var spec = new StackSpec(I, H, 2) { BatchNorm = true, Residual = true, Bidirectional = true, DType = F64 };
            using var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec);
            model.Implementation = implementation;
            model.Randomize();
            var sd = model.state_dict();
            using (torch.no_grad())
            {
                sd["norms.0.running_mean"].normal_(0, 0.5);
                sd["norms.0.running_var"].uniform_(0.5, 2.0);
            }
            model.eval();
            var x = torch.randn(T, B, I, dtype: F64);
            var state = model.StateSizes.Select(size => torch.rand(4, B, size, dtype: F64)).ToArray();

            var (y, final) = model.Call(x, state);

            var input = x;
            for (int l = 0; l < 2; l++)
            {
                var forward = model.SeparateLayer($"layers.{l}.", 2 * H);
                var backward = model.SeparateLayer($"layers_reverse.{l}.", 2 * H);
                var (yf, ff) = forward(input, state.Select(part => part[2 * l]).ToArray());
                var (yb, fb) = backward(input.flip(0), state.Select(part => part[2 * l + 1]).ToArray());
                for (int p = 0; p < final.Length; p++)
                {
                    string n = model.StateLabels[p];
                    TensorAssert.Close(final[p][2 * l], ff[p], Rtol, Atol, $"{n}_n[{2 * l}] = layer {l}, forward");
                    TensorAssert.Close(final[p][2 * l + 1], fb[p], Rtol, Atol, $"{n}_n[{2 * l + 1}] = layer {l}, backward");
                }
                var output = torch.cat(new[] { yf, yb.flip(0) }, 2) + input;
                if (l == 0)
                {
                    var mean = sd["norms.0.running_mean"];
                    var variance = sd["norms.0.running_var"];
                    output = (output - mean) / (variance + 1e-5).sqrt() * sd["norms.0.weight"] + sd["norms.0.bias"];
                }
                input = output;
            }
            TensorAssert.Close(y, input, Rtol, Atol, "output of the stack");
        }

        /// <summary>Batched and Fused against Reference on a 2-layer bidirectional stack with lengths: every parameter's and the input's gradient.</summary>
        [Theory]
        [MemberData(nameof(GradientCases))]
        public void GradientsMatchBetweenImplementations(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            var reference = Gradients(kind, DuRNNImplementation.Reference);
            var other = Gradients(kind, implementation);
            foreach (var (name, g) in reference)
                TensorAssert.Close(other[name], g, Rtol, Atol, $"{kind} {implementation} vs Reference: {name}");
        }

        public static IEnumerable<object[]> GradientCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { DuRNNImplementation.Batched, DuRNNImplementation.Fused });

        /// <summary>Gradients of every parameter and the input for a seeded 2-layer bidirectional stack with lengths.</summary>
        private static Dictionary<string, Tensor> Gradients(StackKind kind, DuRNNImplementation implementation)
        {
            torch.manual_seed(64);
            const long I = 3;
            var model = Model(kind, I, 2, implementation);
            var x = torch.randn(T, B, I, dtype: F64).requires_grad_();
            var (y, final) = model.Call(x, new long[] { 9, 3, 7, 3 });
            ((y * torch.randn_like(y)).sum() + (final[^1] * torch.randn_like(final[^1])).sum()).backward();
            var result = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.grad!);
            result["input"] = x.grad!;
            return result;
        }

        /// <summary>A randomized float64 bidirectional stack, H 4 (a DuRNN with S 3 and tanh).</summary>
        private static StackUnderTest Model(StackKind kind, long inputSize, long layers, DuRNNImplementation implementation)
        {
            var spec = kind == StackKind.DuRNN
                ? new StackSpec(inputSize, H, layers) { ShortTermSize = S, Activation = ShortTermActivation.Tanh }
                : new StackSpec(inputSize, H, layers);
            var model = StackUnderTest.Create(kind, spec with { Bidirectional = true, DType = F64 });
            model.Implementation = implementation;
            model.Randomize();
            return model;
        }
    }
}
