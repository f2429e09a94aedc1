using System;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// Inference (no gradient recorded, every sequence of full length) of one DuRNN layer on raw memory, in blocks of
    /// steps, as a two-stage pipeline:
    /// <code>
    /// stage 1 (the calling thread):  a = W_s x + b_s for the block (one GEMM), then s_t = φ(a_t + U_s s_{t−1}) step by step
    /// stage 2 (a worker, one block behind):
    ///     g = σ(W_gx x + W_gs s + b_g),  c = W_h (g ⊙ s) + b_h   (GEMMs over the block's rows)
    ///     h_t = ReLU(c_t + u ⊙ h_{t−1})                          step by step, written into the output
    /// </code>
    /// the equations of <see cref="DuRNNLayer"/>. Stage 1 is the only sequential matrix work and runs on one BLAS
    /// thread; with two or more torch threads stage 2 of block k runs on a second core while stage 1 computes block
    /// k + 1, so the gate's and the long-term input's products no longer wait for the whole short-term recurrence.
    /// With one torch thread, or a single block, the stages alternate on the calling thread. Blocks hold about
    /// 1 MiB per intermediate (<see cref="DuRNNLayer"/>'s rule), so they stay in cache; only the output, s_T and h_T
    /// are tensors. The smallest calls (streaming one step, B = 1) are one block: a handful of GEMMs instead of the
    /// all-steps nodes' dozens of tensor calls.
    /// </summary>
    internal static class LayerInference
    {
        /// <summary>Whether this form can run: every parameter contiguous (it reads them as raw row-major memory).</summary>
        internal static bool Supports(ShortTermCell shortTermCell, SelectionGate gate, LongTermCell longTermCell) =>
            shortTermCell.weight_ih.is_contiguous() && shortTermCell.bias_ih.is_contiguous() && shortTermCell.weight_hh.is_contiguous()
            && gate.weight_ih.is_contiguous() && gate.weight_sh.is_contiguous() && gate.bias.is_contiguous()
            && longTermCell.weight_ih.is_contiguous() && longTermCell.bias_ih.is_contiguous() && longTermCell.weight_hh.is_contiguous();

        /// <summary>Runs the layer over x (T, B, I) from s_0 and h_0 in blocks of <paramref name="blockSteps"/> steps;
        /// returns h (T, B, H), s_T and h_T.</summary>
        internal static (Tensor output, Tensor shortTerm, Tensor longTerm) Run(Tensor x, ShortTermCell shortTermCell, SelectionGate gate,
            LongTermCell longTermCell, Tensor s0, Tensor h0, long blockSteps)
        {
            long steps = x.shape[0], batch = x.shape[1];
            var output = torch.empty(steps, batch, longTermCell.HiddenSize, dtype: x.dtype, device: x.device);
            var sT = torch.empty_like(s0);
            var hT = torch.empty_like(h0);
            using var input = x.contiguous();
            using var initialShort = s0.contiguous();
            using var initialLong = h0.contiguous();
            var cells = new Cells(shortTermCell, gate, longTermCell);
            int block = (int)Math.Clamp(blockSteps, 1, steps);
            bool pipelined = torch.get_num_threads() > 1 && steps > block;
            DTypeDispatch.Run(x.dtype, new Kernel(input, cells, initialShort, initialLong, output, sT, hT, block, pipelined));
            return (output, sT, hT);
        }

        private sealed record Cells(ShortTermCell ShortTerm, SelectionGate Gate, LongTermCell LongTerm);

        private readonly struct Kernel(Tensor x, Cells cells, Tensor s0, Tensor h0, Tensor output, Tensor sT, Tensor hT, int block, bool pipelined)
            : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Blocks<T>(x, cells, s0, h0, output, sT, hT, block, pipelined);
        }

        private static unsafe void Blocks<T>(Tensor x, Cells cells, Tensor s0, Tensor h0, Tensor output, Tensor sT, Tensor hT, int block,
            bool pipelined) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int steps = (int)x.shape[0], batch = (int)x.shape[1], inputSize = (int)cells.ShortTerm.InputSize;
            int size = (int)cells.ShortTerm.ShortTermSize, hidden = (int)cells.LongTerm.HiddenSize;
            T* px = Raw.Ptr<T>(x), pout = Raw.Ptr<T>(output), ps0 = Raw.Ptr<T>(s0), ph0 = Raw.Ptr<T>(h0);
            T* ws = Raw.Ptr<T>(cells.ShortTerm.weight_ih), bs = Raw.Ptr<T>(cells.ShortTerm.bias_ih), us = Raw.Ptr<T>(cells.ShortTerm.weight_hh);
            T* wgx = Raw.Ptr<T>(cells.Gate.weight_ih), wgs = Raw.Ptr<T>(cells.Gate.weight_sh), bg = Raw.Ptr<T>(cells.Gate.bias);
            T* wh = Raw.Ptr<T>(cells.LongTerm.weight_ih), bh = Raw.Ptr<T>(cells.LongTerm.bias_ih), u = Raw.Ptr<T>(cells.LongTerm.weight_hh);
            bool relu = cells.ShortTerm.Activation == ShortTermActivation.ReLU;
            int blocks = (steps + block - 1) / block;
            long blockRows = (long)block * batch, stepS = (long)batch * size, stepH = (long)batch * hidden;
            // Two s buffers: stage 1 fills one while stage 2 reads the other; a stage-2 scratch for g ⊙ s.
            using var sA = new AlignedBuffer<T>(blockRows * size);
            using var sB = new AlignedBuffer<T>(blockRows * size);
            using var gated = new AlignedBuffer<T>(blockRows * size);
            T* Buffer(int k) => k % 2 == 0 ? sA.Pointer : sB.Pointer;
            int Steps(int k) => Math.Min(block, steps - k * block);

            void Stage1(int k)
            {
                int n = Steps(k);
                long rows = (long)n * batch;
                T* s = Buffer(k);
                T* xk = px + (long)k * block * batch * inputSize;
                Rows(bs, s, rows, size);
                Raw.Gemm(false, true, (int)rows, size, inputSize, xk, inputSize, ws, inputSize, true, s, size);
                T* previous = k == 0 ? ps0 : Buffer(k - 1) + (long)(block - 1) * stepS;
                for (int t = 0; t < n; t++)
                {
                    T* current = s + t * stepS;
                    Raw.Gemm(false, true, batch, size, size, previous, size, us, size, true, current, size);
                    if (relu) Kernels.ReluInPlace(current, stepS);
                    else Kernels.TanhInPlace(current, stepS);
                    previous = current;
                }
            }

            void Stage2(int k)
            {
                int n = Steps(k);
                long rows = (long)n * batch;
                T* s = Buffer(k), z = gated.Pointer;
                T* xk = px + (long)k * block * batch * inputSize;
                T* c = pout + (long)k * block * stepH;
                Rows(bg, z, rows, size);
                Raw.Gemm(false, true, (int)rows, size, inputSize, xk, inputSize, wgx, inputSize, true, z, size);
                Raw.Gemm(false, true, (int)rows, size, size, s, size, wgs, size, true, z, size);
                for (long i = 0; i < rows * size; i++)
                    z[i] = s[i] / (T.One + T.Exp(-z[i]));
                Rows(bh, c, rows, hidden);
                Raw.Gemm(false, true, (int)rows, hidden, size, z, size, wh, size, true, c, hidden);
                T* previous = k == 0 ? ph0 : c - stepH;
                for (int t = 0; t < n; t++)
                {
                    T* current = c + t * stepH;
                    for (int b = 0; b < batch; b++)
                        Kernels.IndRnnStep(current + (long)b * hidden, u, previous + (long)b * hidden, current + (long)b * hidden, hidden);
                    previous = current;
                }
            }

            int before = Blas.SetLocalThreads(1);
            try
            {
                if (!pipelined)
                {
                    for (int k = 0; k < blocks; k++)
                    {
                        Stage1(k);
                        Stage2(k);
                    }
                }
                else
                {
                    // filled: blocks stage 1 has finished; free: buffers stage 2 has finished with (two to start).
                    using var filled = new SemaphoreSlim(0);
                    using var free = new SemaphoreSlim(2);
                    using var stop = new CancellationTokenSource();
                    var worker = Task.Run(() =>
                    {
                        int previous = Blas.SetLocalThreads(1);
                        try
                        {
                            for (int k = 0; k < blocks; k++)
                            {
                                filled.Wait(stop.Token);
                                Stage2(k);
                                free.Release();
                            }
                        }
                        finally
                        {
                            Blas.SetLocalThreads(previous);
                        }
                    });
                    bool completed = false;
                    try
                    {
                        for (int k = 0; k < blocks; k++)
                        {
                            // Stage 1 of block k overwrites the buffer of block k − 2 and reads the last step of k − 1.
                            free.Wait();
                            Stage1(k);
                            filled.Release();
                        }
                        completed = true;
                    }
                    finally
                    {
                        if (!completed) stop.Cancel();
                        try { worker.Wait(); }
                        catch (AggregateException e) when (!completed && e.InnerException is OperationCanceledException) { }
                    }
                }
            }
            finally
            {
                Blas.SetLocalThreads(before);
            }
            int last = blocks - 1;
            new ReadOnlySpan<T>(Buffer(last) + (long)(Steps(last) - 1) * stepS, (int)stepS).CopyTo(new Span<T>(Raw.Ptr<T>(sT), (int)stepS));
            new ReadOnlySpan<T>(pout + (long)(steps - 1) * stepH, (int)stepH).CopyTo(new Span<T>(Raw.Ptr<T>(hT), (int)stepH));
        }

        /// <summary>Every one of <paramref name="rows"/> rows of <paramref name="destination"/> = <paramref name="bias"/>.</summary>
        private static unsafe void Rows<T>(T* bias, T* destination, long rows, int width) where T : unmanaged
        {
            var source = new ReadOnlySpan<T>(bias, width);
            for (long r = 0; r < rows; r++) source.CopyTo(new Span<T>(destination + r * width, width));
        }
    }
}
