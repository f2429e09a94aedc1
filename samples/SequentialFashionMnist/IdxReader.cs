using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>
    /// Reads the IDX files of MNIST and Fashion-MNIST (LeCun's format): a big-endian header — two zero bytes, a type
    /// byte (0x08 = unsigned byte), the number of dimensions, then each dimension as a 32-bit big-endian integer — and
    /// the data, row-major. Files ending in .gz are decompressed on the fly.
    /// </summary>
    internal static class IdxReader
    {
        private const byte UnsignedByte = 0x08;

        /// <summary>Reads an IDX file of unsigned bytes.</summary>
        /// <param name="path">The file (gzip-compressed when its name ends in .gz).</param>
        /// <param name="expectedDimensions">The number of dimensions the file must have (1 for labels, 3 for images).</param>
        /// <returns>The dimensions and the data, row-major.</returns>
        /// <exception cref="InvalidDataException">The file is not an IDX file of unsigned bytes with that many dimensions,
        /// or it is shorter than its header says.</exception>
        public static (int[] dimensions, byte[] data) ReadBytes(string path, int expectedDimensions)
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(file, CompressionMode.Decompress)
                : file;

            Span<byte> magic = stackalloc byte[4];
            ReadExactly(stream, magic, path);
            if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByte || magic[3] != expectedDimensions)
                throw new InvalidDataException(
                    $"{path} is not an IDX file of unsigned bytes with {expectedDimensions} dimension(s) " +
                    $"(magic bytes {magic[0]:x2} {magic[1]:x2} {magic[2]:x2} {magic[3]:x2}).");

            var dimensions = new int[expectedDimensions];
            Span<byte> word = stackalloc byte[4];
            long count = 1;
            for (int i = 0; i < expectedDimensions; i++)
            {
                ReadExactly(stream, word, path);
                dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(word);
                if (dimensions[i] <= 0) throw new InvalidDataException($"{path}: dimension {i} is {dimensions[i]}.");
                count *= dimensions[i];
            }
            if (count > Array.MaxLength) throw new InvalidDataException($"{path}: {count} values are too many.");

            var data = new byte[count];
            ReadExactly(stream, data, path);
            return (dimensions, data);
        }

        private static void ReadExactly(Stream stream, Span<byte> buffer, string path)
        {
            try
            {
                stream.ReadExactly(buffer);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException($"{path} ends before the size its header gives.");
            }
        }
    }
}
