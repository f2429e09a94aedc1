using System;
using System.Numerics;
using static TorchSharp.torch;

namespace DuRnn.Fused
{
    /// <summary>
    /// The one float32/float64 dispatch of the fused kernels: a kernel is a struct holding its arguments whose generic
    /// <see cref="IKernel.Run{T}"/> runs on raw memory of element type T; <see cref="Run{TKernel}"/> picks T from the
    /// tensors' dtype.
    /// </summary>
    internal static class DTypeDispatch
    {
        /// <summary>A fused kernel with its arguments, generic in the element type.</summary>
        internal interface IKernel
        {
            /// <summary>Runs the kernel with element type <typeparamref name="T"/> (float or double).</summary>
            void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>;
        }

        /// <summary>Runs <paramref name="kernel"/> with float for Float32 and double for Float64.</summary>
        internal static void Run<TKernel>(ScalarType dtype, in TKernel kernel) where TKernel : struct, IKernel
        {
            switch (dtype)
            {
                case ScalarType.Float32: kernel.Run<float>(); break;
                case ScalarType.Float64: kernel.Run<double>(); break;
                default: throw new NotSupportedException($"The fused kernels run float32 and float64 tensors; got {dtype}.");
            }
        }
    }
}
