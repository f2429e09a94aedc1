using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>One cell of the grid: a model, a mode and a shape; <see cref="MedianMs"/> is null where the cell was not run.</summary>
    public sealed record TimeResult(ModelSpec Model, BenchMode Mode, long T, long B, long H, double? MedianMs, int Runs);

    /// <summary>The peak native memory of one model's training step, measured in a child process.</summary>
    public sealed record MemoryResult(ModelSpec Model, long Layers, long T, long B, long H,
        double BaselineMb, double PeakMb, bool PeakReset, double StepMs)
    {
        /// <summary>The peak resident memory above the resident memory before the first training step.</summary>
        public double IncreaseMb => PeakMb - BaselineMb;
    }

    /// <summary>Markdown tables of the results and of the project's targets.</summary>
    internal static class Report
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>The time table: model, mode, T, B, H, median ms, ratio to nn.LSTM (same T, B, H and mode).</summary>
        public static void PrintTimes(TextWriter w, IReadOnlyList<TimeResult> results)
        {
            w.WriteLine("| model | mode | T | B | H | median ms | ratio to LSTM | runs |");
            w.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
            var order = ModelSpec.All.ToList();
            foreach (var r in results.OrderBy(r => r.Mode).ThenBy(r => r.B).ThenBy(r => r.H).ThenBy(r => r.T)
                         .ThenBy(r => order.IndexOf(r.Model)))
            {
                string ms = r.MedianMs is double m ? Fmt(m) : "–";
                string ratio = Ratio(r.MedianMs, Lstm(results, r.Mode, r.T, r.B, r.H)) is double q ? q.ToString("F2", Inv) : "–";
                string runs = r.MedianMs is null ? "–" : r.Runs.ToString(Inv);
                w.WriteLine($"| {r.Model.Label} | {ModeLabel(r.Mode)} | {r.T} | {r.B} | {r.H} | {ms} | {ratio} | {runs} |");
            }
        }

        /// <summary>
        /// IndRNN's fast path against TorchSharp's native recurrent layers: per measured cell its median, and its ratios
        /// to nn.LSTM and to nn.RNN (ReLU) of the same mode and (T, B, H). nn.RNN (ReLU) is the closest native layer
        /// (one full H×H recurrent product per step where IndRNN has an element-wise one).
        /// </summary>
        public static void PrintIndRnn(TextWriter w, IReadOnlyList<TimeResult> results)
        {
            w.WriteLine("| IndRNN fast path | mode | T | B | H | median ms | ratio to nn.LSTM | ratio to nn.RNN (ReLU) |");
            w.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results.Where(r => r.Model == ModelSpec.IndRnnFast && r.MedianMs is not null)
                         .OrderBy(r => r.Mode).ThenBy(r => r.B).ThenBy(r => r.H).ThenBy(r => r.T))
            {
                string toLstm = Ratio(r.MedianMs, Lstm(results, r.Mode, r.T, r.B, r.H)) is double q ? q.ToString("F2", Inv) : "–";
                string toRnn = Ratio(r.MedianMs, Find(results, ModelSpec.RnnRelu, r.Mode, r.T, r.B, r.H)) is double v ? v.ToString("F2", Inv) : "–";
                w.WriteLine($"| {r.Model.Label} | {ModeLabel(r.Mode)} | {r.T} | {r.B} | {r.H} | {Fmt(r.MedianMs!.Value)} | {toLstm} | {toRnn} |");
            }
        }

        /// <summary>The memory table (peak resident set size of a child process per model).</summary>
        public static void PrintMemory(TextWriter w, IReadOnlyList<MemoryResult> memory)
        {
            w.WriteLine("| model | layers | T | B | H | RSS before training MB | peak RSS (VmHWM) MB | peak − before MB | step ms |");
            w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var m in memory)
            {
                w.WriteLine($"| {m.Model.Label} | {m.Layers} | {m.T} | {m.B} | {m.H} | {m.BaselineMb.ToString("F0", Inv)} | " +
                            $"{m.PeakMb.ToString("F0", Inv)} | {m.IncreaseMb.ToString("F0", Inv)} | {Fmt(m.StepMs)} |");
            }
            if (memory.Any(m => !m.PeakReset))
                w.WriteLine("\n(The peak could not be reset after setup in some child: its VmHWM also covers start-up.)");
        }

        private static double? Find(IReadOnlyList<TimeResult> results, ModelSpec model, BenchMode mode, long t, long b, long h) =>
            results.FirstOrDefault(r => r.Model == model && r.Mode == mode && r.T == t && r.B == b && r.H == h)?.MedianMs;

        private static double? Lstm(IReadOnlyList<TimeResult> results, BenchMode mode, long t, long b, long h) =>
            Find(results, ModelSpec.Lstm, mode, t, b, h);

        private static double? Ratio(double? numerator, double? denominator) =>
            numerator is double n && denominator is double d && d > 0 ? n / d : null;

        internal static string ModeLabel(BenchMode mode) => mode == BenchMode.Training ? "fwd+bwd" : "inference";

        private static string Fmt(double ms) => ms >= 100 ? ms.ToString("F0", Inv) : ms.ToString("F1", Inv);
    }
}
