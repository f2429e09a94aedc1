using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// The short-term cell over a whole sequence as one autograd node, on raw memory:
    /// <code>s_t = φ(W_s x_t + b_s + U_s s_{t−1}),  t = 1..T</code>
    /// (the step-by-step form is <see cref="ShortTermCell.forward"/>). a = W_s x + b_s is one GEMM over all T·B rows,
    /// written into the output; then each step is one BLAS GEMM (B×S by S×S, LibTorch's own oneMKL) accumulated in
    /// place over a_t, then φ in place. Backward, for t = T..1:
    /// <code>δ_t = (∂L/∂s_t + δ_{t+1} U_s) ⊙ φ'(s_t);  ∂L/∂s_0 = δ_1 U_s</code>
    /// (δ_{T+1} U_s read as ∂L/∂s_final, the gradient of the final state), one GEMM per step; and over all steps
    /// <code>∂U_s = Σ_t δ_tᵀ s_{t−1};  ∂W_s = Σ_t δ_tᵀ x_t;  ∂b_s = Σ_t δ_t;  ∂x_t = δ_t W_s  (when x needs a gradient)</code>
    /// which need only δ of their own steps: with two or more torch threads a worker computes them block by block
    /// while the recurrence goes on (<see cref="OverlapBlockSteps"/>); otherwise the same code runs once, as one block
    /// of all steps, after it.
    /// Arguments to <c>apply</c>: x (T, B, I), W_s (S, I), b_s (S), U_s (S, S), s_0 (B, S), φ
    /// (<see cref="ShortTermActivation"/>), and optionally batchSizes (<c>int[]</c>, T entries, or null).
    /// Returns [s (T, B, S), s_final (B, S)]: s_final is each row's state at its last step, a second output of this
    /// node (not a slice of s), so that its gradient arrives as (B, S) and enters the backward as the carry of the
    /// row's last step — instead of a select's or gather's backward building a zero (T, B, S) gradient and adding it
    /// to s's.
    /// <para>
    /// Variable-length sequences (PyTorch's packed layout): with the rows sorted by decreasing length, batchSizes[t]
    /// is the number of sequences still running at step t, and they are the first batchSizes[t] rows. Step t then is
    /// one GEMM with m = batchSizes[t] and φ over those rows only; every row that has ended is left at zero and takes
    /// no part in the step (its gradient there is ignored, its δ is zero, so it adds nothing to any sum above). A row
    /// active at step t was active at t − 1, so s_{t−1} is always its own last state.
    /// </para>
    /// </summary>
    internal sealed class ShortTermRecurrence : torch.autograd.MultiTensorFunction<ShortTermRecurrence>
    {
        /// <inheritdoc />
        public override string Name => nameof(ShortTermRecurrence);

        /// <summary>
        /// Runs the cell: through autograd (<c>apply</c>) when a gradient is to be recorded; otherwise directly, with no
        /// autograd node. Returns s (T, B, S) and each row's final state (B, S).
        /// </summary>
        internal static (Tensor s, Tensor final) Run(Tensor x, Tensor weightIH, Tensor bias, Tensor weightHH, Tensor s0,
            ShortTermActivation activation, int[]? batchSizes)
        {
            if (torch.is_grad_enabled() && (x.requires_grad || weightIH.requires_grad || bias.requires_grad || weightHH.requires_grad || s0.requires_grad))
            {
                var outputs = NodeOutputs.Apply(() => apply(x, weightIH, bias, weightHH, s0, activation, batchSizes!));
                return (outputs[0], outputs[1]);
            }
            var s = torch.nn.functional.linear(x, weightIH, bias);
            var final = torch.empty_like(s0);
            using var w = weightHH.contiguous();
            using var initial = s0.contiguous();
            DTypeDispatch.Run(s.dtype, new ForwardKernel(s, w, initial, final, activation, batchSizes));
            return (s, final);
        }

        /// <inheritdoc />
        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var x = ((Tensor)vars[0]).contiguous();
            var weightIH = ((Tensor)vars[1]).contiguous();
            var bias = (Tensor)vars[2];
            var weight = ((Tensor)vars[3]).contiguous();
            var s0 = ((Tensor)vars[4]).contiguous();
            var activation = (ShortTermActivation)vars[5];
            var batchSizes = vars.Length > 6 ? (int[]?)vars[6] : null;
            var s = torch.nn.functional.linear(x, weightIH, bias);
            var final = torch.empty_like(s0);
            DTypeDispatch.Run(s.dtype, new ForwardKernel(s, weight, s0, final, activation, batchSizes));
            ctx.save_for_backward(new List<Tensor> { s, weight, s0, x, weightIH });
            ctx.save_data("activation", activation);
            ctx.save_data("batchSizes", batchSizes!);
            ctx.save_data("xNeedsGrad", ((Tensor)vars[0]).requires_grad);
            NodeOutputs.ForwardDone();
            return new List<Tensor> { s, final };
        }

        /// <inheritdoc />
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            BackwardResults.ReleaseEarlier();
            using var scope = torch.NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor s = saved[0], weight = saved[1], s0 = saved[2], x = saved[3], weightIH = saved[4];
            var activation = (ShortTermActivation)ctx.get_data("activation");
            var batchSizes = (int[]?)ctx.get_data("batchSizes");
            bool xNeedsGrad = (bool)ctx.get_data("xNeedsGrad");
            var gradS = gradOutputs[0].contiguous();
            var gradFinal = gradOutputs[1].contiguous();
            long steps = s.shape[0], batch = s.shape[1], size = s.shape[2];
            var sums = new Sums(
                torch.empty_like(s), torch.zeros_like(s0), torch.zeros_like(weight), torch.zeros_like(weightIH),
                torch.zeros(size, dtype: s.dtype, device: s.device), xNeedsGrad ? torch.empty_like(x) : null);
            int blockSteps = OverlapBlockSteps(steps, batch, size);
            DTypeDispatch.Run(s.dtype, new BackwardKernel(gradS, gradFinal, s, weight, s0, x, weightIH, sums, blockSteps, activation, batchSizes));
            foreach (var t in saved) t.Dispose();
            BackwardResults.DisposeAll(gradOutputs);
            return BackwardResults.Park(sums.GradX, sums.GradWeightIH, sums.GradBias, sums.GradWeightHH, sums.GradS0, null, null);
        }

        /// <summary>The backward's results: δ for every step, ∂s_0, and the sums over all steps (∂x when needed).</summary>
        private sealed record Sums(Tensor GradA, Tensor GradS0, Tensor GradWeightHH, Tensor GradWeightIH, Tensor GradBias, Tensor? GradX);

        private readonly struct ForwardKernel(Tensor s, Tensor weight, Tensor s0, Tensor final, ShortTermActivation activation, int[]? batchSizes)
            : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Forward<T>(s, weight, s0, final, activation, batchSizes);
        }

        private readonly struct BackwardKernel(Tensor gradS, Tensor gradFinal, Tensor s, Tensor weight, Tensor s0, Tensor x, Tensor weightIH,
            Sums sums, int blockSteps, ShortTermActivation activation, int[]? batchSizes) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
                Backward<T>(gradS, gradFinal, s, weight, s0, x, weightIH, sums, blockSteps, activation, batchSizes);
        }

        /// <summary>Rows (block steps × B) of one overlapped block of sums: large enough for efficient GEMMs.</summary>
        private const long OverlapRows = 2048;

        /// <summary>For tests: a fixed overlap block length (0 turns the overlap off; null: the rule below).</summary>
        internal static int? OverlapBlockOverride { get; set; }

        /// <summary>
        /// Steps per block of the sums a worker computes while the backward recurrence runs (0: no overlap). The
        /// recurrence's per-step GEMMs are small and run on one BLAS thread, so with two or more torch threads a second
        /// core is free: it takes ∂U_s, ∂W_s, ∂b_s and ∂x block by block, as soon as a block's δ are known, instead of
        /// large GEMMs after the loop. Only with at least two blocks of ~<see cref="OverlapRows"/> rows, and only where
        /// the per-step GEMM runs on one thread (<see cref="Blas.ThreadScope"/>).
        /// </summary>
        private static int OverlapBlockSteps(long steps, long batch, long size)
        {
            if (OverlapBlockOverride is int fixedSteps) return fixedSteps;
            if (torch.get_num_threads() < 2 || batch * size * size >= Blas.SingleThreadedBelow) return 0;
            long block = Math.Max(8, OverlapRows / Math.Max(1, batch));
            return steps >= 2 * block ? (int)block : 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Forward<T>(Tensor s, Tensor weight, Tensor s0, Tensor final, ShortTermActivation activation, int[]? batchSizes)
            where T : unmanaged, IFloatingPointIeee754<T>
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
                    Blas.Gemm(false, true, active, size, size, previous, size, pw, size, true, current, size);
                    ShortTermKernels.Activate(current, activeElements, activation);
                }
                if (active < batch)
                    new Span<T>(current + activeElements, (int)(stepStride - activeElements)).Clear();
            }
            Raw.CopyFinal(ps, batch, size, Raw.RowSteps(steps, batch, batchSizes), Raw.Ptr<T>(final));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Backward<T>(Tensor gradS, Tensor gradFinal, Tensor s, Tensor weight, Tensor s0, Tensor x, Tensor weightIH,
            Sums sums, int blockSteps, ShortTermActivation activation, int[]? batchSizes)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int steps = (int)s.shape[0], batch = (int)s.shape[1], size = (int)s.shape[2], inputSize = (int)x.shape[2];
            T* pg = Raw.Ptr<T>(gradS), ps = Raw.Ptr<T>(s), pw = Raw.Ptr<T>(weight), ps0 = Raw.Ptr<T>(s0);
            T* px = Raw.Ptr<T>(x), pwi = Raw.Ptr<T>(weightIH);
            T* pga = Raw.Ptr<T>(sums.GradA), carry = Raw.Ptr<T>(sums.GradS0), pgf = Raw.Ptr<T>(gradFinal);
            T* pgw = Raw.Ptr<T>(sums.GradWeightHH), pgwi = Raw.Ptr<T>(sums.GradWeightIH), pgb = Raw.Ptr<T>(sums.GradBias);
            T* pgx = sums.GradX is null ? null : Raw.Ptr<T>(sums.GradX);
            long stepStride = (long)batch * size;

            // The sums of steps [start, end), which need only those steps' δ (and s_{start−1}, or s_0 for step 1).
            void Block(int start, int end)
            {
                int rows = (end - start) * batch;
                T* delta = pga + start * stepStride;
                if (start == 0)
                {
                    Blas.Gemm(true, false, size, size, batch, pga, size, ps0, size, true, pgw, size);
                    if (end > 1)
                        Blas.Gemm(true, false, size, size, (end - 1) * batch, pga + stepStride, size, ps, size, true, pgw, size);
                }
                else
                {
                    Blas.Gemm(true, false, size, size, rows, delta, size, ps + (start - 1) * stepStride, size, true, pgw, size);
                }
                Blas.Gemm(true, false, size, inputSize, rows, delta, size, px + (long)start * batch * inputSize, inputSize, true, pgwi, inputSize);
                if (pgx != null)
                    Blas.Gemm(false, false, rows, inputSize, size, delta, size, pwi, inputSize, false, pgx + (long)start * batch * inputSize, inputSize);
                for (int r = 0; r < rows; r++) Vectors.AddInPlace(pgb, delta + (long)r * size, size);
            }

            // Blocks [start, end) from the last: the worker takes each once the loop below has passed its first step,
            // in the same order every run, so the sums are the same on every run.
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
                        for (int end = steps; end > 0; end = Math.Max(0, end - blockSteps))
                        {
                            blockDone.Wait(stop.Token);
                            Block(Math.Max(0, end - blockSteps), end);
                        }
                    }
                    finally
                    {
                        Blas.SetLocalThreads(previous);
                    }
                });
            }
            int nextStart = blockSteps > 0 ? Math.Max(0, steps - blockSteps) : -1;
            bool completed = false;
            try
            {
                using var threads = new Blas.ThreadScope(batch, size, size);
                // carry holds δ_{t+1} U_s; it starts at zero and ends as ∂L/∂s_0 = δ_1 U_s. A row that has ended by
                // step t has ended at every later step too, so its carry is still zero when its own last step is
                // reached: there it takes the gradient of the row's final state (rows [batchSizes[t+1],
                // batchSizes[t]) end at step t).
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
                        ShortTermKernels.Backward(pg + offset, carry, ps + offset, pga + offset, activeElements, activation);
                        Blas.Gemm(false, false, active, size, size, pga + offset, size, pw, size, false, carry, size);
                    }
                    if (active < batch)
                        new Span<T>(pga + offset + activeElements, (int)(stepStride - activeElements)).Clear();
                    if (t == nextStart)
                    {
                        blockDone.Release();
                        nextStart = nextStart > 0 ? Math.Max(0, nextStart - blockSteps) : -1;
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
            // Without the overlap: the sums as one block of all steps, with torch's threads (the loop's one-thread
            // scope has ended).
            if (blockSteps == 0) Block(0, steps);
        }
    }
}
