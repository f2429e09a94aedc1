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
    /// <c>bidirectional: true</c>: the backward direction is the reversed sequence (only the valid part of each
    /// sequence with lengths) run through one-direction layers holding the <c>layers_reverse.{l}</c> weights; outputs
    /// are [forward, backward] (2H), the state is (numLayers·2, B, ·) with index layer·2 + direction, layer l+1 reads
    /// 2H features, BatchNorm normalises 2H features and the residual connection applies where sizes match.
    /// </summary>
    /// <remarks>
    /// Tolerances (float64): rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/> (the separate
    /// layers run the same operations; only BLAS blocking for different shapes can change the summation order).
    /// </remarks>
    [Collection("Sequential")]
    public sealed class BidirectionalTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const ScalarType F64 = ScalarType.Float64;
        private const double Rtol = 1e-10, Atol = 1e-12;
        private const long T = 9, B = 4, H = 4, S = 3;

        public static IEnumerable<object[]> Implementations =>
            Enum.GetValues<DuRNNImplementation>().Select(i => new object[] { i });

        public static IEnumerable<object[]> ImplementationsWithState =>
            from impl in Enum.GetValues<DuRNNImplementation>()
            from withState in new[] { false, true }
            select new object[] { impl, withState };

        [Fact]
        public void ShapesStateLayoutAndParameters()
        {
            using var scope = torch.NewDisposeScope();
            const long I = 5, L = 3;
            var model = new DuRNN(I, H, L, shortTermSize: S, batchNorm: true, bidirectional: true);
            model.Bidirectional.Should().BeTrue();
            model.OutputSize.Should().Be(2 * H);
            model.ReverseLayers.Should().HaveCount((int)L);
            var (y, state) = model.call(torch.randn(T, B, I));
            y.shape.Should().Equal(T, B, 2 * H);
            state.ShortTerm.shape.Should().Equal(2 * L, B, S);
            state.LongTerm.shape.Should().Equal(2 * L, B, H);
            DuRNNState.Zeros(model, B).LongTerm.shape.Should().Equal(2 * L, B, H);

            var sd = model.state_dict();
            sd["layers.0.short_term.weight_ih"].shape.Should().Equal(S, I);
            sd["layers_reverse.0.short_term.weight_ih"].shape.Should().Equal(S, I);
            sd["layers.1.short_term.weight_ih"].shape.Should().Equal(S, 2 * H);
            sd["layers_reverse.2.gate.weight_ih"].shape.Should().Equal(S, 2 * H);
            sd["norms.1.weight"].shape.Should().Equal(2 * H);
            sd.Keys.Count(k => k.StartsWith("layers_reverse.")).Should().Be(sd.Keys.Count(k => k.StartsWith("layers.")));

            var oneDirection = new DuRNN(I, H, L);
            oneDirection.Bidirectional.Should().BeFalse();
            oneDirection.OutputSize.Should().Be(H);
            oneDirection.ReverseLayers.Should().BeEmpty();
            oneDirection.state_dict().Keys.Should().NotContain(k => k.StartsWith("layers_reverse."));
        }

        [Theory]
        [MemberData(nameof(ImplementationsWithState))]
        public void EachDirectionEqualsASeparateLayerWithItsWeights(DuRNNImplementation implementation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(61);
            const long I = 5;
            var model = Model(I, 1, implementation);
            var forward = LoadLayer(model, "layers.0.", I, implementation);
            var backward = LoadLayer(model, "layers_reverse.0.", I, implementation);
            var x = torch.randn(T, B, I, dtype: F64);
            var state = withState ? new DuRNNState(torch.rand(2, B, S, dtype: F64), torch.rand(2, B, H, dtype: F64)) : null;

            var (y, final) = model.call(x, state);

            var (yf, sf, hf) = forward.call(x, state?.ShortTerm[0], state?.LongTerm[0]);
            var (yb, sb, hb) = backward.call(x.flip(0), state?.ShortTerm[1], state?.LongTerm[1]);
            TensorAssert.Close(y[.., .., ..(int)H], yf, Rtol, Atol, "forward half of the output");
            TensorAssert.Close(y[.., .., (int)H..], yb.flip(0), Rtol, Atol, "backward half of the output (reversed back)");
            TensorAssert.Close(final.ShortTerm[0], sf, Rtol, Atol, "s_n[layer 0, forward]");
            TensorAssert.Close(final.LongTerm[0], hf, Rtol, Atol, "h_n[layer 0, forward]");
            TensorAssert.Close(final.ShortTerm[1], sb, Rtol, Atol, "s_n[layer 0, backward]");
            TensorAssert.Close(final.LongTerm[1], hb, Rtol, Atol, "h_n[layer 0, backward]");
        }

        [Theory]
        [MemberData(nameof(ImplementationsWithState))]
        public void WithLengthsTheBackwardDirectionReadsOnlyTheValidPartReversed(DuRNNImplementation implementation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(62);
            const long I = 5;
            long[] lengths = { 6, 9, 2, 6 };
            var model = Model(I, 1, implementation);
            var forward = LoadLayer(model, "layers.0.", I, implementation);
            var backward = LoadLayer(model, "layers_reverse.0.", I, implementation);
            var x = VariableLengthTests.PaddedInput(lengths, T, I, float.NaN);
            var state = withState ? new DuRNNState(torch.rand(2, B, S, dtype: F64), torch.rand(2, B, H, dtype: F64)) : null;

            var (y, final) = model.call(x, lengths, state);

            for (int b = 0; b < B; b++)
            {
                int len = (int)lengths[b];
                string what = $"{implementation}, sequence {b} (length {len})";
                var xb = x[..len, b..(b + 1)];
                var (yf, sf, hf) = forward.call(xb, state?.ShortTerm[0, b..(b + 1)], state?.LongTerm[0, b..(b + 1)]);
                var (yb, sb, hb) = backward.call(xb.flip(0), state?.ShortTerm[1, b..(b + 1)], state?.LongTerm[1, b..(b + 1)]);
                TensorAssert.Close(y[..len, b..(b + 1), ..(int)H], yf, Rtol, Atol, what + ": forward half");
                TensorAssert.Close(y[..len, b..(b + 1), (int)H..], yb.flip(0), Rtol, Atol, what + ": backward half");
                y[len.., b].eq(0).all().item<bool>().Should().BeTrue($"{what}: padded outputs are zeros");
                TensorAssert.Close(final.ShortTerm[0, b..(b + 1)], sf, Rtol, Atol, what + ": s_n forward");
                TensorAssert.Close(final.LongTerm[0, b..(b + 1)], hf, Rtol, Atol, what + ": h_n forward");
                TensorAssert.Close(final.ShortTerm[1, b..(b + 1)], sb, Rtol, Atol, what + ": s_n backward");
                TensorAssert.Close(final.LongTerm[1, b..(b + 1)], hb, Rtol, Atol, what + ": h_n backward");
            }
        }

        /// <summary>
        /// Two layers with residual connections (I = 2H, so layer 0 has one too) and BatchNorm in eval mode (random
        /// running statistics), composed by hand from separate layers: cat, residual, BatchNorm over 2H features,
        /// then layer 1 on the 2H features.
        /// </summary>
        [Theory]
        [MemberData(nameof(Implementations))]
        public void ATwoLayerStackIsTheCompositionOfItsDirections(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(63);
            const long I = 2 * H;
            var model = new DuRNN(I, H, 2, shortTermSize: S, batchNorm: true, residual: true, bidirectional: true, dtype: F64)
            { Implementation = implementation };
            ImplementationParityTests.Randomize(model);
            var sd = model.state_dict();
            using (torch.no_grad())
            {
                sd["norms.0.running_mean"].normal_(0, 0.5);
                sd["norms.0.running_var"].uniform_(0.5, 2.0);
            }
            model.eval();
            var x = torch.randn(T, B, I, dtype: F64);
            var state = new DuRNNState(torch.rand(4, B, S, dtype: F64), torch.rand(4, B, H, dtype: F64));

            var (y, final) = model.call(x, state);

            var input = x;
            for (int l = 0; l < 2; l++)
            {
                var forward = LoadLayer(model, $"layers.{l}.", 2 * H, implementation);
                var backward = LoadLayer(model, $"layers_reverse.{l}.", 2 * H, implementation);
                var (yf, sf, hf) = forward.call(input, state.ShortTerm[2 * l], state.LongTerm[2 * l]);
                var (yb, sb, hb) = backward.call(input.flip(0), state.ShortTerm[2 * l + 1], state.LongTerm[2 * l + 1]);
                TensorAssert.Close(final.ShortTerm[2 * l], sf, Rtol, Atol, $"s_n[{2 * l}] = layer {l}, forward");
                TensorAssert.Close(final.LongTerm[2 * l], hf, Rtol, Atol, $"h_n[{2 * l}] = layer {l}, forward");
                TensorAssert.Close(final.ShortTerm[2 * l + 1], sb, Rtol, Atol, $"s_n[{2 * l + 1}] = layer {l}, backward");
                TensorAssert.Close(final.LongTerm[2 * l + 1], hb, Rtol, Atol, $"h_n[{2 * l + 1}] = layer {l}, backward");
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

        [Theory]
        [MemberData(nameof(Implementations))]
        public void GradientsMatchBetweenImplementations(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            var reference = Gradients(DuRNNImplementation.Reference);
            var other = Gradients(implementation);
            foreach (var (name, g) in reference)
                TensorAssert.Close(other[name], g, Rtol, Atol, $"{implementation} vs Reference: {name}");
        }

        /// <summary>Gradients of every parameter and the input for a seeded 2-layer bidirectional stack with lengths.</summary>
        private static Dictionary<string, Tensor> Gradients(DuRNNImplementation implementation)
        {
            torch.manual_seed(64);
            const long I = 3;
            var model = Model(I, 2, implementation);
            var x = torch.randn(T, B, I, dtype: F64).requires_grad_();
            var (y, final) = model.call(x, new long[] { 9, 3, 7, 3 });
            ((y * torch.randn_like(y)).sum() + (final.LongTerm * torch.randn_like(final.LongTerm)).sum()).backward();
            var result = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
            result["input"] = x.grad!;
            return result;
        }

        private static DuRNN Model(long inputSize, long layers, DuRNNImplementation implementation)
        {
            var model = new DuRNN(inputSize, H, layers, shortTermSize: S, activation: ShortTermActivation.Tanh,
                bidirectional: true, dtype: F64) { Implementation = implementation };
            ImplementationParityTests.Randomize(model);
            return model;
        }

        /// <summary>A one-direction layer holding the weights found under <paramref name="prefix"/> in the stack.</summary>
        private static DuRNNLayer LoadLayer(DuRNN model, string prefix, long inputSize, DuRNNImplementation implementation)
        {
            var source = model.Layers[0];
            var layer = new DuRNNLayer(inputSize, H, S, source.ShortTerm.Activation, dtype: F64) { Implementation = implementation };
            var weights = model.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key.Substring(prefix.Length), kv => kv.Value);
            weights.Should().HaveCount(9, $"a layer has nine parameters under {prefix}");
            layer.load_state_dict(weights);
            return layer;
        }
    }
}
