using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Which code was measured: the short commit of the repository that holds this project (<c>git rev-parse --short
    /// HEAD</c>), marked "-dirty" when the library's sources (src/) have uncommitted changes.
    /// </summary>
    internal sealed record GitState(string Commit, bool SourcesDirty)
    {
        /// <summary>The commit with the "-dirty" mark, as used in file names ("unknown" without git).</summary>
        public string Label => SourcesDirty ? Commit + "-dirty" : Commit;

        /// <summary>This project's folder, recorded at build time (null when the metadata is missing).</summary>
        public static string? ProjectDirectory =>
            typeof(GitState).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "ProjectDirectory")?.Value;

        /// <summary>Reads the state with git, from <see cref="ProjectDirectory"/> (or the working directory).</summary>
        public static GitState Read()
        {
            string dir = ProjectDirectory is string p && Directory.Exists(p) ? p : Environment.CurrentDirectory;
            string? commit = Git(dir, "rev-parse", "--short", "HEAD");
            string? root = Git(dir, "rev-parse", "--show-toplevel");
            if (commit is null || root is null) return new GitState("unknown", false);
            string? changes = Git(root, "status", "--porcelain", "--", "src");
            return new GitState(commit, !string.IsNullOrWhiteSpace(changes));
        }

        /// <summary>git's standard output, trimmed, or null when git is missing or fails.</summary>
        private static string? Git(string directory, params string[] args)
        {
            try
            {
                var psi = new ProcessStartInfo("git")
                {
                    WorkingDirectory = directory,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var a in args) psi.ArgumentList.Add(a);
                using var process = Process.Start(psi);
                if (process is null) return null;
                var stderr = process.StandardError.ReadToEndAsync();
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                _ = stderr.Result;
                return process.ExitCode == 0 ? output.Trim() : null;
            }
            catch (Win32Exception) { return null; }
        }
    }
}
