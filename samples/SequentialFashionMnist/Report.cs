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

        /// <summary>Writes <c>{mode}_{model}.csv</c>: one line per epoch.</summary>
        /// <returns>The path written.</returns>
        public static string WriteEpochCsv(ModelResult result, Options o)
        {
            var csv = new StringBuilder("epoch,train_loss,train_acc,test_loss,test_acc,seconds,eval_seconds\n");
            foreach (var e in result.Epochs)
            {
                csv.Append(string.Create(Invariant,
                    $"{e.Epoch},{e.TrainLoss:0.######},{e.TrainAccuracy:0.######},{e.TestLoss:0.######},{e.TestAccuracy:0.######},{e.TrainSeconds:0.###},{e.EvalSeconds:0.###}\n"));
            }
            string path = Path.Combine(o.OutputDirectory, $"{Prefix(o)}_{result.Kind.ToString().ToLowerInvariant()}.csv");
            File.WriteAllText(path, csv.ToString());
            return path;
        }

        /// <summary>Writes <c>{mode}_summary.csv</c>: one line per model with its final and per-class test accuracy.</summary>
        /// <returns>The path written.</returns>
        public static string WriteSummaryCsv(IReadOnlyList<ModelResult> results, Options o)
        {
            var csv = new StringBuilder("model,description,parameters,epochs,seconds_per_epoch,test_acc,");
            csv.Append(string.Join(",", FashionMnistData.ClassNames.Select(c => "acc_" + c.Replace('/', '_').Replace(' ', '_'))));
            csv.Append('\n');
            foreach (var r in results)
            {
                csv.Append(string.Create(Invariant,
                    $"{r.Kind.ToString().ToLowerInvariant()},{r.Description.Replace(',', ';')},{r.Parameters},{r.Epochs.Count},{r.SecondsPerEpoch:0.###},{r.Final.Accuracy:0.######},"));
                csv.Append(string.Join(",", r.Final.PerClassAccuracy.Select(a => a.ToString("0.######", Invariant))));
                csv.Append('\n');
            }
            string path = Path.Combine(o.OutputDirectory, $"{Prefix(o)}_summary.csv");
            File.WriteAllText(path, csv.ToString());
            return path;
        }

        /// <summary>Prints what a trained DuRNN has learned: memory horizons and short-term spectral norms per layer.</summary>
        public static void PrintDiagnostics(DuRNN rnn, int sequenceLength)
        {
            var table = new Table().Title("DuRNN diagnostics (memory horizon: steps until |u_i|^k < 0.01)")
                .AddColumns("layer", "U_bound", "median horizon", $"neurons remembering ≥ {sequenceLength} steps", "‖U_s‖₂");
            foreach (var d in rnn.Diagnose())
            {
                table.AddRow(d.Layer.ToString(Invariant), d.RecurrentBound.ToString("0.#####", Invariant),
                    double.IsPositiveInfinity(d.MedianHorizon) ? "∞" : d.MedianHorizon.ToString("0", Invariant),
                    $"{d.NeuronsRemembering(sequenceLength)} of {d.MemoryHorizons.Length}",
                    d.ShortTermSpectralNorm.ToString("0.###", Invariant));
            }
            AnsiConsole.Write(table);
        }

        /// <summary>Prints one line per model: parameters, time per epoch, final test accuracy.</summary>
        public static void PrintSummary(IReadOnlyList<ModelResult> results, Options o)
        {
            var table = new Table().Title($"Sequential Fashion-MNIST, {Prefix(o)} mode: test accuracy after the last epoch")
                .AddColumns("model", "parameters", "epochs", "s / epoch", "test loss", "test accuracy");
            foreach (var r in results)
            {
                table.AddRow(Markup.Escape(r.Description), r.Parameters.ToString("N0", Invariant),
                    r.Epochs.Count.ToString(Invariant), r.SecondsPerEpoch.ToString("0.0", Invariant),
                    r.Final.Loss.ToString("0.0000", Invariant), Percent(r.Final.Accuracy));
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
                row.AddRange(results.Select(r => Percent(r.Final.PerClassAccuracy[c])));
                table.AddRow(row.ToArray());
            }
            AnsiConsole.Write(table);
        }

        /// <summary>The last line of the run: the result in one sentence.</summary>
        public static string FinalLine(IReadOnlyList<ModelResult> results, Options o, int trainCount, int testCount)
        {
            var parts = results.Select(r => string.Create(Invariant,
                $"{r.Description}: {Percent(r.Final.Accuracy)} ({r.Parameters:N0} parameters, {r.SecondsPerEpoch:0} s/epoch)"));
            return string.Create(Invariant,
                $"Result: sequential Fashion-MNIST, {Prefix(o)} mode (T = {o.SequenceLength}), {o.Epochs} epoch(s) on " +
                $"{trainCount} training images, test accuracy on {testCount} test images — ") + string.Join("; ", parts);
        }

        /// <summary>A fraction as a percentage with two decimals.</summary>
        public static string Percent(double fraction) => (100 * fraction).ToString("0.00", Invariant) + "%";
    }
}
