using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// The long-term (IndRNN) recurrence over a whole sequence as one autograd node, on raw memory:
    /// <code>h_t = ReLU(c_t + u ⊙ h_{t−1}),  t = 1..T</code>
    /// where c_t = W_h (g_t ⊙ s_t) + b_h was computed for all steps at once. The recurrence is element-wise, so
    /// every (sequence, neuron) pair is independent: rows of the batch are split over
    /// <c>torch.get_num_threads()</c> workers, each running its rows through all steps with SIMD vectors and no
    /// allocation per step. Backward, for t = T..1:
    /// <code>δ_t = (∂L/∂h_t + u ⊙ δ_{t+1}) ⊙ [h_t &gt; 0];  ∂L/∂c_t = δ_t;  ∂L/∂u = Σ_t Σ_b δ_t ⊙ h_{t−1};  ∂L/∂h_0 = u ⊙ δ_1</code>
    /// Arguments to <c>apply</c>: c (T, B, H) contiguous, u (H), h_0 (B, H), and optionally batchSizes (<c>int[]</c>,
    /// T entries, or null). Returns [h (T, B, H), h_final (B, H)]: h_final is each row's state at its last step, a second
    /// output of this node, whose gradient (B, H) starts the row's backward carry (u ⊙ δ_{T+1} read as ∂L/∂h_final) —
    /// instead of a select's or gather's backward building a zero (T, B, H) gradient and adding it to h's.
    /// <para>
    /// Variable-length sequences: with the rows sorted by decreasing length, only the first batchSizes[t] rows run
    /// step t (as in <see cref="ShortTermRecurrence"/>); each row stops after its last valid step, h is zero at its
    /// padded steps, and its backward starts at its last valid step.
    /// </para>
    /// </summary>
    internal sealed class LongTermRecurrence : torch.autograd.MultiTensorFunction<LongTermRecurrence>
    {
        /// <inheritdoc />
        public override string Name => nameof(LongTermRecurrence);

        /// <summary>
        /// Runs the recurrence: through autograd (<c>apply</c>) when a gradient is to be recorded; otherwise directly,
        /// with no autograd node, writing h over <paramref name="c"/> (a temporary of the caller's) when every sequence
        /// has all T steps. Returns h (T, B, H) and each row's final state (B, H).
        /// </summary>
        internal static (Tensor h, Tensor final) Run(Tensor c, Tensor u, Tensor h0, int[]? batchSizes)
        {
            if (torch.is_grad_enabled() && (c.requires_grad || u.requires_grad || h0.requires_grad))
            {
                var outputs = NodeOutputs.Apply(() => apply(c, u, h0, batchSizes!));
                return (outputs[0], outputs[1]);
            }
            var input = c.is_contiguous() ? c : c.contiguous();
            var h = batchSizes is null ? input : torch.zeros_like(input);
            var final = torch.empty_like(h0);
            using var weight = u.contiguous();
            using var initial = h0.contiguous();
            DTypeDispatch.Run(input.dtype, new ForwardKernel(input, weight, initial, h, final, batchSizes));
            return (h, final);
        }

        /// <inheritdoc />
        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var c = ((Tensor)vars[0]).contiguous();
            var u = ((Tensor)vars[1]).contiguous();
            var h0 = ((Tensor)vars[2]).contiguous();
            var batchSizes = vars.Length > 3 ? (int[]?)vars[3] : null;
            var h = batchSizes is null ? torch.empty_like(c) : torch.zeros_like(c);
            var final = torch.empty_like(h0);
            DTypeDispatch.Run(c.dtype, new ForwardKernel(c, u, h0, h, final, batchSizes));
            ctx.save_for_backward(new List<Tensor> { h, u, h0 });
            ctx.save_data("batchSizes", batchSizes!);
            NodeOutputs.ForwardDone();
            return new List<Tensor> { h, final };
        }

        /// <inheritdoc />
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            BackwardResults.ReleaseEarlier();
            using var scope = torch.NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor h = saved[0], u = saved[1], h0 = saved[2];
            var batchSizes = (int[]?)ctx.get_data("batchSizes");
            var gradH = gradOutputs[0].contiguous();
            var gradFinal = gradOutputs[1].contiguous();
            var gradC = batchSizes is null ? torch.empty_like(h) : torch.zeros_like(h);
            var gradU = torch.zeros_like(u);
            var gradH0 = torch.empty_like(h0);
            DTypeDispatch.Run(h.dtype, new BackwardKernel(gradH, gradFinal, h, u, h0, gradC, gradU, gradH0, batchSizes));
            foreach (var t in saved) t.Dispose();
            BackwardResults.DisposeAll(gradOutputs);
            return BackwardResults.Park(gradC, gradU, gradH0, null);
        }

        private readonly struct ForwardKernel(Tensor c, Tensor u, Tensor h0, Tensor h, Tensor final, int[]? batchSizes) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Forward<T>(c, u, h0, h, final, batchSizes);
        }

        private readonly struct BackwardKernel(Tensor gradH, Tensor gradFinal, Tensor h, Tensor u, Tensor h0, Tensor gradC, Tensor gradU, Tensor gradH0,
            int[]? batchSizes) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Backward<T>(gradH, gradFinal, h, u, h0, gradC, gradU, gradH0, batchSizes);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Forward<T>(Tensor c, Tensor u, Tensor h0, Tensor h, Tensor final, int[]? batchSizes) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int steps = (int)c.shape[0], batch = (int)c.shape[1], hidden = (int)c.shape[2];
            T* pc = Raw.Ptr<T>(c), pu = Raw.Ptr<T>(u), ph0 = Raw.Ptr<T>(h0), ph = Raw.Ptr<T>(h);
            long stepStride = (long)batch * hidden;
            int workers = Raw.Workers(batch, stepStride * steps);
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                int b0 = (int)((long)batch * w / workers), b1 = (int)((long)batch * (w + 1) / workers);
                for (int t = 0; t < steps; t++)
                {
                    int end = batchSizes is null ? b1 : Math.Min(b1, batchSizes[t]);
                    for (int b = b0; b < end; b++)
                    {
                        long row = t * stepStride + (long)b * hidden;
                        T* prev = t == 0 ? ph0 + (long)b * hidden : ph + row - stepStride;
                        LongTermKernels.Step(pc + row, pu, prev, ph + row, hidden);
                    }
                }
            });
            Raw.CopyFinal(ph, batch, hidden, Raw.RowSteps(steps, batch, batchSizes), Raw.Ptr<T>(final));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Backward<T>(Tensor gradH, Tensor gradFinal, Tensor h, Tensor u, Tensor h0, Tensor gradC, Tensor gradU, Tensor gradH0,
            int[]? batchSizes)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int steps = (int)h.shape[0], batch = (int)h.shape[1], hidden = (int)h.shape[2];
            T* pg = Raw.Ptr<T>(gradH), ph = Raw.Ptr<T>(h), pu = Raw.Ptr<T>(u), ph0 = Raw.Ptr<T>(h0);
            T* pgc = Raw.Ptr<T>(gradC), pgu = Raw.Ptr<T>(gradU), pgh0 = Raw.Ptr<T>(gradH0), pgf = Raw.Ptr<T>(gradFinal);
            long stepStride = (long)batch * hidden;
            int workers = Raw.Workers(batch, stepStride * steps);
            var partialU = new T[workers * hidden];
            // Each row's number of valid steps: row b runs every step t with batchSizes[t] > b. (Starting a row's
            // backward at its last valid step skips its padded steps, whose δ would be zero anyway: h = 0 there.)
            var rowSteps = Raw.RowSteps(steps, batch, batchSizes);
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                int b0 = (int)((long)batch * w / workers), b1 = (int)((long)batch * (w + 1) / workers);
                fixed (T* gu = &partialU[w * hidden])
                {
                    for (int b = b0; b < b1; b++)
                    {
                        // The carry u ⊙ δ_{t+1} lives in ∂L/∂h_0's row until the last step overwrites it with u ⊙ δ_1;
                        // at the row's last step it is the gradient of the row's final state.
                        T* carry = pgh0 + (long)b * hidden;
                        new ReadOnlySpan<T>(pgf + (long)b * hidden, hidden).CopyTo(new Span<T>(carry, hidden));
                        for (int t = rowSteps[b] - 1; t >= 0; t--)
                        {
                            long row = t * stepStride + (long)b * hidden;
                            T* prev = t == 0 ? ph0 + (long)b * hidden : ph + row - stepStride;
                            LongTermKernels.StepBackward(pg + row, ph + row, prev, pu, carry, pgc + row, gu, hidden);
                        }
                    }
                }
            });
            fixed (T* partial = partialU)
            {
                for (int w = 0; w < workers; w++)
                    Vectors.AddInPlace(pgu, partial + (long)w * hidden, hidden);
            }
        }
    }
}
