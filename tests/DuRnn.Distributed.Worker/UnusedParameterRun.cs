using System;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Worker
{
    /// <summary>
    /// Checks <see cref="GradientAverager"/>'s rule for parameters without a gradient: three Linear layers, of which
    /// <c>used</c> takes part in every rank's loss, <c>rankZeroOnly</c> only in rank 0's, and <c>unused</c> in none. After
    /// averaging, <c>rankZeroOnly</c>'s gradient must be rank 0's divided by the number of ranks on every rank, and
    /// <c>unused</c>'s must still be null everywhere. Prints one line per check, "ok" or "FAILED ...".
    /// </summary>
    internal static class UnusedParameterRun
    {
        /// <summary>Runs the check (collective); returns 0 when every check passed on this rank.</summary>
        public static int Run(MpiSession mpi)
        {
            torch.manual_seed(5);
            using var used = nn.Linear(3, 2, dtype: ScalarType.Float64);
            using var rankZeroOnly = nn.Linear(3, 2, dtype: ScalarType.Float64);
            using var unused = nn.Linear(3, 2, dtype: ScalarType.Float64);
            mpi.BroadcastParameters(used, rankZeroOnly, unused);
            using var averager = new GradientAverager(mpi, used, rankZeroOnly, unused);

            using var scope = NewDisposeScope();
            var x = torch.ones(4, 3, dtype: ScalarType.Float64);
            var loss = used.call(x).sum();
            if (mpi.Rank == 0)
                loss = loss + rankZeroOnly.call(x).sum();
            loss.backward();
            // d(sum of Linear(x)) / d weight = Σ over the batch of x = 4 for every element, on rank 0 only.
            averager.Average();

            bool ok = true;
            using (var grad = rankZeroOnly.weight!.grad)
                ok &= Report(mpi, "rankZeroOnly.weight.grad is rank 0's divided by the ranks",
                    grad is not null && grad.allclose(torch.full(2, 3, 4.0 / mpi.Size, dtype: ScalarType.Float64), rtol: 0, atol: 0));
            using (var grad = unused.weight!.grad)
                ok &= Report(mpi, "unused.weight.grad is still null", grad is null);
            using (var grad = used.weight!.grad)
                ok &= Report(mpi, "used.weight.grad is the average of equal gradients", grad is not null && grad.allclose(torch.full(2, 3, 4.0, dtype: ScalarType.Float64), rtol: 0, atol: 0));
            return ok ? 0 : 1;
        }

        private static bool Report(MpiSession mpi, string check, bool passed)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {mpi.Rank}: {check}: {(passed ? "ok" : "FAILED")}"));
            return passed;
        }
    }
}
