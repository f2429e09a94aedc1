using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace DuRnn.Fused
{
    /// <summary>
    /// Direct access to the BLAS <c>sgemm_</c>/<c>dgemm_</c> that LibTorch's CPU library exports (oneMKL in the
    /// TorchSharp-cpu builds). Calling it on raw memory lets the fused recurrences run one matrix product per time
    /// step with no tensor objects, no autograd nodes and no allocations. Where the library does not export them the
    /// fused path is not used (<see cref="IsAvailable"/> is false) and the batched tensor path runs instead.
    /// </summary>
    internal static unsafe class Blas
    {
        private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> s_sgemm;
        private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void> s_dgemm;
        private static readonly delegate* unmanaged<int, int> s_setLocalThreads;

        static Blas()
        {
            foreach (var name in new[] { "torch_cpu", "libtorch_cpu", "libtorch_cpu.so", "libtorch_cpu.dylib" })
            {
                if (!TryLoad(name, out var handle)) continue;
                if (NativeLibrary.TryGetExport(handle, "sgemm_", out var s) && NativeLibrary.TryGetExport(handle, "dgemm_", out var d))
                {
                    s_sgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)s;
                    s_dgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void>)d;
                    if (NativeLibrary.TryGetExport(handle, "MKL_Set_Num_Threads_Local", out var local))
                        s_setLocalThreads = (delegate* unmanaged<int, int>)local;
                    IsAvailable = true;
                    return;
                }
            }
        }

        private static bool TryLoad(string name, out IntPtr handle)
        {
            try
            {
                return NativeLibrary.TryLoad(name, typeof(Blas).Assembly, DllImportSearchPath.SafeDirectories, out handle)
                    || NativeLibrary.TryLoad(name, Assembly.GetEntryAssembly() ?? typeof(Blas).Assembly, null, out handle)
                    || NativeLibrary.TryLoad(name, out handle);
            }
            catch (Exception)
            {
                handle = IntPtr.Zero;
                return false;
            }
        }

        /// <summary>
        /// Per-step products smaller than this many multiply-adds run on one BLAS thread. Threading a product of a few
        /// hundred thousand multiply-adds costs a fork and a join per time step; on a machine whose cores are busy,
        /// a join waits for a descheduled thread, which was measured here to make a whole training run 40× slower.
        /// </summary>
        internal const long SingleThreadedBelow = 1L << 20;

        /// <summary>
        /// Makes this thread's BLAS calls use <paramref name="threads"/> threads (0: back to the global setting, which
        /// follows <c>torch.set_num_threads</c>); returns the previous thread-local setting. A no-op returning 0 where
        /// the BLAS has no thread-local control.
        /// </summary>
        internal static int SetLocalThreads(int threads) => s_setLocalThreads == null ? 0 : s_setLocalThreads(threads);

        /// <summary>
        /// Scopes the thread count for a loop of m×k by k×n products: one thread when each is small
        /// (<see cref="SingleThreadedBelow"/>), otherwise torch's setting. Dispose to restore.
        /// </summary>
        internal readonly struct ThreadScope : IDisposable
        {
            private readonly int _previous;
            private readonly bool _changed;

            internal ThreadScope(long m, long n, long k)
            {
                _changed = m * n * k < SingleThreadedBelow;
                _previous = _changed ? SetLocalThreads(1) : 0;
            }

            public void Dispose()
            {
                if (_changed) SetLocalThreads(_previous);
            }
        }

        /// <summary>True when LibTorch's BLAS entry points were found.</summary>
        internal static bool IsAvailable { get; }

        /// <summary>
        /// Row-major C (m×n) = A' B' + beta·C with A' = A (m×k) or Aᵀ when <paramref name="transA"/>, B' = B (k×n) or Bᵀ
        /// when <paramref name="transB"/>; lda, ldb, ldc are row strides. Computed as the column-major product
        /// Cᵀ = B'ᵀ A'ᵀ.
        /// </summary>
        internal static void Gemm(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        {
            byte ta = transB ? (byte)'T' : (byte)'N', tb = transA ? (byte)'T' : (byte)'N';
            float alpha = 1;
            s_sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
        }

        /// <inheritdoc cref="Gemm(bool, bool, int, int, int, float*, int, float*, int, float, float*, int)"/>
        internal static void Gemm(bool transA, bool transB, int m, int n, int k, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc)
        {
            byte ta = transB ? (byte)'T' : (byte)'N', tb = transA ? (byte)'T' : (byte)'N';
            double alpha = 1;
            s_dgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
        }

        /// <summary>
        /// Row-major GEMM on raw memory for the kernels' element type: <c>C = A·B (+ C)</c> with <paramref name="a"/>
        /// transposed when <paramref name="transA"/> and <paramref name="b"/> when <paramref name="transB"/>; sgemm for
        /// float, dgemm for double. The only place an element type picks a BLAS routine (the JIT compiles one branch per
        /// type); which element type runs is chosen once per kernel by <see cref="DTypeDispatch"/>.
        /// </summary>
        /// <param name="transA">Use Aᵀ.</param>
        /// <param name="transB">Use Bᵀ.</param>
        /// <param name="m">Rows of C.</param>
        /// <param name="n">Columns of C.</param>
        /// <param name="k">The inner dimension.</param>
        /// <param name="a">A, row-major.</param>
        /// <param name="lda">A's row stride.</param>
        /// <param name="b">B, row-major.</param>
        /// <param name="ldb">B's row stride.</param>
        /// <param name="accumulate">Add to C (β = 1) instead of overwriting it (β = 0).</param>
        /// <param name="c">C, row-major.</param>
        /// <param name="ldc">C's row stride.</param>
        internal static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, bool accumulate, T* c, int ldc)
            where T : unmanaged
        {
            if (typeof(T) == typeof(float))
                Gemm(transA, transB, m, n, k, (float*)a, lda, (float*)b, ldb, accumulate ? 1f : 0f, (float*)c, ldc);
            else if (typeof(T) == typeof(double))
                Gemm(transA, transB, m, n, k, (double*)a, lda, (double*)b, ldb, accumulate ? 1d : 0d, (double*)c, ldc);
            else
                throw new NotSupportedException($"BLAS GEMM runs float and double, not {typeof(T)}.");
        }
    }
}
