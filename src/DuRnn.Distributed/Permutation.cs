using System;

namespace DuRnn.Distributed
{
    /// <summary>
    /// Seeded random permutations that are the same on every machine, operating system and .NET version: a
    /// Fisher–Yates shuffle driven by SplitMix64 (Steele, Lea, Flood 2014), with unbiased bounded draws (rejection).
    /// <see cref="Random"/> is not used because its seeded sequence is not promised to stay the same across .NET
    /// versions, and every rank must draw exactly the same permutation.
    /// </summary>
    internal static class Permutation
    {
        /// <summary>0, 1, ..., <paramref name="count"/> − 1 shuffled by a generator seeded from <paramref name="seed"/> and <paramref name="epoch"/>.</summary>
        public static long[] Shuffled(long count, long seed, long epoch)
        {
            var order = Identity(count);
            ulong state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xD1B54A32D192ED03UL);
            for (long i = count - 1; i > 0; i--)
            {
                long j = (long)Below(ref state, (ulong)i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            return order;
        }

        /// <summary>0, 1, ..., <paramref name="count"/> − 1 in order.</summary>
        public static long[] Identity(long count)
        {
            var order = new long[count];
            for (long i = 0; i < count; i++)
                order[i] = i;
            return order;
        }

        /// <summary>A uniform draw from [0, <paramref name="bound"/>), rejecting the top values that would bias it.</summary>
        private static ulong Below(ref ulong state, ulong bound)
        {
            ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong draw;
            do draw = Next(ref state);
            while (draw >= limit);
            return draw % bound;
        }

        /// <summary>SplitMix64's next output.</summary>
        private static ulong Next(ref ulong state)
        {
            unchecked
            {
                ulong z = state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }
    }
}
