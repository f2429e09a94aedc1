using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using DuRnn.Samples.AddingProblem;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>One committed adding-problem run: its learning curve and how it was run.</summary>
    /// <param name="Folder">The run's folder, relative to the repository root.</param>
    /// <param name="Length">T.</param>
    /// <param name="Seed">The seed.</param>
    /// <param name="Curve">(step, test MSE, seconds) per evaluation; seconds are wall time with evaluations, over all resumes.</param>
    /// <param name="Threads">torch threads, from the command (null when not recorded).</param>
    /// <param name="Library">The library commit that ran it, from run.txt (null when not recorded).</param>
    /// <param name="Beside">What else ran on the machine, from run.txt (null when not recorded).</param>
    internal sealed record AddingRun(string Folder, int Length, int Seed, IReadOnlyList<(int Step, double TestMse, double Seconds)> Curve,
        int? Threads, string? Library, string? Beside)
    {
        /// <summary>The step of the first evaluation below 0.01 (<see cref="Solved.FirstBelow"/>).</summary>
        public int? FirstBelow => Solved.FirstBelow(Curve.Select(p => (p.Step, p.TestMse)));

        /// <summary>The step at which the run was solved (<see cref="Solved.At"/>).</summary>
        public int? SolvedAt => Solved.At(Curve.Select(p => (p.Step, p.TestMse)));

        /// <summary>The evaluation with the lowest test MSE.</summary>
        public (int Step, double TestMse, double Seconds) Best => Curve.MinBy(p => p.TestMse);

        /// <summary>The last evaluation.</summary>
        public (int Step, double TestMse, double Seconds) Last => Curve[^1];

        /// <summary>The wall time at <paramref name="step"/>'s evaluation.</summary>
        public double SecondsAt(int step) => Curve.First(p => p.Step == step).Seconds;
    }

    /// <summary>Reads the adding problem's committed runs (samples/AddingProblem/results).</summary>
    internal static partial class AddingRuns
    {
        [GeneratedRegex(@"--threads (\d+)")]
        private static partial Regex ThreadsOption();

        /// <summary>
        /// The runs in <paramref name="folder"/>'s seed folders (<c>seed1</c>, <c>seed2</c>, …), in seed order; each holds
        /// <c>adding-T{T}-durnn.csv</c>, <c>command.txt</c> or <c>commands.txt</c> and optionally <c>run.txt</c> (lines <c>library: …</c> and
        /// <c>beside: …</c>; a key written again, as a run resumed in another session appends, continues it).
        /// </summary>
        public static IReadOnlyList<AddingRun> Seeds(string root, string folder, int length)
        {
            string path = Path.Combine(root, folder);
            if (!Directory.Exists(path)) return Array.Empty<AddingRun>();
            return Directory.GetDirectories(path, "seed*")
                .Select(d => (dir: d, seed: int.TryParse(Path.GetFileName(d)[4..], out int s) ? s : -1))
                .Where(d => d.seed >= 0 && File.Exists(Path.Combine(d.dir, $"adding-T{length}-durnn.csv")))
                .OrderBy(d => d.seed)
                .Select(d => Read(root, Path.GetRelativePath(root, d.dir), length, d.seed))
                .ToList();
        }

        private static AddingRun Read(string root, string folder, int length, int seed)
        {
            string dir = Path.Combine(root, folder);
            var csv = Csv.Read(Path.Combine(dir, $"adding-T{length}-durnn.csv"));
            var curve = csv.Rows.Select(r => ((int)csv.Number(r, "step")!.Value, csv.Number(r, "test_mse")!.Value, csv.Number(r, "seconds")!.Value)).ToList();
            // the sample's own command.txt, else the lines samples/long-runs.sh appends to commands.txt
            string command = new[] { "command.txt", "commands.txt" }.Select(f => Path.Combine(dir, f)).Where(File.Exists)
                .Select(File.ReadAllText).FirstOrDefault() ?? "";
            var threads = ThreadsOption().Match(command);
            var notes = File.Exists(Path.Combine(dir, "run.txt"))
                ? File.ReadAllLines(Path.Combine(dir, "run.txt")).Where(l => l.Contains(':'))
                    .GroupBy(l => l[..l.IndexOf(':')].Trim(), l => l[(l.IndexOf(':') + 1)..].Trim())
                    .ToDictionary(g => g.Key, g => string.Join("; ", g))
                : new Dictionary<string, string>();
            return new AddingRun(folder, length, seed, curve,
                threads.Success ? int.Parse(threads.Groups[1].Value, CultureInfo.InvariantCulture) : null,
                notes.GetValueOrDefault("library"), notes.GetValueOrDefault("beside"));
        }
    }
}
