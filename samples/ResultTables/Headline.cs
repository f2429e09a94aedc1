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
            foreach (var (length, folder) in DefaultsRuns)
            {
                var runs = AddingRuns.Seeds(root, Path.Combine(Tables.Adding, folder), length);
                if (runs.Count > 0) text.Append(Adding(length, runs));
            }
            foreach (var mode in new[] { "pixel", "permuted" })
            {
                var models = FashionRuns.Read(root, Path.Combine(Tables.Fashion, mode), mode);
                var variants = Tables.FashionVariants(root, mode)
                    .SelectMany(v => FashionRuns.Read(root, v.folder, mode).Where(m => m.Finished).Select(m => (m, v.flags))).ToList();
                if (models.Count > 0) text.Append(Fashion(mode, models, variants));
            }
            string lm = Path.Combine(root, Tables.CharLm, "kjv-summary.csv");
            if (File.Exists(lm)) text.Append(CharLm(Csv.Read(lm), Tables.CharLmVariants(root).Select(v => (Csv.Read(Path.Combine(root, v.folder, "kjv-summary.csv")), v.flags)).ToList()));
            string speed = Path.Combine(root, "tests/DuRnn.Benchmarks/results/targets-latest.csv");
            if (File.Exists(speed)) text.Append(Speed(Csv.Read(speed), Path.Combine(root, "tests/DuRnn.Benchmarks/results/targets-latest.md")));
            return text.Length == 0 ? "- No committed results yet.\n" : text.ToString();
        }

        /// <summary>
        /// The adding-problem runs with today's defaults, by length: u's learning rate × √(100/T) in the long-memory layer
        /// (LongTermCell.DefaultRecurrentLearningRateScale), run as --u-lr-scale with that factor to the double, which CI
        /// checks gives the same training as the library's groups; 1 at T = 100.
        /// </summary>
        private static readonly (int Length, string Folder)[] DefaultsRuns =
        {
            (100, "u-lr-sqrt/T100"), (1000, "u-lr-sqrt/T1000"), (5000, "u-lr-sqrt/T5000"), (10000, "u-lr-scale/T10000-0.1"),
        };

        private static string Adding(int length, IReadOnlyList<AddingRun> runs)
        {
            int solved = runs.Count(r => r.SolvedAt is not null);
            string seeds = string.Join("; ", runs.Select(r => r.SolvedAt is int s
                ? $"seed {r.Seed} at step {s}"
                : $"seed {r.Seed} not yet (test MSE {Tables.Mse(r.Last.TestMse)} at step {r.Last.Step}{(r.FirstBelow is int f ? $", first below {Solved.Threshold} at {f}" : "")})"));
            return string.Create(Invariant,
                $"- **Adding problem, T = {length}** (2 layers × 128, batch 32, the library's defaults and the samples' recipe; u's learning rate × √(100/T) since 0.3.0): " +
                $"**solved on {solved} of {runs.Count} seed{(runs.Count == 1 ? "" : "s")}**{(solved < runs.Count ? " so far" : "")} — test MSE below {Solved.Threshold} at " +
                $"{Solved.Consecutive} consecutive evaluations, 100 steps apart, against the 0.167 baseline of predicting the mean: " +
                $"{seeds}. [Table](samples/README.md#the-defaults-since-030-u-learns-at--100t).\n");
        }

        private static string Fashion(string mode, IReadOnlyList<FashionModel> models, IReadOnlyList<(FashionModel model, string flags)> variants)
        {
            string name0 = mode == "pixel" ? "pixel by pixel" : "permuted pixel by pixel";
            int finished = models.Count(m => m.Finished);
            if (finished < 4)
                return $"- **Sequential Fashion-MNIST, {name0}** (T = 784, equal budgets): in progress, {finished} of 4 models trained so far. [Table](samples/SequentialFashionMnist/README.md#equal-budget-comparison-t--784).\n";
            double minutes = Math.Round(models.Min(m => m.CpuSeconds) / 60);
            var ranked = models.OrderByDescending(m => m.FinalAccuracy).ToList();
            string list = string.Join(", ", ranked.Select(m => $"{m.Description} {Tables.Percent(m.FinalAccuracy)}"));
            string best = string.Join(", ", models.OrderByDescending(m => m.BestAccuracy)
                .Select(m => $"{m.Description} {Tables.Percent(m.BestAccuracy)}"));
            string changed = string.Concat(variants.Select(v => $"; {v.model.Description} with `{v.flags}` {Tables.Percent(v.model.FinalAccuracy)} at the end"));
            return string.Create(Invariant,
                $"- **Sequential Fashion-MNIST, {name0}** (T = 784, all 60 000 training and 10 000 test images, about " +
                $"{minutes:0} minutes of one CPU core each, equal parameter counts): test accuracy at the end of the budget {list}; " +
                $"the best of each run's evaluations {best}{changed}. " +
                $"[Table](samples/SequentialFashionMnist/README.md#equal-budget-comparison-t--784).\n");
        }

        private static string CharLm(Csv csv, IReadOnlyList<(Csv csv, string flags)> variants)
        {
            if (csv.Rows.Count < 4)
                return $"- **Character-level language model**, the King James Bible (equal budgets): in progress, {csv.Rows.Count} of 4 models trained so far. [Table](samples/CharLanguageModel/README.md#results).\n";
            var rows = csv.Rows.OrderBy(r => csv.Number(r, "test_bpc")).ToList();
            string list = string.Join(", ", rows.Select(r => $"{csv.Text(r, "model")} {csv.Number(r, "test_bpc")!.Value.ToString("0.000", Invariant)}"));
            double minutes = Math.Round(rows.Min(r => csv.Number(r, "cpu_seconds")!.Value) / 60);
            string changed = string.Concat(variants.SelectMany(v => v.csv.Rows.Select(r =>
                $"; {v.csv.Text(r, "model")} with `{v.flags}` {v.csv.Number(r, "test_bpc")!.Value.ToString("0.000", Invariant)}")));
            return string.Create(Invariant,
                $"- **Character-level language model**, the King James Bible (about {minutes:0} minutes of one CPU core each, " +
                $"equal parameter counts): test bits per character {list} (lower is better){changed}. " +
                $"[Table](samples/CharLanguageModel/README.md#results).\n");
        }

        private static string Speed(Csv csv, string report)
        {
            string Median(string name, string cell) =>
                csv.Rows.Where(r => csv.Text(r, "name") == name && csv.Text(r, "cell") == cell)
                    .Select(r => csv.Number(r, "median")!.Value.ToString("0.00", Invariant)).FirstOrDefault() ?? "–";
            string Separate(string name, string cell) =>
                csv.Rows.Where(r => csv.Text(r, "name") == name && csv.Text(r, "cell") == cell)
                    .Select(r => csv.Number(r, "separate")?.ToString("0.00", Invariant)).FirstOrDefault() ?? "–";
            string Row(string prefix) => csv.Rows.Where(r => csv.Text(r, "name").StartsWith(prefix, StringComparison.Ordinal))
                .Select(r => csv.Number(r, "median")!.Value.ToString("0.00", Invariant)).FirstOrDefault() ?? "–";
            int targets = csv.Rows.Count(r => csv.Text(r, "bound").Length > 0 && csv.Text(r, "bound") != "–");
            int met = csv.Rows.Count(r => csv.Text(r, "met") == "true");
            string cpu = File.Exists(report)
                ? File.ReadLines(report).FirstOrDefault(l => l.StartsWith("- CPU:", StringComparison.Ordinal))?[6..].Trim() ?? ""
                : "";
            bool avx512 = cpu.Contains("avx512f yes", StringComparison.Ordinal);
            return string.Create(Invariant,
                $"- **Speed** (the latest benchmark run, a {(avx512 ? "quiet AVX-512" : "quiet")} 2-core host, DuRNN and nn.LSTM timed alternately in one process, median of 3 runs): " +
                $"a fwd+bwd pass takes {Median("fwd+bwd DuRNN / nn.LSTM", "T=500")}, {Median("fwd+bwd DuRNN / nn.LSTM", "T=2000")} and {Median("fwd+bwd DuRNN / nn.LSTM", "T=5000")} of nn.LSTM's time at T = 500, 2000, 5000 " +
                $"(each model alone in its own process: {Separate("fwd+bwd DuRNN / nn.LSTM", "T=500")}, {Separate("fwd+bwd DuRNN / nn.LSTM", "T=2000")}, {Separate("fwd+bwd DuRNN / nn.LSTM", "T=5000")}) " +
                $"(B = 32, H = 128), inference {Median("inference DuRNN / nn.LSTM", "T=500")}, {Median("inference DuRNN / nn.LSTM", "T=2000")}, {Median("inference DuRNN / nn.LSTM", "T=5000")}, " +
                $"a streaming call {Row("streaming inference")}; in the samples' configurations at equal parameter counts a training step takes " +
                $"{Row("Fashion-MNIST pixels training step DuRNN 2×128 / nn.LSTM")} (Fashion-MNIST pixels) and {Row("language model training step DuRNN 2×256 / nn.LSTM")} (language model) of nn.LSTM's time " +
                $"and {Row("Fashion-MNIST pixels training step DuRNN 2×128 / nn.GRU")} and {Row("language model training step DuRNN 2×256 / nn.GRU")} of nn.GRU's; " +
                $"{met} of {targets} targets met by the worst run. [Latest run](tests/DuRnn.Benchmarks/results/targets-latest.md), [findings](tests/DuRnn.Benchmarks/README.md#findings-on-an-avx-512-host-issue-20-2026-12-02).\n");
        }
    }
}
