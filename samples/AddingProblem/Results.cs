using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>Writes the learning curves as CSV and states the outcome in one line.</summary>
    internal static class Results
    {
        /// <summary>The CSV file of one model's learning curve at sequence length <paramref name="length"/>.</summary>
        public static string CsvPath(string directory, int length, ModelKind model) =>
            Path.Combine(directory, $"adding-T{length}-{Options.Name(model)}.csv");

        /// <summary>
        /// Writes <c>adding-T{T}-{model}.csv</c> in <paramref name="directory"/> with columns step, train_loss, test_mse,
        /// seconds (one row per evaluation; train_loss is the mean over the steps since the previous row, empty at step 0).
        /// </summary>
        /// <returns>The path written.</returns>
        public static string WriteCsv(string directory, int length, TrainingResult result) =>
            WriteCsv(CsvPath(directory, length, result.Model), result);

        /// <summary>Writes the learning curve of <paramref name="result"/> to the file <paramref name="path"/>.</summary>
        /// <returns>The path written.</returns>
        public static string WriteCsv(string path, TrainingResult result)
        {
            var text = new StringBuilder("step,train_loss,test_mse,seconds\n");
            foreach (var p in result.Curve)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Step},{(p.TrainLoss is double l ? l.ToString("R", CultureInfo.InvariantCulture) : "")},{p.TestMse:R},{p.Seconds:0.###}\n"));
            }
            string temporary = path + ".tmp";
            File.WriteAllText(temporary, text.ToString());
            File.Move(temporary, path, overwrite: true);
            return path;
        }

        /// <summary>Reads back a learning curve written by <see cref="WriteCsv"/> (for --plot-only).</summary>
        /// <exception cref="FileNotFoundException">No CSV for this model and length.</exception>
        /// <exception cref="InvalidDataException">The file is not in the expected format.</exception>
        public static TrainingResult ReadCsv(string directory, int length, ModelKind model) =>
            ReadCsv(CsvPath(directory, length, model), model);

        /// <summary>Reads back the learning curve of <paramref name="model"/> from the file <paramref name="path"/>.</summary>
        /// <exception cref="FileNotFoundException">No such file.</exception>
        /// <exception cref="InvalidDataException">The file is not in the expected format.</exception>
        public static TrainingResult ReadCsv(string path, ModelKind model)
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length < 2 || lines[0] != "step,train_loss,test_mse,seconds")
                throw new InvalidDataException($"{path} is not a learning curve written by this sample.");
            var curve = new List<CurvePoint>();
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var f = line.Split(',');
                if (f.Length != 4)
                    throw new InvalidDataException($"{path}: malformed row '{line}'.");
                curve.Add(new CurvePoint(
                    int.Parse(f[0], CultureInfo.InvariantCulture),
                    f[1].Length == 0 ? null : double.Parse(f[1], CultureInfo.InvariantCulture),
                    double.Parse(f[2], CultureInfo.InvariantCulture),
                    double.Parse(f[3], CultureInfo.InvariantCulture)));
            }
            return new TrainingResult(model, curve, curve[^1].Seconds);
        }

        /// <summary>
        /// The closing line, e.g.
        /// <c>durnn: test MSE 0.0062 at step 1500 (baseline 0.167) in 95 s, first below 0.01 at step 600, solved at step 800; lstm: ...</c>
        /// ("solved" as <see cref="Solved"/> defines it).
        /// </summary>
        public static string Summary(IEnumerable<TrainingResult> results) =>
            string.Join("; ", results.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{Options.Name(r.Model)}: test MSE {r.Final.TestMse:0.0000} at step {r.Final.Step} (baseline {AddingData.BaselineMse:0.000}) in {r.Seconds:0} s, {Outcome(r.Curve)}")));

        /// <summary>
        /// When the curve first went below <see cref="Solved.Threshold"/> and when it was solved, e.g.
        /// "first below 0.01 at step 600, solved at step 800", "first below 0.01 at step 900, not solved", "never below 0.01".
        /// </summary>
        public static string Outcome(IReadOnlyList<CurvePoint> curve)
        {
            var points = curve.Select(p => (p.Step, p.TestMse)).ToList();
            return (Solved.FirstBelow(points), Solved.At(points)) switch
            {
                (null, _) => string.Create(CultureInfo.InvariantCulture, $"never below {Solved.Threshold}"),
                (int first, null) => string.Create(CultureInfo.InvariantCulture, $"first below {Solved.Threshold} at step {first}, not solved"),
                (int first, int solved) => string.Create(CultureInfo.InvariantCulture, $"first below {Solved.Threshold} at step {first}, solved at step {solved}"),
            };
        }
    }
}
