using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;

namespace DuRnn.Benchmarks
{
    /// <summary>How many interleaved rounds a group gets: at least <see cref="MinRounds"/>, then more until
    /// <see cref="PerCell"/> times the number of cells is spent, at most <see cref="MaxRounds"/>.</summary>
    internal sealed record InterleavingPolicy(int MinRounds, int MaxRounds, TimeSpan PerCell)
    {
        /// <summary>5 to 15 rounds, until 2 s per cell (4 s for a pair) are spent.</summary>
        public static readonly InterleavingPolicy Default = new(5, 15, TimeSpan.FromSeconds(2));

        /// <summary>Two rounds (--smoke: checks the code path, measures nothing).</summary>
        public static readonly InterleavingPolicy Smoke = new(2, 2, TimeSpan.Zero);
    }

    /// <summary>
    /// Times two or more cells alternately in this process: one warm-up run of each, then rounds of one run of each,
    /// the order rotating from round to round (A B, B A, … for a pair; A B C, B C A, C A B, … for three), so that drift
    /// and bursts of load from other processes hit every cell alike. Each cell runs on its own torch thread count
    /// (set before its run, outside the timing); the harness's default (<see cref="Machine.Threads"/>) is restored after.
    /// </summary>
    internal static class Interleaved
    {
        /// <summary>Runs the rounds; returns the times in ms, [cell][round].</summary>
        public static double[][] Measure(IReadOnlyList<IMeasurable> cells, IReadOnlyList<int> threads, InterleavingPolicy policy)
        {
            if (cells.Count != threads.Count) throw new ArgumentException("one thread count per cell", nameof(threads));
            var sw = new Stopwatch();
            double Time(int i)
            {
                if (torch.get_num_threads() != threads[i]) torch.set_num_threads(threads[i]);
                sw.Restart();
                cells[i].Run();
                return sw.Elapsed.TotalMilliseconds;
            }
            try
            {
                for (int i = 0; i < cells.Count; i++) Time(i);
                var times = cells.Select(_ => new List<double>()).ToArray();
                var budget = policy.PerCell * cells.Count;
                var clock = Stopwatch.StartNew();
                for (int round = 0; round < policy.MaxRounds && (round < policy.MinRounds || clock.Elapsed < budget); round++)
                {
                    for (int j = 0; j < cells.Count; j++)
                    {
                        int i = (round + j) % cells.Count;
                        times[i].Add(Time(i));
                    }
                }
                return times.Select(t => t.ToArray()).ToArray();
            }
            finally
            {
                Machine.ConfigureTorch();
            }
        }

        /// <summary>The ratio of cell <paramref name="a"/>'s time to cell <paramref name="b"/>'s in every round.</summary>
        public static double[] Ratios(double[][] times, int a, int b) =>
            times[a].Zip(times[b], (x, y) => x / y).ToArray();
    }
}
