using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Worker
{
    /// <summary>
    /// Times the gradient averaging of the sample's model (a 2 × <c>--hidden</c> DuRNN with input 2 and a read-out;
    /// 128 by default, 132 737 parameters) over the ranks: <see cref="GradientAverager.Average"/> with one buffer
    /// and with buckets of at most 256 and 64 KiB (a bucket holds at least one parameter, and U_s and W_h of 128 × 128 take
    /// 64 KiB each), and one <see cref="MpiSession.AllReduce(Tensor, ReduceOperation)"/> per parameter. Rank 0 prints the
    /// median time per step of each (<c>--repeats</c> steps each, after 20 warm-up steps, each started by a barrier).
    /// </summary>
    internal static class AllReduceBench
    {
        /// <summary>Runs the measurement (collective).</summary>
        public static void Run(MpiSession mpi, Arguments a)
        {
            long hidden = a.Long("hidden", 128);
            int repeats = (int)a.Long("repeats", 200);
            torch.manual_seed(1);
            using var model = new DuRNN(2, hidden, numLayers: 2);
            using var readout = nn.Linear(hidden, 1);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            foreach (var p in parameters)
            {
                using var g = torch.randn_like(p);
                p.grad = g;
            }
            long elements = parameters.Sum(p => p.NumberOfElements);
            Report(mpi, $"{parameters.Count} parameters, {elements} elements ({elements * 4 / 1024.0:F0} KiB float32), {mpi.Size} ranks: {mpi.Description}");

            foreach (long bucket in new[] { GradientAverager.DefaultBucketBytes, 256L * 1024, 64L * 1024 })
            {
                using var averager = new GradientAverager(mpi, new nn.Module[] { model, readout }, bucket);
                var inMpi = new List<double>(repeats);
                var total = Median(mpi, repeats, () =>
                {
                    double before = averager.AllReduceTime.TotalMilliseconds;
                    averager.Average();
                    inMpi.Add(averager.AllReduceTime.TotalMilliseconds - before);
                });
                inMpi.RemoveRange(0, inMpi.Count - repeats); // the warm-up runs
                inMpi.Sort();
                string name = bucket == GradientAverager.DefaultBucketBytes ? "one buffer (default)" : $"buckets of at most {bucket / 1024} KiB";
                Report(mpi, string.Create(CultureInfo.InvariantCulture,
                    $"GradientAverager.Average, {name}, {averager.BucketCount} all-reduce calls: median {total:F3} ms per step, of which inside MPI_Allreduce {inMpi[inMpi.Count / 2]:F3} ms (median)"));
            }

            var perParameter = Median(mpi, repeats, () =>
            {
                foreach (var p in parameters)
                {
                    using var g = p.grad!;
                    mpi.AllReduce(g, ReduceOperation.Mean);
                }
            });
            Report(mpi, string.Create(CultureInfo.InvariantCulture,
                $"one MpiSession.AllReduce(tensor, Mean) per parameter, {parameters.Count} calls: median {perParameter:F3} ms per step"));
        }

        /// <summary>The median wall time of <paramref name="repeats"/> runs of <paramref name="action"/> (after 20 warm-up runs), in ms, each started together (barrier).</summary>
        private static double Median(MpiSession mpi, int repeats, Action action)
        {
            for (int i = 0; i < 20; i++)
                action();
            var times = new List<double>(repeats);
            var clock = new Stopwatch();
            for (int i = 0; i < repeats; i++)
            {
                mpi.Barrier();
                clock.Restart();
                action();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }

        private static void Report(MpiSession mpi, string line)
        {
            if (mpi.IsRoot)
                Console.WriteLine(line);
        }
    }
}
