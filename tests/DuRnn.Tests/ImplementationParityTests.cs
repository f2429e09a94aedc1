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
    /// Every implementation (Fused, Batched, Auto) agrees with the plain step-by-step Reference on outputs, final
    /// states and every gradient. Tolerances: float64 rtol 1e-10 (the paths differ only in summation order; with
    /// T ≤ 12 steps and O(1) values the accumulated rounding is ~1e-14 relative, so 1e-10 leaves a wide margin
    /// while catching any real difference); float32 rtol 1e-5 (float32 epsilon 1.2e-7 times a few dozen
    /// accumulated operations), measured against each element and, as atol, against the tensor's largest
    /// magnitude: a gradient element is a sum of T·B·layers terms of mixed sign, and where they cancel its own
    /// magnitude says nothing about the rounding it carries (seen: 4e-5 relative on an element 20× below the
    /// tensor's maximum, for Batched and Fused alike).
    /// </summary>
    [Collection("Sequential")]
    public sealed class ImplementationParityTests
    {
        public static IEnumerable<object[]> Cases()
        {
            var impls = new[] { DuRNNImplementation.Fused, DuRNNImplementation.Batched, DuRNNImplementation.Auto };
            foreach (var impl in impls)
            {
                foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
                {
                    yield return new object[] { impl, dtype, ShortTermActivation.ReLU, 1, false, false };
                    yield return new object[] { impl, dtype, ShortTermActivation.Tanh, 2, true, true };
                    yield return new object[] { impl, dtype, ShortTermActivation.ReLU, 3, true, false };
                    yield return new object[] { impl, dtype, ShortTermActivation.Tanh, 1, false, true };
                }
            }
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void MatchesReference(DuRNNImplementation implementation, ScalarType dtype, ShortTermActivation activation,
            int layers, bool batchFirst, bool withState)
        {
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            var reference = Run(DuRNNImplementation.Reference, dtype, activation, layers, batchFirst, withState);
            var other = Run(implementation, dtype, activation, layers, batchFirst, withState);
            other.Keys.Should().BeEquivalentTo(reference.Keys);
            foreach (var key in reference.Keys)
            {
                double atol = dtype == ScalarType.Float64 ? 1e-12 : rtol * reference[key].abs().max().item<float>();
                TensorAssert.Close(other[key], reference[key], rtol, atol, $"{implementation} vs Reference, {key}");
            }
        }

        /// <summary>
        /// Under no_grad the fused kernels run without autograd nodes, in place over their own temporaries; they must
        /// still agree with the reference (same tolerances), with and without variable lengths.
        /// </summary>
        [Theory]
        [InlineData(ScalarType.Float64, false)]
        [InlineData(ScalarType.Float64, true)]
        [InlineData(ScalarType.Float32, false)]
        public void InferenceWithoutGradientMatchesReference(ScalarType dtype, bool withLengths)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
            torch.manual_seed(77);
            var model = new DuRNN(5, 7, 2, shortTermSize: 6, dtype: dtype);
            Randomize(model);
            var x = torch.randn(9, 4, 5, dtype: dtype);
            var lengths = torch.tensor(new long[] { 9, 4, 7, 1 });
            (Tensor y, DuRNNState st) Call(DuRNNImplementation implementation)
            {
                model.Implementation = implementation;
                return withLengths ? model.call(x, lengths, null) : model.call(x);
            }
            var (yRef, sRef) = Call(DuRNNImplementation.Reference);
            var (yFused, sFused) = Call(DuRNNImplementation.Fused);
            TensorAssert.Close(yFused, yRef, rtol, rtol * 0.01, "output");
            TensorAssert.Close(sFused.ShortTerm, sRef.ShortTerm, rtol, rtol * 0.01, "s_n");
            TensorAssert.Close(sFused.LongTerm, sRef.LongTerm, rtol, rtol * 0.01, "h_n");
        }

        /// <summary>
        /// Chunked inference (the fused path under no_grad runs blocks of steps with the states carried) agrees with
        /// the reference for blocks of 1 step, blocks that do not divide T (3, 4 into T = 11), a block of T − 1, and
        /// the default rule (one block here: T is below its minimum of 16); bidirectional and with a given state too.
        /// Same tolerances as above (float64 rtol 1e-10; float32 1e-5).
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
        /// 4 × 4, ReLU and tanh, float64 and float32, 2 layers, bidirectional, with a given state. Same tolerances as
        /// above.
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
            Randomize(model);
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
        /// Reference's (same tolerances as above).
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
        /// (3 blocks of 4480 rows) — every gradient is the Reference's (float64, rtol 1e-10 as above).
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
                    Randomize(model);
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
            Randomize(model);
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

        /// <summary>Runs one seeded forward and backward; returns outputs, states and all gradients by name.</summary>
        private static Dictionary<string, Tensor> Run(DuRNNImplementation implementation, ScalarType dtype,
            ShortTermActivation activation, int layers, bool batchFirst, bool withState)
        {
            const long T = 12, B = 3, I = 5, H = 7, S = 6;
            torch.manual_seed(1234);
            var model = new DuRNN(I, H, layers, shortTermSize: S, activation: activation, batchFirst: batchFirst,
                residual: true, dtype: dtype);
            Randomize(model);
            model.Implementation = implementation;
            var x = (batchFirst ? torch.randn(B, T, I, dtype: dtype) : torch.randn(T, B, I, dtype: dtype)).requires_grad_();
            DuRNNState? state = null;
            if (withState)
                state = new DuRNNState(torch.rand(layers, B, S, dtype: dtype).requires_grad_(), torch.rand(layers, B, H, dtype: dtype).requires_grad_());
            var (y, final) = model.call(x, state);
            var r1 = torch.randn_like(y); var r2 = torch.randn_like(final.ShortTerm); var r3 = torch.randn_like(final.LongTerm);
            var loss = (y * r1).sum() + (final.ShortTerm * r2).sum() + (final.LongTerm * r3).sum();
            loss.backward();
            var result = new Dictionary<string, Tensor>
            {
                ["output"] = y.detach(), ["s_n"] = final.ShortTerm.detach(), ["h_n"] = final.LongTerm.detach(), ["grad_input"] = x.grad!,
            };
            if (state is not null)
            {
                result["grad_s0"] = state.ShortTerm.grad!;
                result["grad_h0"] = state.LongTerm.grad!;
            }
            foreach (var (name, p) in model.named_parameters())
                result["grad " + name] = p.grad!;
            return result;
        }

        /// <summary>O(1) random parameters so every path carries signal (the default W_h ~ N(0, 0.001) is tiny).</summary>
        internal static void Randomize(torch.nn.Module model)
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.EndsWith("long_term.weight_hh")) p.uniform_(0.5, 1.0);
                else if (p.dim() == 2) p.normal_(0, 1.0 / Math.Sqrt(p.shape[1]));
                else p.normal_(0, 0.1);
            }
        }
    }
}
