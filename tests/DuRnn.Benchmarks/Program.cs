using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Running;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Entry point. No flag: the full BenchmarkDotNet grid (BenchmarkDotNet's own options pass through, e.g.
    /// <c>--filter</c>); <c>--quick</c>: the quick in-process harness; <c>--memory</c>: only the memory case;
    /// <c>--memory MODEL</c>: one memory child (used internally).
    /// </summary>
    public static class Program
    {
        private const string Usage = """
            DuRnn.Benchmarks — DuRNN vs TorchSharp's nn.LSTM / nn.GRU / nn.RNN(ReLU)

              (no flag)          full grid with BenchmarkDotNet (in-process toolchain), then the memory case and the targets;
                                 BenchmarkDotNet options pass through (default --filter '*')
              --quick            quick in-process harness (B=32, H=128, T in 100..5000), markdown tables, then the targets
              --targets          only the targets: DuRNN and its baseline timed in interleaved pairs (median of pair ratios),
                                 with the roofline lines, the memory case and the load other processes put on the machine
              --check            with --quick or --targets: exit 1 when a target is missed, 3 when the run was under load
              --streaming        only the streaming row (one-step calls, B = 1), per-call times in µs
              --budget SECONDS   with --quick: wall-clock budget for the optional cells (T=5000, memory case); default 170
              --memory           only the memory case (training, T=5000, B=32, H=128, 2 layers), one child process per model
              --memory MODEL     one memory child (MODEL: {0})
              --no-memory        skip the memory case (with --quick or the full grid)
              --outofprocess     full grid with BenchmarkDotNet's default out-of-process toolchain
              --omp-active       keep libgomp's default wait policy (spinning) instead of setting OMP_WAIT_POLICY=PASSIVE
              --single MODEL MODE T B H [LAYERS] [RUNS]
                                 time one cell run by run (MODE: training or inference), for quick checks
            """;

        public static int Main(string[] args)
        {
            var rest = new List<string>(args);
            bool Take(string flag) => rest.Remove(flag);
            OpenMp.Configure(keepDefault: Take("--omp-active"));

            if (Take("--help") || Take("-h"))
            {
                Console.WriteLine(string.Format(Usage, string.Join(", ", ModelSpec.All.Select(m => m.Key))));
                return 0;
            }

            int memoryAt = rest.IndexOf("--memory");
            if (memoryAt >= 0)
            {
                if (memoryAt + 1 < rest.Count && !rest[memoryAt + 1].StartsWith("-", StringComparison.Ordinal))
                    return MemoryProbe.RunChild(ModelSpec.Parse(rest[memoryAt + 1]));
                Machine.ConfigureTorch();
                string loadBefore = Machine.LoadAverage();
                var memory = MemoryProbe.Measure(MemoryProbe.Models, Console.Error);
                Console.WriteLine($"Machine: {Machine.Describe()}");
                Console.WriteLine($"Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, --memory; load average before {loadBefore}, after {Machine.LoadAverage()}");
                Console.WriteLine();
                Report.PrintMemory(Console.Out, memory);
                return 0;
            }

            int singleAt = rest.IndexOf("--single");
            if (singleAt >= 0)
                return Single(rest.Skip(singleAt + 1).ToArray());

            bool withMemory = !Take("--no-memory");
            bool check = Take("--check");
            Machine.ConfigureTorch();
            if (Take("--streaming"))
            {
                var row = Targets.StreamingRow();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{row.Name}: median of pair ratios {row.Median:F3} (min {row.Ratios.Min():F3}, max {row.Ratios.Max():F3}); per call {row.MedianA * 1000:F1} µs vs {row.MedianB * 1000:F1} µs"));
                return 0;
            }
            bool quick = Take("--quick");
            if (quick || Take("--targets"))
            {
                if (quick)
                {
                    var budget = Quick.DefaultBudget;
                    int budgetAt = rest.IndexOf("--budget");
                    if (budgetAt >= 0 && budgetAt + 1 < rest.Count)
                        budget = TimeSpan.FromSeconds(double.Parse(rest[budgetAt + 1], CultureInfo.InvariantCulture));
                    // The grid's memory case is the targets' one: run it once, there.
                    Quick.Run(withMemory: false, budget);
                    Console.WriteLine();
                }
                var (allMet, busy) = Targets.Run(Console.Out, Console.Error, withMemory);
                if (!check) return 0;
                return busy ? 3 : allMet ? 0 : 1;
            }

            bool inProcess = !Take("--outofprocess");
            if (!rest.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a == "-f"))
                rest.AddRange(new[] { "--filter", "*" });
            var summaries = BenchmarkSwitcher.FromTypes(new[] { typeof(TrainingBenchmarks), typeof(InferenceBenchmarks) })
                .Run(rest.ToArray(), Full.Config(inProcess)).ToList();
            var results = Full.ToResults(summaries);
            if (results.Count == 0) return 0; // --list, --help or a filter that matched nothing
            var memoryResults = withMemory ? MemoryProbe.Measure(MemoryProbe.Models, Console.Error) : null;
            Console.WriteLine();
            Console.WriteLine($"Machine: {Machine.Describe()}");
            Console.WriteLine();
            Report.PrintTimes(Console.Out, results);
            Console.WriteLine();
            Report.PrintIndRnn(Console.Out, results);
            if (memoryResults is not null)
            {
                Console.WriteLine();
                Report.PrintMemory(Console.Out, memoryResults);
            }
            return 0;
        }

        private static int Single(string[] a)
        {
            if (a.Length < 5)
            {
                Console.Error.WriteLine("usage: --single MODEL training|inference T B H [LAYERS] [RUNS]");
                return 2;
            }
            Machine.ConfigureTorch();
            var model = ModelSpec.Parse(a[0]);
            var mode = Enum.Parse<BenchMode>(a[1], ignoreCase: true);
            long t = long.Parse(a[2], CultureInfo.InvariantCulture), b = long.Parse(a[3], CultureInfo.InvariantCulture);
            long h = long.Parse(a[4], CultureInfo.InvariantCulture);
            long layers = a.Length > 5 ? long.Parse(a[5], CultureInfo.InvariantCulture) : 1;
            int runs = a.Length > 6 ? int.Parse(a[6], CultureInfo.InvariantCulture) : 5;
            Console.WriteLine($"Machine: {Machine.Describe()}; load average {Machine.LoadAverage()}");
            using var workload = new Workload(model, t, b, h, layers);
            var sw = new Stopwatch();
            for (int i = 0; i < runs; i++)
            {
                sw.Restart();
                workload.Step(mode);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model.Label} {mode} T={t} B={b} H={h} layers={layers}: run {i + 1}: {sw.Elapsed.TotalMilliseconds:F1} ms"));
            }
            return 0;
        }
    }
}
