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
    /// In both stacks, Fused and Batched agree with the plain step-by-step Reference on outputs, final states, every
    /// gradient and the BatchNorm running statistics, for each kind's configurations (a DuRNN's activations, layer
    /// counts, batch-first and initial state; an IndRNN's bidirectional stacks with BatchNorm, residual connections
    /// and lengths), in float64 and float32; and under no_grad, where the fused kernels run without autograd nodes.
    /// The DuRNN's fused kernels' own rules (chunks, small calls, the overlapped ∂U_s) are in
    /// <see cref="DuRnnParityTests"/>.
    /// </summary>
    /// <remarks>
    /// Tolerances: float64 rtol 1e-10, atol 1e-12 (the paths differ only in summation order; with T ≤ 12 steps and
    /// O(1) values the accumulated rounding is ~1e-14 relative, so 1e-10 leaves a wide margin while catching any real
    /// difference); float32 rtol 1e-5 (float32 epsilon 1.2e-7 times a few dozen accumulated operations), measured
    /// against each element and, as atol, against the tensor's largest magnitude: a gradient element is a sum of
    /// T·B·layers terms of mixed sign, and where they cancel its own magnitude says nothing about the rounding it
    /// carries (seen: 4e-5 relative on an element 20× below the tensor's maximum, for Batched and Fused alike).
    /// Inference without gradient: rtol as above, atol rtol·0.01.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class ImplementationParityTests
    {
        private const long Steps = 12;

        /// <summary>A configuration: the stack, the batch size, whether an initial state is given, and lengths (or none).</summary>
        private sealed record Configuration(StackSpec Spec, long Batch, bool WithState, long[]? Lengths = null);

        /// <summary>Each kind's configurations. DuRNN: T 12, B 3, I 5, H 7, S 6, residual. IndRNN: T 12, B 4, I 5, H 5.</summary>
        private static readonly Dictionary<StackKind, Dictionary<string, Configuration>> Configurations = new()
        {
            [StackKind.DuRNN] = new()
            {
                ["relu_one_layer"] = new(DuRnn(ShortTermActivation.ReLU, 1, batchFirst: false), 3, WithState: false),
                ["tanh_two_layers_batch_first_h0"] = new(DuRnn(ShortTermActivation.Tanh, 2, batchFirst: true), 3, WithState: true),
                ["relu_three_layers_batch_first"] = new(DuRnn(ShortTermActivation.ReLU, 3, batchFirst: true), 3, WithState: false),
                ["tanh_one_layer_h0"] = new(DuRnn(ShortTermActivation.Tanh, 1, batchFirst: false), 3, WithState: true),
            },
            [StackKind.IndRNN] = new()
            {
                ["one_layer"] = new(new(5, 5, 1), 4, WithState: false),
                ["two_layers_batch_first_h0"] = new(new(5, 5, 2) { BatchFirst = true, Residual = true }, 4, WithState: true),
                ["three_layers_bidirectional_bn_residual"] = new(new(5, 5, 3) { Bidirectional = true, BatchNorm = true, Residual = true }, 4, WithState: true),
                ["two_layers_bidirectional_bn_lengths_h0"] = new(new(5, 5, 2) { Bidirectional = true, BatchNorm = true, Residual = true }, 4,
                    WithState: true, Lengths: new long[] { 12, 7, 1, 9 }),
            },
        };

        private static StackSpec DuRnn(ShortTermActivation activation, long layers, bool batchFirst) =>
            new(5, 7, layers) { ShortTermSize = 6, Activation = activation, BatchFirst = batchFirst, Residual = true };

        public static IEnumerable<object[]> Cases =>
            from kind in TestData.Kinds
            from impl in new[] { DuRNNImplementation.Fused, DuRNNImplementation.Batched }
            from dtype in new[] { ScalarType.Float64, ScalarType.Float32 }
            from name in Configurations[kind].Keys
            select new object[] { kind, impl, dtype, name };

        [Theory]
        [MemberData(nameof(Cases))]
        public void MatchesReference(StackKind kind, DuRNNImplementation implementation, ScalarType dtype, string configuration)
        {
            using var scope = torch.NewDisposeScope();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            var reference = Run(kind, DuRNNImplementation.Reference, dtype, configuration);
            var other = Run(kind, implementation, dtype, configuration);
            other.Keys.Should().BeEquivalentTo(reference.Keys);
            foreach (var key in reference.Keys)
            {
                double atol = dtype == ScalarType.Float64 ? 1e-12 : rtol * reference[key].abs().max().to(ScalarType.Float64).item<double>();
                TensorAssert.Close(other[key], reference[key], rtol, atol, $"{kind} {implementation} vs Reference ({configuration}, {dtype}), {key}");
            }
        }

        /// <summary>
        /// Under no_grad the fused kernels run without autograd nodes, in place over their own temporaries; they must
        /// still agree with the reference (same tolerances), with and without variable lengths. DuRNN: 2 layers, I 5,
        /// S 6, H 7, T 9, lengths (9, 4, 7, 1). IndRNN: 2 layers, bidirectional, residual, I 4, H 5, T 11, lengths
        /// (5, 9, 1, 9, 3).
        /// </summary>
        [Theory]
        [MemberData(nameof(InferenceCases))]
        public void InferenceWithoutGradientMatchesReference(StackKind kind, ScalarType dtype, bool withLengths)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            var (seed, spec, steps, lengths) = kind == StackKind.DuRNN
                ? (77, new StackSpec(5, 7, 2) { ShortTermSize = 6 }, 9L, new long[] { 9, 4, 7, 1 })
                : (71, new StackSpec(4, 5, 2) { Bidirectional = true, Residual = true }, 11L, new long[] { 5, 9, 1, 9, 3 });
            torch.manual_seed(seed);
            using var model = StackUnderTest.Create(kind, spec with { DType = dtype });
            model.Randomize();
            var x = torch.randn(steps, lengths.Length, spec.InputSize, dtype: dtype);
            var lengthsTensor = torch.tensor(lengths);
            (Tensor y, Tensor[] state) Call(DuRNNImplementation implementation)
            {
                model.Implementation = implementation;
                return withLengths ? model.Call(x, lengthsTensor, null) : model.Call(x);
            }
            var (yRef, sRef) = Call(DuRNNImplementation.Reference);
            var (yFused, sFused) = Call(DuRNNImplementation.Fused);
            TensorAssert.Close(yFused, yRef, rtol, rtol * 0.01, "output");
            for (int p = 0; p < sRef.Length; p++)
                TensorAssert.Close(sFused[p], sRef[p], rtol, rtol * 0.01, $"{model.StateLabels[p]}_n");
        }

        public static IEnumerable<object[]> InferenceCases =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { ScalarType.Float64, ScalarType.Float32 }, new object[] { false, true });

        /// <summary>Runs one seeded forward and backward; returns outputs, final states, all gradients and buffers by name.</summary>
        private static Dictionary<string, Tensor> Run(StackKind kind, DuRNNImplementation implementation, ScalarType dtype, string configuration)
        {
            var c = Configurations[kind][configuration];
            torch.manual_seed(1234);
            var model = StackUnderTest.Create(kind, c.Spec with { DType = dtype });
            model.Randomize();
            model.Implementation = implementation;
            long inputSize = c.Spec.InputSize, batch = c.Batch;
            var x = (c.Spec.BatchFirst ? torch.randn(batch, Steps, inputSize, dtype: dtype) : torch.randn(Steps, batch, inputSize, dtype: dtype)).requires_grad_();
            var initial = c.WithState
                ? model.StateSizes.Select(size => torch.rand(model.Entries, batch, size, dtype: dtype).requires_grad_()).ToArray()
                : null;
            var (y, final) = c.Lengths is long[] lengths ? model.Call(x, lengths, initial) : model.Call(x, initial);
            var rOut = torch.randn_like(y);
            var rState = final.Select(part => torch.randn_like(part)).ToArray();
            var loss = (y * rOut).sum();
            for (int p = 0; p < final.Length; p++)
                loss = loss + (final[p] * rState[p]).sum();
            loss.backward();
            var result = new Dictionary<string, Tensor> { ["output"] = y.detach(), ["grad_input"] = x.grad! };
            for (int p = 0; p < final.Length; p++)
            {
                result[model.StateLabels[p] + "_n"] = final[p].detach();
                if (initial is not null) result["grad_" + model.StateLabels[p] + "0"] = initial[p].grad!;
            }
            foreach (var (name, p) in model.named_parameters())
                result["grad " + name] = p.grad!;
            foreach (var (name, buffer) in model.Module.named_buffers())
                if (!name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) result[name] = buffer.detach();
            return result;
        }
    }
}
