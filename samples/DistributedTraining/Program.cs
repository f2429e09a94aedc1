using System;
using System.Globalization;
using System.IO;
using DuRnn.Distributed;
using static TorchSharp.torch;

namespace DuRnn.Samples.DistributedTraining
{
    /// <summary>
    /// Data-parallel training of a DuRNN on the adding problem across MPI ranks (DuRnn.Distributed): every rank trains
    /// on its shard of a fixed training set, the gradients are averaged after every backward pass, and rank 0 prints
    /// the progress, writes the learning curve and ends with one line stating the result and the speed. Started without
    /// <c>mpirun</c>, it runs as one rank without MPI.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args) => CommandLine.Run<TrainCommand>(args,
            "mpirun -np N dotnet run -c Release --no-build --project samples/DistributedTraining --",
            "Adding problem (IndRNN's protocol) trained data-parallel over MPI ranks: DuRNN, gradients averaged by DuRnn.Distributed.",
            new[] { "--quick" },
            new[] { "--length", "100", "--steps", "300" });

        /// <summary>Runs the sample on this rank with the options of the command line; returns the exit code.</summary>
        internal static int Run(Options options)
        {
            using var mpi = MpiSession.Initialize();
            set_num_threads(options.Threads);
            if (options.Batch % mpi.Size != 0)
            {
                if (mpi.IsRoot)
                    Console.Error.WriteLine($"--batch {options.Batch} is not a multiple of the {mpi.Size} ranks: every rank must take an equal share.");
                return CommandLine.ExitBadArguments;
            }
            if (mpi.IsRoot)
            {
                Directory.CreateDirectory(options.OutputDirectory);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Distributed adding problem: {mpi.Size} rank{(mpi.Size == 1 ? "" : "s")} ({mpi.Description}); T = {options.Length}, {options.Steps} steps of global batch {options.Batch} ({options.Batch / mpi.Size} per rank), training set {options.TrainSize}, {options.Layers} layers × {options.Hidden}, {options.Threads} thread{(options.Threads == 1 ? "" : "s")} per rank, seed {options.Seed}{(options.Quick ? " (quick)" : "")}"));
            }

            var result = DistributedTrainer.Train(mpi, options);

            if (mpi.IsRoot)
            {
                Console.WriteLine($"CSV:  {result.WriteCsv(options.OutputDirectory, options.Length, mpi.Size)}");
                Console.WriteLine(result.Summary(mpi, options));
            }
            return 0;
        }
    }
}
