using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using static DuRnn.Fused.Vectors;

namespace DuRnn.Fused
{
    /// <summary>
    /// The long-term (IndRNN) cell's element-wise step on raw memory, one row of n neurons (the fast form of
    /// <c>h_t = ReLU(c_t + u ⊙ h_{t−1})</c> with c_t = W_h (g_t ⊙ s_t) + b_h, and of its derivative; the reference
    /// form is <see cref="LongTermCell.forward"/>): the step through <see cref="TensorPrimitives"/>, the backward step
    /// as one fused <see cref="Vector{T}"/> pass.
    /// </summary>
    internal static unsafe class LongTermKernels
    {
        /// <summary>output = ReLU(c + u ⊙ prev) over n elements (NaN stays NaN, as torch.relu keeps it).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void Step<T>(T* c, T* u, T* prev, T* output, int n) where T : unmanaged, IFloatingPointIeee754<T>
        {
            TensorPrimitives.MultiplyAdd<T>(Of(u, n), Of(prev, n), Of(c, n), Of(output, n));
            ReluInPlace(output, n);
        }

        /// <summary>
        /// One step back: δ = (g + carry) ⊙ [h &gt; 0]; gradC = δ; gradU += δ ⊙ prev; carry = δ ⊙ u.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void StepBackward<T>(T* g, T* h, T* prev, T* u, T* carry, T* gradC, T* gradU, int n)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var active = Vector.GreaterThan(Load(h + i), Vector<T>.Zero);
                    var d = Vector.ConditionalSelect(active, Load(g + i) + Load(carry + i), Vector<T>.Zero);
                    Store(d, gradC + i);
                    Store(Load(gradU + i) + d * Load(prev + i), gradU + i);
                    Store(d * Load(u + i), carry + i);
                }
            }
            for (; i < n; i++)
            {
                T d = h[i] > T.Zero ? g[i] + carry[i] : T.Zero;
                gradC[i] = d;
                gradU[i] += d * prev[i];
                carry[i] = d * u[i];
            }
        }
    }
}
