using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The project's speed and memory targets (<see cref="TargetPlan"/>), measured both ways:
    /// <list type="number">
    /// <item><description><b>Interleaved</b>, in this process: each group's cells (DuRNN and its baselines) take turns,
    /// one run each per round (<see cref="Interleaved"/>); a row's figure in a run is the median of the round ratios.
    /// The whole set of groups runs <see cref="TargetSettings.Runs"/> times; the table gives the median of the runs'
    /// figures and the worst, and a target is met only when the worst run meets it.</description></item>
    /// <item><description><b>Separate processes</b>: each cell in child processes of its own, taking turns
    /// (<see cref="SeparateProcess"/>); the ratio of the median child medians. Reported beside the interleaved figure,
    /// with whether the two agree within 15 %.</description></item>
    /// </list>
    /// The roofline rows are DuRNN's share of the GEMM time bound (<see cref="Roofline"/>), from DuRNN's runs of the
    /// 1-layer groups, one row per T and mode; the memory row comes from child processes (<see cref="MemoryProbe"/>),
    /// once per run. The CPU other processes took is measured per run and for the separate-process step
    /// (<see cref="CpuMeter"/>).
    /// </summary>
    internal static class Targets
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>
        /// Measures every target as <paramref name="settings"/> say, prints the report to <paramref name="output"/>
        /// (progress to <paramref name="progress"/>), writes the report files when asked to; returns the results.
        /// </summary>
        public static TargetRunResult Run(TargetSettings settings, TextWriter output, TextWriter progress)
        {
            var clock = Stopwatch.StartNew();
            var result = new TargetRunResult(settings, TargetPlan.Build(settings), GitState.Read(), DateTime.UtcNow);
            var plan = result.Plan;

            for (int run = 0; run < settings.Runs; run++)
            {
                string loadBefore = Machine.LoadAverage();
                var meter = new CpuMeter();
                for (int g = 0; g < plan.Groups.Count; g++)
                    MeasureGroup(result, g, run, progress, clock);
                if (settings.WithMemory)
                    MeasureMemory(result, run, progress);
                result.Loads.Add(new PhaseLoad($"run {run + 1}", meter.OtherCores(), meter.Describe(loadBefore)));
                progress.WriteLine($"run {run + 1}/{settings.Runs} done: {result.Loads[^1].Description}");
            }

            if (settings.Separate)
            {
                string loadBefore = Machine.LoadAverage();
                var meter = new CpuMeter();
                foreach (int g in plan.SeparateGroups(settings.Smoke))
                    MeasureSeparately(result, g, progress, clock);
                result.Loads.Add(new PhaseLoad("separate processes", meter.OtherCores(), meter.Describe(loadBefore)));
            }

            result.Duration = clock.Elapsed;
            var report = new TargetReport(result);
            report.Write(output);
            if (settings.WriteFiles)
            {
                foreach (var file in report.WriteFiles(settings.ResolvedOutputDirectory))
                    progress.WriteLine($"wrote {file}");
            }
            return result;
        }

        /// <summary>The streaming row alone (--streaming): one interleaved measurement, printed as one line.</summary>
        public static void StreamingOnly(TextWriter output)
        {
            var settings = new TargetSettings { Runs = 1, Separate = false, WithMemory = false, WriteFiles = false };
            var plan = TargetPlan.Build(settings);
            int row = plan.Rows.ToList().FindIndex(r => plan.Groups.ElementAtOrDefault(r.Group)?.Cells[0].Task == TaskKind.Streaming);
            var result = new TargetRunResult(settings, plan, new GitState("unknown", false), DateTime.UtcNow);
            MeasureGroup(result, plan.Rows[row].Group, 0, TextWriter.Null, Stopwatch.StartNew());
            var r = result.Rows[row].Runs[0]!;
            output.WriteLine(string.Create(Inv,
                $"{plan.Rows[row].Name}: median of pair ratios {r.Value:F3} (min {r.Ratios!.Min():F3}, max {r.Ratios!.Max():F3}); per call {r.A * 1000:F1} µs vs {r.B * 1000:F1} µs"));
        }

        /// <summary>One interleaved measurement of group <paramref name="g"/> in run <paramref name="run"/>: its ratio and roofline rows.</summary>
        private static void MeasureGroup(TargetRunResult result, int g, int run, TextWriter progress, Stopwatch clock)
        {
            var group = result.Plan.Groups[g];
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] run {run + 1}/{result.Settings.Runs}: {group.Title} (interleaved: {string.Join(" | ", group.Cells.Select(c => c.ModelLabel))})");
            var cells = new List<IMeasurable>();
            double[][] times;
            try
            {
                foreach (var spec in group.Cells) cells.Add(spec.Create());
                times = Interleaved.Measure(cells, group.Cells.Select(c => c.Threads).ToList(), result.Settings.Policy);
            }
            finally
            {
                foreach (var c in cells) c.Dispose();
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            var medians = times.Select((t, i) => Quick.Median(t) / group.Cells[i].RunDivisor).ToArray();

            for (int i = 0; i < result.Rows.Count; i++)
            {
                var row = result.Rows[i].Row;
                if (row.Group != g) continue;
                RowRun figure;
                if (row.Kind == RowKind.Ratio)
                {
                    var ratios = Interleaved.Ratios(times, 0, row.Baseline);
                    figure = new RowRun(Quick.Median(ratios), ratios, medians[0], medians[row.Baseline], null, null);
                    progress.WriteLine(string.Create(Inv,
                        $"  {row.Name}, {row.Cell}: median ratio {figure.Value:F3} (min {ratios.Min():F3}, max {ratios.Max():F3}, {ratios.Length} rounds; {medians[0]:F3} ms vs {medians[row.Baseline]:F3} ms)"));
                }
                else
                {
                    var a = group.Cells[0];
                    var macs = Roofline.MultiplyAdds(a.Mode, a.T, a.B, a.I, a.H, a.H);
                    var gemm = Roofline.Measure(a.T, a.B, a.H);
                    double bound = Roofline.BoundMs(macs, gemm);
                    string detail = string.Create(Inv,
                        $"DuRNN {Roofline.Achieved(medians[0], macs):F1} GFLOP/s in {medians[0]:F1} ms; sgemm here: {gemm.sequential:F1} GFLOP/s at {a.B}×{a.H}×{a.H} (the sequential step), {gemm.batched:F1} at {a.T * a.B}×{a.H}×{a.H} (all steps); those GEMMs alone would take {bound:F1} ms");
                    figure = new RowRun(bound / medians[0], null, medians[0], null, bound, detail);
                    progress.WriteLine($"  {row.Name}, {row.Cell}: {row.Format(figure.Value)} ({detail})");
                }
                result.Rows[i].Runs[run] = figure;
            }
        }

        /// <summary>The memory row in run <paramref name="run"/>: one child process per model.</summary>
        private static void MeasureMemory(TargetRunResult result, int run, TextWriter progress)
        {
            var memory = MemoryProbe.Measure(MemoryProbe.Models, progress, result.Settings.StackLength);
            result.Memory.Add(memory);
            var d = memory.First(m => m.Model == ModelSpec.DuRnnFast);
            var l = memory.First(m => m.Model == ModelSpec.Lstm);
            int i = result.Rows.ToList().FindIndex(r => r.Row.Kind == RowKind.Memory);
            result.Rows[i].Runs[run] = new RowRun(d.IncreaseMb / l.IncreaseMb, null, d.IncreaseMb, l.IncreaseMb, null,
                string.Create(Inv, $"DuRNN {d.IncreaseMb:F0} MB (before {d.BaselineMb:F0}, peak {d.PeakMb:F0}), nn.LSTM {l.IncreaseMb:F0} MB (before {l.BaselineMb:F0}, peak {l.PeakMb:F0})"));
        }

        /// <summary>The separate-process figures of group <paramref name="g"/>'s rows.</summary>
        private static void MeasureSeparately(TargetRunResult result, int g, TextWriter progress, Stopwatch clock)
        {
            var group = result.Plan.Groups[g];
            var s = result.Settings;
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] separate processes: {group.Title} ({s.SeparateRounds} rounds, {s.ChildRuns} timed runs a child after {s.ChildWarmups} untimed)");
            var childMedians = SeparateProcess.Measure(group.Cells, s.SeparateRounds, s.ChildRuns, s.ChildWarmups, progress);
            var medians = childMedians.Select((m, i) => Quick.Median(m) / group.Cells[i].RunDivisor).ToArray();
            foreach (var r in result.Rows.Where(r => r.Row.Group == g))
            {
                if (r.Row.Kind == RowKind.Ratio)
                {
                    r.Separate = medians[0] / medians[r.Row.Baseline];
                    r.SeparateMedians = (medians[0], medians[r.Row.Baseline]);
                }
                else if (r.Row.Kind == RowKind.Roofline && r.MedianBoundMs is double bound)
                {
                    r.Separate = bound / medians[0];
                    r.SeparateMedians = (medians[0], null);
                }
                if (r.Separate is double sep)
                    progress.WriteLine($"  {r.Row.Name}, {r.Row.Cell}: separate processes {r.Row.Format(sep)}");
            }
        }
    }
}
