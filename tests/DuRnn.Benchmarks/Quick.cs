using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The quick in-process harness (<c>--quick</c>): a subset of the grid, B = 32, H = 128, one layer, a few
    /// warm-up and timed iterations per cell, the median; then the memory case in child processes.
    /// </summary>
    internal static class Quick
    {
        /// <summary>The sequence lengths of the quick grid.</summary>
        public static readonly long[] Lengths = { 100, 500, 2000, 5000 };

        private const long B = 32, H = 128;

        /// <summary>A timed iteration is repeated until this much time is spent (at least <see cref="MinRuns"/> runs).</summary>
        private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1.5);

        private const int MinRuns = 3, MaxRuns = 11;

        /// <summary>
        /// Whether a cell of the quick grid is run: every model up to T = 2000, except the slow reference path (only
        /// T ≤ 500); at T = 5000 only DuRNN's fast path and nn.LSTM.
        /// </summary>
        public static bool IsRun(ModelSpec model, long t) =>
            t <= 2000 ? !model.IsReference || t <= 500 : model.IsFastPath || model == ModelSpec.Lstm;

        /// <summary>
        /// Runs the quick grid. Within one (T, mode) all models are timed round-robin (one run of each model per
        /// round), so that a burst of load from other processes on a shared machine hits every model alike.
        /// </summary>
        public static int Run(bool withMemory)
        {
            var started = Stopwatch.StartNew();
            var err = Console.Error;
            string loadBefore = Machine.LoadAverage();
            var results = new List<TimeResult>();
            foreach (long t in Lengths)
            {
                var models = ModelSpec.All.ToList();
                foreach (var model in models.Where(m => !IsRun(m, t)))
                {
                    results.Add(new TimeResult(model, BenchMode.Training, t, B, H, null, 0));
                    results.Add(new TimeResult(model, BenchMode.Inference, t, B, H, null, 0));
                }
                var workloads = models.Where(m => IsRun(m, t)).Select(m => new Workload(m, t, B, H)).ToList();
                try
                {
                    foreach (var mode in new[] { BenchMode.Training, BenchMode.Inference })
                    {
                        var times = MeasureRoundRobin(workloads, mode);
                        for (int i = 0; i < workloads.Count; i++)
                        {
                            var model = workloads[i].Spec;
                            double median = Median(times[i]);
                            results.Add(new TimeResult(model, mode, t, B, H, median, times[i].Count));
                            err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"[{started.Elapsed:mm\\:ss}] {model.Label,-24} {mode,-9} T={t,-5} B={B} H={H}: median {median,9:F1} ms ({times[i].Count} runs)"));
                        }
                    }
                }
                finally
                {
                    foreach (var w in workloads) w.Dispose();
                }
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            var memory = withMemory ? MemoryProbe.Measure(MemoryProbe.Models, err) : null;
            string loadAfter = Machine.LoadAverage();

            var o = Console.Out;
            o.WriteLine();
            o.WriteLine($"Machine: {Machine.Describe()}");
            o.WriteLine($"Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, `--quick`, I = {Workload.InputSize}, float32, CPU, 1 layer; " +
                        $"median of {MinRuns}–{MaxRuns} timed runs (round-robin over the models) after 1–2 warm-up runs; " +
                        $"load average before {loadBefore}, after {loadAfter}; took {started.Elapsed.TotalSeconds:F0} s");
            if (Machine.IsBusy(loadBefore) || Machine.IsBusy(loadAfter))
                o.WriteLine($"WARNING: the load average exceeded the {Environment.ProcessorCount} cores: other processes competed for the CPU; the times are unreliable.");
            o.WriteLine();
            Report.PrintTimes(o, results);
            if (memory is not null)
            {
                o.WriteLine();
                Report.PrintMemory(o, memory);
            }
            o.WriteLine();
            Report.PrintTargets(o, results, memory);
            return 0;
        }

        /// <summary>
        /// One or two warm-up runs of each workload (two unless the first took over a second), then rounds of one
        /// timed run of each, until every workload has <see cref="MinRuns"/> runs and the rounds took
        /// <see cref="Budget"/> per workload, or <see cref="MaxRuns"/> rounds were run.
        /// </summary>
        private static List<double>[] MeasureRoundRobin(IReadOnlyList<Workload> workloads, BenchMode mode)
        {
            var sw = new Stopwatch();
            foreach (var w in workloads)
            {
                sw.Restart();
                w.Step(mode);
                if (sw.Elapsed < TimeSpan.FromSeconds(1)) w.Step(mode);
            }
            var times = workloads.Select(_ => new List<double>()).ToArray();
            var total = TimeSpan.Zero;
            for (int round = 0; round < MinRuns || (round < MaxRuns && total < Budget * workloads.Count); round++)
            {
                for (int i = 0; i < workloads.Count; i++)
                {
                    sw.Restart();
                    workloads[i].Step(mode);
                    var elapsed = sw.Elapsed;
                    total += elapsed;
                    times[i].Add(elapsed.TotalMilliseconds);
                }
            }
            return times;
        }

        internal static double Median(IReadOnlyList<double> values)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            int n = sorted.Length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }
    }
}
