using System.Numerics;
using System.Runtime.CompilerServices;

namespace DuRnn.Fused
{
    /// <summary>
    /// The element-wise loops of the fused recurrences, vectorised with <see cref="Vector{T}"/> (SSE/AVX/NEON as
    /// the machine offers) and a scalar tail. Each works on one contiguous row of n elements.
    /// </summary>
    internal static unsafe class Kernels
    {
        /// <summary>out = ReLU(c + u ⊙ prev).</summary>
        internal static void IndRnnStep<T>(T* c, T* u, T* prev, T* output, int n) where T : unmanaged, INumber<T>
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var v = Load(c + i) + Load(u + i) * Load(prev + i);
                    Store(Relu(v), output + i);
                }
            }
            for (; i < n; i++)
            {
                T v = c[i] + u[i] * prev[i];
                output[i] = v < T.Zero ? T.Zero : v;
            }
        }

        /// <summary>
        /// δ = (g + carry) ⊙ [h &gt; 0]; gradC = δ; gradU += δ ⊙ prev; carry = δ ⊙ u.
        /// </summary>
        internal static void IndRnnStepBackward<T>(T* g, T* h, T* prev, T* u, T* carry, T* gradC, T* gradU, int n)
            where T : unmanaged, INumber<T>
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

        /// <summary>output = a ⊙ b, element-wise over n elements.</summary>
        internal static void Multiply<T>(T* a, T* b, T* output, long n) where T : unmanaged, INumber<T>
        {
            long i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                    Store(Load(a + i) * Load(b + i), output + i);
            }
            for (; i < n; i++)
                output[i] = a[i] * b[i];
        }

        /// <summary>accumulator += x, element-wise over n elements.</summary>
        internal static void AddInPlace<T>(T* accumulator, T* x, int n) where T : unmanaged, INumber<T>
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                    Store(Load(accumulator + i) + Load(x + i), accumulator + i);
            }
            for (; i < n; i++)
                accumulator[i] += x[i];
        }

        /// <summary>x = ReLU(x) in place.</summary>
        internal static void ReluInPlace<T>(T* x, long n) where T : unmanaged, INumber<T>
        {
            long i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                    Store(Relu(Load(x + i)), x + i);
            }
            for (; i < n; i++)
                if (x[i] < T.Zero) x[i] = T.Zero;
        }

        /// <summary>x = tanh(x) in place.</summary>
        internal static void TanhInPlace<T>(T* x, long n) where T : unmanaged, INumber<T>, IHyperbolicFunctions<T>
        {
            for (long i = 0; i < n; i++)
                x[i] = T.Tanh(x[i]);
        }

        /// <summary>δ = (g + carry) ⊙ [s &gt; 0], the ReLU derivative taken from the output s = ReLU(pre).</summary>
        internal static void ReluBackward<T>(T* g, T* carry, T* s, T* delta, long n) where T : unmanaged, INumber<T>
        {
            long i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var active = Vector.GreaterThan(Load(s + i), Vector<T>.Zero);
                    Store(Vector.ConditionalSelect(active, Load(g + i) + Load(carry + i), Vector<T>.Zero), delta + i);
                }
            }
            for (; i < n; i++)
                delta[i] = s[i] > T.Zero ? g[i] + carry[i] : T.Zero;
        }

        /// <summary>δ = (g + carry) ⊙ (1 − s²), the tanh derivative taken from the output s = tanh(pre).</summary>
        internal static void TanhBackward<T>(T* g, T* carry, T* s, T* delta, long n) where T : unmanaged, INumber<T>
        {
            long i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var sv = Load(s + i);
                    Store((Load(g + i) + Load(carry + i)) * (Vector<T>.One - sv * sv), delta + i);
                }
            }
            for (; i < n; i++)
                delta[i] = (g[i] + carry[i]) * (T.One - s[i] * s[i]);
        }

        /// <summary>The gate's backward: gradZ = gradP ⊙ s ⊙ g ⊙ (1 − g); gradP ← gradP ⊙ g (in place).</summary>
        internal static void GateBackward<T>(T* gradP, T* s, T* g, T* gradZ, long n) where T : unmanaged, INumber<T>
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

        /// <summary>ReLU that keeps NaN as NaN (as torch.relu does).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<T> Relu<T>(Vector<T> v) where T : unmanaged =>
            Vector.ConditionalSelect(Vector.LessThan(v, Vector<T>.Zero), Vector<T>.Zero, v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<T> Load<T>(T* p) where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store<T>(Vector<T> v, T* p) where T : unmanaged => Unsafe.WriteUnaligned(p, v);
    }
}
