using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The second way of measuring a ratio: every cell in processes of its own. The parent starts a child of this
    /// program per cell (<c>--single …</c>, built from <see cref="CellSpec.ToArgs"/>), which builds the cell, runs it
    /// <c>--warmup</c> times untimed and RUNS times timed, and prints the median; the cells of a row take turns, the
    /// order reversed every round (A B, B A, …), for a number of rounds. The ratio is the median of A's child medians
    /// over the median of B's. Nothing is shared between the cells (allocator, caches, JIT state, threads), which the
    /// interleaved pairs cannot rule out; in exchange, load from other processes is not cancelled out within a pair.
    /// </summary>
    internal static class SeparateProcess
    {
        /// <summary>The tag of a child's result line.</summary>
        public const string Tag = "SINGLE-RESULT";

        /// <summary>
        /// Parent side: <paramref name="rounds"/> rounds of one child per cell, each timing <paramref name="runs"/> runs
        /// after <paramref name="warmups"/> untimed ones. Returns the child medians (ms per run), [cell][round].
        /// </summary>
        public static double[][] Measure(IReadOnlyList<CellSpec> cells, int rounds, int runs, int warmups, TextWriter progress)
        {
            var medians = cells.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int j = 0; j < cells.Count; j++)
                {
                    int i = round % 2 == 0 ? j : cells.Count - 1 - j;
                    var kv = ChildProcess.Run(cells[i].ToArgs(runs, warmup: warmups), Tag);
                    double median = double.Parse(kv["median_ms"], CultureInfo.InvariantCulture);
                    medians[i].Add(median);
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  separate process {round + 1}/{rounds}: {cells[i].Describe()}: median {median:F1} ms of {runs} runs"));
                }
            }
            return medians.Select(m => m.ToArray()).ToArray();
        }

        /// <summary>
        /// Child side (<c>--single MODEL MODE T B H [LAYERS] [RUNS] [--task TASK] [--input I] [--threads N] [--warmup W]</c>):
        /// builds the cell, runs it W times untimed (default 1) and RUNS times timed (default 5), prints each run and a
        /// result line with the median. Returns the exit code.
        /// </summary>
        public static int RunChild(IReadOnlyList<string> args)
        {
            var positional = new List<string>();
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < args.Count; i++)
            {
                if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Count) options[args[i]] = args[++i];
                else positional.Add(args[i]);
            }
            if (positional.Count < 5)
            {
                Console.Error.WriteLine("usage: --single MODEL training|inference T B H [LAYERS] [RUNS] [--task sequence|streaming|fashion|charlm] [--input I] [--threads N] [--warmup W]");
                return 2;
            }
            var inv = CultureInfo.InvariantCulture;
            long L(string s) => long.Parse(s, inv);
            var model = ModelSpec.Parse(positional[0]);
            var mode = Enum.Parse<BenchMode>(positional[1], ignoreCase: true);
            var task = options.TryGetValue("--task", out var tk) ? CellSpec.ParseTask(tk) : TaskKind.Sequence;
            long input = options.TryGetValue("--input", out var iv) ? L(iv) : CellSpec.DefaultInput(task);
            int threads = options.TryGetValue("--threads", out var th) ? int.Parse(th, inv) : Machine.Threads;
            int warmup = options.TryGetValue("--warmup", out var wu) ? int.Parse(wu, inv) : 1;
            long layers = positional.Count > 5 ? L(positional[5]) : 1;
            int runs = positional.Count > 6 ? int.Parse(positional[6], inv) : 5;
            var spec = new CellSpec(task, model, mode, L(positional[2]), L(positional[3]), input, L(positional[4]), layers, threads);

            TorchSharp.torch.set_num_threads(threads);
            Console.WriteLine($"Machine: {Machine.Describe()}; {FreedMemory.Describe()}; load average {Machine.LoadAverage()}");
            using var cell = spec.Create();
            var sw = new Stopwatch();
            var times = new List<double>();
            for (int i = -warmup; i < runs; i++)
            {
                sw.Restart();
                cell.Run();
                double ms = sw.Elapsed.TotalMilliseconds;
                if (i >= 0) times.Add(ms);
                Console.WriteLine(string.Create(inv,
                    $"{spec.Describe()}: {(i < 0 ? "warm-up" : $"run {i + 1}")}: {ms:F1} ms"));
            }
            if (times.Count > 0)
                Console.WriteLine(string.Create(inv,
                    $"{Tag} model={model.Key} task={spec.TaskKey} mode={mode} T={spec.T} threads={threads} runs={times.Count} median_ms={Quick.Median(times):R}"));
            return 0;
        }
    }
}
