using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// The selection gate and the long-term cell's input for all steps at once, as one autograd node:
    /// <code>g_t = σ(W_gx x_t + W_gs s_t + b_g);  c_t = W_h (g_t ⊙ s_t) + b_h</code>
    /// (the step-by-step forms are <see cref="SelectionGate.forward"/> and <see cref="LongTermCell.InputProjection"/>).
    /// Forward: four GEMMs over all T·B rows, σ and ⊙ in place; p = g ⊙ s is not kept (a (T, B, S) tensor less to hold
    /// until the backward: the node keeps x, s and g). Backward:
    /// <code>
    /// ∂b_h = Σ ∂c;  ∂W_h = ∂cᵀ p  (p rebuilt block by block in a small buffer);  ∂p = ∂c W_h
    /// ∂z = ∂p ⊙ s ⊙ g ⊙ (1 − g);  ∂s = ∂p ⊙ g + ∂z W_gs          (one element-wise pass, then a GEMM accumulated in place)
    /// ∂W_gs = ∂zᵀ s;  ∂W_gx = ∂zᵀ x;  ∂b_g = Σ ∂z;  ∂x = ∂z W_gx   (∂x only when x needs a gradient)
    /// </code>
    /// where autograd's chain of linear, addmm_, sigmoid_, mul and linear nodes makes more passes over (T, B, S): σ's
    /// and ⊙'s backward each allocate and write their own tensors, and the two contributions to ∂s are added in a pass
    /// of their own. Arguments to <c>apply</c>: x (T, B, I), s (T, B, S), W_gx, W_gs, b_g, W_h, b_h. Returns [c (T, B, H)].
    /// </summary>
    internal sealed class GatedProjection : torch.autograd.MultiTensorFunction<GatedProjection>
    {
        /// <inheritdoc />
        public override string Name => nameof(GatedProjection);

        /// <summary>
        /// c = W_h (g ⊙ s) + b_h with g the gate: through autograd when a gradient is to be recorded, otherwise directly
        /// (g ⊙ s written over g).
        /// </summary>
        internal static Tensor Run(Tensor x, Tensor s, SelectionGate gate, LongTermCell longTerm)
        {
            var args = new Tensor[] { x, s, gate.weight_ih, gate.weight_sh, gate.bias, longTerm.weight_ih, longTerm.bias_ih };
            if (torch.is_grad_enabled() && System.Array.Exists(args, a => a.requires_grad))
                return NodeOutputs.Apply(() => apply(x, s, gate.weight_ih, gate.weight_sh, gate.bias, longTerm.weight_ih, longTerm.bias_ih))[0];
            using var scope = torch.NewDisposeScope();
            var (g, s2d) = Gate(x, s, gate.weight_ih, gate.weight_sh, gate.bias);
            var c = Projection(g.mul_(s2d), longTerm.weight_ih, longTerm.bias_ih, x.shape[0], x.shape[1]);
            return c.MoveToOuterDisposeScope();
        }

        /// <summary>g = σ(x W_gxᵀ + b_g + s W_gsᵀ) as (T·B, S), computed in place on one fresh tensor; and s as (T·B, S).</summary>
        private static (Tensor g, Tensor s2d) Gate(Tensor x, Tensor s, Tensor weightX, Tensor weightS, Tensor bias)
        {
            long size = s.shape[2];
            var x2d = x.reshape(-1, x.shape[2]);
            var s2d = s.reshape(-1, size);
            var pre = torch.nn.functional.linear(x2d, weightX, bias);
            pre.addmm_(s2d, weightS.t());
            return (pre.sigmoid_(), s2d);
        }

        /// <summary>c = p W_hᵀ + b_h, shaped (T, B, H).</summary>
        private static Tensor Projection(Tensor p2d, Tensor weight, Tensor bias, long steps, long batch) =>
            torch.nn.functional.linear(p2d, weight, bias).view(steps, batch, weight.shape[0]);

        /// <inheritdoc />
        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            Tensor x = (Tensor)vars[0], s = (Tensor)vars[1];
            Tensor weightX = (Tensor)vars[2], weightS = (Tensor)vars[3], biasG = (Tensor)vars[4];
            Tensor weightH = (Tensor)vars[5], biasH = (Tensor)vars[6];
            var (g, s2d) = Gate(x, s, weightX, weightS, biasG);
            Tensor c;
            using (var p = g * s2d)
                c = Projection(p, weightH, biasH, x.shape[0], x.shape[1]);
            ctx.save_for_backward(new List<Tensor> { x, s2d, g, weightX, weightS, weightH });
            ctx.save_data("xNeedsGrad", x.requires_grad);
            NodeOutputs.ForwardDone();
            return new List<Tensor> { c };
        }

        /// <inheritdoc />
        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            BackwardResults.ReleaseEarlier();
            using var scope = torch.NewDisposeScope();
            var saved = ctx.get_saved_variables();
            Tensor x = saved[0], s2d = saved[1], g = saved[2], weightX = saved[3], weightS = saved[4], weightH = saved[5];
            bool xNeedsGrad = (bool)ctx.get_data("xNeedsGrad");
            long steps = x.shape[0], batch = x.shape[1], inputSize = x.shape[2], size = s2d.shape[1];
            var gradC = gradOutputs[0].contiguous().reshape(-1, weightH.shape[0]);

            var gradBiasH = gradC.sum(0L);
            var gradWeightH = torch.zeros_like(weightH);
            DTypeDispatch.Run(g.dtype, new WeightKernel(gradC, g, s2d, gradWeightH));
            var gradS = torch.mm(gradC, weightH);              // ∂p, then ∂s in place
            var gradZ = torch.empty_like(gradS);
            DTypeDispatch.Run(gradS.dtype, new GateKernel(gradS, s2d, g, gradZ));
            gradS.addmm_(gradZ, weightS);
            var gradWeightS = torch.mm(gradZ.t(), s2d);
            var x2d = x.reshape(-1, inputSize);
            var gradWeightX = torch.mm(gradZ.t(), x2d);
            var gradBiasG = gradZ.sum(0L);
            Tensor? gradX = xNeedsGrad ? torch.mm(gradZ, weightX).view(steps, batch, inputSize) : null;

            foreach (var t in saved) t.Dispose();
            BackwardResults.DisposeAll(gradOutputs);
            return BackwardResults.Park(gradX, gradS.view(steps, batch, size), gradWeightX, gradWeightS, gradBiasG, gradWeightH, gradBiasH);
        }

        private readonly struct WeightKernel(Tensor gradC, Tensor g, Tensor s, Tensor gradWeight) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => WeightGradient<T>(gradC, g, s, gradWeight);
        }

        /// <summary>Rows of p = g ⊙ s rebuilt at a time for ∂W_h: a buffer of this many rows × S.</summary>
        private const int BlockRows = 2048;

        /// <summary>∂W_h = ∂cᵀ (g ⊙ s), with g ⊙ s rebuilt <see cref="BlockRows"/> rows at a time (GEMMs on torch's threads).</summary>
        private static unsafe void WeightGradient<T>(Tensor gradC, Tensor g, Tensor s, Tensor gradWeight) where T : unmanaged, INumber<T>
        {
            int rows = (int)g.shape[0], size = (int)g.shape[1], hidden = (int)gradC.shape[1];
            T* pc = Raw.Ptr<T>(gradC), pg = Raw.Ptr<T>(g), ps = Raw.Ptr<T>(s), pw = Raw.Ptr<T>(gradWeight);
            // Native and 64-byte aligned like LibTorch's tensors (the BLAS picks its code path by alignment; a managed
            // array's alignment varies from call to call, and with it the last bit of the result).
            long elements = (long)Math.Min(rows, BlockRows) * size;
            T* pb = (T*)NativeMemory.AlignedAlloc((nuint)(elements * sizeof(T)), 64);
            try
            {
                for (int r0 = 0; r0 < rows; r0 += BlockRows)
                {
                    int n = Math.Min(BlockRows, rows - r0);
                    long offset = (long)r0 * size;
                    Kernels.Multiply(pg + offset, ps + offset, pb, (long)n * size);
                    Raw.Gemm(true, false, hidden, size, n, pc + (long)r0 * hidden, hidden, pb, size, true, pw, size);
                }
            }
            finally
            {
                NativeMemory.AlignedFree(pb);
            }
        }

        private readonly struct GateKernel(Tensor gradP, Tensor s, Tensor g, Tensor gradZ) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Backward<T>(gradP, s, g, gradZ);
        }

        /// <summary>∂z = ∂p ⊙ s ⊙ g ⊙ (1 − g) and ∂p ← ∂p ⊙ g, split over torch's threads.</summary>
        private static unsafe void Backward<T>(Tensor gradP, Tensor s, Tensor g, Tensor gradZ) where T : unmanaged, INumber<T>
        {
            T* pp = Raw.Ptr<T>(gradP), ps = Raw.Ptr<T>(s), pg = Raw.Ptr<T>(g), pz = Raw.Ptr<T>(gradZ);
            long rows = gradP.shape[0], width = gradP.shape[1];
            int workers = Raw.Workers(rows, rows * width);
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                long r0 = rows * w / workers, r1 = rows * (w + 1) / workers;
                long offset = r0 * width;
                Kernels.GateBackward(pp + offset, ps + offset, pg + offset, pz + offset, (r1 - r0) * width);
            });
        }
    }
}
