using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Worker
{
    /// <summary>
    /// The file in which a worker rank leaves its final parameters for the test (linked into the test project, which
    /// reads it): per parameter its name, its element count and its values as float64, bit for bit.
    /// </summary>
    internal static class ParameterFile
    {
        /// <summary>The file of rank <paramref name="rank"/> in <paramref name="directory"/>.</summary>
        public static string PathOf(string directory, int rank) => Path.Combine(directory, $"parameters.rank{rank}.bin");

        /// <summary>Writes <paramref name="parameters"/> (any floating dtype, converted to float64 exactly).</summary>
        public static void Write(string path, IEnumerable<(string Name, Tensor Value)> parameters)
        {
            using var writer = new BinaryWriter(File.Create(path));
            foreach (var (name, value) in parameters)
            {
                using var scope = NewDisposeScope();
                var exact = value.detach().to(ScalarType.Float64).contiguous();
                writer.Write(name);
                writer.Write(exact.NumberOfElements);
                writer.Write(exact.bytes);
            }
        }

        /// <summary>Reads a file written by <see cref="Write"/>: name → values, in the file's order.</summary>
        public static List<(string Name, double[] Values)> Read(string path)
        {
            var result = new List<(string, double[])>();
            using var reader = new BinaryReader(File.OpenRead(path));
            while (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                string name = reader.ReadString();
                long count = reader.ReadInt64();
                var values = new double[count];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
                result.Add((name, values));
            }
            return result;
        }
    }
}
