using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using DuRnn.Fused;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// What the machine's BLAS does at DuRNN's sizes, and how close one DuRNN layer comes to it. Multiply-adds of
    /// one layer (I inputs, S short-term, H long-term neurons, batch B), per time step, from the equations:
    /// <code>
    /// forward:  W_s x_t (B·S·I) + U_s s_{t−1} (B·S·S, sequential) + W_gx x_t (B·S·I) + W_gs s_t (B·S·S) + W_h (g ⊙ s) (B·H·S)
    /// backward: twice the forward's products (input gradient and weight gradient of each); of them δ_t U_s (B·S·S) is sequential
    /// </code>
    /// Element-wise work (φ, σ, ⊙, the IndRNN recurrence) is not counted. A FLOP is half a multiply-add.
    /// The sequential products run one GEMM per step of m = B, n = k = S; everything else runs as GEMMs over all
    /// steps at once, m = T·B. <see cref="Measure"/> times a plain GEMM of each size in the same run, through the same
    /// entry point the fused kernels call (LibTorch's own sgemm_), so "fraction" = the time those GEMMs alone would
    /// take ÷ the measured time.
    /// </summary>
    internal static class Roofline
    {
        /// <summary>Sequential and batched multiply-adds of one layer over T steps.</summary>
        public static (double sequential, double batched) MultiplyAdds(BenchMode mode, long t, long b, long i, long s, long h)
        {
            double step = b * (2.0 * s * i + 2.0 * s * s + (double)h * s);
            double sequential = b * (double)s * s;
            return mode == BenchMode.Training
                ? (2 * sequential * t, (3 * step - 2 * sequential) * t)
                : (sequential * t, (step - sequential) * t);
        }

        /// <summary>GFLOP/s of the sgemm at the sequential size (m = B, n = k = S, as the fused loop runs it: one
        /// thread below <see cref="Blas.SingleThreadedBelow"/>) and at the batched size (m = T·B, torch's threads).</summary>
        public static (double sequential, double batched) Measure(long t, long b, long s)
        {
            double seq = Gflops((int)b, (int)s, (int)s, calls: (int)Math.Min(t, 2000));
            double batched = Gflops((int)(t * b), (int)s, (int)s, calls: 1);
            return (seq, batched);
        }

        /// <summary>The time bound the GEMMs set, in ms: sequential FLOPs at the sequential rate plus batched FLOPs at the batched rate.</summary>
        public static double BoundMs((double sequential, double batched) multiplyAdds, (double sequential, double batched) gflops) =>
            (2 * multiplyAdds.sequential / (gflops.sequential * 1e9) + 2 * multiplyAdds.batched / (gflops.batched * 1e9)) * 1e3;

        /// <summary>The fraction of the BLAS-bound time: (sequential / seq rate + batched / batched rate) ÷ measured.</summary>
        public static double Fraction(double measuredMs, (double sequential, double batched) multiplyAdds, (double sequential, double batched) gflops) =>
            BoundMs(multiplyAdds, gflops) / measuredMs;

        /// <summary>Achieved GFLOP/s of a run of <paramref name="measuredMs"/>.</summary>
        public static double Achieved(double measuredMs, (double sequential, double batched) multiplyAdds) =>
            2 * (multiplyAdds.sequential + multiplyAdds.batched) / (measuredMs / 1e3) / 1e9;

        /// <summary>Median GFLOP/s over 5 timed repetitions (after one warm-up) of <paramref name="calls"/> C = A·Bᵀ + C products.</summary>
        private static unsafe double Gflops(int m, int n, int k, int calls)
        {
            float* a = Alloc((long)m * k), w = Alloc((long)n * k), c = Alloc((long)m * n);
            try
            {
                using var threads = new Blas.ThreadScope(m, n, k);
                var times = new double[5];
                var sw = new Stopwatch();
                for (int rep = -1; rep < times.Length; rep++)
                {
                    sw.Restart();
                    for (int i = 0; i < calls; i++)
                        Blas.Gemm(false, true, m, n, k, a, k, w, k, 1f, c, n);
                    if (rep >= 0) times[rep] = sw.Elapsed.TotalSeconds;
                }
                double median = times.OrderBy(x => x).ElementAt(times.Length / 2);
                return 2.0 * m * n * k * calls / median / 1e9;
            }
            finally
            {
                NativeMemory.Free(a);
                NativeMemory.Free(w);
                NativeMemory.Free(c);
            }
        }

        private static unsafe float* Alloc(long count)
        {
            var p = (float*)NativeMemory.Alloc((nuint)count, sizeof(float));
            var rng = new Random(7);
            for (long i = 0; i < count; i++) p[i] = (float)(rng.NextDouble() * 0.01);
            return p;
        }
    }
}
