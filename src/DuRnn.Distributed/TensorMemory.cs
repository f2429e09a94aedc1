using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Distributed
{
    /// <summary>
    /// The raw memory of CPU tensors, for handing to MPI and for copying without per-element loops: checks that a
    /// tensor's memory can be used directly (on the CPU, dense, of a supported dtype) with messages that name it.
    /// </summary>
    internal static class TensorMemory
    {
        /// <summary>
        /// The most bytes one span over a tensor covers (<c>Tensor.bytes</c> is a <see cref="Span{T}"/>, and MPI's counts
        /// are <c>int</c>): 2³¹ − 64, a multiple of every element size.
        /// </summary>
        public const int MaxSpanBytes = int.MaxValue - 63;

        /// <summary>Throws unless <paramref name="tensor"/> is on the CPU.</summary>
        /// <param name="tensor">The tensor.</param>
        /// <param name="what">What it is, for the message (e.g. <c>parameter 'layers.0.weight'</c>).</param>
        /// <param name="caller">The API that needs it, for the message.</param>
        /// <exception cref="ArgumentException">It is on another device.</exception>
        public static void RequireCpu(Tensor tensor, string what, string caller)
        {
            if (tensor.device_type != DeviceType.CPU)
            {
                throw new ArgumentException(
                    $"{caller}: {what} is on {tensor.device}; MPI reads and writes tensors in CPU memory here: move the module to the CPU " +
                    "(this package does not copy between devices).");
            }
        }

        /// <summary>Throws unless <paramref name="tensor"/> is float32 or float64.</summary>
        /// <exception cref="ArgumentException">Another dtype.</exception>
        public static void RequireFloating(Tensor tensor, string what, string caller)
        {
            if (tensor.dtype is not (ScalarType.Float32 or ScalarType.Float64))
                throw new ArgumentException($"{caller}: {what} is {tensor.dtype}; only float32 and float64 can be averaged.");
        }

        /// <summary>Throws unless <paramref name="tensor"/> fits in one span (<see cref="MaxSpanBytes"/>).</summary>
        /// <exception cref="ArgumentException">It is larger.</exception>
        public static void RequireSpanSize(Tensor tensor, string what, string caller)
        {
            long bytes = tensor.NumberOfElements * tensor.ElementSize;
            if (bytes > MaxSpanBytes)
                throw new ArgumentException($"{caller}: {what} holds {bytes} bytes; tensors of more than {MaxSpanBytes} bytes are not supported.");
        }

        /// <summary>
        /// Copies the elements of <paramref name="source"/> (a CPU tensor, contiguous or not) into
        /// <paramref name="target"/>, which must be exactly as long; non-contiguous tensors go through a contiguous copy.
        /// </summary>
        public static void CopyTo(Tensor source, Span<byte> target)
        {
            if (source.is_contiguous())
            {
                source.bytes.CopyTo(target);
                return;
            }
            using var dense = source.contiguous();
            dense.bytes.CopyTo(target);
        }

        /// <summary>
        /// Copies <paramref name="source"/> into the elements of <paramref name="target"/> (a CPU tensor, contiguous or
        /// not, of exactly that many bytes) in place.
        /// </summary>
        public static void CopyFrom(ReadOnlySpan<byte> source, Tensor target)
        {
            if (target.is_contiguous())
            {
                source.CopyTo(target.bytes);
                return;
            }
            using var dense = target.contiguous();
            source.CopyTo(dense.bytes);
            using var noGrad = torch.no_grad();
            target.copy_(dense);
        }
    }
}
