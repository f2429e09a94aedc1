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
        /// <summary>
        /// Writes <c>adding-T{T}-{model}.csv</c> in <paramref name="directory"/> with columns step, train_loss, test_mse,
        /// seconds (one row per evaluation; train_loss is the mean over the steps since the previous row, empty at step 0).
        /// </summary>
        /// <returns>The path written.</returns>
        public static string WriteCsv(string directory, int length, TrainingResult result)
        {
            string path = Path.Combine(directory, $"adding-T{length}-{Options.Name(result.Model)}.csv");
            var text = new StringBuilder("step,train_loss,test_mse,seconds\n");
            foreach (var p in result.Curve)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Step},{(p.TrainLoss is double l ? l.ToString("R", CultureInfo.InvariantCulture) : "")},{p.TestMse:R},{p.Seconds:0.###}\n"));
            }
            File.WriteAllText(path, text.ToString());
            return path;
        }

        /// <summary>
        /// The closing line, e.g.
        /// <c>durnn: test MSE 0.0123 at step 1500 (baseline 0.167) in 95 s; lstm: ...</c>.
        /// </summary>
        public static string Summary(IEnumerable<TrainingResult> results) =>
            string.Join("; ", results.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{Options.Name(r.Model)}: test MSE {r.Final.TestMse:0.0000} at step {r.Final.Step} (baseline {AddingData.BaselineMse:0.000}) in {r.Seconds:0} s")));
    }
}
