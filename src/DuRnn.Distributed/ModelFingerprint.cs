using System;
using System.Collections.Generic;
using System.Globalization;
using static TorchSharp.torch;

namespace DuRnn.Distributed
{
    /// <summary>
    /// A summary of a list of tensors that every rank computes and compares with one all-reduce: how many tensors, how
    /// many elements, and a hash of every dtype and shape in order (FNV-1a, the same on every machine and run, unlike
    /// <see cref="string.GetHashCode()"/>). Ranks that built different models disagree on it, and every rank then fails
    /// with the same message, instead of a collective that hangs or mixes unrelated numbers.
    /// </summary>
    internal readonly record struct ModelFingerprint(long Count, long Elements, long Hash)
    {
        private const ulong FnvOffset = 14695981039346656037;
        private const ulong FnvPrime = 1099511628211;

        /// <summary>The fingerprint of <paramref name="tensors"/>, in order.</summary>
        public static ModelFingerprint Of(IEnumerable<Tensor> tensors)
        {
            long count = 0, elements = 0;
            ulong hash = FnvOffset;
            foreach (var t in tensors)
            {
                count++;
                elements += t.NumberOfElements;
                hash = Mix(hash, (long)t.dtype);
                hash = Mix(hash, t.dim());
                foreach (long extent in t.shape)
                    hash = Mix(hash, extent);
            }
            return new ModelFingerprint(count, elements, unchecked((long)hash));
        }

        /// <summary>
        /// Compares this rank's fingerprint with every other rank's (collective: every rank must call it at the same
        /// point) and throws on every rank when they differ.
        /// </summary>
        /// <param name="session">The session.</param>
        /// <param name="what">What was fingerprinted, e.g. "parameters with gradients".</param>
        /// <param name="caller">The API, for the message.</param>
        /// <exception cref="InvalidOperationException">The ranks disagree; the message gives the range of each count.</exception>
        public void RequireSameOnAllRanks(MpiSession session, string what, string caller)
        {
            if (session.Size == 1) return;
            // One MPI_MAX over (v, −v) gives the maximum and the minimum of each value.
            Span<long> values = stackalloc long[] { Count, Elements, Hash, -Count, -Elements, -Hash };
            session.AllReduce(values, ReduceOperation.Max);
            long maxCount = values[0], maxElements = values[1], maxHash = values[2];
            long minCount = -values[3], minElements = -values[4], minHash = -values[5];
            if (minCount == maxCount && minElements == maxElements && minHash == maxHash)
                return;
            string detail = minCount != maxCount || minElements != maxElements
                ? string.Create(CultureInfo.InvariantCulture,
                    $"the ranks have {Range(minCount, maxCount)} {what} holding {Range(minElements, maxElements)} elements (rank {session.Rank}: {Count} holding {Elements})")
                : string.Create(CultureInfo.InvariantCulture,
                    $"the ranks have the same number of {what} ({Count}, {Elements} elements) but different shapes or dtypes");
            throw new InvalidOperationException(
                $"{caller}: {detail}. Every rank must build the same model (same sizes, same order of parameters, same dtype).");
        }

        private static string Range(long min, long max) =>
            min == max ? min.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{min} to {max}");

        private static ulong Mix(ulong hash, long value)
        {
            unchecked
            {
                for (int i = 0; i < 8; i++)
                {
                    hash ^= (byte)(value >> (8 * i));
                    hash *= FnvPrime;
                }
                return hash;
            }
        }
    }
}
