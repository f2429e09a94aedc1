using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using DuRnn.Samples.AddingProblem;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>The main README's headline bullets, from the same committed files as the samples' tables.</summary>
    internal static class Headline
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The bullets, one per measured claim.</summary>
        public static string Bullets(string root)
        {
            var text = new StringBuilder();
            foreach (var length in new[] { 1000, 5000, 10000 })
            {
                var runs = AddingRuns.Seeds(root, Path.Combine(Tables.Adding, $"T{length}-defaults"), length);
                if (runs.Count > 0) text.Append(Adding(length, runs));
            }
            foreach (var mode in new[] { "pixel", "permuted" })
            {
                var models = FashionRuns.Read(root, Path.Combine(Tables.Fashion, mode), mode);
                if (models.Count > 0) text.Append(Fashion(mode, models));
            }
            string lm = Path.Combine(root, Tables.CharLm, "kjv-summary.csv");
            if (File.Exists(lm)) text.Append(CharLm(Csv.Read(lm)));
            return text.Length == 0 ? "- No committed results yet.\n" : text.ToString();
        }

        private static string Adding(int length, IReadOnlyList<AddingRun> runs)
        {
            int solved = runs.Count(r => r.SolvedAt is not null);
            string seeds = string.Join("; ", runs.Select(r => r.SolvedAt is int s
                ? $"seed {r.Seed} at step {s}"
                : $"seed {r.Seed} not yet (test MSE {Tables.Mse(r.Last.TestMse)} at step {r.Last.Step}{(r.FirstBelow is int f ? $", first below {Solved.Threshold} at {f}" : "")})"));
            return string.Create(Invariant,
                $"- **Adding problem, T = {length}** (2 layers × 128, batch 32, the library's defaults and the samples' recipe): " +
                $"**solved on {solved} of {runs.Count} seeds**{(solved < runs.Count ? " so far" : "")} — test MSE below {Solved.Threshold} at " +
                $"{Solved.Consecutive} consecutive evaluations, 100 steps apart, against the 0.167 baseline of predicting the mean: " +
                $"{seeds}. [Table](samples/README.md#the-longest-lengths-held).\n");
        }

        private static string Fashion(string mode, IReadOnlyList<FashionModel> models)
        {
            string name0 = mode == "pixel" ? "pixel by pixel" : "permuted pixel by pixel";
            if (models.Count < 4)
                return $"- **Sequential Fashion-MNIST, {name0}** (T = 784, equal budgets): in progress, {models.Count} of 4 models trained so far. [Table](samples/SequentialFashionMnist/README.md#equal-budget-comparison-t--784).\n";
            double minutes = Math.Round(models.Min(m => m.CpuSeconds) / 60);
            var ranked = models.OrderByDescending(m => m.FinalAccuracy).ToList();
            string list = string.Join(", ", ranked.Select(m => $"{m.Description} {Tables.Percent(m.FinalAccuracy)}"));
            string name = mode == "pixel" ? "pixel by pixel" : "permuted pixel by pixel";
            return string.Create(Invariant,
                $"- **Sequential Fashion-MNIST, {name}** (T = 784, all 60 000 training and 10 000 test images, about " +
                $"{minutes:0} minutes of one CPU core each, equal parameter counts): test accuracy {list}. " +
                $"[Table](samples/SequentialFashionMnist/README.md#equal-budget-comparison-t--784).\n");
        }

        private static string CharLm(Csv csv)
        {
            if (csv.Rows.Count < 4)
                return $"- **Character-level language model**, the King James Bible (equal budgets): in progress, {csv.Rows.Count} of 4 models trained so far. [Table](samples/CharLanguageModel/README.md#results).\n";
            var rows = csv.Rows.OrderBy(r => csv.Number(r, "test_bpc")).ToList();
            string list = string.Join(", ", rows.Select(r => $"{csv.Text(r, "model")} {csv.Number(r, "test_bpc")!.Value.ToString("0.000", Invariant)}"));
            double minutes = Math.Round(rows.Min(r => csv.Number(r, "cpu_seconds")!.Value) / 60);
            return string.Create(Invariant,
                $"- **Character-level language model**, the King James Bible (about {minutes:0} minutes of one CPU core each, " +
                $"equal parameter counts): test bits per character {list} (lower is better). " +
                $"[Table](samples/CharLanguageModel/README.md#results).\n");
        }
    }
}
