using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using static DuRnn.Fused.Vectors;

namespace DuRnn.Fused
{
    /// <summary>
    /// The short-term cell's element-wise work on raw memory (the fast form of φ in
    /// <c>s_t = φ(W_s x_t + b_s + U_s s_{t−1})</c> and of its derivative; the reference form is
    /// <see cref="ShortTermCell.forward"/>): φ through <see cref="TensorPrimitives"/>, the backward step as one fused
    /// <see cref="Vector{T}"/> pass.
    /// </summary>
    internal static unsafe class ShortTermKernels
    {
        /// <summary>x = φ(x) in place over n elements (ReLU keeps NaN as NaN, as torch.relu does).</summary>
        internal static void Activate<T>(T* x, long n, ShortTermActivation activation) where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (activation == ShortTermActivation.ReLU) ReluInPlace(x, n);
            else TensorPrimitives.Tanh<T>(Of(x, n), Of(x, n));
        }

        /// <summary>
        /// δ = (g + carry) ⊙ φ'(pre), with φ' taken from the output s = φ(pre): [s &gt; 0] for ReLU, 1 − s² for tanh.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // fully optimised at once: no slow tier-0 first calls
        internal static void Backward<T>(T* g, T* carry, T* s, T* delta, long n, ShortTermActivation activation)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            long i = 0;
            bool relu = activation == ShortTermActivation.ReLU;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var sum = Load(g + i) + Load(carry + i);
                    var sv = Load(s + i);
                    Store(relu ? Vector.ConditionalSelect(Vector.GreaterThan(sv, Vector<T>.Zero), sum, Vector<T>.Zero)
                        : sum * (Vector<T>.One - sv * sv), delta + i);
                }
            }
            for (; i < n; i++)
                delta[i] = relu ? (s[i] > T.Zero ? g[i] + carry[i] : T.Zero) : (g[i] + carry[i]) * (T.One - s[i] * s[i]);
        }
    }
}
