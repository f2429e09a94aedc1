using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>
    /// One model of a committed Fashion-MNIST comparison (its <c>{mode}_{model}_summary.csv</c>, rewritten at every
    /// evaluation); <see cref="Finished"/> when its run ended (the marker <c>{mode}_{model}.done</c> that
    /// samples/long-runs.sh writes when the sample exits normally).
    /// </summary>
    internal sealed record FashionModel(string Model, string Description, long Parameters, int Steps, double Epochs,
        double Seconds, double CpuSeconds, double FinalAccuracy, double BestAccuracy, int BestStep, bool Finished);

    /// <summary>Reads the Fashion-MNIST sample's per-model summaries.</summary>
    internal static class FashionRuns
    {
        /// <summary>The order of the models in the tables.</summary>
        private static readonly string[] Order = { "durnn", "indrnn", "lstm", "gru" };

        /// <summary>Every model with a summary in <paramref name="folder"/>, in <see cref="Order"/>.</summary>
        public static IReadOnlyList<FashionModel> Read(string root, string folder, string mode)
        {
            var models = new List<FashionModel>();
            foreach (var model in Order)
            {
                string path = Path.Combine(root, folder, $"{mode}_{model}_summary.csv");
                if (!File.Exists(path)) continue;
                var csv = Csv.Read(path);
                var r = csv.Rows[0];
                models.Add(new FashionModel(model, csv.Text(r, "description"), (long)csv.Number(r, "parameters")!.Value,
                    (int)csv.Number(r, "steps")!.Value, csv.Number(r, "epochs")!.Value, csv.Number(r, "seconds")!.Value,
                    csv.Number(r, "cpu_seconds")!.Value, csv.Number(r, "test_acc")!.Value, csv.Number(r, "best_test_acc")!.Value,
                    (int)csv.Number(r, "best_step")!.Value, File.Exists(Path.Combine(root, folder, $"{mode}_{model}.done"))));
            }
            return models;
        }
    }
}
