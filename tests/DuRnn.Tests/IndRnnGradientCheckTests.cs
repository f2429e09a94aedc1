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
    /// Finite-difference gradient checks of <see cref="IndRNN"/> (float64, central differences, eps 1e-6, PyTorch
    /// gradcheck's criterion |a − n| ≤ 1e-5 + 1e-3·|n|; the checker is <see cref="GradientChecker"/>, whose own tests
    /// in <see cref="GradientCheckTests"/> show that it fails on a wrong backward): one layer for every explicit
    /// implementation, stacks for every option that changes the math with the step-by-step Reference and the fused
    /// kernel, and a variable-length bidirectional batch. Every parameter, the input and the initial state are
    /// checked, with a loss that is a random-weighted sum of all outputs and final states, so every path carries
    /// gradient; an input whose numeric gradient is all zero fails the check as vacuous.
    /// </summary>
    /// <remarks>
    /// Tolerances: gradcheck's defaults (see <see cref="GradientCheckTests"/> for the error analysis: truncation
    /// ≈ 1e-12, rounding ≈ 1e-9, both far below atol 1e-5, while a wrong backward is off by the order of the gradient).
    /// Parameters are re-drawn to N(0, 0.5²) (the library's W ~ N(0, 0.001²) and zero biases would make the check
    /// weak); h_0 is drawn in [0.1, 1). ReLU kinks: a kink is crossed only if a pre-activation lies within ~1e-6 of 0,
    /// probability ~1e-4 per test with a few hundred O(1) pre-activations; the seeds below were run and pass.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class IndRnnGradientCheckTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();

        public void Dispose() => _singleThreaded.Dispose();

        private const long B = 2, T = 5, I = 3, H = 4;
        private const ScalarType F64 = ScalarType.Float64;

        private static readonly DuRNNImplementation[] Explicit =
            { DuRNNImplementation.Reference, DuRNNImplementation.Batched, DuRNNImplementation.Fused };

        public static IEnumerable<object[]> LayerCases =>
            from impl in Explicit
            from withState in new[] { true, false }
            select new object[] { impl, withState };

        /// <summary>The stack configurations: one per option that changes the math, plus all of them together.</summary>
        private static readonly Dictionary<string, Func<IndRNN>> Stacks = new()
        {
            ["two_layers"] = () => new IndRNN(I, H, numLayers: 2, dtype: F64),
            ["batch_norm"] = () => new IndRNN(I, H, numLayers: 3, batchNorm: true, dtype: F64),
            // inputSize == hiddenSize so that layer 0 gets a residual connection too.
            ["residual"] = () => new IndRNN(H, H, numLayers: 3, residual: true, dtype: F64),
            ["batch_first"] = () => new IndRNN(I, H, numLayers: 2, batchFirst: true, dtype: F64),
            ["dropout_0.3"] = () => new IndRNN(I, H, numLayers: 2, dropout: 0.3, dtype: F64),
            ["bidirectional"] = () => new IndRNN(I, H, numLayers: 2, bidirectional: true, dtype: F64),
            ["all_options"] = () => new IndRNN(I, H, numLayers: 3, batchNorm: true, residual: true, batchFirst: true,
                dropout: 0.3, bidirectional: true, dtype: F64),
        };

        public static IEnumerable<object[]> StackCases =>
            from name in Stacks.Keys
            from impl in new[] { DuRNNImplementation.Reference, DuRNNImplementation.Fused }
            select new object[] { name, impl };

        [Theory]
        [MemberData(nameof(LayerCases))]
        public void OneLayer(DuRNNImplementation implementation, bool withState)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(61);
            using var model = new IndRNN(I, H, dtype: F64) { Implementation = implementation };
            RedrawParameters(model);
            var x = Leaf(torch.randn(T, B, I, dtype: F64));
            var h0 = PositiveState(1, B, H);
            var rOut = torch.randn(T, B, H, dtype: F64);
            var rH = torch.randn(1, B, H, dtype: F64);

            Tensor Loss()
            {
                var (y, hn) = model.call(x, withState ? h0 : null);
                return (y * rOut).sum() + (hn * rH).sum();
            }

            var inputs = Parameters(model).Append(("input", x));
            if (withState) inputs = inputs.Append(("h0", h0));
            GradientChecker.AssertGradientsMatch(Loss, inputs);
        }

        [Theory]
        [MemberData(nameof(StackCases))]
        public void Stack(string configuration, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(62);
            using var model = Stacks[configuration]();
            model.Implementation = implementation;
            model.train();
            RedrawParameters(model);

            long entries = model.NumLayers * (model.Bidirectional ? 2 : 1), features = model.OutputSize;
            var x = Leaf(model.BatchFirst ? torch.randn(B, T, model.InputSize, dtype: F64) : torch.randn(T, B, model.InputSize, dtype: F64));
            var h0 = PositiveState(entries, B, H);
            var rOut = model.BatchFirst ? torch.randn(B, T, features, dtype: F64) : torch.randn(T, B, features, dtype: F64);
            var rH = torch.randn(entries, B, H, dtype: F64);

            // Dropout draws its mask from the global generator: re-seeding at the start of every evaluation makes
            // every evaluation use the same mask (one mask per sequence, shared over time).
            const int maskSeed = 4321;
            Tensor LossWithMask(int seed)
            {
                torch.manual_seed(seed);
                var (y, hn) = model.call(x, h0);
                return (y * rOut).sum() + (hn * rH).sum();
            }
            Tensor Loss() => LossWithMask(maskSeed);

            if (model.Dropout > 0)
            {
                using var noGrad = torch.no_grad();
                double a = Loss().item<double>(), b = Loss().item<double>(), other = LossWithMask(maskSeed + 1).item<double>();
                a.Should().Be(b, "the loss must be the same function at every evaluation (same dropout mask)");
                other.Should().NotBe(a, "a different seed draws a different mask, so dropout is really applied");
            }

            List<(string name, Tensor tensor)> inputs = Parameters(model).Append(("input", x)).Append(("h0", h0)).ToList();
            if (model.BatchNorm)
                inputs.Should().Contain(i => i.name.StartsWith("norms.", StringComparison.Ordinal), "BatchNorm's weight and bias are checked too");
            if (model.Bidirectional)
                inputs.Should().Contain(i => i.name.StartsWith("layers_reverse.", StringComparison.Ordinal), "the backward direction is checked too");
            GradientChecker.AssertGradientsMatch(Loss, inputs);
        }

        /// <summary>
        /// A padded batch with unsorted lengths (one of them full, one of length 2) through a 2-layer bidirectional
        /// stack with BatchNorm (statistics over valid steps) and residual connections, with an initial state: every
        /// parameter, the input and the state; the padded input gets exactly zero gradient.
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void VariableLengthBatch(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(63);
            const long steps = 5, hidden = 3, layers = 2;
            long[] lengths = { 4, 2, 5 };
            long batch = lengths.Length;
            using var model = new IndRNN(I, hidden, layers, batchNorm: true, residual: true, bidirectional: true, dtype: F64)
            {
                Implementation = implementation,
            };
            RedrawParameters(model);
            var x = VariableLengthTests.PaddedInput(lengths, steps, I, 0).requires_grad_();
            var h0 = PositiveState(layers * 2, batch, hidden);
            var rOut = torch.randn(steps, batch, 2 * hidden, dtype: F64);
            var rH = torch.randn(layers * 2, batch, hidden, dtype: F64);
            var lengthsTensor = torch.tensor(lengths);

            Tensor Loss()
            {
                var (y, hn) = model.call(x, lengthsTensor, h0);
                return (y * rOut).sum() + (hn * rH).sum();
            }

            var inputs = Parameters(model).Append(("input", x)).Append(("h0", h0)).ToList();
            GradientChecker.AssertGradientsMatch(Loss, inputs);
            var grad = torch.autograd.grad(new[] { Loss() }, new[] { x })[0];
            grad.masked_select(VariableLengthTests.PaddingMask(lengths, steps, I)).eq(0).all().item<bool>()
                .Should().BeTrue("padded input never reaches the loss");
        }

        // ---------------------------------------------------------------- helpers

        private static Tensor Leaf(Tensor t) => t.requires_grad_(true);

        /// <summary>Values in [0.1, 1): positive and away from 0, for states that go through a ReLU.</summary>
        private static Tensor PositiveState(params long[] shape) => Leaf(torch.rand(shape, dtype: F64).mul_(0.9).add_(0.1));

        /// <summary>Re-draws every parameter to N(0, 0.5²): O(1) values that exercise every path.</summary>
        private static void RedrawParameters(torch.nn.Module module)
        {
            using var noGrad = torch.no_grad();
            foreach (var (_, p) in module.named_parameters())
                p.normal_(0, 0.5);
        }

        private static IEnumerable<(string name, Tensor tensor)> Parameters(torch.nn.Module module) =>
            module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
    }
}
