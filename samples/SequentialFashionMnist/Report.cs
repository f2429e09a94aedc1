using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Spectre.Console;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>The console tables, the CSV files and the closing line.</summary>
    internal static class Report
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The file-name prefix of every output: the mode, e.g. "row".</summary>
        public static string Prefix(Options o) => o.Mode.ToString().ToLowerInvariant();

        /// <summary>The header of a curve CSV.</summary>
        public const string CurveHeader = "step,epoch,seconds,train_loss,train_acc,test_loss,test_acc,eval_seconds,cpu_seconds";

        /// <summary>The header of a model's summary CSV.</summary>
        public static readonly string SummaryHeader = "model,description,parameters,steps,epochs,seconds,seconds_per_step,cpu_seconds,test_acc,best_test_acc,best_step,"
            + string.Join(",", FashionMnistData.ClassNames.Select(c => "acc_" + c.Replace('/', '_').Replace(' ', '_')));

        /// <summary>
        /// Writes <c>{mode}_{model}.csv</c> (one line per evaluation: <see cref="CurveHeader"/>; seconds are training
        /// seconds, evaluations excluded) and <c>{mode}_{model}_summary.csv</c> (one line: <see cref="SummaryHeader"/>,
        /// the per-class accuracy of the last evaluation).
        /// </summary>
        /// <returns>The path of the curve.</returns>
        public static string WriteCurveCsv(ModelResult result, Options o)
        {
            string stem = Path.Combine(o.OutputDirectory, $"{Prefix(o)}_{Options.Name(result.Kind)}");
            File.WriteAllText(stem + "_summary.csv", SummaryHeader + "\n" + SummaryLine(result) + "\n");
            WriteCurveCsv(result, stem + ".csv");
            return stem + ".csv";
        }

        /// <summary>Writes the curve of <paramref name="result"/> to <paramref name="path"/>.</summary>
        public static void WriteCurveCsv(ModelResult result, string path)
        {
            var csv = new StringBuilder(CurveHeader + "\n");
            foreach (var p in result.Curve)
            {
                csv.Append(string.Create(Invariant,
                    $"{p.Step},{p.Epoch:0.####},{p.Seconds:0.###},{p.TrainLoss:0.######},{p.TrainAccuracy:0.######},{p.TestLoss:0.######},{p.TestAccuracy:0.######},{p.EvalSeconds:0.###},{p.CpuSeconds:0.###}\n"));
            }
            File.WriteAllText(path, csv.ToString());
        }

        /// <summary>Reads a curve written by <see cref="WriteCurveCsv(ModelResult, string)"/>.</summary>
        /// <exception cref="InvalidDataException">Not such a file.</exception>
        public static (IReadOnlyList<CurvePoint> Curve, string Path) ReadCurveCsv(string path)
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length < 2 || lines[0] != CurveHeader)
                throw new InvalidDataException($"{path} is not a curve file (its first line must be '{CurveHeader}').");
            var curve = new List<CurvePoint>();
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var f = line.Split(',');
                if (f.Length != 9) throw new InvalidDataException($"{path}: '{line}' does not have 9 fields.");
                double? Optional(string x) => x.Length == 0 ? null : double.Parse(x, Invariant);
                curve.Add(new CurvePoint(int.Parse(f[0], Invariant), double.Parse(f[1], Invariant), double.Parse(f[2], Invariant),
                    Optional(f[3]), Optional(f[4]), double.Parse(f[5], Invariant), double.Parse(f[6], Invariant), double.Parse(f[7], Invariant),
                    double.Parse(f[8], Invariant)));
            }
            return (curve, path);
        }

        /// <summary>
        /// Reads back a model trained earlier in <see cref="Options.OutputDirectory"/> (its curve and summary CSV):
        /// what --plot-only combines.
        /// </summary>
        /// <exception cref="IOException">A file is missing.</exception>
        /// <exception cref="InvalidDataException">A file is not in the expected format.</exception>
        public static ModelResult ReadResult(Options o, ModelKind kind)
        {
            string stem = Path.Combine(o.OutputDirectory, $"{Prefix(o)}_{Options.Name(kind)}");
            var curve = ReadCurveCsv(stem + ".csv").Curve;
            var summary = File.ReadAllLines(stem + "_summary.csv");
            if (summary.Length < 2 || summary[0] != SummaryHeader)
                throw new InvalidDataException($"{stem}_summary.csv is not a summary file (its first line must be '{SummaryHeader}').");
            var f = summary[1].Split(',');
            int classes = FashionMnistData.ClassNames.Count;
            return new ModelResult(kind, f[1], long.Parse(f[2], Invariant), curve,
                f.Skip(f.Length - classes).Select(x => double.Parse(x, Invariant)).ToArray());
        }

        private static string SummaryLine(ModelResult r) =>
            string.Create(Invariant,
                $"{Options.Name(r.Kind)},{r.Description.Replace(',', ';')},{r.Parameters},{r.Final.Step},{r.Final.Epoch:0.####},{r.Final.Seconds:0.###},{r.SecondsPerStep:0.####},{r.Final.CpuSeconds:0.###},{r.Final.TestAccuracy:0.######},{r.Best.TestAccuracy:0.######},{r.Best.Step},")
            + string.Join(",", r.PerClassAccuracy.Select(a => a.ToString("0.######", Invariant)));

        /// <summary>Writes <c>{mode}_summary.csv</c>: one line per model (<see cref="SummaryHeader"/>).</summary>
        /// <returns>The path written.</returns>
        public static string WriteSummaryCsv(IReadOnlyList<ModelResult> results, Options o)
        {
            string path = Path.Combine(o.OutputDirectory, $"{Prefix(o)}_summary.csv");
            File.WriteAllText(path, SummaryHeader + "\n" + string.Concat(results.Select(r => SummaryLine(r) + "\n")));
            return path;
        }

        /// <summary>Prints what a trained DuRNN or IndRNN has learned: memory horizons (and short-term spectral norms) per layer.</summary>
        public static void PrintDiagnostics(IReadOnlyList<LayerDiagnostics> layers, string model, int sequenceLength)
        {
            var table = new Table().Title($"{model} diagnostics (memory horizon: steps until |u_i|^k < 0.01)")
                .AddColumns("layer", "U_bound", "median horizon", $"neurons remembering ≥ {sequenceLength} steps", "‖U_s‖₂");
            foreach (var d in layers)
            {
                table.AddRow(d.Layer.ToString(Invariant), d.RecurrentBound.ToString("0.#####", Invariant),
                    double.IsPositiveInfinity(d.MedianHorizon) ? "∞" : d.MedianHorizon.ToString("0", Invariant),
                    $"{d.NeuronsRemembering(sequenceLength)} of {d.MemoryHorizons.Length}",
                    d.ShortTermSpectralNorm.ToString("0.###", Invariant));
            }
            AnsiConsole.Write(table);
        }

        /// <summary>Prints one line per model: parameters, time per step, steps, final and best test accuracy.</summary>
        public static void PrintSummary(IReadOnlyList<ModelResult> results, Options o)
        {
            var table = new Table().Title($"Sequential Fashion-MNIST, {Prefix(o)} mode: test accuracy at the end of training")
                .AddColumns("model", "parameters", "s / step", "steps", "epochs", "training s", "test loss", "test accuracy", "best (step)");
            foreach (var r in results)
            {
                table.AddRow(Markup.Escape(r.Description), r.Parameters.ToString("N0", Invariant),
                    r.SecondsPerStep.ToString("0.000", Invariant), r.Final.Step.ToString(Invariant),
                    r.Final.Epoch.ToString("0.00", Invariant), r.Final.Seconds.ToString("0", Invariant),
                    r.Final.TestLoss.ToString("0.0000", Invariant), Percent(r.Final.TestAccuracy),
                    $"{Percent(r.Best.TestAccuracy)} ({r.Best.Step.ToString(Invariant)})");
            }
            AnsiConsole.Write(table);
        }

        /// <summary>Prints the per-class test accuracy, one column per model.</summary>
        public static void PrintPerClass(IReadOnlyList<ModelResult> results)
        {
            var table = new Table().Title("Per-class test accuracy").AddColumn("class");
            foreach (var r in results) table.AddColumn(Markup.Escape(r.Description));
            for (int c = 0; c < FashionMnistData.ClassNames.Count; c++)
            {
                var row = new List<string> { Markup.Escape(FashionMnistData.ClassNames[c]) };
                row.AddRange(results.Select(r => Percent(r.PerClassAccuracy[c])));
                table.AddRow(row.ToArray());
            }
            AnsiConsole.Write(table);
        }

        /// <summary>The last line of the run: the result in one sentence.</summary>
        public static string FinalLine(IReadOnlyList<ModelResult> results, Options o, int trainCount, int testCount)
        {
            var parts = results.Select(r => string.Create(Invariant,
                $"{r.Description}: {Percent(r.Final.TestAccuracy)} after {r.Final.Step} steps ({r.Final.Epoch:0.##} epochs, {r.Final.Seconds:0} s of training, {r.Final.CpuSeconds:0} s of CPU; {r.Parameters:N0} parameters, {r.SecondsPerStep:0.###} s/step)"));
            return string.Create(Invariant,
                $"Result: sequential Fashion-MNIST, {Prefix(o)} mode (T = {o.SequenceLength}), {trainCount} training images, " +
                $"test accuracy on {testCount} test images — ") + string.Join("; ", parts);
        }

        /// <summary>A fraction as a percentage with two decimals.</summary>
        public static string Percent(double fraction) => (100 * fraction).ToString("0.00", Invariant) + "%";
    }
}
