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
    /// The DuRNN's fused kernels where they have rules of their own, against the step-by-step Reference: chunked
    /// inference (<see cref="DuRNNLayer"/>'s blocks of steps under no_grad), the smallest calls run step by step on raw
    /// memory (<c>Fused.LayerSteps</c>), and the backward's ∂U_s summed block by block by a second thread
    /// (<c>Fused.ShortTermRecurrence</c>). What both stacks share (Fused = Batched = Reference, inference without
    /// gradient) is in <see cref="ImplementationParityTests"/>. Tolerances as there: float64 rtol 1e-10 (atol 1e-12, or
    /// rtol·0.01 for inference), float32 rtol 1e-5.
    /// </summary>
    [Collection("Sequential")]
    public sealed class DuRnnParityTests
    {
        /// <summary>
        /// Chunked inference (the fused path under no_grad runs blocks of steps with the states carried) agrees with
        /// the reference for blocks of 1 step, blocks that do not divide T (3, 4 into T = 11), a block of T − 1, and
        /// the default rule (one block here: T is below its minimum of 16); bidirectional and with a given state too.
        /// Tolerances as in <see cref="ImplementationParityTests"/> (float64 rtol 1e-10; float32 1e-5).
        /// </summary>
        [Theory]
        [InlineData(ScalarType.Float64, 1L, false)]
        [InlineData(ScalarType.Float64, 3L, false)]
        [InlineData(ScalarType.Float64, 4L, true)]
        [InlineData(ScalarType.Float64, 10L, true)]
        [InlineData(ScalarType.Float64, null, false)]
        [InlineData(ScalarType.Float32, 3L, true)]
        public void ChunkedInferenceMatchesReference(ScalarType dtype, long? chunk, bool bidirectional) =>
            InferenceMatchesReference(dtype, 11, 4, ShortTermActivation.ReLU, bidirectional, seed: 78, chunk);

        /// <summary>
        /// Inference of the smallest calls (T·B ≤ 16: a streaming step, a few rows) runs each layer step by step on raw
        /// memory (<c>Fused.LayerSteps</c>); it agrees with the reference for one step of one sequence, 16 steps of one,
        /// 4 × 4, ReLU and tanh, float64 and float32, 2 layers, bidirectional, with a given state. Same tolerances.
        /// </summary>
        [Theory]
        [InlineData(ScalarType.Float64, 1L, 1L, ShortTermActivation.ReLU, false)]
        [InlineData(ScalarType.Float64, 16L, 1L, ShortTermActivation.Tanh, false)]
        [InlineData(ScalarType.Float64, 4L, 4L, ShortTermActivation.ReLU, true)]
        [InlineData(ScalarType.Float32, 2L, 3L, ShortTermActivation.Tanh, true)]
        public void SmallInferenceCallsMatchReference(ScalarType dtype, long steps, long batch, ShortTermActivation activation, bool bidirectional) =>
            InferenceMatchesReference(dtype, steps, batch, activation, bidirectional, seed: 79, chunk: null);

        /// <summary>A 2-layer stack (I 5, S 6, H 7, residual) under no_grad with a given state: Fused against Reference.</summary>
        private static void InferenceMatchesReference(ScalarType dtype, long steps, long batch, ShortTermActivation activation,
            bool bidirectional, int seed, long? chunk)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            torch.manual_seed(seed);
            var model = new DuRNN(5, 7, 2, shortTermSize: 6, activation: activation, bidirectional: bidirectional, residual: true, dtype: dtype);
            TestData.Randomize(model);
            foreach (var layer in model.Layers.Concat(model.ReverseLayers)) layer.InferenceChunkOverride = chunk;
            long d = bidirectional ? 2 : 1;
            var x = torch.randn(steps, batch, 5, dtype: dtype);
            var state = new DuRNNState(torch.rand(2 * d, batch, 6, dtype: dtype), torch.rand(2 * d, batch, 7, dtype: dtype));
            model.Implementation = DuRNNImplementation.Reference;
            var (yRef, sRef) = model.call(x, state);
            model.Implementation = DuRNNImplementation.Fused;
            var (yFused, sFused) = model.call(x, state);
            TensorAssert.Close(yFused, yRef, rtol, rtol * 0.01, "output");
            TensorAssert.Close(sFused.ShortTerm, sRef.ShortTerm, rtol, rtol * 0.01, "s_n");
            TensorAssert.Close(sFused.LongTerm, sRef.LongTerm, rtol, rtol * 0.01, "h_n");
            yRef.abs().max().to_type(ScalarType.Float64).item<double>().Should().BeGreaterThan(0.01, "the output carries signal");
        }

        /// <summary>
        /// The backward's ∂U_s summed block by block by a second thread while the recurrence runs: blocks of 1 step,
        /// blocks that do not divide T − 1 (4 and 5 into 11), one block of T − 1, the default rule, on 1, 2 and 3 torch
        /// threads, with and without variable lengths, with and without a gradient for the input; every gradient as the
        /// Reference's (float64 rtol 1e-10, atol 1e-12).
        /// </summary>
        [Theory]
        [InlineData(1, 1, false, true)]
        [InlineData(2, 4, false, true)]
        [InlineData(2, 4, false, false)]
        [InlineData(2, 5, true, true)]
        [InlineData(3, 11, false, true)]
        [InlineData(2, 0, true, false)]
        [InlineData(2, null, false, true)]
        public void OverlappedWeightGradientMatchesReference(int threads, int? block, bool withLengths, bool inputGradient)
        {
            int previousThreads = torch.get_num_threads();
            var reference = Gradients(DuRNNImplementation.Reference, withLengths, inputGradient);
            try
            {
                torch.set_num_threads(threads);
                Fused.ShortTermRecurrence.OverlapBlockOverride = block;
                var fused = Gradients(DuRNNImplementation.Fused, withLengths, inputGradient);
                foreach (var key in reference.Keys)
                    TensorAssert.Close(fused[key], reference[key], 1e-10, 1e-12, $"Fused (threads {threads}, block {block}) vs Reference, {key}");
                reference["grad layers.0.short_term.weight_hh"].abs().max().item<double>().Should().BeGreaterThan(1e-6);
            }
            finally
            {
                Fused.ShortTermRecurrence.OverlapBlockOverride = null;
                torch.set_num_threads(previousThreads);
            }
        }

        /// <summary>
        /// At sizes where the fused backward splits its work into blocks by its own rules — T = 140, B = 32: the
        /// short-term sums in blocks of 64 steps (64, 64, 12) on 2 threads, ∂W_h from g ⊙ s rebuilt 2048 rows at a time
        /// (3 blocks of 4480 rows) — every gradient is the Reference's (float64, rtol 1e-10, atol 1e-12).
        /// </summary>
        [Fact]
        public void DefaultBlockRulesMatchReference()
        {
            int previousThreads = torch.get_num_threads();
            try
            {
                torch.set_num_threads(2);
                Dictionary<string, Tensor> Run(DuRNNImplementation implementation)
                {
                    torch.manual_seed(6262);
                    var model = new DuRNN(3, 5, 2, shortTermSize: 4, dtype: ScalarType.Float64) { Implementation = implementation };
                    TestData.Randomize(model);
                    var x = torch.randn(140, 32, 3, dtype: ScalarType.Float64).requires_grad_();
                    var (y, state) = model.call(x);
                    ((y * torch.randn_like(y)).sum() + state.LongTerm.sum()).backward();
                    var result = model.named_parameters().ToDictionary(p => "grad " + p.name, p => p.parameter.grad!.clone());
                    result["grad_input"] = x.grad!.clone();
                    return result;
                }
                var reference = Run(DuRNNImplementation.Reference);
                var fused = Run(DuRNNImplementation.Fused);
                foreach (var key in reference.Keys)
                    TensorAssert.Close(fused[key], reference[key], 1e-10, 1e-12, $"Fused vs Reference, {key}");
            }
            finally
            {
                torch.set_num_threads(previousThreads);
            }
        }

        private static Dictionary<string, Tensor> Gradients(DuRNNImplementation implementation, bool withLengths, bool inputGradient)
        {
            torch.manual_seed(5151);
            var model = new DuRNN(5, 7, 2, shortTermSize: 6, dtype: ScalarType.Float64);
            TestData.Randomize(model);
            model.Implementation = implementation;
            var x = torch.randn(12, 4, 5, dtype: ScalarType.Float64).requires_grad_(inputGradient);
            var (y, state) = withLengths ? model.call(x, torch.tensor(new long[] { 12, 3, 9, 1 }), null) : model.call(x);
            var loss = (y * torch.randn_like(y)).sum() + (state.ShortTerm * torch.randn_like(state.ShortTerm)).sum();
            loss.backward();
            var result = model.named_parameters().ToDictionary(p => "grad " + p.name, p => p.parameter.grad!.clone());
            if (inputGradient) result["grad_input"] = x.grad!.clone();
            else x.grad.Should().BeNull("the input does not require a gradient");
            return result;
        }
    }
}
