using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// The short-term recurrence over a whole sequence as one autograd node, on raw memory:
    /// <code>s_t = φ(a_t + U_s s_{t−1}),  t = 1..T</code>
    /// where a_t = W_s x_t + b_s was computed for all steps at once. Each step is one BLAS GEMM (B×S by S×S, LibTorch's
    /// own oneMKL, threaded by torch's thread setting) written in place over a_t, then φ in place. Backward, for t = T..1:
    /// <code>δ_t = (∂L/∂s_t + δ_{t+1} U_s) ⊙ φ'(s_t);  ∂L/∂a_t = δ_t;  ∂L/∂s_0 = δ_1 U_s</code>
    /// (δ_{T+1} U_s read as ∂L/∂s_final, the gradient of the final state) one GEMM per step, then
    /// ∂L/∂U_s = Σ_t δ_tᵀ s_{t−1} as two large GEMMs over all steps.
    /// Arguments to <c>apply</c>: a (T, B, S), U_s (S, S), s_0 (B, S), φ (<see cref="ShortTermActivation"/>), and
    /// optionally batchSizes (<c>int[]</c>, T entries, or null).
    /// Returns [s (T, B, S), s_final (B, S)]: s_final is each row's state at its last step, a second output of this
    /// node (not a slice of s), so that its gradient arrives as (B, S) and enters the backward as the carry of the
    /// row's last step — instead of a select's or gather's backward building a zero (T, B, S) gradient and adding it
    /// to s's.
    /// <para>
    /// Variable-length sequences (PyTorch's packed layout): with the rows sorted by decreasing length, batchSizes[t]
    /// is the number of sequences still running at step t, and they are the first batchSizes[t] rows. Step t then is
    /// one GEMM with m = batchSizes[t] and φ over those rows only; every row that has ended is left at zero and takes
    /// no part in the step (its gradient there is ignored, its δ is zero). A row active at step t was active at t − 1,
    /// so s_{t−1} is always its own last state; its final state is s at its last valid step, which the caller takes.
    /// </para>
    /// </summary>
    internal sealed class ShortTermRecurrence : torch.autograd.MultiTensorFunction<ShortTermRecurrence>
    {
        /// <inheritdoc />
        public override string Name => nameof(ShortTermRecurrence);

        /// <summary>
        /// Runs the recurrence: through autograd (<c>apply</c>) when a gradient is to be recorded; otherwise directly,
        /// overwriting <paramref name="a"/> (a temporary of the caller's) with s, with no autograd node and no copy.
        /// Returns s (T, B, S) and each row's final state (B, S).
        /// </summary>
        internal static (Tensor s, Tensor final) Run(Tensor a, Tensor weight, Tensor s0, ShortTermActivation activation, int[]? batchSizes)
        {
            if (torch.is_grad_enabled() && (a.requires_grad || weight.requires_grad || s0.requires_grad))
            {
                var outputs = NodeOutputs.Apply(() => apply(a, weight, s0, activation, batchSizes!));
                return (outputs[0], outputs[1]);
            }
            var s = a.is_contiguous() ? a : a.contiguous();
            var final = torch.empty_like(s0);
            using var w = weight.contiguous();
            using var initial = s0.contiguous();
            DTypeDispatch.Run(s.dtype, new ForwardKernel(s, w, initial, final, activation, batchSizes));
            return (s, final);
        }

        /// <inheritdoc />
        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var a = (Tensor)vars[0];
            var weight = ((Tensor)vars[1]).contiguous();
            var s0 = ((Tensor)vars[2]).contiguous();
            var activation = (ShortTermActivation)vars[3];
            var batchSizes = vars.Length > 4 ? (int[]?)vars[4] : null;
            var s = a.contiguous().clone();
            var final = torch.empty_like(s0);
            DTypeDispatch.Run(s.dtype, new ForwardKernel(s, weight, s0, final, activation, batchSizes));
            ctx.save_for_backward(new List<Tensor> { s, weight, s0 });
            ctx.save_data("activation", activation);
            ctx.save_data("batchSizes", batchSizes!);
            NodeOutputs.ForwardDone();
            return new List<Tensor> { s, final };
        }

        /// <inheritdoc />
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            BackwardResults.ReleaseEarlier();
            using var scope = torch.NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor s = saved[0], weight = saved[1], s0 = saved[2];
            var activation = (ShortTermActivation)ctx.get_data("activation");
            var batchSizes = (int[]?)ctx.get_data("batchSizes");
            var gradS = gradOutputs[0].contiguous();
            var gradFinal = gradOutputs[1].contiguous();
            var gradA = torch.empty_like(s);
            var gradS0 = torch.zeros_like(s0);
            long steps = s.shape[0], batch = s.shape[1], size = s.shape[2];
            var gradWeight = torch.zeros_like(weight);
            int blockSteps = OverlapBlockSteps(steps, batch, size);
            DTypeDispatch.Run(s.dtype, new BackwardKernel(gradS, gradFinal, s, weight, gradA, gradS0, gradWeight, blockSteps, activation, batchSizes));

            // ∂L/∂U_s = Σ_t δ_tᵀ s_{t−1}: step 1 pairs with s_0, steps 2..T with s_1..s_{T−1} (those the kernel's
            // worker has already summed when it overlapped them with the recurrence). Ended rows have δ = 0 (and s = 0),
            // so they add nothing.
            gradWeight.addmm_(gradA[0].t(), s0);
            if (steps > 1 && blockSteps == 0)
            {
                var later = gradA.narrow(0, 1, steps - 1).reshape(-1, size);
                var earlier = s.narrow(0, 0, steps - 1).reshape(-1, size);
                gradWeight.addmm_(later.t(), earlier);
            }
            foreach (var t in saved) t.Dispose();
            BackwardResults.DisposeAll(gradOutputs);
            return BackwardResults.Park(gradA, gradWeight, gradS0, null, null);
        }

        private readonly struct ForwardKernel(Tensor s, Tensor weight, Tensor s0, Tensor final, ShortTermActivation activation, int[]? batchSizes)
            : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Forward<T>(s, weight, s0, final, activation, batchSizes);
        }

        private readonly struct BackwardKernel(Tensor gradS, Tensor gradFinal, Tensor s, Tensor weight, Tensor gradA, Tensor gradS0,
            Tensor gradWeight, int blockSteps, ShortTermActivation activation, int[]? batchSizes) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
                Backward<T>(gradS, gradFinal, s, weight, gradA, gradS0, gradWeight, blockSteps, activation, batchSizes);
        }

        /// <summary>Rows (block steps × B) of one overlapped ∂U_s product: large enough for an efficient GEMM.</summary>
        private const long OverlapRows = 2048;

        /// <summary>For tests: a fixed overlap block length (0 turns the overlap off; null: the rule below).</summary>
        internal static int? OverlapBlockOverride { get; set; }

        /// <summary>
        /// Steps per block of the ∂U_s products a worker sums while the backward recurrence runs (0: no overlap).
        /// The recurrence's per-step GEMMs are small and run on one BLAS thread, so with two or more torch threads a
        /// second core is free: it takes Σ δ_tᵀ s_{t−1} block by block, as soon as a block's δ are known, instead of
        /// one large GEMM after the loop. Only with at least two blocks of ~<see cref="OverlapRows"/> rows, and only
        /// where the per-step GEMM runs on one thread (<see cref="Blas.ThreadScope"/>).
        /// </summary>
        private static int OverlapBlockSteps(long steps, long batch, long size)
        {
            if (OverlapBlockOverride is int fixedSteps) return steps > 1 ? fixedSteps : 0;
            if (torch.get_num_threads() < 2 || batch * size * size >= Blas.SingleThreadedBelow) return 0;
            long block = Math.Max(8, OverlapRows / Math.Max(1, batch));
            return steps - 1 >= 2 * block ? (int)block : 0;
        }

        private static unsafe void Forward<T>(Tensor s, Tensor weight, Tensor s0, Tensor final, ShortTermActivation activation, int[]? batchSizes)
            where T : unmanaged, INumber<T>, IHyperbolicFunctions<T>
        {
            int steps = (int)s.shape[0], batch = (int)s.shape[1], size = (int)s.shape[2];
            T* ps = Raw.Ptr<T>(s), pw = Raw.Ptr<T>(weight), ps0 = Raw.Ptr<T>(s0);
            long stepStride = (long)batch * size;
            using var threads = new Blas.ThreadScope(batch, size, size);
            for (int t = 0; t < steps; t++)
            {
                T* current = ps + t * stepStride;
                T* previous = t == 0 ? ps0 : current - stepStride;
                int active = batchSizes?[t] ?? batch;
                long activeElements = (long)active * size;
                if (active > 0)
                {
                    // s_t ← a_t + s_{t−1} U_sᵀ (row-major, accumulated in place), then φ; for the active rows.
                    Raw.Gemm(false, true, active, size, size, previous, size, pw, size, true, current, size);
                    if (activation == ShortTermActivation.ReLU) Kernels.ReluInPlace(current, activeElements);
                    else Kernels.TanhInPlace(current, activeElements);
                }
                if (active < batch)
                    new Span<T>(current + activeElements, (int)(stepStride - activeElements)).Clear();
            }
            Raw.CopyFinal(ps, batch, size, Raw.RowSteps(steps, batch, batchSizes), Raw.Ptr<T>(final));
        }

        private static unsafe void Backward<T>(Tensor gradS, Tensor gradFinal, Tensor s, Tensor weight, Tensor gradA, Tensor gradS0,
            Tensor gradWeight, int blockSteps, ShortTermActivation activation, int[]? batchSizes)
            where T : unmanaged, INumber<T>, IHyperbolicFunctions<T>
        {
            int steps = (int)s.shape[0], batch = (int)s.shape[1], size = (int)s.shape[2];
            T* pg = Raw.Ptr<T>(gradS), ps = Raw.Ptr<T>(s), pw = Raw.Ptr<T>(weight);
            T* pga = Raw.Ptr<T>(gradA), carry = Raw.Ptr<T>(gradS0), pgf = Raw.Ptr<T>(gradFinal), pgw = Raw.Ptr<T>(gradWeight);
            using var threads = new Blas.ThreadScope(batch, size, size);
            long stepStride = (long)batch * size;
            // Blocks [start, end) of steps ≥ 1, from the last: the worker sums δ_tᵀ s_{t−1} over a block once the loop
            // below has passed its first step, and the blocks in the same order, so the sum is the same on every run.
            using var blockDone = new SemaphoreSlim(0);
            using var stop = new CancellationTokenSource();
            Task? worker = null;
            if (blockSteps > 0)
            {
                worker = Task.Run(() =>
                {
                    int previous = Blas.SetLocalThreads(1);
                    try
                    {
                        for (int end = steps; end > 1; end = Math.Max(1, end - blockSteps))
                        {
                            int start = Math.Max(1, end - blockSteps);
                            blockDone.Wait(stop.Token);
                            Raw.Gemm(true, false, size, size, (end - start) * batch, pga + start * stepStride, size,
                                ps + (start - 1) * stepStride, size, true, pgw, size);
                        }
                    }
                    finally
                    {
                        Blas.SetLocalThreads(previous);
                    }
                });
            }
            int nextStart = blockSteps > 0 ? Math.Max(1, steps - blockSteps) : -1;
            bool completed = false;
            try
            {
                // carry holds δ_{t+1} U_s; it starts at zero and ends as ∂L/∂s_0 = δ_1 U_s. A row that has ended by step t
                // has ended at every later step too, so its carry is still zero when its own last step is reached: there
                // it takes the gradient of the row's final state (rows [batchSizes[t+1], batchSizes[t]) end at step t).
                int later = 0;
                for (int t = steps - 1; t >= 0; t--)
                {
                    long offset = t * stepStride;
                    int active = batchSizes?[t] ?? batch;
                    long activeElements = (long)active * size;
                    if (active > later)
                        new ReadOnlySpan<T>(pgf + (long)later * size, (active - later) * size).CopyTo(new Span<T>(carry + (long)later * size, (active - later) * size));
                    later = active;
                    if (active > 0)
                    {
                        if (activation == ShortTermActivation.ReLU) Kernels.ReluBackward(pg + offset, carry, ps + offset, pga + offset, activeElements);
                        else Kernels.TanhBackward(pg + offset, carry, ps + offset, pga + offset, activeElements);
                        Raw.Gemm(false, false, active, size, size, pga + offset, size, pw, size, false, carry, size);
                    }
                    if (active < batch)
                        new Span<T>(pga + offset + activeElements, (int)(stepStride - activeElements)).Clear();
                    if (t == nextStart)
                    {
                        blockDone.Release();
                        nextStart = nextStart > 1 ? Math.Max(1, nextStart - blockSteps) : -1;
                    }
                }
                completed = true;
            }
            finally
            {
                // If the loop failed, the worker must not wait for blocks that will never come.
                if (!completed) stop.Cancel();
                try { worker?.Wait(); }
                catch (AggregateException e) when (!completed && e.InnerException is OperationCanceledException) { }
            }
        }
    }
}
