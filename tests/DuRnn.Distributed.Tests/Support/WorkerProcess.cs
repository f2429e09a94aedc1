using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using Xunit;

namespace DuRnn.Distributed.Tests
{
    /// <summary>What a started job printed and how it ended.</summary>
    /// <param name="ExitCode">The exit code of the launcher (or of the worker without one).</param>
    /// <param name="Output">Standard output and standard error, interleaved as read.</param>
    public sealed record JobResult(int ExitCode, string Output);

    /// <summary>
    /// Starts the worker (tests/DuRnn.Distributed.Worker) as a job of 2 ranks on this machine under Open MPI's or
    /// MPICH's launcher, or alone as a single process, and waits for it. The launchers are the Debian names
    /// (<c>mpirun.openmpi</c>, <c>mpiexec.mpich</c>); a test that needs one that is not installed is skipped with the
    /// package to install in its reason. Jobs use only this machine (shared memory and loopback).
    /// </summary>
    public static class WorkerProcess
    {
        /// <summary>The longest a job may take before it is killed (with its child processes) and the test fails.</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

        /// <summary>
        /// Skips the calling test, with the reason in the test output, when <paramref name="flavor"/>'s launcher or
        /// library is not installed; returns the launcher's path otherwise.
        /// </summary>
        public static string RequireLauncher(MpiFlavor flavor)
        {
            string launcher = flavor == MpiFlavor.OpenMpi ? "mpirun.openmpi" : "mpiexec.mpich";
            string library = flavor == MpiFlavor.OpenMpi ? "libmpi.so.40" : "libmpich.so.12";
            string packages = flavor == MpiFlavor.OpenMpi ? "openmpi-bin libopenmpi-dev" : "mpich";
            string? path = FindOnPath(launcher);
            bool hasLibrary = System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out var handle);
            if (hasLibrary)
                System.Runtime.InteropServices.NativeLibrary.Free(handle);
            Skip.If(path is null || !hasLibrary,
                $"{flavor} is not installed ({(path is null ? launcher + " is not on PATH" : library + " does not load")}): " +
                $"apt-get install {packages} to run this test (.ci/run installs it).");
            return path!;
        }

        /// <summary>Runs the worker with <paramref name="arguments"/> as 2 ranks under <paramref name="flavor"/>'s launcher.</summary>
        /// <param name="flavor">The implementation.</param>
        /// <param name="arguments">The worker's arguments (its mode first).</param>
        /// <param name="environment">Extra environment variables for the ranks.</param>
        public static async Task<JobResult> RunRanksAsync(MpiFlavor flavor, string[] arguments, IDictionary<string, string>? environment = null)
        {
            string launcher = RequireLauncher(flavor);
            var start = NewStart(launcher);
            if (flavor == MpiFlavor.OpenMpi)
            {
                // 2 ranks on this machine only: shared memory (vader) and self; no core binding, so the ranks share the
                // cores with whatever else runs; root is allowed (CI runs as root).
                foreach (string a in new[] { "-np", "2", "--oversubscribe", "--bind-to", "none", "--mca", "btl", "self,vader" })
                    start.ArgumentList.Add(a);
                start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
                start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
            }
            else
            {
                // Hydra starts the ranks on this machine with fork (no ssh).
                foreach (string a in new[] { "-np", "2", "-launcher", "fork" })
                    start.ArgumentList.Add(a);
            }
            if (environment is not null)
            {
                // Through the launcher to every rank: env NAME=value ... dotnet worker.
                start.ArgumentList.Add("env");
                foreach (var (name, value) in environment)
                    start.ArgumentList.Add($"{name}={value}");
            }
            start.ArgumentList.Add(Dotnet);
            start.ArgumentList.Add(WorkerAssembly);
            foreach (string a in arguments)
                start.ArgumentList.Add(a);
            return await RunAsync(start);
        }

        /// <summary>Runs the worker as one process without a launcher (no MPI unless <paramref name="environment"/> names a library).</summary>
        public static async Task<JobResult> RunAloneAsync(string[] arguments, IDictionary<string, string>? environment = null)
        {
            var start = NewStart(Dotnet);
            start.ArgumentList.Add(WorkerAssembly);
            foreach (string a in arguments)
                start.ArgumentList.Add(a);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
                start.Environment[name] = value;
            return await RunAsync(start);
        }

        /// <summary>The dotnet host that runs the tests (DOTNET_HOST_PATH, set by the SDK), or dotnet from PATH.</summary>
        private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

        /// <summary>The worker's assembly, recorded in this test assembly at build time (see the project file).</summary>
        private static string WorkerAssembly
        {
            get
            {
                string? path = typeof(WorkerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                    .FirstOrDefault(a => a.Key == "WorkerPath")?.Value;
                if (path is null || !File.Exists(path))
                    throw new FileNotFoundException($"The worker assembly recorded at build time, '{path}', does not exist: build tests/DuRnn.Distributed.Tests (it builds the worker).");
                return path;
            }
        }

        /// <summary>
        /// A start of <paramref name="program"/> with its output redirected, without the launcher variables of an outer
        /// job or a library choice from this process's environment (the caller adds what it asks for).
        /// </summary>
        private static ProcessStartInfo NewStart(string program)
        {
            var start = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string name in start.Environment.Keys.Where(IsMpiVariable).ToList())
                start.Environment.Remove(name);
            return start;
        }

        private static async Task<JobResult> RunAsync(ProcessStartInfo start)
        {
            var output = new System.Text.StringBuilder();
            using var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var finished = process.WaitForExitAsync();
            if (await Task.WhenAny(finished, Task.Delay(Timeout)) != finished)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not end within {Timeout}; output:\n{output}");
            }
            await process.WaitForExitAsync(); // drains the output
            lock (output)
                return new JobResult(process.ExitCode, output.ToString());
        }

        /// <summary>Whether <paramref name="name"/> is set by an MPI launcher or chooses the library.</summary>
        private static bool IsMpiVariable(string name) =>
            name.StartsWith("OMPI_COMM_WORLD", StringComparison.Ordinal) || name.StartsWith("PMI_", StringComparison.Ordinal)
            || name.StartsWith("PMIX_", StringComparison.Ordinal) || name == "MPI_LOCALNRANKS" || name == MpiSession.LibraryVariable;

        private static string? FindOnPath(string program) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(directory => Path.Combine(directory, program))
                .FirstOrDefault(File.Exists);
    }
}
