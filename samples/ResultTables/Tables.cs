using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using DuRnn.Samples.AddingProblem;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>
    /// Every generated table, by the name its region carries in a README (<see cref="Regions"/>), each computed from the
    /// committed result files under the repository root.
    /// </summary>
    internal static class Tables
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>The result folders the tables read, relative to the repository root.</summary>
        public const string Adding = "samples/AddingProblem/results";

        /// <summary>The Fashion-MNIST equal-budget comparison's folder.</summary>
        public const string Fashion = "samples/SequentialFashionMnist/results/budget-45min";

        /// <summary>The short permuted Fashion-MNIST runs with an option changed: one folder per setting, its flags in commands.txt.</summary>
        public const string FashionShort = "samples/SequentialFashionMnist/results/permuted-short-9min";

        /// <summary>The language model's equal-budget comparison's folder.</summary>
        public const string CharLm = "samples/CharLanguageModel/results/budget-30min";

        /// <summary>The language model's learning-rate sweep: one folder lr-RATE per rate.</summary>
        public const string CharLmSweep = "samples/CharLanguageModel/results/lr-sweep-3min";

        /// <summary>The language model's weight-decay check: one folder wd-VALUE per weight decay.</summary>
        public const string CharLmWeightDecay = "samples/CharLanguageModel/results/weight-decay-3min";

        /// <summary>The language model's remedies for silent units: one folder per remedy, its flags in commands.txt.</summary>
        public const string CharLmRemedies = "samples/CharLanguageModel/results/remedies-3min";

        /// <summary>The models in the order the tables list them.</summary>
        private static readonly string[] ModelOrder = { "durnn", "indrnn", "lstm", "gru" };

        /// <summary>The tables by name.</summary>
        public static readonly IReadOnlyDictionary<string, Func<string, string>> All = new Dictionary<string, Func<string, string>>
        {
            ["adding-t100-seeds"] = root => AddingSeeds(root, "T100-defaults", 100),
            ["adding-t1000-seeds"] = root => AddingSeeds(root, "T1000-defaults", 1000),
            ["adding-t5000-seeds"] = root => AddingSeeds(root, "T5000-defaults", 5000),
            ["adding-t10000-seeds"] = root => AddingSeeds(root, "T10000-defaults", 10000),
            ["adding-u-lr-t1000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T1000", 1000),
            ["adding-u-lr-t5000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T5000", 5000),
            ["adding-u-lr-t10000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T10000", 10000),
            ["adding-u-lr-sqrt-t1000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T1000-0.316", 1000),
            ["adding-u-lr-sqrt-t5000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T5000-0.141", 5000),
            ["adding-u-lr-sqrt-t10000-seeds"] = root => AddingSeeds(root, "u-lr-scale/T10000-0.1", 10000),
            ["adding-sqrt-t100-seeds"] = root => AddingSeeds(root, "u-lr-sqrt/T100", 100),
            ["adding-sqrt-t1000-seeds"] = root => AddingSeeds(root, "u-lr-sqrt/T1000", 1000),
            ["adding-sqrt-t5000-seeds"] = root => AddingSeeds(root, "u-lr-sqrt/T5000", 5000),
            ["adding-by-position"] = AddingByPosition,
            ["fashion-pixel-budget"] = root => FashionBudget(root, "pixel"),
            ["fashion-permuted-budget"] = root => FashionBudget(root, "permuted"),
            ["fashion-permuted-short"] = FashionPermutedShort,
            ["charlm-budget"] = CharLmBudget,
            ["charlm-samples"] = CharLmSamples,
            ["charlm-lr-sweep"] = root => CharLmSweepTable(root, CharLmSweep, "lr", "lr"),
            ["charlm-weight-decay"] = root => CharLmSweepTable(root, CharLmWeightDecay, "wd", "weight decay"),
            ["charlm-remedies"] = CharLmRemediesTable,
            ["headline"] = Headline.Bullets,
        };

        /// <summary>One row per seed of the adding problem at length <paramref name="length"/>.</summary>
        public static string AddingSeeds(string root, string folder, int length)
        {
            var runs = AddingRuns.Seeds(root, Path.Combine(Adding, folder), length);
            if (runs.Count == 0) return $"No committed run at T = {length} yet (`{Adding}/{folder}/seedN`).\n";
            var rows = runs.Select(r => (IReadOnlyList<string>)new[]
            {
                $"[{r.Seed}]({Link(root, r.Folder)})",
                r.FirstBelow is int first ? first.ToString(Invariant) : "—",
                r.SolvedAt is int solved ? $"**{solved}**" : $"not yet (last evaluation at step {r.Last.Step})",
                $"{Mse(r.Best.TestMse)} ({r.Best.Step})",
                $"{Mse(r.Last.TestMse)} ({r.Last.Step})",
                r.SolvedAt is int s ? Time(r.SecondsAt(s)) : $"{Time(r.Last.Seconds)} so far",
                r.Threads?.ToString(Invariant) ?? "—",
                r.Library is null ? "—" : $"`{r.Library}`",
                r.Beside ?? "not recorded",
            });
            return Regions.Table(new[] { "seed", "first below 0.01 (step)", "solved at (step)", "best test MSE (step)",
                "last test MSE (step)", "wall time to solved", "threads", "library", "beside it" }, rows);
        }

        /// <summary>
        /// The adding problem's error by position (the sample's --error-by-position, one CSV per run that has one): at
        /// the checkpoint's step, how much of v₁ the prediction carries (b₁ of the fit prediction ≈ a + b₁v₁ + b₂v₂) by how
        /// far back the first marked step lies (five bins of the first half, the farthest first), and b₁, b₂ over all test
        /// sequences.
        /// </summary>
        public static string AddingByPosition(string root)
        {
            string results = Path.Combine(root, Adding);
            var files = Directory.Exists(results)
                ? Directory.GetFiles(results, "adding-T*-durnn-by-position.csv", SearchOption.AllDirectories)
                : Array.Empty<string>();
            if (files.Length == 0) return $"No committed `--error-by-position` report in `{Adding}` yet.\n";
            var runs = files.Select(f =>
            {
                var csv = Csv.Read(f);
                var all = csv.Rows.Single(r => csv.Text(r, "marker") == "all");
                var first = csv.Rows.Where(r => csv.Text(r, "marker") == "first").OrderBy(r => csv.Number(r, "from")).ToList();
                if (first.Count != 5) throw new InvalidDataException($"{f}: {first.Count} bins of the first half, the table has 5.");
                return (folder: Path.GetRelativePath(root, Path.GetDirectoryName(f)!).Replace('\\', '/'), csv, all, first,
                    length: (int)csv.Number(all, "to")!.Value);
            }).OrderBy(r => r.length).ThenBy(r => r.folder, StringComparer.Ordinal);
            string Share(Csv csv, string[] row, string column) => csv.Number(row, column)!.Value.ToString("0.00", Invariant);
            var rows = runs.Select(r => (IReadOnlyList<string>)new[]
            {
                $"[{Path.GetRelativePath(results, Path.Combine(root, r.folder)).Replace('\\', '/')}]({Link(root, r.folder)})",
                r.length.ToString(Invariant),
                r.csv.Text(r.all, "step"),
                Mse(r.csv.Number(r.all, "mse")!.Value),
            }.Concat(r.first.Select(b => Share(r.csv, b, "first_share")))
             .Append(Share(r.csv, r.all, "first_share")).Append(Share(r.csv, r.all, "second_share")).ToList());
            return Regions.Table(new[] { "run", "T", "step", "test MSE", "b₁, first marker 90–100 % of T back", "80–90 %",
                "70–80 %", "60–70 %", "50–60 %", "b₁, all", "b₂, all" }, rows);
        }

        /// <summary>
        /// The equal-budget Fashion-MNIST table of one mode: the four models with the sample's defaults, then the runs made
        /// with an option changed (folders budget-45min-NAME/MODE beside <see cref="Fashion"/>), each named by its flags.
        /// </summary>
        public static string FashionBudget(string root, string mode)
        {
            string folder = Path.Combine(Fashion, mode);
            var runs = FashionRuns.Read(root, folder, mode).Select(m => (m, flags: "")).ToList();
            if (runs.Count == 0) return $"No committed run in `{Fashion}/{mode}` yet.\n";
            string beside = Beside(root, folder);
            foreach (var (variant, flags) in FashionVariants(root, mode))
            {
                runs.AddRange(FashionRuns.Read(root, variant, mode).Select(m => (m, flags)));
                beside += Beside(root, variant);
            }
            var rows = runs.Select(run =>
            {
                var (m, flags) = run;
                string name = m.Description + (flags.Length > 0 ? $" (`{flags}`)" : "") + (m.Finished ? "" : " (in progress)");
                return (IReadOnlyList<string>)new[]
                {
                    name, m.Parameters.ToString("N0", Invariant), m.Steps == 0 ? "—" : (m.CpuSeconds / m.Steps).ToString("0.00", Invariant),
                    m.Steps.ToString(Invariant), m.Epochs.ToString("0.00", Invariant), (m.CpuSeconds / 60).ToString("0.0", Invariant),
                    Percent(m.FinalAccuracy), $"{Percent(m.BestAccuracy)} ({m.BestStep})",
                };
            });
            return Regions.Table(new[] { "model", "parameters", "CPU s / step", "steps reached", "epochs", "training CPU min",
                "test accuracy at the end", "best (step)" }, rows) + beside;
        }

        /// <summary>
        /// Permuted Fashion-MNIST after the short budget of the runs in <see cref="FashionShort"/> (9 CPU-minutes): per
        /// model, the comparison's run at its first evaluation (the same 9 CPU-minutes, the sample's settings) and each
        /// short run with an option changed, at its end.
        /// </summary>
        public static string FashionPermutedShort(string root)
        {
            var shortRuns = Directory.Exists(Path.Combine(root, FashionShort))
                ? Directory.GetDirectories(Path.Combine(root, FashionShort)).OrderBy(d => d, StringComparer.Ordinal)
                    .Where(d => File.Exists(Path.Combine(d, "commands.txt")))
                    .Select(d => (folder: Path.GetRelativePath(root, d).Replace('\\', '/'), flags: ChangedFlags(d, "--budget-minutes") ?? Path.GetFileName(d)))
                    .ToList()
                : new List<(string folder, string flags)>();
            if (shortRuns.Count == 0) return $"No committed run in `{FashionShort}` yet.\n";
            // The budget the runs were given (their commands' --budget-minutes; a run stops at the first step past it, and
            // the comparison's evaluation after that much CPU time is the one to set beside them).
            var budgets = shortRuns.Select(r => BudgetMinutes(Path.Combine(root, r.folder))).Distinct().ToList();
            if (budgets.Count != 1 || budgets[0] is not double minutes)
                throw new InvalidDataException($"The runs in {FashionShort} must share one --budget-minutes in their commands.txt; found {string.Join(", ", budgets.Select(b => b?.ToString(Invariant) ?? "none"))}.");
            double budget = minutes * 60;
            var rows = new List<IReadOnlyList<string>>();
            string comparison = Path.Combine(Fashion, "permuted");
            foreach (var model in ModelOrder)
            {
                var main = FashionRuns.Read(root, comparison, "permuted").FirstOrDefault(m => m.Model == model);
                string curve = Path.Combine(root, comparison, $"permuted_{model}.csv");
                if (main is not null && File.Exists(curve))
                {
                    var csv = Csv.Read(curve);
                    var first = csv.Rows.FirstOrDefault(r => csv.Number(r, "cpu_seconds") >= budget);
                    if (first is not null)
                        rows.Add(new[] { main.Description, "the sample's (the comparison's run at its evaluation after the same CPU time)",
                            ((int)csv.Number(first, "step")!.Value).ToString(Invariant), Percent(csv.Number(first, "test_acc")!.Value) });
                }
                foreach (var (folder, flags) in shortRuns)
                {
                    var run = FashionRuns.Read(root, folder, "permuted").FirstOrDefault(m => m.Model == model);
                    if (run is null) continue;
                    rows.Add(new[] { $"[{run.Description}]({Path.GetRelativePath(Path.Combine(root, "samples", "SequentialFashionMnist"), Path.Combine(root, folder)).Replace('\\', '/')}/)" +
                        (run.Finished ? "" : " (in progress)"), $"`{flags}`", run.Steps.ToString(Invariant), Percent(run.FinalAccuracy) });
                }
            }
            string beside = string.Concat(shortRuns.Select(r => Beside(root, r.folder)));
            return Regions.Table(new[] { "model", "settings", "steps", $"test accuracy after {(budget / 60).ToString("0", Invariant)} CPU-minutes" }, rows) + beside;
        }

        /// <summary>
        /// The equal-budget language-model table; besides the end of the budget, every model's validation bits per
        /// character at the same step (the fewest steps any run reached, read off each curve by linear interpolation
        /// between its two evaluations around that step), which separates what a model learns per step from how many
        /// steps it gets.
        /// </summary>
        public static string CharLmBudget(string root)
        {
            string path = Path.Combine(root, CharLm, "kjv-summary.csv");
            if (!File.Exists(path)) return $"No committed run in `{CharLm}` yet.\n";
            string beside = Beside(root, CharLm);
            var runs = new List<(string folder, string flags, Csv csv, string[] row)>();
            foreach (var (folder, flags) in new[] { (CharLm, "") }.Concat(CharLmVariants(root)))
            {
                var csv = Csv.Read(Path.Combine(root, folder, "kjv-summary.csv"));
                runs.AddRange(csv.Rows.Select(r => (folder, flags, csv, r)));
                if (flags.Length > 0) beside += Beside(root, folder).Replace("Beside this run", $"Beside the run with `{flags}`", StringComparison.Ordinal);
            }
            int sameStep = runs.Min(run => (int)run.csv.Number(run.row, "steps")!.Value);
            var rows = runs.Select(run =>
            {
                var (folder, flags, csv, r) = run;
                string model = csv.Text(r, "model");
                double? atSameStep = Interpolate(Csv.Read(Path.Combine(root, folder, $"kjv-{model}.csv")), "step", "valid_bpc", sameStep);
                return (IReadOnlyList<string>)new[]
                {
                    model + (flags.Length > 0 ? $" with `{flags}`" : ""), $"{csv.Text(r, "layers")} × {csv.Text(r, "hidden")}",
                    ((long)csv.Number(r, "parameters")!.Value).ToString("N0", Invariant),
                    (csv.Number(r, "cpu_seconds")!.Value / csv.Number(r, "steps")!.Value).ToString("0.000", Invariant),
                    ((int)csv.Number(r, "steps")!.Value).ToString(Invariant),
                    atSameStep?.ToString("0.000", Invariant) ?? "—",
                    (csv.Number(r, "valid_bpc")!.Value).ToString("0.000", Invariant),
                    $"**{csv.Number(r, "test_bpc")!.Value.ToString("0.000", Invariant)}**",
                    SilentUnits(root, folder, model),
                };
            });
            return Regions.Table(new[] { "model", "layers × hidden", "parameters", "CPU s / step", "steps reached",
                $"validation bpc at step {sameStep.ToString("N0", Invariant)}", "validation bpc at the end", "test bpc",
                "silent units of the last layer (validation text)" }, rows) + beside;
        }

        /// <summary>
        /// Column <paramref name="y"/> of a curve at <paramref name="x"/> = <paramref name="at"/>, linearly interpolated
        /// between the two rows around it (rows in increasing <paramref name="x"/>); null when the curve does not reach it.
        /// </summary>
        private static double? Interpolate(Csv curve, string x, string y, double at)
        {
            var points = curve.Rows.Select(r => (x: curve.Number(r, x), y: curve.Number(r, y)))
                .Where(p => p.x is not null && p.y is not null).Select(p => (x: p.x!.Value, y: p.y!.Value)).ToList();
            for (int i = 1; i < points.Count; i++)
            {
                var (a, b) = (points[i - 1], points[i]);
                if (at >= a.x && at <= b.x)
                    return b.x == a.x ? b.y : a.y + (b.y - a.y) * (at - a.x) / (b.x - a.x);
            }
            return null;
        }

        /// <summary>The first command of <paramref name="folder"/>'s commands.txt (written by samples/long-runs.sh).</summary>
        private static string FirstCommand(string folder) => File.ReadLines(Path.Combine(folder, "commands.txt")).First();

        /// <summary>The <c>--budget-minutes</c> of the first command in <paramref name="folder"/>'s commands.txt, if it gives one.</summary>
        private static double? BudgetMinutes(string folder)
        {
            var match = System.Text.RegularExpressions.Regex.Match(FirstCommand(folder), @"--budget-minutes (\S+) ");
            return match.Success ? double.Parse(match.Groups[1].Value, Invariant) : null;
        }

        /// <summary>
        /// The options a run in <paramref name="folder"/> changed: what the first command of its commands.txt (written by
        /// samples/long-runs.sh, "--model M FLAGS <paramref name="next"/> ...") has between the model and
        /// <paramref name="next"/>; null when the line has no such part.
        /// </summary>
        private static string? ChangedFlags(string folder, string next)
        {
            var match = System.Text.RegularExpressions.Regex.Match(FirstCommand(folder),
                $@"--model \S+ (.*?) {System.Text.RegularExpressions.Regex.Escape(next)} ");
            return match.Success ? match.Groups[1].Value : null;
        }

        /// <summary>
        /// The comparison's runs with a library option changed (folders budget-30min-NAME beside <see cref="CharLm"/>,
        /// finished), each with the flags its commands.txt shows between the model and the budget.
        /// </summary>
        public static IReadOnlyList<(string folder, string flags)> CharLmVariants(string root) =>
            Variants(root, CharLm, "", "kjv-summary.csv");

        /// <summary>
        /// The Fashion-MNIST comparison's runs of <paramref name="mode"/> with an option changed (folders
        /// budget-45min-NAME/MODE beside <see cref="Fashion"/>), each with the flags its commands.txt shows.
        /// </summary>
        public static IReadOnlyList<(string folder, string flags)> FashionVariants(string root, string mode) =>
            Variants(root, Fashion, mode, "commands.txt");

        /// <summary>
        /// The runs of a comparison made with options changed: folders FOLDER-NAME beside <paramref name="folder"/>, in
        /// each the subfolder <paramref name="sub"/> ("" for none) holding <paramref name="summary"/> and commands.txt;
        /// each with the flags its commands.txt shows between the model and the budget (else NAME).
        /// </summary>
        private static IReadOnlyList<(string folder, string flags)> Variants(string root, string folder, string sub, string summary)
        {
            string results = Path.GetDirectoryName(Path.Combine(root, folder))!;
            string prefix = Path.GetFileName(folder) + "-";
            if (!Directory.Exists(results)) return Array.Empty<(string, string)>();
            return Directory.GetDirectories(results, prefix + "*").OrderBy(d => d, StringComparer.Ordinal)
                .Select(d => (dir: Path.Combine(d, sub), name: Path.GetFileName(d)[prefix.Length..]))
                .Where(v => File.Exists(Path.Combine(v.dir, summary)) && File.Exists(Path.Combine(v.dir, "commands.txt")))
                .Select(v => (Path.GetRelativePath(root, v.dir).Replace('\\', '/'), ChangedFlags(v.dir, "--budget-minutes") ?? v.name))
                .ToList();
        }

        /// <summary>"149 of 256" from kjv-{model}-units.csv in <paramref name="folder"/>, or "—".</summary>
        private static string SilentUnits(string root, string folder, string model)
        {
            string path = Path.Combine(root, folder, $"kjv-{model}-units.csv");
            if (!File.Exists(path)) return "—";
            var csv = Csv.Read(path);
            var r = csv.Rows[0];
            return $"{(long)csv.Number(r, "silent_units")!.Value} of {(long)csv.Number(r, "units")!.Value}";
        }

        /// <summary>
        /// A sweep of the language model over one setting (folders PREFIX-VALUE under <paramref name="folder"/>): a row per
        /// model, a column per value, each cell the validation bits per character at the end of the short budget (and the
        /// steps it reached); the best value of each model in bold.
        /// </summary>
        public static string CharLmSweepTable(string root, string folder, string prefix, string label)
        {
            string dir = Path.Combine(root, folder);
            var rates = Directory.Exists(dir)
                ? Directory.GetDirectories(dir, prefix + "-*")
                    .Select(d => (dir: d, text: Path.GetFileName(d)[(prefix.Length + 1)..]))
                    .Where(r => File.Exists(Path.Combine(r.dir, "kjv-summary.csv")))
                    .Select(r => (r.dir, r.text, value: double.Parse(r.text, Invariant)))
                    .OrderBy(r => r.value).ToList()
                : new();
            if (rates.Count == 0) return $"No committed sweep in `{folder}` yet.\n";
            var cells = new Dictionary<(string model, string rate), (double bpc, int steps)>();
            foreach (var rate in rates)
            {
                var csv = Csv.Read(Path.Combine(rate.dir, "kjv-summary.csv"));
                foreach (var r in csv.Rows)
                    cells[(csv.Text(r, "model"), rate.text)] = (csv.Number(r, "valid_bpc")!.Value, (int)csv.Number(r, "steps")!.Value);
            }
            var rows = ModelOrder.Where(m => rates.Any(r => cells.ContainsKey((m, r.text)))).Select(model =>
            {
                double best = rates.Where(r => cells.ContainsKey((model, r.text))).Min(r => cells[(model, r.text)].bpc);
                return (IReadOnlyList<string>)new[] { model }.Concat(rates.Select(r =>
                    cells.TryGetValue((model, r.text), out var c)
                        ? (c.bpc == best ? $"**{c.bpc.ToString("0.000", Invariant)}**" : c.bpc.ToString("0.000", Invariant)) + $" ({c.steps})"
                        : "not run")).ToArray();
            });
            return Regions.Table(new[] { "model" }.Concat(rates.Select(r => $"{label} {r.text}: validation bpc (steps)")).ToArray(), rows)
                + Beside(root, folder);
        }

        /// <summary>
        /// The remedies for silent units (folders under <see cref="CharLmRemedies"/>, each run with the flags its
        /// commands.txt shows) against the library's defaults at the same settings (the weight-decay check's wd-1e-4
        /// runs): a row per setting, per model the validation bits per character at the end of the 3 CPU-minutes (steps)
        /// and the silent units of the last layer.
        /// </summary>
        public static string CharLmRemediesTable(string root)
        {
            string dir = Path.Combine(root, CharLmRemedies);
            var settings = new List<(string label, string folder)> { ("the library's defaults", Path.Combine(CharLmWeightDecay, "wd-1e-4")) };
            if (Directory.Exists(dir))
            {
                foreach (var d in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
                {
                    string commands = Path.Combine(d, "commands.txt");
                    if (!File.Exists(Path.Combine(d, "kjv-summary.csv")) || !File.Exists(commands)) continue;
                    settings.Add(($"`{ChangedFlags(d, "--lr") ?? Path.GetFileName(d)}`", Path.Combine(CharLmRemedies, Path.GetFileName(d))));
                }
            }
            if (settings.Count == 1) return $"No committed remedy in `{CharLmRemedies}` yet.\n";
            string[] models = { "durnn", "indrnn" };
            var rows = settings.Select(setting =>
            {
                string path = Path.Combine(root, setting.folder, "kjv-summary.csv");
                var csv = File.Exists(path) ? Csv.Read(path) : null;
                return (IReadOnlyList<string>)new[] { $"[{setting.label}]({Path.GetRelativePath(Path.Combine(root, "samples", "CharLanguageModel"), Path.Combine(root, setting.folder)).Replace('\\', '/')}/)" }
                    .Concat(models.Select(model =>
                    {
                        var r = csv?.Rows.FirstOrDefault(row => csv.Text(row, "model") == model);
                        if (csv is null || r is null) return "not run";
                        string units = SilentUnits(root, setting.folder, model);
                        return $"{csv.Number(r, "valid_bpc")!.Value.ToString("0.000", Invariant)} ({(int)csv.Number(r, "steps")!.Value}), {units} silent";
                    })).ToArray();
            });
            return Regions.Table(new[] { "setting", "DuRNN: validation bpc (steps), silent units", "IndRNN: validation bpc (steps), silent units" }, rows)
                + Beside(root, CharLmRemedies);
        }

        /// <summary>The first lines each model generated.</summary>
        public static string CharLmSamples(string root)
        {
            string dir = Path.Combine(root, CharLm);
            if (!Directory.Exists(dir)) return "No generated text committed yet.\n";
            var text = new StringBuilder();
            foreach (var file in Directory.GetFiles(dir, "kjv-*-sample.txt").OrderBy(f => f, StringComparer.Ordinal))
            {
                string model = Path.GetFileName(file)["kjv-".Length..^"-sample.txt".Length];
                var lines = File.ReadAllLines(file).Where(l => l.Trim().Length > 0).Take(4);
                text.Append($"**{model}**\n\n```\n").Append(string.Join("\n", lines)).Append("\n```\n\n");
            }
            return text.Length == 0 ? "No generated text committed yet.\n" : text.ToString().TrimEnd('\n') + "\n";
        }

        /// <summary>"Beside it: …" from the folder's beside.txt, or nothing.</summary>
        private static string Beside(string root, string folder)
        {
            string path = Path.Combine(root, folder, "beside.txt");
            return File.Exists(path) ? "\n" + File.ReadAllText(path).Trim() + "\n" : "";
        }

        /// <summary>A link from a README in samples/ to a folder given relative to the root.</summary>
        private static string Link(string root, string folder) =>
            Path.GetRelativePath(Path.Combine(root, "samples"), Path.Combine(root, folder)).Replace('\\', '/');

        /// <summary>A test MSE with four decimals.</summary>
        public static string Mse(double mse) => mse.ToString("0.0000", Invariant);

        /// <summary>A fraction as a percentage with two decimals.</summary>
        public static string Percent(double fraction) => (100 * fraction).ToString("0.00", Invariant) + " %";

        /// <summary>Seconds as "2 h 10 min" or "45 min".</summary>
        public static string Time(double seconds)
        {
            int minutes = (int)Math.Round(seconds / 60);
            return minutes >= 60 ? $"{minutes / 60} h {minutes % 60:00} min" : $"{minutes} min";
        }
    }
}
