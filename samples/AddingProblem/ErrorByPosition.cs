using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// --error-by-position: what a trained model's test error depends on. Loads each model's checkpoint in --out,
    /// predicts the fixed test set, and reports, for each fifth of the half where the first marked step lies (and
    /// the same for the second), the MSE and how much of each marked value the prediction carries: the coefficients
    /// b₁, b₂ of the least-squares fit prediction ≈ a + b₁v₁ + b₂v₂ over the bin's sequences, 1 for a model that adds
    /// exactly, 0 for one that has forgotten the value. A model whose long-term memory fades carries less of v₁ the
    /// earlier the first marker lies.
    /// </summary>
    /// <remarks>
    /// Fitting both values at once leaves only the model's own error in the residual, so a coefficient's standard error
    /// is about √(MSE / (n · 1/12)): ±0.02 for a bin of 200 sequences of a solved model (MSE 0.005), ±0.06 at MSE 0.05.
    /// </remarks>
    internal static class ErrorByPosition
    {
        /// <summary>The number of position bins in each half.</summary>
        public const int Bins = 5;

        /// <summary>One bin: the sequences whose <paramref name="Marker"/> (first, second, all) lies in [From, To).</summary>
        internal sealed record Row(string Marker, int From, int To, int Count, double Mse, double FirstShare, double SecondShare);

        /// <summary>What the model predicted for each test sequence, with where its marked steps were and their values.</summary>
        private sealed record Sequence(double Prediction, double Target, int First, int Second, double FirstValue, double SecondValue);

        /// <summary>The CSV file of one model's error by position.</summary>
        public static string CsvPath(string directory, int length, ModelKind model) =>
            Path.Combine(directory, $"adding-T{length}-{Options.Name(model)}-by-position.csv");

        /// <summary>Runs the report for every model of <paramref name="options"/>; returns the exit code.</summary>
        public static int Run(Options options)
        {
            if (options.Threads is int threads)
                set_num_threads(threads);
            using var testSet = new TestSet(options.Length, options.TestSize, TestSet.ChunkSizeFor(options.Length, options.Hidden));
            foreach (var kind in options.Models)
            {
                manual_seed(options.Seed);
                using var model = AddingModel.Create(kind, options);
                using var optimizer = Trainer.CreateOptimizer(model, options);
                var curve = Checkpoint.TryLoad(options, kind, model, optimizer);
                if (curve is null)
                {
                    Console.Error.WriteLine($"No checkpoint of {Options.Name(kind)} at T = {options.Length} in {Checkpoint.Folder(options, kind)}: " +
                        "train with --checkpoint (and the same settings) first.");
                    return CommandLine.ExitBadFile;
                }
                var rows = Rows(Predict(model, testSet), options.Length);
                var last = curve[^1];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Options.Name(kind)} at step {last.Step} (its test MSE then: {last.TestMse:0.0000}), T = {options.Length}, {testSet.Size} test sequences:"));
                Console.WriteLine("  marker   steps            n      MSE   share of v1   share of v2");
                foreach (var r in rows)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {r.Marker,-7}  [{r.From,6}, {r.To,6})  {r.Count,4}  {r.Mse,7:0.0000}  {r.FirstShare,12:0.000}  {r.SecondShare,12:0.000}"));
                }
                Console.WriteLine($"CSV:  {WriteCsv(CsvPath(options.OutputDirectory, options.Length, kind), last.Step, rows)}");
            }
            return 0;
        }

        /// <summary>The model's prediction for every test sequence (eval mode, no gradients).</summary>
        private static List<Sequence> Predict(AddingModel model, TestSet testSet)
        {
            var sequences = new List<Sequence>(testSet.Size);
            model.eval();
            foreach (var (inputs, targets) in testSet.Chunks)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                long length = inputs.shape[0], half = length / 2;
                var markers = inputs.select(2, 1);
                var first = markers.narrow(0, 0, half).argmax(0);
                var second = markers.narrow(0, half, length - half).argmax(0).add(half);
                var values = inputs.select(2, 0);
                var v1 = values.gather(0, first.unsqueeze(0)).squeeze(0).to(float64).data<double>().ToArray();
                var v2 = values.gather(0, second.unsqueeze(0)).squeeze(0).to(float64).data<double>().ToArray();
                var predictions = model.call(inputs).to(float64).data<double>().ToArray();
                var y = targets.to(float64).data<double>().ToArray();
                var f = first.data<long>().ToArray();
                var s = second.data<long>().ToArray();
                for (int i = 0; i < y.Length; i++)
                    sequences.Add(new Sequence(predictions[i], y[i], (int)f[i], (int)s[i], v1[i], v2[i]));
            }
            model.train();
            return sequences;
        }

        /// <summary>The rows: every sequence, then <see cref="Bins"/> bins of each half, by the marker that lies in it.</summary>
        private static List<Row> Rows(IReadOnlyList<Sequence> sequences, int length)
        {
            int half = length / 2;
            var rows = new List<Row> { Summarise("all", 0, length, sequences) };
            foreach (var (marker, start, width) in new[] { ("first", 0, half), ("second", half, length - half) })
            {
                for (int b = 0; b < Bins; b++)
                {
                    int from = start + (int)((long)width * b / Bins), to = start + (int)((long)width * (b + 1) / Bins);
                    rows.Add(Summarise(marker, from, to, sequences.Where(q =>
                        (marker == "first" ? q.First : q.Second) is int p && p >= from && p < to).ToList()));
                }
            }
            return rows;
        }

        /// <summary>
        /// One row: the MSE of <paramref name="s"/>, and the coefficients of v₁ and v₂ in the least-squares fit
        /// prediction ≈ a + b₁v₁ + b₂v₂ over it (torch.linalg.lstsq, float64).
        /// </summary>
        private static Row Summarise(string marker, int from, int to, IReadOnlyList<Sequence> s)
        {
            if (s.Count < 3) return new Row(marker, from, to, s.Count, s.Count == 0 ? double.NaN : s.Average(q => Square(q.Prediction - q.Target)), double.NaN, double.NaN);
            using var scope = NewDisposeScope();
            var design = tensor(s.SelectMany(q => new[] { 1.0, q.FirstValue, q.SecondValue }).ToArray(), new long[] { s.Count, 3 });
            var predictions = tensor(s.Select(q => q.Prediction).ToArray(), new long[] { s.Count, 1 });
            var b = linalg.lstsq(design, predictions).Solution.data<double>().ToArray();
            return new Row(marker, from, to, s.Count, s.Average(q => Square(q.Prediction - q.Target)), b[1], b[2]);
        }

        private static double Square(double x) => x * x;

        /// <summary>
        /// Writes the rows with columns step (the checkpoint's), marker, from, to, count, mse, first_share, second_share.
        /// </summary>
        private static string WriteCsv(string path, int step, IReadOnlyList<Row> rows)
        {
            var text = new StringBuilder("step,marker,from,to,count,mse,first_share,second_share\n");
            foreach (var r in rows)
                text.Append(string.Create(CultureInfo.InvariantCulture, $"{step},{r.Marker},{r.From},{r.To},{r.Count},{r.Mse:R},{r.FirstShare:R},{r.SecondShare:R}\n"));
            File.WriteAllText(path, text.ToString());
            return path;
        }
    }
}
