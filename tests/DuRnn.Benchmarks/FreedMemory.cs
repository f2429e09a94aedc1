using System;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Whether this process applied <see cref="Performance.ReuseFreedMemory"/> (glibc keeps freed memory for reuse
    /// instead of unmapping it; process-wide, so every model measured here benefits alike). The harness applies it at
    /// start-up, as the samples do, unless <c>--default-malloc</c> is given (to measure what it buys); child processes
    /// get the same choice.
    /// </summary>
    internal static class FreedMemory
    {
        /// <summary>The flag that skips the setting.</summary>
        public const string DefaultMallocFlag = "--default-malloc";

        /// <summary>False when --default-malloc was given.</summary>
        public static bool Requested { get; private set; } = true;

        /// <summary>True when the setting was requested and took effect (Linux with glibc).</summary>
        public static bool Applied { get; private set; }

        /// <summary>Applies the setting unless <paramref name="defaultMalloc"/>; call once, before the first large tensor.</summary>
        public static void Configure(bool defaultMalloc)
        {
            Requested = !defaultMalloc;
            Applied = Requested && Performance.ReuseFreedMemory();
        }

        /// <summary>One phrase for a report.</summary>
        public static string Describe() => Applied
            ? "DuRnn.Performance.ReuseFreedMemory() applied (freed memory reused; --default-malloc skips it)"
            : Requested
                ? "DuRnn.Performance.ReuseFreedMemory() requested but not applied (not Linux with glibc): default allocator"
                : "default allocator (--default-malloc: DuRnn.Performance.ReuseFreedMemory() not applied)";
    }
}
