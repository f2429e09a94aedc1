using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace DuRnn.Fused
{
    /// <summary>
    /// Spans over raw memory for <see cref="TensorPrimitives"/> (vectorised with the widest instructions the machine
    /// has, AVX-512 included), and the <see cref="Vector{T}"/> loads and stores of the few hand-written kernels that
    /// fuse several outputs into one pass (the backward steps, which TensorPrimitives has no single operation for).
    /// </summary>
    internal static unsafe class Vectors
    {
        /// <summary>A span over <paramref name="n"/> elements at <paramref name="p"/>.</summary>
        /// <exception cref="OverflowException">More than <see cref="int.MaxValue"/> elements (the kernels work on rows
        /// and blocks far smaller than that).</exception>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Span<T> Of<T>(T* p, long n) where T : unmanaged => new(p, checked((int)n));

        /// <summary>accumulator += x, element-wise over n elements.</summary>
        internal static void AddInPlace<T>(T* accumulator, T* x, long n) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Add<T>(Of(accumulator, n), Of(x, n), Of(accumulator, n));

        /// <summary>x = ReLU(x) in place; NaN stays NaN, as torch.relu keeps it.</summary>
        internal static void ReluInPlace<T>(T* x, long n) where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Max<T>(Of(x, n), T.Zero, Of(x, n));

        /// <summary>Loads a vector from unaligned memory.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector<T> Load<T>(T* p) where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(p);

        /// <summary>Stores a vector to unaligned memory.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Store<T>(Vector<T> v, T* p) where T : unmanaged => Unsafe.WriteUnaligned(p, v);
    }
}
