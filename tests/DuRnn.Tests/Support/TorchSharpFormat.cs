using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// TorchSharp's file format for a module (<c>Module.save</c>), written and parsed here independently of the library,
    /// so that the load tests can build files <c>save()</c> never writes (a key renamed, twice, missing or extra, an
    /// entry of another dtype) and know where each entry lies in a file they truncate. The format: an unsigned LEB128
    /// entry count, then per entry the key (<see cref="BinaryWriter.Write(string)"/>: a LEB128 byte length and UTF-8)
    /// and the tensor as TorchSharp's <c>TensorExtensionMethods.Save</c> writes it (LEB128 dtype code, LEB128 rank,
    /// LEB128 sizes, raw row-major bytes). <see cref="LoadFaultTests.TheWriterHereWritesWhatSaveWrites"/> checks that
    /// <see cref="Write"/> gives <c>save()</c>'s bytes.
    /// </summary>
    public static class TorchSharpFormat
    {
        /// <summary>Where one entry lies in a file: its key starts at <see cref="KeyStart"/>, its tensor (dtype, shape,
        /// data) at <see cref="TensorStart"/>, and it ends before <see cref="End"/>.</summary>
        public sealed record Entry(string Key, long KeyStart, long TensorStart, long End);

        /// <summary>Writes <paramref name="entries"/>, in order (a key may repeat), as a saved module.</summary>
        public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> entries)
        {
            using var writer = new BinaryWriter(File.Create(path), Encoding.UTF8);
            WriteLeb128(writer, entries.Count);
            foreach (var (key, value) in entries)
            {
                writer.Write(key);
                value.Save(writer);
            }
        }

        /// <summary>The entries of a saved module and where each lies.</summary>
        public static IReadOnlyList<Entry> Parse(byte[] file)
        {
            using var reader = new BinaryReader(new MemoryStream(file), Encoding.UTF8);
            long count = ReadLeb128(reader);
            var entries = new List<Entry>();
            for (long i = 0; i < count; i++)
            {
                long keyStart = reader.BaseStream.Position;
                string key = reader.ReadString();
                long tensorStart = reader.BaseStream.Position;
                var dtype = (ScalarType)ReadLeb128(reader);
                long rank = ReadLeb128(reader);
                long elements = 1;
                for (long d = 0; d < rank; d++) elements *= ReadLeb128(reader);
                reader.BaseStream.Seek(elements * ElementSize(dtype), SeekOrigin.Current);
                entries.Add(new Entry(key, keyStart, tensorStart, reader.BaseStream.Position));
            }
            if (reader.BaseStream.Position != file.Length)
                throw new InvalidDataException($"{file.Length - reader.BaseStream.Position} bytes after the last entry");
            return entries;
        }

        private static int ElementSize(ScalarType dtype) => dtype switch
        {
            ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
            ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
            ScalarType.Int32 or ScalarType.Float32 => 4,
            ScalarType.Int64 or ScalarType.Float64 => 8,
            _ => throw new NotSupportedException($"dtype {dtype} in a saved module"),
        };

        private static void WriteLeb128(BinaryWriter writer, long value)
        {
            do
            {
                byte b = (byte)(value & 0x7f);
                value >>= 7;
                writer.Write(value != 0 ? (byte)(b | 0x80) : b);
            }
            while (value != 0);
        }

        private static long ReadLeb128(BinaryReader reader)
        {
            long result = 0;
            for (int shift = 0; ; shift += 7)
            {
                long b = reader.ReadByte();
                result |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) return result;
            }
        }
    }
}
