using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using static DuRnn.Fused.Vectors;

namespace DuRnn.Fused
{
    /// <summary>
    /// The selection gate's element-wise work on raw memory (the fast form of <c>g_t = σ(z_t)</c> and of the gated
    /// memory <c>g_t ⊙ s_t</c> the long-term cell reads, and of their derivatives; the reference form is
    /// <see cref="SelectionGate.forward"/>): σ and ⊙ through <see cref="TensorPrimitives"/>, the backward as one fused
    /// <see cref="Vector{T}"/> pass.
    /// </summary>
    internal static unsafe class GateKernels
    {
        /// <summary>p = g ⊙ s over n elements: the gated short-term memory.</summary>
        internal static void Gated<T>(T* g, T* s, T* p, long n) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Multiply<T>(Of(g, n), Of(s, n), Of(p, n));

        /// <summary>z = σ(z) ⊙ s in place over n elements: the gate from its pre-activation z, applied to s.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void SigmoidGated<T>(T* z, T* s, long n) where T : unmanaged, IFloatingPointIeee754<T>
        {
            TensorPrimitives.Sigmoid<T>(Of(z, n), Of(z, n));
            TensorPrimitives.Multiply<T>(Of(z, n), Of(s, n), Of(z, n));
        }

        /// <summary>The backward of p = σ(z) ⊙ s from ∂p: ∂z = ∂p ⊙ s ⊙ g ⊙ (1 − g); ∂p ← ∂p ⊙ g (its share of ∂s), in place.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void Backward<T>(T* gradP, T* s, T* g, T* gradZ, long n) where T : unmanaged, IFloatingPointIeee754<T>
        {
            long i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var gp = Load(gradP + i);
                    var gv = Load(g + i);
                    Store(gp * Load(s + i) * gv * (Vector<T>.One - gv), gradZ + i);
                    Store(gp * gv, gradP + i);
                }
            }
            for (; i < n; i++)
            {
                T gp = gradP[i], gv = g[i];
                gradZ[i] = gp * s[i] * gv * (T.One - gv);
                gradP[i] = gp * gv;
            }
        }
    }
}
