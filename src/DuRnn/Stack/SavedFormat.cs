using System;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// TorchSharp's own file format for a module (<c>Module.save</c>), read here entry by entry so that every entry is
    /// checked before it is allocated: an unsigned LEB128 entry count, then per entry the key (a .NET string), the dtype
    /// (LEB128 of the <see cref="ScalarType"/> code), the number of dimensions and each size (LEB128), and the elements'
    /// raw bytes in row-major order.
    /// </summary>
    internal static class SavedFormat
    {
        /// <summary>The number of entries.</summary>
        /// <exception cref="InvalidDataException">Not a LEB128 count.</exception>
        internal static long ReadCount(BinaryReader reader) => Leb128(reader, "the entry count");

        /// <summary>
        /// Reads one entry's tensor after checking its dtype and shape: against <paramref name="target"/> (the module's
        /// tensor of that key) when the module has the key, and for plausibility otherwise (an unexpected key is still
        /// read, so that the error lists every problem).
        /// </summary>
        /// <exception cref="ArgumentException">The entry's shape or dtype does not fit <paramref name="target"/>.</exception>
        /// <exception cref="InvalidDataException">The entry is not a tensor in this format.</exception>
        /// <exception cref="EndOfStreamException">The stream ends inside the entry.</exception>
        internal static Tensor ReadTensor(BinaryReader reader, string key, Tensor? target)
        {
            long code = Leb128(reader, $"the dtype of '{key}'");
            var dtype = (ScalarType)code;
            int elementSize = ElementSize(dtype)
                ?? throw new InvalidDataException($"'{key}' has an unknown dtype code {code} in the saved module; nothing was loaded.");
            long rank = Leb128(reader, $"the rank of '{key}'");
            if (rank > 16)
                throw new InvalidDataException($"'{key}' has {rank} dimensions in the saved module, which is not a tensor this module saves; nothing was loaded.");
            var shape = new long[rank];
            long count = 1;
            for (int d = 0; d < rank; d++)
            {
                shape[d] = Leb128(reader, $"the shape of '{key}'");
                count = shape[d] == 0 || count <= long.MaxValue / Math.Max(1, shape[d]) ? count * shape[d] : long.MaxValue;
            }
            if (target is not null)
            {
                if (!target.shape.AsSpan().SequenceEqual(shape))
                    throw new ArgumentException($"'{key}' has shape {Check.Shape(shape)} in the saved module but {Check.Shape(target)} in this module; nothing was loaded.", "reader");
                if (Check.IsFloatingPoint(target.dtype) && !Check.IsFloatingPoint(dtype))
                    throw new ArgumentException($"'{key}' has dtype {dtype} in the saved module but {target.dtype} in this module (a floating-point dtype is needed); nothing was loaded.", "reader");
            }
            long bytes = count <= long.MaxValue / elementSize ? count * elementSize : long.MaxValue;
            long left = reader.BaseStream.CanSeek ? reader.BaseStream.Length - reader.BaseStream.Position : long.MaxValue;
            if (bytes > left)
                throw new EndOfStreamException($"'{key}' needs {bytes} bytes, {left} are left.");
            var tensor = torch.empty(shape, dtype);
            reader.BaseStream.ReadExactly(tensor.bytes);
            return tensor;
        }

        /// <summary>The size of one element of <paramref name="dtype"/>; null for a code that is no real dtype.</summary>
        private static int? ElementSize(ScalarType dtype) => dtype switch
        {
            ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
            ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
            ScalarType.Int32 or ScalarType.Float32 => 4,
            ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
            ScalarType.ComplexFloat64 => 16,
            _ => null,
        };

        /// <summary>An unsigned LEB128 integer (at most 9 bytes, below 2^63).</summary>
        private static long Leb128(BinaryReader reader, string what)
        {
            long result = 0;
            for (int shift = 0; ; shift += 7)
            {
                long b = reader.ReadByte();
                result |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) return result;
                if (shift >= 56) throw new InvalidDataException($"The stream is not a saved TorchSharp module ({what} is not a LEB128 number).");
            }
        }
    }
}
