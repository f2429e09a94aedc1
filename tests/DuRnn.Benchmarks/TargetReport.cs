using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The report of a <c>--targets</c> run: a header (machine, CPU flags, software, threads, allocator, the load other
    /// processes put on the machine), the targets' table, each run's figures, the roofline and memory details. Written
    /// to <c>results/targets-YYYY-MM-DD-HHMM-&lt;commit&gt;.md</c> (UTC; "-dirty" when src/ has uncommitted changes),
    /// copied to <c>results/targets-latest.md</c>, and summarised one line per row in <c>results/targets-latest.csv</c>.
    /// </summary>
    internal sealed class TargetReport
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        private readonly TargetRunResult _r;

        /// <summary>A report of <paramref name="result"/>.</summary>
        public TargetReport(TargetRunResult result) => _r = result;

        /// <summary>The report's file name: targets-YYYY-MM-DD-HHMM-&lt;commit&gt;[-dirty].md.</summary>
        public string FileName => $"targets-{_r.StartedUtc.ToString("yyyy-MM-dd-HHmm", Inv)}-{_r.Git.Label}.md";

        /// <summary>Writes the Markdown report.</summary>
        public void Write(TextWriter w)
        {
            var s = _r.Settings;
            w.WriteLine($"# DuRNN targets, {_r.StartedUtc.ToString("yyyy-MM-dd HH:mm", Inv)} UTC, commit {_r.Git.Label}{(s.Smoke ? " (--smoke: tiny sizes, not a measurement)" : "")}");
            w.WriteLine();
            w.WriteLine($"- Command: `dotnet run -c Release --project tests/DuRnn.Benchmarks -- {s.CommandLine}`");
            w.WriteLine($"- CPU: \"{Machine.CpuModel()}\", {Environment.ProcessorCount} logical cores; {Machine.CpuFlags()}");
            w.WriteLine($"- Software: {RuntimeInformation.FrameworkDescription}, TorchSharp {Machine.TorchSharpVersion()}, LibTorch {Machine.LibTorchVersion()} (CPU), {RuntimeInformation.OSDescription}; {OpenMp.Describe()}");
            w.WriteLine($"- torch threads: {Machine.Threads} (torch.set_num_threads({Machine.Threads})) for the 1-layer, 2-layer and streaming rows; " +
                        $"{TargetPlan.UserThreads} for the Fashion-MNIST and language-model rows (set for their runs, {Machine.Threads} restored after) and for the \"1 thread\" side of the threads row");
            w.WriteLine($"- Allocator: {FreedMemory.Describe()}");
            w.WriteLine(string.Create(Inv,
                $"- Interleaved: the whole set of rows {s.Runs} time(s) in this process; per row and run one warm-up run of each cell, then {s.Policy.MinRounds}–{s.Policy.MaxRounds} rounds " +
                $"(until {s.Policy.PerCell.TotalSeconds:0.#} s per cell are spent) of one run of each, the order rotating; the run's figure is the median of the round ratios. " +
                $"\"median\" = the median of the {s.Runs} runs' figures, \"worst\" = the worst of them; a target is met only when the worst run meets it."));
            w.WriteLine(s.Separate
                ? string.Create(Inv,
                    $"- Separate processes: {s.SeparateRounds} round(s) of one child process per cell (A B, B A, …), each {s.ChildWarmups} warm-up run(s) and {s.ChildRuns} timed runs, its median; " +
                    $"the ratio of the median child medians{(s.Smoke ? "; --smoke: only the first group of each kind" : "")}. Agree: |interleaved median / separate − 1| ≤ {RowResult.AgreeWithin * 100:F0} %.")
                : "- Separate processes: not measured (--no-separate).");
            w.WriteLine(string.Create(Inv, $"- CPU other processes took (flagged above {CpuMeter.BusyCores:F2} cores): ") +
                        string.Join("; ", _r.Loads.Select(l => $"{l.Phase}: {l.Description}{(l.Busy ? " **FLAGGED**" : "")}")));
            w.WriteLine(string.Create(Inv, $"- Duration: {_r.Duration.TotalMinutes:F1} min"));
            if (_r.Busy)
            {
                w.WriteLine();
                w.WriteLine("WARNING: other processes competed for the CPU during this run (flagged phases above): the figures are not benchmarks.");
            }

            w.WriteLine();
            w.WriteLine("| target | cell | bound | median over runs | worst run | separate-process ratio | agree (≤ 15 %) | met (worst run) | DuRNN vs baseline (medians) |");
            w.WriteLine("|---|---|---:|---:|---:|---:|---|---|---|");
            foreach (var r in _r.Rows)
            {
                string median = r.Measured ? r.Row.Format(r.Median) : "not run";
                string worst = r.Measured ? r.Row.Format(r.Worst) : "–";
                string separate = r.Separate is double sep ? r.Row.Format(sep) : r.Row.Kind == RowKind.Memory ? "(child processes)" : "–";
                string agree = r.Agree is bool a
                    ? string.Create(Inv, $"{(a ? "yes" : "no")} ({(r.Difference!.Value >= 0 ? "+" : "−")}{Math.Abs(r.Difference.Value) * 100:F0} %)")
                    : "–";
                string met = r.Met is bool m ? (m ? "met" : "**not met**") : "–";
                w.WriteLine($"| {r.Row.Name} | {r.Row.Cell} | {r.Row.BoundText} | {median} | {worst} | {separate} | {agree} | {met} | {Absolute(r)} |");
            }

            w.WriteLine();
            w.WriteLine("Each run's figure (interleaved: median of the round ratios, their min–max and the number of rounds):");
            w.WriteLine();
            w.WriteLine("| target | cell | " + string.Join(" | ", Enumerable.Range(1, s.Runs).Select(i => $"run {i}")) + " |");
            w.WriteLine("|---|---|" + string.Concat(Enumerable.Repeat("---:|", s.Runs)));
            foreach (var r in _r.Rows)
            {
                var cells = r.Runs.Select(x => x is null ? "–"
                    : x.Ratios is { Length: > 0 } q ? $"{r.Row.Format(x.Value)} ({r.Row.Format(q.Min())}–{r.Row.Format(q.Max())}, {q.Length})"
                    : r.Row.Format(x.Value));
                w.WriteLine($"| {r.Row.Name} | {r.Row.Cell} | {string.Join(" | ", cells)} |");
            }

            var roofline = _r.Rows.Where(r => r.Row.Kind == RowKind.Roofline && r.Measured).ToList();
            if (roofline.Count > 0)
            {
                w.WriteLine();
                w.WriteLine("Roofline (1 layer; multiply-adds counted from the equations, see Roofline.cs; the sgemm timed in the same run through the BLAS entry point the fused kernels call):");
                w.WriteLine();
                foreach (var r in roofline)
                    for (int i = 0; i < r.Runs.Length; i++)
                        if (r.Runs[i] is { Detail: string d })
                            w.WriteLine($"- {r.Row.Name}, {r.Row.Cell}, run {i + 1}: {r.Row.Format(r.Runs[i]!.Value)}; {d}");
            }

            if (_r.Memory.Count > 0)
            {
                w.WriteLine();
                w.WriteLine($"Memory (one training step, {MemoryProbe.Layers} layers, B={MemoryProbe.B}, H={MemoryProbe.H}, T={s.StackLength}; a fresh child process per model and run; peak RSS − RSS before the step):");
                w.WriteLine();
                var row = _r.Rows.First(r => r.Row.Kind == RowKind.Memory);
                for (int i = 0; i < row.Runs.Length; i++)
                    if (row.Runs[i] is { Detail: string d })
                        w.WriteLine($"- run {i + 1}: {row.Row.Format(row.Runs[i]!.Value)}; {d}");
            }

            w.WriteLine();
            w.WriteLine("Cells: 1-layer and 2-layer rows B=32, I=8, H=S=128, float32; fwd+bwd = forward, loss = sum of outputs and final states, backward, zero_grad (no optimizer); " +
                        "Fashion-MNIST and language-model rows: the samples' models with their read-out, cross-entropy, gradient clip ±10, Adam step and DuRNN's ApplyConstraints " +
                        "(training step), or eval + no_grad (inference); see tests/DuRnn.Benchmarks/README.md.");
        }

        /// <summary>
        /// Writes the report to <paramref name="directory"/>/<see cref="FileName"/>, copies it to targets-latest.md, and
        /// writes targets-latest.csv. Returns the paths written.
        /// </summary>
        public IReadOnlyList<string> WriteFiles(string directory)
        {
            Directory.CreateDirectory(directory);
            var text = new StringWriter(Inv);
            Write(text);
            string path = Path.Combine(directory, FileName);
            string latest = Path.Combine(directory, "targets-latest.md");
            string csv = Path.Combine(directory, "targets-latest.csv");
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            File.WriteAllText(path, text.ToString(), utf8);
            File.Copy(path, latest, overwrite: true);
            File.WriteAllText(csv, Csv(), utf8);
            return new[] { path, latest, csv };
        }

        /// <summary>
        /// One line per row: name, cell, bound ("&lt;=0.45", "&gt;=0.5" or empty), median, worst, separate (empty when not
        /// measured), agree and met (true, false or empty). Roofline shares are fractions (0.55 = 55 %).
        /// </summary>
        public string Csv()
        {
            var b = new StringBuilder("name,cell,bound,median,worst,separate,agree,met\n");
            string N(double x) => double.IsNaN(x) ? "" : x.ToString("0.####", Inv);
            string B(bool? x) => x is bool v ? (v ? "true" : "false") : "";
            foreach (var r in _r.Rows)
            {
                b.Append(string.Join(",", Quote(r.Row.Name), Quote(r.Row.Cell), Quote(r.Row.BoundCsv), N(r.Median), N(r.Worst),
                    r.Separate is double s ? N(s) : "", B(r.Agree), B(r.Met)));
                b.Append('\n');
            }
            return b.ToString();
        }

        /// <summary>DuRNN's and the baseline's medians over runs, in the row's unit.</summary>
        private static string Absolute(RowResult r)
        {
            if (!r.Measured) return "–";
            switch (r.Row.Kind)
            {
                case RowKind.Memory:
                    return string.Create(Inv, $"{r.MedianA:F0} MB vs {r.MedianB:F0} MB");
                case RowKind.Roofline:
                    return string.Create(Inv, $"DuRNN {Ms(r.MedianA)}, GEMM bound {Ms(r.MedianBoundMs ?? double.NaN)}");
                default:
                    return $"{Ms(r.MedianA)} vs {Ms(r.MedianB ?? double.NaN)}";
            }
        }

        /// <summary>Milliseconds, or microseconds below one.</summary>
        private static string Ms(double ms) => ms < 1
            ? (ms * 1000).ToString("F1", Inv) + " µs"
            : ms.ToString(ms < 100 ? "F1" : "F0", Inv) + " ms";

        /// <summary>A CSV field, quoted when it holds a comma, a quote or a line break.</summary>
        private static string Quote(string field) =>
            field.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
    }
}
