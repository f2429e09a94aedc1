using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Starts this same program again as a child process (the apphost, or <c>dotnet app.dll</c>), with the parent's
    /// OpenMP and allocator choices, and reads the one result line it prints: <c>TAG key=value key=value …</c>.
    /// </summary>
    internal static class ChildProcess
    {
        /// <summary>Runs a child with <paramref name="args"/>, waits for it, returns the fields of its line starting with <paramref name="tag"/>.</summary>
        /// <exception cref="InvalidOperationException">The child failed or printed no such line.</exception>
        public static IReadOnlyDictionary<string, string> Run(IEnumerable<string> args, string tag)
        {
            var (file, prefix) = SelfCommand();
            var psi = new ProcessStartInfo(file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in prefix) psi.ArgumentList.Add(a);
            foreach (var a in args) psi.ArgumentList.Add(a);
            if (OpenMp.KeepDefault) psi.ArgumentList.Add("--omp-active");
            if (!FreedMemory.Requested) psi.ArgumentList.Add(FreedMemory.DefaultMallocFlag);
            using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
            var stderr = child.StandardError.ReadToEndAsync();
            string stdout = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(tag + " ", StringComparison.Ordinal));
            if (child.ExitCode != 0 || line is null)
                throw new InvalidOperationException($"child '{string.Join(" ", psi.ArgumentList)}' failed (exit {child.ExitCode}):\n{stdout}\n{stderr.Result}");
            return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        }

        /// <summary>How to start this same program again: the apphost, or <c>dotnet app.dll</c>.</summary>
        private static (string file, string[] prefix) SelfCommand()
        {
            string path = Environment.ProcessPath ?? throw new InvalidOperationException("unknown process path");
            if (Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                string dll = Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("unknown entry assembly");
                return (path, new[] { dll });
            }
            return (path, Array.Empty<string>());
        }
    }
}
