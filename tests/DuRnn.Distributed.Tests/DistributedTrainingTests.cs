using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using DuRnn.Distributed.Worker;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DuRnn.Distributed.Tests
{
    /// <summary>
    /// Data-parallel training under a real MPI launcher, 2 ranks on this machine, for Open MPI and for MPICH (each
    /// skipped, with the package to install in the reason, where it is not installed). The worker trains the README's
    /// loop — a 2-layer DuRNN and a read-out, Adam over the library's parameter groups, clip_grad_value_,
    /// ApplyConstraints — in float64 for 5 steps of a batch of 8 that the ranks split 4 + 4.
    /// </summary>
    [Collection(ProcessCollection.Name)]
    public sealed class DistributedTrainingTests : IDisposable
    {
        /// <summary>
        /// The largest allowed difference between a parameter after 2-rank training and after single-process training on
        /// the whole batch, relative to the parameter's largest magnitude. In exact arithmetic the two are equal (the
        /// mean of two 4-sample mean losses is the 8-sample mean loss, so the averaged gradient is the whole batch's);
        /// in float64 they differ only in the order of summation inside the loss and the gradients (2⁻⁵³ ≈ 1.1e-16
        /// relative per operation), which Adam's normalised steps and 5 steps carry through without amplifying much:
        /// measured at most 3.4e-16 (Open MPI and MPICH). 1e-6 is far above that rounding and far below any real
        /// difference — a wrong averaging factor, one rank's gradient missing, or unequal weights move parameters by about
        /// the learning rate, 1e-2.
        /// </summary>
        private const double RelativeTolerance = 1e-6;

        private static readonly string[] Training = { "train", "--steps", "5", "--batch", "8", "--length", "12", "--hidden", "8", "--dtype", "float64", "--rank-seeds" };

        private readonly ITestOutputHelper log;
        private readonly string directory = Path.Combine(Path.GetTempPath(), "durnn-distributed-" + Guid.NewGuid().ToString("N"));

        public DistributedTrainingTests(ITestOutputHelper log) => this.log = log;

        public void Dispose()
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task TwoRanksOnHalfBatchesEqualOneProcessOnTheWholeBatch(MpiFlavor flavor)
        {
            WorkerProcess.RequireLauncher(flavor);
            string single = Path.Combine(directory, "single"), ranks = Path.Combine(directory, "ranks");
            var alone = await WorkerProcess.RunAloneAsync(Training.Concat(new[] { "--out", single }).ToArray());
            Check(alone, "single process");
            // Every rank initialises from its own seed (--rank-seeds): only BroadcastParameters makes them start equal.
            var job = await WorkerProcess.RunRanksAsync(flavor, Training.Concat(new[] { "--out", ranks }).ToArray());
            Check(job, $"{flavor}, 2 ranks");
            job.Output.Should().Contain("rank 1 of 2 done");

            var reference = ParameterFile.Read(ParameterFile.PathOf(single, 0));
            var rank0 = ParameterFile.Read(ParameterFile.PathOf(ranks, 0));
            var rank1 = ParameterFile.Read(ParameterFile.PathOf(ranks, 1));
            reference.Should().HaveCount(20, "the DuRNN's 2 × 9 parameters and the read-out's weight and bias");
            rank0.Select(p => p.Name).Should().Equal(reference.Select(p => p.Name));

            for (int i = 0; i < reference.Count; i++)
            {
                string name = reference[i].Name;
                rank1[i].Values.Should().Equal(rank0[i].Values, $"both ranks must end with bitwise identical '{name}'");
                double scale = reference[i].Values.Max(Math.Abs);
                double difference = reference[i].Values.Zip(rank0[i].Values, (a, b) => Math.Abs(a - b)).Max();
                log.WriteLine($"{name}: max |2 ranks − 1 process| = {difference:E2}, relative {difference / scale:E2}");
                difference.Should().BeLessThanOrEqualTo(RelativeTolerance * scale, $"'{name}' after 2 ranks must equal the single process's");
            }
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task WithoutAveragingTheRanksDriftApart(MpiFlavor flavor)
        {
            // The negative control of the test above: the same job without GradientAverager.Average must not give equal ranks.
            var job = await WorkerProcess.RunRanksAsync(flavor, Training.Concat(new[] { "--out", directory, "--no-average" }).ToArray());
            Check(job, $"{flavor}, 2 ranks, no averaging");
            var rank0 = ParameterFile.Read(ParameterFile.PathOf(directory, 0));
            var rank1 = ParameterFile.Read(ParameterFile.PathOf(directory, 1));
            rank0.Zip(rank1).Count(pair => !pair.First.Values.SequenceEqual(pair.Second.Values)).Should().BeGreaterThan(10);
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task RanksWithDifferentModelsFailOnEveryRankNamingTheCounts(MpiFlavor flavor)
        {
            // Hidden size 4 on rank 0 and 5 on rank 1: 18 tensors each, 176 and 260 elements.
            var job = await WorkerProcess.RunRanksAsync(flavor, new[] { "mismatch" });
            log.WriteLine(job.Output);
            job.ExitCode.Should().NotBe(0);
            foreach (int rank in new[] { 0, 1 })
            {
                job.Output.Should().Contain(
                    $"rank {rank}: MpiSession.BroadcastParameters: the ranks have 18 parameters and buffers holding 176 to 260 elements");
            }
            job.Output.Should().Contain("Every rank must build the same model");
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task ParametersWithoutAGradientOnSomeRanksGetTheAverageAndUnusedOnesStayNull(MpiFlavor flavor)
        {
            var job = await WorkerProcess.RunRanksAsync(flavor, new[] { "unused" });
            log.WriteLine(job.Output);
            job.ExitCode.Should().Be(0, job.Output);
            job.Output.Split('\n').Count(l => l.TrimEnd().EndsWith(": ok", StringComparison.Ordinal)).Should().Be(6, "three checks on each rank");
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task AnExceptionNoCodeCatchesOnOneRankAbortsTheWholeJob(MpiFlavor flavor)
        {
            // Rank 1 throws at step 2 while rank 0 waits in the all-reduce: without MPI_Abort rank 0 would wait forever
            // (the test would time out).
            var job = await WorkerProcess.RunRanksAsync(flavor, Training.Concat(new[] { "--out", directory, "--fail-on-rank", "1" }).ToArray());
            log.WriteLine(job.Output);
            job.ExitCode.Should().NotBe(0, job.Output);
            // The session's message, or where the launcher lost it while tearing the job down, the MPI_Abort notice.
            new[] { "Rank 1 of 2: unhandled exception; aborting the MPI job (MPI_Abort)", "MPI_ABORT was invoked", "application called MPI_Abort" }
                .Should().Contain(text => job.Output.Contains(text, StringComparison.Ordinal), job.Output);
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi)]
        [InlineData(MpiFlavor.Mpich)]
        public async Task NullReferenceExceptionsAreStillThrownUnderMpi(MpiFlavor flavor)
        {
            // .NET raises NullReferenceException from SIGSEGV; UCX (linked by Debian's MPICH) installs its own SIGSEGV
            // handler unless UCX_ERROR_SIGNALS is empty, which the session sets before loading MPI.
            var job = await WorkerProcess.RunRanksAsync(flavor, new[] { "info", "--null-reference" });
            log.WriteLine(job.Output);
            job.ExitCode.Should().Be(0, job.Output);
            job.Output.Should().Contain("rank 0: NullReferenceException caught").And.Contain("rank 1: NullReferenceException caught");
            job.Output.Should().Contain("rank 0 sum of ranks 1");
        }

        [SkippableTheory]
        [InlineData(MpiFlavor.OpenMpi, "libmpi.so.40", "OpenMpi")]
        [InlineData(MpiFlavor.Mpich, "libmpich.so.12", "Mpich")]
        public async Task WithTheLibraryVariableAndNoLauncherMpiRunsAsASingleton(MpiFlavor flavor, string library, string implementation)
        {
            WorkerProcess.RequireLauncher(flavor);
            var run = await WorkerProcess.RunAloneAsync(new[] { "info" }, new Dictionary<string, string> { [MpiSession.LibraryVariable] = library });
            log.WriteLine(run.Output);
            run.ExitCode.Should().Be(0, run.Output);
            run.Output.Should().Contain($"rank 0 size 1 implementation {implementation}");
        }

        [SkippableFact]
        public async Task ALibraryThatDoesNotMatchTheLauncherIsReported()
        {
            WorkerProcess.RequireLauncher(MpiFlavor.OpenMpi);
            // MPICH's launcher, Open MPI's library: each rank would see itself as a job of one.
            var job = await WorkerProcess.RunRanksAsync(MpiFlavor.Mpich, new[] { "info" },
                new Dictionary<string, string> { [MpiSession.LibraryVariable] = "libmpi.so.40" });
            log.WriteLine(job.Output);
            job.ExitCode.Should().NotBe(0);
            job.Output.Should().Contain("the launcher started 2 processes (PMI_SIZE=2), but the loaded MPI library, Open MPI (libmpi.so.40), sees 1");
        }

        [Fact]
        public async Task WithoutALauncherTheWorkerRunsAsOneRankWithoutMpi()
        {
            var run = await WorkerProcess.RunAloneAsync(new[] { "info" });
            run.ExitCode.Should().Be(0, run.Output);
            run.Output.Should().Contain("rank 0 size 1 implementation None: single process without MPI");
        }

        private void Check(JobResult result, string what)
        {
            log.WriteLine($"--- {what}:\n{result.Output}");
            result.ExitCode.Should().Be(0, $"{what} must succeed; its output:\n{result.Output}");
        }
    }
}
