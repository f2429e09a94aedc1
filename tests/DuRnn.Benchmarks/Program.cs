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
    /// <c>--filter</c>); <c>--quick</c>: the quick in-process harness; <c>--targets</c>: the targets, interleaved and
    /// in separate processes, with the report files (<see cref="Targets"/>); <c>--memory</c>: only the memory case;
    /// <c>--memory MODEL [T]</c> and <c>--single …</c>: one child (used internally, work by hand too). Every mode first
    /// applies <see cref="Performance.ReuseFreedMemory"/> unless <c>--default-malloc</c> is given.
    /// </summary>
    public static class Program
    {
        private const string Usage = """
            DuRnn.Benchmarks — DuRNN vs TorchSharp's nn.LSTM / nn.GRU / nn.RNN(ReLU)

              (no flag)          full grid with BenchmarkDotNet (in-process toolchain), then the memory case;
                                 BenchmarkDotNet options pass through (default --filter '*')
              --quick            quick in-process harness (B=32, H=128, T in 100..5000), markdown tables, then the targets
                                 (one interleaved run, no separate processes, no files)
              --targets          the targets: every row interleaved in this process --runs times (median and worst run),
                                 then separate-process ratios; writes results/targets-<date>-<commit>.md, targets-latest.md
                                 and targets-latest.csv (see README.md)
              --runs N           with --targets: how many times the interleaved rows run (default 3)
              --separate-rounds M, --child-runs K, --child-warmups W
                                 with --targets: M rounds of one child process per cell, K timed runs a child after W
                                 untimed ones (default 3, 5, 4)
              --no-separate      with --targets: skip the separate-process figures
              --out DIR          with --targets: where the report files go (default tests/DuRnn.Benchmarks/results)
              --check            with --quick or --targets: exit 1 when the worst run misses a target, 3 when other
                                 processes took the CPU during the run
              --streaming        only the streaming row (one-step calls, B = 1), per-call times in µs
              --budget SECONDS   with --quick: wall-clock budget for the optional cells (T=5000, memory case); default 170
              --memory           only the memory case (training, T=5000, B=32, H=128, 2 layers), one child process per model
              --memory MODEL [T] one memory child (MODEL: {0})
              --no-memory        skip the memory case (with --quick, --targets or the full grid)
              --outofprocess     full grid with BenchmarkDotNet's default out-of-process toolchain
              --omp-active       keep libgomp's default wait policy (spinning) instead of setting OMP_WAIT_POLICY=PASSIVE
              --default-malloc   do not call DuRnn.Performance.ReuseFreedMemory() at start-up (glibc's default allocator)
              --single MODEL MODE T B H [LAYERS] [RUNS] [--task TASK] [--input I] [--threads N] [--warmup W]
                                 time one cell in this process, run by run, and print the median (MODE: training or
                                 inference; TASK: sequence (default), streaming (T = calls a run), fashion, charlm;
                                 the separate-process figures run these as child processes)
            """;

        public static int Main(string[] args)
        {
            var rest = new List<string>(args);
            bool Take(string flag) => rest.Remove(flag);
            string? TakeValue(string flag)
            {
                int at = rest.IndexOf(flag);
                if (at < 0) return null;
                if (at + 1 >= rest.Count) throw new ArgumentException($"{flag} needs a value");
                string value = rest[at + 1];
                rest.RemoveRange(at, 2);
                return value;
            }
            int? TakeInt(string flag, int min) => TakeValue(flag) is string v
                ? int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture) is int n && n >= min ? n : throw new ArgumentException($"{flag} must be at least {min}")
                : null;

            OpenMp.Configure(keepDefault: Take("--omp-active"));
            FreedMemory.Configure(defaultMalloc: Take(FreedMemory.DefaultMallocFlag));

            if (Take("--help") || Take("-h"))
            {
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, Usage, string.Join(", ", ModelSpec.All.Select(m => m.Key))));
                return 0;
            }

            int singleAt = rest.IndexOf("--single");
            if (singleAt >= 0)
                return SeparateProcess.RunChild(rest.Skip(singleAt + 1).ToArray());

            int memoryAt = rest.IndexOf("--memory");
            if (memoryAt >= 0)
            {
                if (memoryAt + 1 < rest.Count && !rest[memoryAt + 1].StartsWith("-", StringComparison.Ordinal))
                {
                    long t = memoryAt + 2 < rest.Count && long.TryParse(rest[memoryAt + 2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long given)
                        ? given : MemoryProbe.T;
                    return MemoryProbe.RunChild(ModelSpec.Parse(rest[memoryAt + 1]), t);
                }
                Machine.ConfigureTorch();
                string loadBefore = Machine.LoadAverage();
                var memory = MemoryProbe.Measure(MemoryProbe.Models, Console.Error);
                Console.WriteLine($"Machine: {Machine.Describe()}; {FreedMemory.Describe()}");
                Console.WriteLine($"Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, --memory; load average before {loadBefore}, after {Machine.LoadAverage()}");
                Console.WriteLine();
                Report.PrintMemory(Console.Out, memory);
                return 0;
            }

            string commandLine = string.Join(" ", args);
            bool withMemory = !Take("--no-memory");
            bool check = Take("--check");
            bool smoke = Take("--smoke");
            bool noSeparate = Take("--no-separate");
            int? runs = TakeInt("--runs", 1);
            int? rounds = TakeInt("--separate-rounds", 1);
            int? childRuns = TakeInt("--child-runs", 1);
            int? childWarmups = TakeInt("--child-warmups", 0);
            string? outDir = TakeValue("--out");
            Machine.ConfigureTorch();
            if (Take("--streaming"))
            {
                Targets.StreamingOnly(Console.Out);
                return 0;
            }
            bool quick = Take("--quick");
            if (quick || Take("--targets") || smoke)
            {
                if (quick)
                {
                    var budget = Quick.DefaultBudget;
                    if (TakeValue("--budget") is string b)
                        budget = TimeSpan.FromSeconds(double.Parse(b, CultureInfo.InvariantCulture));
                    // The grid's memory case is the targets' one: run it once, there.
                    Quick.Run(withMemory: false, budget);
                    Console.WriteLine();
                }
                var settings = new TargetSettings
                {
                    Smoke = smoke,
                    Runs = runs ?? (quick || smoke ? 1 : 3),
                    Separate = !noSeparate && !quick,
                    SeparateRounds = rounds ?? (smoke ? 1 : 3),
                    ChildRuns = childRuns ?? (smoke ? 1 : 5),
                    ChildWarmups = childWarmups ?? (smoke ? 1 : 4),
                    WithMemory = withMemory,
                    WriteFiles = !quick,
                    OutputDirectory = outDir,
                    CommandLine = commandLine,
                };
                var result = Targets.Run(settings, Console.Out, Console.Error);
                if (!check) return 0;
                return result.Busy ? 3 : result.AllMet ? 0 : 1;
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
    }
}
