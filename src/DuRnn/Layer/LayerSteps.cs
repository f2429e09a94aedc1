using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// Inference of one DuRNN layer step by step on raw memory, for the smallest calls (streaming: B = 1, one step a
    /// call). For each step, with every product one BLAS GEMM of B rows:
    /// <code>
    /// s_t = φ(W_s x_t + b_s + U_s s_{t−1})
    /// g_t = σ(W_gx x_t + W_gs s_t + b_g)
    /// h_t = ReLU(W_h (g_t ⊙ s_t) + b_h + u ⊙ h_{t−1})
    /// </code>
    /// the equations of <see cref="DuRNNLayer"/> in the order its reference form runs them. The three fused nodes
    /// (<see cref="ShortTermRecurrence"/>, <see cref="GatedProjection"/>, <see cref="LongTermRecurrence"/>) do the
    /// same work as all-steps-at-once products, which pays for long sequences; for a call of a few rows their dozens of
    /// tensor operations (each a native call and a managed object) cost far more than the arithmetic, so
    /// <see cref="DuRNNLayer"/> uses this form when T·B ≤ <see cref="MaxRows"/> and no gradient is recorded. Only the
    /// three results are tensors; the intermediates live in one scratch array.
    /// </summary>
    internal static class LayerSteps
    {
        /// <summary>Calls with at most this many rows (T·B) run step by step here.</summary>
        internal const long MaxRows = 16;

        /// <summary>Whether this form can run: every parameter contiguous (it reads them as raw row-major memory).</summary>
        internal static bool Supports(ShortTermCell shortTermCell, SelectionGate gate, LongTermCell longTermCell) =>
            shortTermCell.weight_ih.is_contiguous() && shortTermCell.bias_ih.is_contiguous() && shortTermCell.weight_hh.is_contiguous()
            && gate.weight_ih.is_contiguous() && gate.weight_sh.is_contiguous() && gate.bias.is_contiguous()
            && longTermCell.weight_ih.is_contiguous() && longTermCell.bias_ih.is_contiguous() && longTermCell.weight_hh.is_contiguous();

        /// <summary>Runs the layer over x (T, B, I) from s_0 and h_0; returns h (T, B, H), s_T and h_T.</summary>
        internal static (Tensor output, Tensor shortTerm, Tensor longTerm) Run(Tensor x, ShortTermCell shortTermCell, SelectionGate gate,
            LongTermCell longTermCell, Tensor s0, Tensor h0)
        {
            long steps = x.shape[0], batch = x.shape[1];
            var output = torch.empty(steps, batch, longTermCell.HiddenSize, dtype: x.dtype, device: x.device);
            var sT = torch.empty_like(s0);
            var hT = torch.empty_like(h0);
            using var input = x.contiguous();
            using var initialShort = s0.contiguous();
            using var initialLong = h0.contiguous();
            DTypeDispatch.Run(x.dtype, new Kernel(input, shortTermCell, gate, longTermCell, initialShort, initialLong, output, sT, hT));
            return (output, sT, hT);
        }

        private readonly struct Kernel(Tensor x, ShortTermCell shortTermCell, SelectionGate gate, LongTermCell longTermCell,
            Tensor s0, Tensor h0, Tensor output, Tensor sT, Tensor hT) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
                Steps<T>(x, shortTermCell, gate, longTermCell, s0, h0, output, sT, hT);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Steps<T>(Tensor x, ShortTermCell shortTermCell, SelectionGate gate, LongTermCell longTermCell,
            Tensor s0, Tensor h0, Tensor output, Tensor sT, Tensor hT) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int steps = (int)x.shape[0], batch = (int)x.shape[1], inputSize = (int)shortTermCell.InputSize;
            int size = (int)shortTermCell.ShortTermSize, hidden = (int)longTermCell.HiddenSize;
            T* px = Raw.Ptr<T>(x), pout = Raw.Ptr<T>(output), psT = Raw.Ptr<T>(sT), phT = Raw.Ptr<T>(hT);
            T* ws = Raw.Ptr<T>(shortTermCell.weight_ih), bs = Raw.Ptr<T>(shortTermCell.bias_ih), us = Raw.Ptr<T>(shortTermCell.weight_hh);
            T* wgx = Raw.Ptr<T>(gate.weight_ih), wgs = Raw.Ptr<T>(gate.weight_sh), bg = Raw.Ptr<T>(gate.bias);
            T* wh = Raw.Ptr<T>(longTermCell.weight_ih), bh = Raw.Ptr<T>(longTermCell.bias_ih), u = Raw.Ptr<T>(longTermCell.weight_hh);
            // Scratch: s for this step and the last, the gate, the long-term input.
            using var scratch = new AlignedBuffer<T>((long)batch * (3L * size + hidden));
            T* buffer = scratch.Pointer;
            using var threads = new Blas.ThreadScope(batch, Math.Max(size, hidden), Math.Max(size, inputSize));
            {
                T* sPrev = buffer, sCur = buffer + (long)batch * size, z = sCur + (long)batch * size, c = z + (long)batch * size;
                new ReadOnlySpan<T>(Raw.Ptr<T>(s0), batch * size).CopyTo(new Span<T>(sPrev, batch * size));
                T* hPrev = Raw.Ptr<T>(h0);
                for (int t = 0; t < steps; t++)
                {
                    T* xt = px + (long)t * batch * inputSize;
                    // s_t = φ(b_s + x_t W_sᵀ + s_{t−1} U_sᵀ)
                    Raw.FillRows(bs, sCur, batch, size);
                    Blas.Gemm(false, true, batch, size, inputSize, xt, inputSize, ws, inputSize, true, sCur, size);
                    Blas.Gemm(false, true, batch, size, size, sPrev, size, us, size, true, sCur, size);
                    ShortTermKernels.Activate(sCur, (long)batch * size, shortTermCell.Activation);
                    // g_t = σ(b_g + x_t W_gxᵀ + s_t W_gsᵀ), then z ← g_t ⊙ s_t
                    Raw.FillRows(bg, z, batch, size);
                    Blas.Gemm(false, true, batch, size, inputSize, xt, inputSize, wgx, inputSize, true, z, size);
                    Blas.Gemm(false, true, batch, size, size, sCur, size, wgs, size, true, z, size);
                    GateKernels.SigmoidGated(z, sCur, (long)batch * size);
                    // h_t = ReLU(b_h + z W_hᵀ + u ⊙ h_{t−1})
                    Raw.FillRows(bh, c, batch, hidden);
                    Blas.Gemm(false, true, batch, hidden, size, z, size, wh, size, true, c, hidden);
                    T* ht = pout + (long)t * batch * hidden;
                    for (int b = 0; b < batch; b++)
                        LongTermKernels.Step(c + (long)b * hidden, u, hPrev + (long)b * hidden, ht + (long)b * hidden, hidden);
                    hPrev = ht;
                    T* swap = sPrev;
                    sPrev = sCur;
                    sCur = swap;
                }
                new ReadOnlySpan<T>(sPrev, batch * size).CopyTo(new Span<T>(psT, batch * size));
                new ReadOnlySpan<T>(hPrev, batch * hidden).CopyTo(new Span<T>(phT, batch * hidden));
            }
        }
    }
}
