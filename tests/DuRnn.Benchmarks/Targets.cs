using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The project's speed and memory targets, each measured as interleaved pairs in one process: one run of A
    /// (DuRNN) and one of B (nn.LSTM, or the same stack on one thread), the order alternating every pair (A B, B A,
    /// …) so that drift and bursts of load hit both alike; the figure is the <b>median of the pair ratios</b> A/B,
    /// reported with their min–max. 1 layer, B = 32, I = 8, H = S = 128, float32, torch.set_num_threads(2), unless a
    /// row says otherwise. Every fwd+bwd and inference row carries a roofline line (<see cref="Roofline"/>).
    /// A run during which other processes took more than <see cref="CpuMeter.BusyCores"/> cores is flagged.
    /// </summary>
    internal static class Targets
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        private const long B = 32, H = 128;

        /// <summary>At least this many pairs per row, and at most <see cref="MaxPairs"/>.</summary>
        private const int MinPairs = 5, MaxPairs = 15;

        /// <summary>Pairs go on (past <see cref="MinPairs"/>) until this much time is spent on the row.</summary>
        private static readonly TimeSpan PerRow = TimeSpan.FromSeconds(4);

        /// <summary>One measured target: the pair ratios and the medians of A's and B's runs.</summary>
        public sealed record Row(string Name, string Cell, double Bound, double[] Ratios, double MedianA, double MedianB, string? Roofline)
        {
            /// <summary>The median of the pair ratios.</summary>
            public double Median => Quick.Median(Ratios);

            /// <summary>Whether the median meets the bound.</summary>
            public bool Met => Median <= Bound;
        }

        /// <summary>Measures every target, prints the table; returns whether all were met and whether the run was busy.</summary>
        public static (bool allMet, bool busy) Run(TextWriter output, TextWriter progress, bool withMemory)
        {
            string loadBefore = Machine.LoadAverage();
            var meter = new CpuMeter();
            var rows = new List<Row>();
            void Add(Row r)
            {
                rows.Add(r);
                progress.WriteLine(string.Create(Inv,
                    $"target {r.Name}, {r.Cell}: median ratio {r.Median:F3} (min {r.Ratios.Min():F3}, max {r.Ratios.Max():F3}, {r.Ratios.Length} pairs; {r.MedianA:F1} ms vs {r.MedianB:F1} ms); others {meter.OtherCores():F2} cores"));
            }

            foreach (var (mode, bound) in new[] { (BenchMode.Training, 0.6), (BenchMode.Inference, 0.5) })
            {
                foreach (long t in new long[] { 500, 2000, 5000 })
                {
                    using var durnn = new Workload(ModelSpec.DuRnnFast, t, B, H);
                    using var lstm = new Workload(ModelSpec.Lstm, t, B, H);
                    var (ratios, a, b) = Pairs(() => durnn.Step(mode), () => lstm.Step(mode));
                    var macs = Roofline.MultiplyAdds(mode, t, B, Workload.InputSize, H, H);
                    var gemm = Roofline.Measure(t, B, H);
                    string roofline = string.Create(Inv,
                        $"DuRNN {Roofline.Achieved(a, macs):F1} GFLOP/s; sgemm here: {gemm.sequential:F1} GFLOP/s at {B}×{H}×{H} (the sequential step), {gemm.batched:F1} at {t * B}×{H}×{H} (all steps); DuRNN takes {100 * Roofline.Fraction(a, macs, gemm):F0} % of the time-bound those GEMMs set");
                    Add(new Row($"{Report.ModeLabel(mode)} DuRNN / nn.LSTM", $"T={t}", bound, ratios, a, b, roofline));
                }
            }

            using (var durnn = new Workload(ModelSpec.DuRnnFast, 5000, B, H, layers: 2))
            using (var lstm = new Workload(ModelSpec.Lstm, 5000, B, H, layers: 2))
            {
                var (ratios, a, b) = Pairs(durnn.TrainStep, lstm.TrainStep);
                Add(new Row("training step (fwd+bwd) DuRNN / nn.LSTM", "2 layers, T=5000", 0.6, ratios, a, b, null));
            }

            using (var stack = new Workload(ModelSpec.DuRnnFast, 2000, B, H, layers: 2))
            {
                var (ratios, a, b) = Pairs(() => OnThreads(2, stack.TrainStep), () => OnThreads(1, stack.TrainStep));
                Add(new Row("DuRNN fwd+bwd on 2 threads / on 1 thread", "2 layers, T=2000", 0.65, ratios, a, b, null));
            }

            Add(StreamingRow());

            List<MemoryResult>? memory = withMemory ? MemoryProbe.Measure(MemoryProbe.Models, progress) : null;
            bool busy = meter.WasBusy();
            string load = meter.Describe(loadBefore);

            output.WriteLine($"Targets: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {Machine.Describe()}");
            output.WriteLine($"Load: {load}");
            if (busy)
                output.WriteLine("WARNING: other processes competed for the CPU during this run: the ratios are not benchmarks (nn.LSTM's threaded kernels suffer more from it than DuRNN).");
            output.WriteLine();
            output.WriteLine("| target | cell | bound | median of pair ratios (min–max, pairs) | DuRNN ms | baseline ms | |");
            output.WriteLine("|---|---|---:|---:|---:|---:|---|");
            foreach (var r in rows)
                output.WriteLine(string.Create(Inv,
                    $"| {r.Name} | {r.Cell} | ≤ {r.Bound:0.0#} | {r.Median:F2} ({r.Ratios.Min():F2}–{r.Ratios.Max():F2}, {r.Ratios.Length}) | {Ms(r.MedianA)} | {Ms(r.MedianB)} | {(r.Met ? "met" : "not met")} |"));
            bool memoryMet = true;
            if (memory is not null)
            {
                var d = memory.First(m => m.Model == ModelSpec.DuRnnFast);
                var l = memory.First(m => m.Model == ModelSpec.Lstm);
                double ratio = d.IncreaseMb / l.IncreaseMb;
                memoryMet = ratio <= 0.5;
                output.WriteLine(string.Create(Inv,
                    $"| peak memory of a training step (peak RSS − RSS before, child processes) DuRNN / nn.LSTM | 2 layers, T=5000 | ≤ 0.5 | {ratio:F2} (one run each) | {d.IncreaseMb:F0} MB | {l.IncreaseMb:F0} MB | {(memoryMet ? "met" : "not met")} |"));
            }
            output.WriteLine();
            output.WriteLine("Roofline (1 layer, DuRNN's run of each row above; GFLOP counted from the equations, see Roofline.cs):");
            foreach (var r in rows.Where(r => r.Roofline is not null))
                output.WriteLine($"- {r.Name}, {r.Cell}: {r.Roofline}");
            return (rows.All(r => r.Met) && memoryMet, busy);
        }

        /// <summary>The streaming row: per-call times (ms) of one-step calls, DuRNN against nn.LSTM.</summary>
        public static Row StreamingRow()
        {
            using var durnn = new Streaming(ModelKind.DuRnn, H);
            using var lstm = new Streaming(ModelKind.Lstm, H);
            var (ratios, a, b) = Pairs(durnn.Run, lstm.Run);
            return new Row("streaming inference per call DuRNN / nn.LSTM", $"B=1, T=1 per call, {Streaming.Calls} calls a run", 0.5, ratios,
                a / Streaming.Calls, b / Streaming.Calls, null);
        }

        /// <summary>
        /// One warm-up run of each, then pairs in alternating order until <see cref="MinPairs"/> pairs and
        /// <see cref="PerRow"/> are reached (or <see cref="MaxPairs"/>). Returns the ratios and both medians (ms).
        /// </summary>
        private static (double[] ratios, double medianA, double medianB) Pairs(Action a, Action b)
        {
            a();
            b();
            var ratios = new List<double>();
            var ta = new List<double>();
            var tb = new List<double>();
            var clock = Stopwatch.StartNew();
            var sw = new Stopwatch();
            double Time(Action action)
            {
                sw.Restart();
                action();
                return sw.Elapsed.TotalMilliseconds;
            }
            for (int i = 0; i < MaxPairs && (i < MinPairs || clock.Elapsed < PerRow); i++)
            {
                double x, y;
                if (i % 2 == 0) { x = Time(a); y = Time(b); }
                else { y = Time(b); x = Time(a); }
                ta.Add(x);
                tb.Add(y);
                ratios.Add(x / y);
            }
            return (ratios.ToArray(), Quick.Median(ta), Quick.Median(tb));
        }

        private static string Ms(double ms) => ms.ToString(ms < 1 ? "F3" : "F1", Inv);

        private static void OnThreads(int threads, Action action)
        {
            torch.set_num_threads(threads);
            try { action(); }
            finally { Machine.ConfigureTorch(); }
        }
    }
}
