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
    /// Compares DuRNN, for every <see cref="DuRNNImplementation"/>, with the golden fixtures computed by the independent
    /// PyTorch reference (<c>tests/reference</c>): outputs, final states, loss, every parameter gradient, the input
    /// and initial-state gradients, and the BatchNorm running statistics after one train-mode forward.
    /// </summary>
    [Collection("Sequential")]
    public class GoldenFixtureTests
    {
        /// <summary>
        /// Float64: the C# and PyTorch computations differ only in summation order and fused kernels, each op adding
        /// O(1e-16) relative error; over the longest case (T = 60) the accumulated differences stay far below 1e-9.
        /// The atol covers entries that are near 0 by cancellation, whose error is relative to their O(1) terms
        /// (≈ 1e-15), not to themselves.
        /// </summary>
        private const double RtolF64 = 1e-9, AtolF64 = 1e-12;

        /// <summary>
        /// Float32: unit roundoff 6e-8 (eps 1.2e-7) per op; a value of the 2-layer, 7-step case passes through some
        /// tens of ops (projections, gates, recurrences, their backward), so differences of ~1e-6 relative are expected
        /// and 1e-5 leaves a margin. The atol 1e-6 covers entries near 0 by cancellation of O(1) terms (≈ 10·eps).
        /// </summary>
        private const double RtolF32 = 1e-5, AtolF32 = 1e-6;

        /// <summary>The cases listed in tests/reference/README.md.</summary>
        private static readonly string[] ExpectedFixtures =
        {
            "layer_relu_batchfirst_f64", "layer_relu_f64", "layer_tanh_s3_h5_f64", "long_relu_f64",
            "stack2_bn_residual_f64", "stack2_relu_f32", "stack3_residual_tanh_f64",
        };

        public static IEnumerable<object[]> Cases =>
            from name in Fixture.Names()
            from impl in Enum.GetValues<DuRNNImplementation>()
            select new object[] { name, impl };

        [Fact]
        public void EveryFixtureIsCopiedToTheOutput()
        {
            // Guards the theory below against running on no data (a missing copy would make it vacuous).
            Fixture.Names().Should().BeEquivalentTo(ExpectedFixtures);
        }

        [Fact]
        public void EveryFixtureParsesAndIsConsistent()
        {
            foreach (var name in Fixture.Names())
            {
                var f = Fixture.Load(name);
                f.Name.Should().Be(name);
                var c = f.Config;
                long[] seq = c.BatchFirst ? new[] { c.Batch, c.SeqLen } : new[] { c.SeqLen, c.Batch };
                f.Input.Shape.Should().Equal(seq[0], seq[1], c.InputSize);
                f.Output.Shape.Should().Equal(seq[0], seq[1], c.HiddenSize);
                f.S0.Shape.Should().Equal(c.NumLayers, c.Batch, c.ShortTermSize);
                f.H0.Shape.Should().Equal(c.NumLayers, c.Batch, c.HiddenSize);
                f.GradParameters.Keys.Should().BeEquivalentTo(f.Parameters.Keys, "every parameter has a gradient ({0})", name);
                f.BuffersAfter.Should().HaveCount(c.BatchNorm && c.NumLayers > 1 ? 2 * (int)(c.NumLayers - 1) : 0, name);
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void MatchesPyTorchReference(string name, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            var f = Fixture.Load(name);
            var dtype = f.DType;
            (double rtol, double atol) = dtype == ScalarType.Float64 ? (RtolF64, AtolF64) : (RtolF32, AtolF32);

            torch.manual_seed(0); // construction draws random initial values; all are overwritten below
            using var model = f.CreateModel();
            model.Implementation = implementation;

            // Parameters: the key sets must be equal (names are the contract with the PyTorch reference).
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
            parameters.Keys.Should().BeEquivalentTo(f.Parameters.Keys, "the model's parameter names are the reference's state_dict keys");
            var stateDict = model.state_dict();
            var bufferKeys = stateDict.Keys.Where(k => !parameters.ContainsKey(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal));
            bufferKeys.Should().BeEquivalentTo(f.BuffersAfter.Keys, "the model's running statistics are the reference's buffers");
            using (torch.no_grad())
            {
                // No ApplyConstraints: the fixture's parameters are used exactly as given.
                foreach (var (key, value) in f.Parameters)
                {
                    using var t = value.ToTensor(dtype);
                    stateDict[key].copy_(t);
                }
            }

            var input = f.Input.ToTensor(dtype).requires_grad_(true);
            var s0 = f.S0.ToTensor(dtype).requires_grad_(true);
            var h0 = f.H0.ToTensor(dtype).requires_grad_(true);
            var rOut = f.ROut.ToTensor(dtype);
            var rS = f.RS.ToTensor(dtype);
            var rH = f.RH.ToTensor(dtype);

            model.train();
            var (output, state) = model.call(input, new DuRNNState(s0, h0));
            var loss = (output * rOut).sum() + (state.ShortTerm * rS).sum() + (state.LongTerm * rH).sum();
            loss.backward();

            string at = $"{name} [{implementation}]";
            TensorAssert.Close(output, f.Output, rtol, atol, $"{at} output");
            TensorAssert.Close(state.ShortTerm, f.SN, rtol, atol, $"{at} s_n");
            TensorAssert.Close(state.LongTerm, f.HN, rtol, atol, $"{at} h_n");
            TensorAssert.Close(loss.to(ScalarType.Float64).item<double>(), f.Loss, rtol, atol, $"{at} loss");
            foreach (var (key, expected) in f.GradParameters)
                TensorAssert.Close(parameters[key].grad, expected, rtol, atol, $"{at} grad of {key}");
            TensorAssert.Close(input.grad, f.GradInput, rtol, atol, $"{at} grad_input");
            TensorAssert.Close(s0.grad, f.GradS0, rtol, atol, $"{at} grad_s0");
            TensorAssert.Close(h0.grad, f.GradH0, rtol, atol, $"{at} grad_h0");
            foreach (var (key, expected) in f.BuffersAfter)
                TensorAssert.Close(stateDict[key], expected, rtol, atol, $"{at} {key} after the forward");
        }
    }
}
