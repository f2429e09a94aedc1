using System;
using System.Globalization;
using TorchSharp;

namespace DuRnn.Distributed.Worker
{
    /// <summary>
    /// The worker that the distributed tests start under <c>mpirun</c> (or alone): <c>train</c> trains a DuRNN
    /// data-parallel and writes each rank's final parameters (<see cref="TrainRun"/>); <c>mismatch</c> builds a model
    /// whose size depends on the rank and reports the error every rank gets; <c>unused</c> checks the rule for parameters
    /// without a gradient (<see cref="UnusedParameterRun"/>); <c>info</c> prints the session (with
    /// <c>--null-reference</c>, also whether a NullReferenceException is still caught after MPI_Init);
    /// <c>bench</c> times the all-reduce of a 2 × 128 DuRNN's gradients in one buffer, in buckets and per parameter
    /// (<see cref="AllReduceBench"/>). Exit codes: 0 done, 1 a check failed, 2 bad arguments, 3 the expected error was reported.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            torch.set_num_threads(1);
            var arguments = new Arguments(args);
            using var mpi = MpiSession.Initialize();
            switch (arguments.Mode)
            {
                case "train":
                    TrainRun.Run(mpi, arguments);
                    return 0;
                case "mismatch":
                    return TrainRun.Mismatch(mpi, arguments);
                case "unused":
                    return UnusedParameterRun.Run(mpi);
                case "info":
                    if (arguments.Flag("null-reference"))
                        Console.WriteLine($"rank {mpi.Rank}: {NullReference()}");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rank {mpi.Rank} size {mpi.Size} implementation {mpi.Implementation}: {mpi.Description}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"rank {mpi.Rank} sum of ranks {mpi.AllReduce((double)mpi.Rank, ReduceOperation.Sum)}"));
                    return 0;
                case "bench":
                    AllReduceBench.Run(mpi, arguments);
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown mode '{arguments.Mode}': use train, mismatch, unused, info or bench");
                    return 2;
            }
        }

        /// <summary>
        /// Dereferences null and catches the NullReferenceException: .NET raises it from a SIGSEGV handler, which an MPI
        /// library that installs its own signal handlers could break.
        /// </summary>
        private static string NullReference()
        {
            try
            {
                string? nothing = Environment.GetEnvironmentVariable("DURNN_WORKER_UNSET_VARIABLE");
                return nothing!.Length.ToString(CultureInfo.InvariantCulture);
            }
            catch (NullReferenceException)
            {
                return "NullReferenceException caught";
            }
        }
    }
}
