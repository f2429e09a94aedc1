using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The quick in-process harness (<c>--quick</c>): B = 32, H = 128, one layer; T = 100 and 500 for every model,
    /// T = 2000 for DuRNN's fast path and the three TorchSharp baselines; then, while the time budget allows,
    /// T = 5000 for the fast path and nn.LSTM and the memory case (child processes). A few warm-up and timed runs
    /// per cell, round-robin over the models, the median.
    /// </summary>
    internal static class Quick
    {
        private const long B = 32, H = 128;

        private const int MinRuns = 3, MaxRuns = 11;

        /// <summary>Timed rounds go on until this much time per model is spent (at least <see cref="MinRuns"/>).</summary>
        private static readonly TimeSpan PerModelBudget = TimeSpan.FromSeconds(1.5);

        /// <summary>A cell whose warm-up run takes longer than this is timed once.</summary>
        private static readonly TimeSpan SlowRun = TimeSpan.FromSeconds(10);

        /// <summary>The default wall-clock budget of the whole quick run (the optional cells are skipped beyond it).</summary>
        public static readonly TimeSpan DefaultBudget = TimeSpan.FromSeconds(170);

        /// <summary>
        /// The cells of the quick grid. The slow paths (Reference, and any explicit path other than Auto) only at
        /// T ≤ 500; GRU and RNN up to T = 2000; T = 5000 only for the fast path and nn.LSTM and only when the
        /// estimated time fits the budget.
        /// </summary>
        public static bool IsPlanned(ModelSpec model, long t) => t switch
        {
            <= 500 => true,
            <= 2000 => model.Kind != ModelKind.DuRnn || model.IsFastPath,
            _ => model.IsFastPath || model == ModelSpec.Lstm,
        };

        private static readonly long[] Required = { 100, 500, 2000 };
        private const long Optional = 5000;

        public static void Run(bool withMemory, TimeSpan budget)
        {
            var clock = Stopwatch.StartNew();
            var err = Console.Error;
            string loadBefore = Machine.LoadAverage();
            var meter = new CpuMeter();
            var results = new List<TimeResult>();
            var notes = new List<string>();

            foreach (long t in Required.Append(Optional))
            {
                foreach (var mode in new[] { BenchMode.Training, BenchMode.Inference })
                {
                    var planned = ModelSpec.All.Where(m => IsPlanned(m, t)).ToList();
                    if (t == Optional)
                    {
                        // Optional cells come in pairs (fast path and LSTM), so that their ratio exists.
                        double cost = planned.Sum(m => CellCost(Estimate(results, m, mode, t)));
                        double left = budget.TotalSeconds - clock.Elapsed.TotalSeconds;
                        if (cost > left)
                        {
                            string perRun = string.Join(", ", planned.Select(m => FormattableString.Invariant(
                                $"{m.Label} ≈ {Estimate(results, m, mode, t) / 1000:F1} s/run")));
                            notes.Add(FormattableString.Invariant(
                                $"T={t} {Report.ModeLabel(mode)} not run: estimated {cost:F0} s ({perRun}), {Math.Max(0, left):F0} s left of the {budget.TotalSeconds:F0} s budget (--budget SECONDS raises it)."));
                            planned.Clear();
                        }
                    }
                    foreach (var model in ModelSpec.All.Where(m => !planned.Contains(m)))
                        results.Add(new TimeResult(model, mode, t, B, H, null, 0));
                    if (planned.Count == 0) continue;

                    var workloads = planned.Select(m => new Workload(m, t, B, H)).ToList();
                    try
                    {
                        var times = MeasureRoundRobin(workloads, mode);
                        for (int i = 0; i < workloads.Count; i++)
                        {
                            double median = Median(times[i]);
                            results.Add(new TimeResult(planned[i], mode, t, B, H, median, times[i].Count));
                            err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"[{clock.Elapsed:mm\\:ss}] {planned[i].Label,-24} {mode,-9} T={t,-5} B={B} H={H}: median {median,9:F1} ms ({times[i].Count} runs)"));
                        }
                    }
                    finally
                    {
                        foreach (var w in workloads) w.Dispose();
                    }
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
            }

            List<MemoryResult>? memory = null;
            if (withMemory)
            {
                // One training step of 2 layers at T = 5000 per model, plus start-up of each child.
                double cost = MemoryProbe.Models.Sum(m =>
                    MemoryProbe.Layers * Estimate(results, m, BenchMode.Training, MemoryProbe.T) / 1000 + 5);
                double left = budget.TotalSeconds - clock.Elapsed.TotalSeconds;
                if (cost <= left)
                    memory = MemoryProbe.Measure(MemoryProbe.Models, err);
                else
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"memory case not run: estimated {cost:F0} s, {Math.Max(0, left):F0} s left of the budget; run it alone with --memory."));
            }

            var o = Console.Out;
            o.WriteLine();
            o.WriteLine($"Machine: {Machine.Describe()}");
            o.WriteLine($"Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, --quick, I = {Workload.InputSize}, float32, CPU, 1 layer; " +
                        $"median of {MinRuns}–{MaxRuns} timed runs (round-robin over the models; 1 run where the warm-up run took over {SlowRun.TotalSeconds:F0} s) after 1–2 warm-up runs; " +
                        $"{meter.Describe(loadBefore)}; took {clock.Elapsed.TotalSeconds:F0} s");
            if (meter.WasBusy())
                o.WriteLine("WARNING: other processes competed for the CPU during this run; the times are unreliable.");
            o.WriteLine();
            Report.PrintTimes(o, results);
            o.WriteLine();
            Report.PrintIndRnn(o, results);
            if (memory is not null)
            {
                o.WriteLine();
                Report.PrintMemory(o, memory);
            }
            if (notes.Count > 0)
            {
                o.WriteLine();
                foreach (var n in notes) o.WriteLine("Note: " + n);
            }
        }

        /// <summary>
        /// The expected milliseconds of one run at length <paramref name="t"/>: the measured median if there is one,
        /// else extrapolated from T = 500 and 2000 as t^k with the measured exponent k (at least 1).
        /// </summary>
        private static double Estimate(IReadOnlyList<TimeResult> results, ModelSpec model, BenchMode mode, long t)
        {
            double? At(long len) => results.FirstOrDefault(r => r.Model == model && r.Mode == mode && r.T == len && r.B == B && r.H == H)?.MedianMs;
            if (At(t) is double measured) return measured;
            if (At(500) is double a && At(2000) is double b)
            {
                double k = Math.Max(1.0, Math.Log(b / a) / Math.Log(4.0));
                return b * Math.Pow(t / 2000.0, k);
            }
            return double.PositiveInfinity;
        }

        /// <summary>Seconds a cell takes with runs of <paramref name="ms"/>: warm-up plus timed runs.</summary>
        private static double CellCost(double ms)
        {
            double s = ms / 1000;
            double warmup = s < 1 ? 2 * s : s;
            double timed = s > SlowRun.TotalSeconds ? s : Math.Max(MinRuns * s, Math.Min(MaxRuns * s, PerModelBudget.TotalSeconds + s));
            return warmup + timed;
        }

        /// <summary>
        /// One or two warm-up runs of each workload (two unless the first took over a second), then rounds of one
        /// timed run of each, until every workload has <see cref="MinRuns"/> runs and the rounds took
        /// <see cref="PerModelBudget"/> per workload, or <see cref="MaxRuns"/> rounds were run. A workload whose
        /// warm-up run took over <see cref="SlowRun"/> gets a single timed run, to keep --quick quick.
        /// </summary>
        private static List<double>[] MeasureRoundRobin(IReadOnlyList<Workload> workloads, BenchMode mode)
        {
            var sw = new Stopwatch();
            var slow = new bool[workloads.Count];
            for (int i = 0; i < workloads.Count; i++)
            {
                sw.Restart();
                workloads[i].Step(mode);
                slow[i] = sw.Elapsed > SlowRun;
                if (sw.Elapsed < TimeSpan.FromSeconds(1)) workloads[i].Step(mode);
            }
            var times = workloads.Select(_ => new List<double>()).ToArray();
            var total = TimeSpan.Zero;
            for (int round = 0; round < MinRuns || (round < MaxRuns && total < PerModelBudget * workloads.Count); round++)
            {
                for (int i = 0; i < workloads.Count; i++)
                {
                    if (slow[i] && times[i].Count > 0) continue;
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
