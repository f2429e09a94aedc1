using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>Raw-memory helpers for the fused kernels (contiguous CPU tensors only).</summary>
    internal static unsafe class Raw
    {
        /// <summary>The address of the first element of a contiguous CPU tensor.</summary>
        internal static T* Ptr<T>(Tensor t) where T : unmanaged
        {
            if (t.numel() == 0) return null;
            return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
        }

        /// <summary>Row-major GEMM on raw memory for float or double (see <see cref="Blas.Gemm(bool, bool, int, int, int, float*, int, float*, int, float, float*, int)"/>).</summary>
        internal static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, bool accumulate, T* c, int ldc)
            where T : unmanaged
        {
            if (typeof(T) == typeof(float))
                Blas.Gemm(transA, transB, m, n, k, (float*)a, lda, (float*)b, ldb, accumulate ? 1f : 0f, (float*)c, ldc);
            else if (typeof(T) == typeof(double))
                Blas.Gemm(transA, transB, m, n, k, (double*)a, lda, (double*)b, ldb, accumulate ? 1d : 0d, (double*)c, ldc);
            else
                throw new NotSupportedException($"The fused kernels support float32 and float64, not {typeof(T)}.");
        }

        /// <summary>How many workers to split <paramref name="rows"/> independent rows of <paramref name="work"/> elements over.</summary>
        internal static int Workers(long rows, long work)
        {
            int threads = Math.Max(1, torch.get_num_threads());
            if (work < 1 << 16) return 1;
            return (int)Math.Max(1, Math.Min(threads, rows));
        }
    }
}
