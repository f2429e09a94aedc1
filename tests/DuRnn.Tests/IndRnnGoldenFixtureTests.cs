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
    /// Compares <see cref="IndRNN"/>, for each explicit <see cref="DuRNNImplementation"/> (Auto is Fused on the CPU:
    /// see <see cref="IndRnnApiTests.AutoIsFusedOnTheCpuForFloat32AndFloat64"/>), with the golden fixtures computed by
    /// the independent PyTorch reference (<c>tests/reference/indrnn_reference.py</c>): outputs, final states, loss,
    /// every parameter gradient, the input and initial-state gradients, and the BatchNorm running statistics after one
    /// train-mode forward. The cases cover one layer, BatchNorm + residual, variable lengths (unsorted, with a
    /// length-1 sequence), a bidirectional batch-first stack with BatchNorm, residual and lengths, a float32
    /// bidirectional 3-layer stack, and T = 60 with u near 1.
    /// </summary>
    /// <remarks>
    /// Tolerances as in <see cref="GoldenFixtureTests"/>, for the same reasons. Float64 rtol 1e-9, atol 1e-12: the two
    /// computations differ only in summation order (each op adds O(1e-16) relative error; over T = 60 steps the
    /// accumulated difference stays far below 1e-9); atol covers entries near 0 by cancellation of O(1) terms.
    /// Float32 rtol 1e-5, atol 1e-6: unit roundoff 6e-8 per op over some tens of ops per value. The reference rejects
    /// draws with a ReLU pre-activation within 1e-4 of 0, so a different summation order cannot flip a ReLU.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class IndRnnGoldenFixtureTests
    {
        private const double RtolF64 = 1e-9, AtolF64 = 1e-12;
        private const double RtolF32 = 1e-5, AtolF32 = 1e-6;

        /// <summary>The cases listed in tests/reference/README.md.</summary>
        private static readonly string[] ExpectedFixtures =
        {
            "indrnn_bidir_bn_residual_lengths_batchfirst_f64", "indrnn_bidir_stack3_f32", "indrnn_layer_f64",
            "indrnn_long_f64", "indrnn_stack2_bn_residual_f64", "indrnn_stack2_lengths_f64",
        };

        private static readonly DuRNNImplementation[] Explicit =
            { DuRNNImplementation.Reference, DuRNNImplementation.Batched, DuRNNImplementation.Fused };

        public static IEnumerable<object[]> Cases =>
            from name in IndRnnFixture.Names()
            from impl in Explicit
            select new object[] { name, impl };

        [Fact]
        public void EveryFixtureIsCopiedToTheOutput()
        {
            // Guards the theory below against running on no data (a missing copy would make it vacuous).
            IndRnnFixture.Names().Should().BeEquivalentTo(ExpectedFixtures);
        }

        [Fact]
        public void EveryFixtureParsesAndIsConsistent()
        {
            foreach (var name in IndRnnFixture.Names())
            {
                var f = IndRnnFixture.Load(name);
                f.Name.Should().Be(name);
                var c = f.Config;
                long[] seq = c.BatchFirst ? new[] { c.Batch, c.SeqLen } : new[] { c.SeqLen, c.Batch };
                f.Input.Shape.Should().Equal(seq[0], seq[1], c.InputSize);
                f.Output.Shape.Should().Equal(seq[0], seq[1], c.Directions * c.HiddenSize);
                f.H0.Shape.Should().Equal(c.NumLayers * c.Directions, c.Batch, c.HiddenSize);
                f.HN.Shape.Should().Equal(c.NumLayers * c.Directions, c.Batch, c.HiddenSize);
                f.GradParameters.Keys.Should().BeEquivalentTo(f.Parameters.Keys, "every parameter has a gradient ({0})", name);
                f.BuffersAfter.Should().HaveCount(c.BatchNorm && c.NumLayers > 1 ? 2 * (int)(c.NumLayers - 1) : 0, name);
                if (c.Lengths is long[] lengths)
                {
                    lengths.Should().HaveCount((int)c.Batch);
                    lengths.Should().OnlyContain(n => n >= 1 && n <= c.SeqLen);
                }
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void MatchesPyTorchReference(string name, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            using var single = new SingleThreaded();
            var f = IndRnnFixture.Load(name);
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
            var h0 = f.H0.ToTensor(dtype).requires_grad_(true);
            var rOut = f.ROut.ToTensor(dtype);
            var rH = f.RH.ToTensor(dtype);

            model.train();
            var (output, hn) = f.Config.Lengths is long[] lengths ? model.call(input, lengths, h0) : model.call(input, h0);
            var loss = (output * rOut).sum() + (hn * rH).sum();
            loss.backward();

            string at = $"{name} [{implementation}]";
            TensorAssert.Close(output, f.Output, rtol, atol, $"{at} output");
            TensorAssert.Close(hn, f.HN, rtol, atol, $"{at} h_n");
            TensorAssert.Close(loss.to(ScalarType.Float64).item<double>(), f.Loss, rtol, atol, $"{at} loss");
            foreach (var (key, expected) in f.GradParameters)
                TensorAssert.Close(parameters[key].grad, expected, rtol, atol, $"{at} grad of {key}");
            TensorAssert.Close(input.grad, f.GradInput, rtol, atol, $"{at} grad_input");
            TensorAssert.Close(h0.grad, f.GradH0, rtol, atol, $"{at} grad_h0");
            foreach (var (key, expected) in f.BuffersAfter)
                TensorAssert.Close(stateDict[key], expected, rtol, atol, $"{at} {key} after the forward");
        }
    }
}
