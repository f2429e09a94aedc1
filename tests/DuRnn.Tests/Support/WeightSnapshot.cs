using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Every state-dict entry of a module (parameters and buffers) as raw bytes with its dtype and shape, held in .NET
    /// arrays (no tensor, so a snapshot never changes the live tensor count), for asserting that a failed operation left
    /// the module bit for bit as it was — NaN and ±Inf included, which a value comparison would not match.
    /// </summary>
    public sealed class WeightSnapshot
    {
        private readonly List<(string key, ScalarType dtype, long[] shape, byte[] bytes)> _entries;

        private WeightSnapshot(List<(string, ScalarType, long[], byte[])> entries) => _entries = entries;

        /// <summary>The keys, in state-dict order.</summary>
        public IEnumerable<string> Keys => _entries.Select(e => e.key);

        /// <summary>Copies every state-dict entry of <paramref name="module"/>.</summary>
        public static WeightSnapshot Of(torch.nn.Module module) =>
            new(module.state_dict().Select(kv => (kv.Key, kv.Value.dtype, kv.Value.shape.ToArray(), Bytes(kv.Value))).ToList());

        /// <summary>The raw bytes of a tensor's elements in row-major order.</summary>
        public static byte[] Bytes(Tensor t)
        {
            using var noGrad = torch.no_grad();
            using var copy = t.detach().cpu().contiguous().clone();
            return copy.bytes.ToArray();
        }

        /// <summary>Asserts that <paramref name="module"/> has the same keys and, for each, the same dtype, shape and bytes.</summary>
        public void AssertUnchanged(torch.nn.Module module, string because)
        {
            var now = Of(module);
            if (!now.Keys.SequenceEqual(Keys))
                throw new XunitException($"{because}: the state-dict keys changed ({string.Join(", ", now.Keys.Except(Keys))} new, {string.Join(", ", Keys.Except(now.Keys))} gone).");
            for (int i = 0; i < _entries.Count; i++)
            {
                var (key, dtype, shape, bytes) = _entries[i];
                var (_, nowDType, nowShape, nowBytes) = now._entries[i];
                if (nowDType != dtype || !nowShape.SequenceEqual(shape))
                    throw new XunitException($"{because}: '{key}' is {nowDType} ({string.Join(", ", nowShape)}), was {dtype} ({string.Join(", ", shape)}).");
                if (!nowBytes.AsSpan().SequenceEqual(bytes))
                    throw new XunitException($"{because}: '{key}' changed (first different byte at {FirstDifference(bytes, nowBytes)} of {bytes.Length}).");
            }
        }

        private static int FirstDifference(byte[] a, byte[] b)
        {
            int i = 0;
            while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
            return i;
        }
    }
}
