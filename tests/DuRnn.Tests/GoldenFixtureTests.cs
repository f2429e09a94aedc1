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
    /// Compares both stacks, for each explicit <see cref="DuRNNImplementation"/> (Auto resolves to one of them: see
    /// <see cref="ApiTests.AutoResolvesToFusedWhereTheFusedKernelsRun"/>), with the golden fixtures computed by the
    /// independent PyTorch references (<c>tests/reference</c>: <c>make_fixtures.py</c> for DuRNN,
    /// <c>indrnn_reference.py</c> for IndRNN): outputs, final states, loss, every parameter gradient, the input and
    /// initial-state gradients, and the BatchNorm running statistics after one train-mode forward. The IndRNN cases
    /// cover one layer, BatchNorm + residual, variable lengths (unsorted, with a length-1 sequence), a bidirectional
    /// batch-first stack with BatchNorm, residual and lengths, a float32 bidirectional 3-layer stack, and T = 60 with u
    /// near 1; the DuRNN cases one layer (ReLU, batch-first, tanh with S ≠ H, T = 60) and stacks (2 layers with
    /// BatchNorm and residual connections, 2 layers in float32, 3 residual tanh layers).
    /// </summary>
    /// <remarks>
    /// Tolerances, the same for both stacks. Float64 rtol 1e-9, atol 1e-12: the C# and PyTorch computations differ only
    /// in summation order and fused kernels, each op adding O(1e-16) relative error; over the longest case (T = 60) the
    /// accumulated differences stay far below 1e-9. The atol covers entries that are near 0 by cancellation, whose error
    /// is relative to their O(1) terms (≈ 1e-15), not to themselves. Float32 rtol 1e-5, atol 1e-6: unit roundoff 6e-8
    /// (eps 1.2e-7) per op; a value of the 2-layer, 7-step case passes through some tens of ops (projections, gates,
    /// recurrences, their backward), so differences of ~1e-6 relative are expected and 1e-5 leaves a margin; the atol
    /// covers entries near 0 by cancellation of O(1) terms (≈ 10·eps). The IndRNN reference rejects draws with a ReLU
    /// pre-activation within 1e-4 of 0, so a different summation order cannot flip a ReLU.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class GoldenFixtureTests
    {
        private const double RtolF64 = 1e-9, AtolF64 = 1e-12;
        private const double RtolF32 = 1e-5, AtolF32 = 1e-6;

        /// <summary>The cases listed in tests/reference/README.md.</summary>
        private static readonly Dictionary<StackKind, string[]> ExpectedFixtures = new()
        {
            [StackKind.DuRNN] = new[]
            {
                "layer_relu_batchfirst_f64", "layer_relu_f64", "layer_tanh_s3_h5_f64", "long_relu_f64",
                "stack2_bn_residual_f64", "stack2_relu_f32", "stack3_residual_tanh_f64",
            },
            [StackKind.IndRNN] = new[]
            {
                "indrnn_bidir_bn_residual_lengths_batchfirst_f64", "indrnn_bidir_stack3_f32", "indrnn_layer_f64",
                "indrnn_long_f64", "indrnn_stack2_bn_residual_f64", "indrnn_stack2_lengths_f64",
            },
        };

        public static IEnumerable<object[]> Cases =>
            from kind in TestData.Kinds
            from name in Fixture.Names(kind)
            from impl in TestData.Implementations
            select new object[] { kind, name, impl };

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void EveryFixtureIsCopiedToTheOutput(StackKind kind)
        {
            // Guards the theory below against running on no data (a missing copy would make it vacuous).
            Fixture.Names(kind).Should().BeEquivalentTo(ExpectedFixtures[kind]);
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void EveryFixtureParsesAndIsConsistent(StackKind kind)
        {
            foreach (var name in Fixture.Names(kind))
            {
                var f = Fixture.Load(kind, name);
                f.Name.Should().Be(name);
                f.Kind.Should().Be(kind);
                var c = f.Spec;
                long[] seq = c.BatchFirst ? new[] { f.Batch, f.SeqLen } : new[] { f.SeqLen, f.Batch };
                f.Input.Shape.Should().Equal(seq[0], seq[1], c.InputSize);
                f.Output.Shape.Should().Equal(seq[0], seq[1], f.Directions * c.HiddenSize);
                for (int p = 0; p < f.StateLabels.Count; p++)
                {
                    long[] state = { c.NumLayers * f.Directions, f.Batch, f.StateSizes[p] };
                    f.InitialState[p].Shape.Should().Equal(state, "{0}0 of {1}", f.StateLabels[p], name);
                    f.FinalState[p].Shape.Should().Equal(state, "{0}_n of {1}", f.StateLabels[p], name);
                }
                f.GradParameters.Keys.Should().BeEquivalentTo(f.Parameters.Keys, "every parameter has a gradient ({0})", name);
                f.BuffersAfter.Should().HaveCount(c.BatchNorm && c.NumLayers > 1 ? 2 * (int)(c.NumLayers - 1) : 0, name);
                if (f.Lengths is long[] lengths)
                {
                    lengths.Should().HaveCount((int)f.Batch);
                    lengths.Should().OnlyContain(n => n >= 1 && n <= f.SeqLen);
                }
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void MatchesPyTorchReference(StackKind kind, string name, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            using var single = new SingleThreaded();
            var f = Fixture.Load(kind, name);
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
                // No ApplyConstraints: the fixture's parameters (|u| up to 1) are used exactly as given.
                foreach (var (key, value) in f.Parameters)
                {
                    using var t = value.ToTensor(dtype);
                    stateDict[key].copy_(t);
                }
            }

            var input = f.Input.ToTensor(dtype).requires_grad_(true);
            var initial = f.InitialState.Select(part => part.ToTensor(dtype).requires_grad_(true)).ToArray();
            var rOut = f.ROut.ToTensor(dtype);
            var rState = f.StateWeights.Select(part => part.ToTensor(dtype)).ToArray();

            model.train();
            var (output, final) = f.Lengths is long[] lengths ? model.Call(input, lengths, initial) : model.Call(input, initial);
            var loss = (output * rOut).sum();
            for (int p = 0; p < final.Length; p++)
                loss = loss + (final[p] * rState[p]).sum();
            loss.backward();

            string at = $"{name} [{implementation}]";
            TensorAssert.Close(output, f.Output, rtol, atol, $"{at} output");
            for (int p = 0; p < final.Length; p++)
                TensorAssert.Close(final[p], f.FinalState[p], rtol, atol, $"{at} {f.StateLabels[p]}_n");
            TensorAssert.Close(loss.to(ScalarType.Float64).item<double>(), f.Loss, rtol, atol, $"{at} loss");
            foreach (var (key, expected) in f.GradParameters)
                TensorAssert.Close(parameters[key].grad, expected, rtol, atol, $"{at} grad of {key}");
            TensorAssert.Close(input.grad, f.GradInput, rtol, atol, $"{at} grad_input");
            for (int p = 0; p < initial.Length; p++)
                TensorAssert.Close(initial[p].grad, f.GradInitialState[p], rtol, atol, $"{at} grad_{f.StateLabels[p]}0");
            foreach (var (key, expected) in f.BuffersAfter)
                TensorAssert.Close(stateDict[key], expected, rtol, atol, $"{at} {key} after the forward");
        }
    }
}
