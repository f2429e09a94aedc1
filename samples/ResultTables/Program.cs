using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples.ResultTables
{
    /// <summary>
    /// Writes the results tables of the READMEs from the committed result files: every region
    /// <c>&lt;!-- generated:NAME --&gt;</c> … <c>&lt;!-- /generated:NAME --&gt;</c> of README.md, samples/README.md and
    /// samples/*/README.md gets table NAME (<see cref="Tables.All"/>). With --check (and --quick, which CI runs) it writes
    /// nothing and fails when a README differs from what the files give, so a table cannot drift from its data.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args) => CommandLine.Run<TablesCommand>(args,
            "dotnet run --project samples/ResultTables --",
            "Writes the README results tables from the committed result files (or checks them with --check).",
            new[] { "--check" });

        /// <summary>Fills or checks every README; returns the exit code.</summary>
        internal static int Run(string root, bool check)
        {
            var files = new[] { "README.md", "samples/README.md" }
                .Concat(Directory.GetDirectories(Path.Combine(root, "samples")).Select(d => Path.Combine(Path.GetRelativePath(root, d), "README.md")))
                .Where(f => File.Exists(Path.Combine(root, f)))
                .ToList();
            int regions = 0;
            var stale = new List<string>();
            foreach (var file in files)
            {
                string path = Path.Combine(root, file);
                string text = File.ReadAllText(path);
                var names = Regions.Names(text);
                if (names.Count == 0) continue;
                regions += names.Count;
                string filled = Regions.Fill(text, name => Tables.All.TryGetValue(name, out var table) ? table(root) : null, file);
                if (filled == text) continue;
                stale.Add($"{file} ({string.Join(", ", names)})");
                if (!check) File.WriteAllText(path, filled);
            }
            if (check && stale.Count > 0)
            {
                Console.Error.WriteLine("These READMEs differ from the tables the committed result files give:");
                foreach (var s in stale) Console.Error.WriteLine("  " + s);
                Console.Error.WriteLine("Run `dotnet run --project samples/ResultTables` and commit the result.");
                return 1;
            }
            Console.WriteLine(check
                ? $"{regions} generated regions in {files.Count} READMEs match the committed result files."
                : $"{regions} generated regions in {files.Count} READMEs; rewrote {(stale.Count == 0 ? "none" : string.Join("; ", stale))}.");
            return 0;
        }

        /// <summary>The repository root: two folders above this project's source folder, or the current folder.</summary>
        internal static string DefaultRoot()
        {
            return SampleFolders.ProjectDirectory is string projectDir
                ? Path.GetFullPath(Path.Combine(projectDir, "..", ".."))
                : Environment.CurrentDirectory;
        }
    }

    /// <summary>The command line.</summary>
    internal sealed class TablesSettings : CommandSettings
    {
        /// <summary>--check.</summary>
        [CommandOption("--check"), Description("write nothing; exit 1 when a README's generated tables differ from the result files")]
        public bool Check { get; init; }

        /// <summary>--quick (CI's smoke test): the same as --check.</summary>
        [CommandOption("--quick"), Description("the same as --check (what .ci/run runs for every sample)")]
        public bool Quick { get; init; }

        /// <summary>--out, accepted and ignored (.ci/run passes it to every sample).</summary>
        [CommandOption("--out <DIR>"), Description("ignored (the tables go into the READMEs)")]
        public string? OutputDirectory { get; init; }

        /// <summary>--root.</summary>
        [CommandOption("--root <DIR>"), Description("the repository root (default: found from this project's folder)")]
        public string? Root { get; init; }
    }

    /// <summary>The one command.</summary>
    internal sealed class TablesCommand : SampleCommand<TablesSettings>
    {
        /// <inheritdoc/>
        public override int Execute(CommandContext context, TablesSettings settings, CancellationToken cancellationToken) =>
            Program.Run(settings.Root ?? Program.DefaultRoot(), settings.Check || settings.Quick);
    }
}
