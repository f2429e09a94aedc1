using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
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
    /// Forward: the gate's two GEMMs over all T·B rows, σ in place; then c block by block with p = g ⊙ s in a small
    /// buffer (p is never a (T, B, S) tensor, and is not kept: the node keeps x, s and g). Backward, block by block of
    /// 2048 rows, every product of a block one GEMM while the block's operands are in cache:
    /// <code>
    /// ∂b_h = Σ ∂c;  ∂W_h = ∂cᵀ p  (p rebuilt in a small buffer);  ∂p = ∂c W_h
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
        /// c = W_h (g ⊙ s) + b_h with g the gate: through autograd when a gradient is to be recorded, otherwise directly.
        /// </summary>
        internal static Tensor Run(Tensor x, Tensor s, SelectionGate gate, LongTermCell longTerm)
        {
            var args = new Tensor[] { x, s, gate.weight_ih, gate.weight_sh, gate.bias, longTerm.weight_ih, longTerm.bias_ih };
            if (torch.is_grad_enabled() && System.Array.Exists(args, a => a.requires_grad))
                return NodeOutputs.Apply(() => apply(x, s, gate.weight_ih, gate.weight_sh, gate.bias, longTerm.weight_ih, longTerm.bias_ih))[0];
            using var scope = torch.NewDisposeScope();
            var (g, s2d) = Gate(x, s, gate.weight_ih, gate.weight_sh, gate.bias);
            return Project(g, s2d, longTerm.weight_ih, longTerm.bias_ih, x.shape[0], x.shape[1]).MoveToOuterDisposeScope();
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

        /// <summary>c = (g ⊙ s) W_hᵀ + b_h, shaped (T, B, H), block by block (<see cref="Project{T}"/>).</summary>
        private static Tensor Project(Tensor g, Tensor s2d, Tensor weight, Tensor bias, long steps, long batch)
        {
            var c = torch.empty(steps, batch, weight.shape[0], dtype: g.dtype, device: g.device);
            using var w = weight.contiguous();
            using var b = bias.contiguous();
            DTypeDispatch.Run(g.dtype, new ProjectionKernel(g, s2d, w, b, c));
            return c;
        }

        /// <inheritdoc />
        public override List<Tensor> forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            Tensor x = (Tensor)vars[0], s = (Tensor)vars[1];
            Tensor weightX = (Tensor)vars[2], weightS = (Tensor)vars[3], biasG = (Tensor)vars[4];
            Tensor weightH = (Tensor)vars[5], biasH = (Tensor)vars[6];
            var (g, s2d) = Gate(x, s, weightX, weightS, biasG);
            var c = Project(g, s2d, weightH, biasH, x.shape[0], x.shape[1]);
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

            var gradS = torch.empty_like(s2d);
            var gradWeightH = torch.zeros_like(weightH);
            var gradBiasH = torch.zeros(weightH.shape[0], dtype: g.dtype, device: g.device);
            var gradWeightS = torch.zeros_like(weightS);
            var gradWeightX = torch.zeros_like(weightX);
            var gradBiasG = torch.zeros(size, dtype: g.dtype, device: g.device);
            Tensor? gradX = xNeedsGrad ? torch.empty(x.shape, dtype: x.dtype, device: x.device) : null;
            var x2d = x.contiguous().reshape(-1, inputSize);
            DTypeDispatch.Run(g.dtype, new BackwardKernel(new Operands(gradC, x2d, s2d, g, weightX.contiguous(), weightS.contiguous(), weightH.contiguous()),
                new Gradients(gradS, gradX, gradWeightX, gradWeightS, gradBiasG, gradWeightH, gradBiasH)));

            foreach (var t in saved) t.Dispose();
            BackwardResults.DisposeAll(gradOutputs);
            return BackwardResults.Park(gradX, gradS.view(steps, batch, size), gradWeightX, gradWeightS, gradBiasG, gradWeightH, gradBiasH);
        }

        /// <summary>The saved and incoming tensors the backward reads (all contiguous; x, s, g, ∂c as 2-D rows).</summary>
        private sealed record Operands(Tensor GradC, Tensor X, Tensor S, Tensor G, Tensor WeightX, Tensor WeightS, Tensor WeightH);

        /// <summary>The backward's results (∂x only when x needs a gradient; the sums start at zero).</summary>
        private sealed record Gradients(Tensor GradS, Tensor? GradX, Tensor WeightX, Tensor WeightS, Tensor BiasG, Tensor WeightH, Tensor BiasH);

        private readonly struct ProjectionKernel(Tensor g, Tensor s, Tensor weight, Tensor bias, Tensor c) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Project<T>(g, s, weight, bias, c);
        }

        private readonly struct BackwardKernel(Operands operands, Gradients gradients) : DTypeDispatch.IKernel
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Backward<T>(operands, gradients);
        }

        /// <summary>Rows processed at a time: every product of a block is a GEMM of this many rows (large enough to run
        /// well on torch's threads), and the block's operands stay in cache from one product to the next.</summary>
        private const int BlockRows = 2048;

        /// <summary>c = (g ⊙ s) W_hᵀ + b_h, block by block, with g ⊙ s in a small buffer (never a (T, B, S) tensor).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Project<T>(Tensor g, Tensor s, Tensor weight, Tensor bias, Tensor c) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int rows = (int)g.shape[0], size = (int)g.shape[1], hidden = (int)weight.shape[0];
            T* pg = Raw.Ptr<T>(g), ps = Raw.Ptr<T>(s), pw = Raw.Ptr<T>(weight), pb = Raw.Ptr<T>(bias), pc = Raw.Ptr<T>(c);
            using var buffer = new AlignedBuffer<T>((long)Math.Min(rows, BlockRows) * size);
            for (int r0 = 0; r0 < rows; r0 += BlockRows)
            {
                int n = Math.Min(BlockRows, rows - r0);
                GateKernels.Gated(pg + (long)r0 * size, ps + (long)r0 * size, buffer.Pointer, (long)n * size);
                T* block = pc + (long)r0 * hidden;
                Raw.FillRows(pb, block, n, hidden);
                Blas.Gemm(false, true, n, hidden, size, buffer.Pointer, size, pw, size, true, block, hidden);
            }
        }

        /// <summary>
        /// The backward, block by block of <see cref="BlockRows"/> rows: ∂p = ∂c W_h into ∂s's rows; ∂W_h += ∂cᵀ p and
        /// ∂b_h += Σ ∂c with p = g ⊙ s rebuilt in a small buffer; ∂z (a small buffer) and ∂s = ∂p ⊙ g in one
        /// element-wise pass; ∂s += ∂z W_gs; ∂W_gs += ∂zᵀ s; ∂W_gx += ∂zᵀ x; ∂b_g += Σ ∂z; ∂x = ∂z W_gx.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        private static unsafe void Backward<T>(Operands o, Gradients r) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int rows = (int)o.G.shape[0], size = (int)o.G.shape[1], hidden = (int)o.WeightH.shape[0], inputSize = (int)o.X.shape[1];
            T* pgc = Raw.Ptr<T>(o.GradC), px = Raw.Ptr<T>(o.X), ps = Raw.Ptr<T>(o.S), pg = Raw.Ptr<T>(o.G);
            T* wx = Raw.Ptr<T>(o.WeightX), wsh = Raw.Ptr<T>(o.WeightS), wh = Raw.Ptr<T>(o.WeightH);
            T* gs = Raw.Ptr<T>(r.GradS), gx = r.GradX is null ? null : Raw.Ptr<T>(r.GradX);
            T* gwx = Raw.Ptr<T>(r.WeightX), gws = Raw.Ptr<T>(r.WeightS), gbg = Raw.Ptr<T>(r.BiasG), gwh = Raw.Ptr<T>(r.WeightH), gbh = Raw.Ptr<T>(r.BiasH);
            long blockElements = (long)Math.Min(rows, BlockRows) * size;
            using var p = new AlignedBuffer<T>(blockElements);
            using var gz = new AlignedBuffer<T>(blockElements);
            for (int r0 = 0; r0 < rows; r0 += BlockRows)
            {
                int n = Math.Min(BlockRows, rows - r0);
                long sOffset = (long)r0 * size;
                T* dc = pgc + (long)r0 * hidden, ds = gs + sOffset, sBlock = ps + sOffset, gBlock = pg + sOffset, xBlock = px + (long)r0 * inputSize;
                for (int i = 0; i < n; i++) Vectors.AddInPlace(gbh, dc + (long)i * hidden, hidden);
                GateKernels.Gated(gBlock, sBlock, p.Pointer, (long)n * size);
                Blas.Gemm(true, false, hidden, size, n, dc, hidden, p.Pointer, size, true, gwh, size);
                Blas.Gemm(false, false, n, size, hidden, dc, hidden, wh, size, false, ds, size);
                GateKernels.Backward(ds, sBlock, gBlock, gz.Pointer, (long)n * size);
                Blas.Gemm(false, false, n, size, size, gz.Pointer, size, wsh, size, true, ds, size);
                Blas.Gemm(true, false, size, size, n, gz.Pointer, size, sBlock, size, true, gws, size);
                Blas.Gemm(true, false, size, inputSize, n, gz.Pointer, size, xBlock, inputSize, true, gwx, inputSize);
                for (int i = 0; i < n; i++) Vectors.AddInPlace(gbg, gz.Pointer + (long)i * size, size);
                if (gx != null)
                    Blas.Gemm(false, false, n, inputSize, size, gz.Pointer, size, wx, inputSize, false, gx + (long)r0 * inputSize, inputSize);
            }
        }
    }
}
