using System;
using System.Runtime.InteropServices;

namespace DuRnn.Fused
{
    /// <summary>
    /// Scratch memory for the fused kernels: native and 64-byte aligned, as LibTorch's own tensors are. The BLAS picks
    /// its code path by alignment, so a managed array (whose alignment varies from call to call) as a GEMM operand
    /// would change the last bit of a result between two identical calls.
    /// </summary>
    internal readonly unsafe struct AlignedBuffer<T> : IDisposable where T : unmanaged
    {
        /// <summary>Allocates room for <paramref name="count"/> elements (contents undefined).</summary>
        internal AlignedBuffer(long count) =>
            Pointer = (T*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, count) * sizeof(T)), 64);

        /// <summary>The first element.</summary>
        internal T* Pointer { get; }

        /// <summary>Frees the memory.</summary>
        public void Dispose() => NativeMemory.AlignedFree(Pointer);
    }
}
