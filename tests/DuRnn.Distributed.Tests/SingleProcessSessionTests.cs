using System;
using System.Linq;
using DuRnn.Distributed.Native;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Tests
{
    /// <summary>
    /// <see cref="MpiSession"/> in this test process, which no launcher started: a single rank without MPI, whose
    /// collectives return their input; and the errors of bad use.
    /// </summary>
    [Collection(ProcessCollection.Name)]
    public sealed class SingleProcessSessionTests
    {
        [Fact]
        public void WithoutALauncherTheSessionIsRankZeroOfOneWithoutMpi()
        {
            using var mpi = MpiSession.Initialize();
            mpi.Rank.Should().Be(0);
            mpi.Size.Should().Be(1);
            mpi.IsRoot.Should().BeTrue();
            mpi.Implementation.Should().Be(MpiImplementation.None);
            mpi.Description.Should().Contain("single process without MPI");
        }

        [Fact]
        public void CollectivesOfOneRankReturnTheirInput()
        {
            using var mpi = MpiSession.Initialize();
            mpi.AllReduce(2.5, ReduceOperation.Mean).Should().Be(2.5);
            mpi.AllReduce(2.5, ReduceOperation.Sum).Should().Be(2.5);
            mpi.AllReduce(7L, ReduceOperation.Max).Should().Be(7L);
            Span<float> values = stackalloc float[] { 1f, -2f };
            mpi.AllReduce(values, ReduceOperation.Min);
            values.ToArray().Should().Equal(1f, -2f);
            using var t = torch.tensor(new[] { 1.0, 2.0, 3.0 });
            mpi.AllReduce(t, ReduceOperation.Mean);
            mpi.Broadcast(t);
            t.data<double>().ToArray().Should().Equal(1.0, 2.0, 3.0);
            mpi.Barrier();
        }

        [Fact]
        public void BroadcastParametersOfOneRankLeavesTheModuleAsItIs()
        {
            using var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2);
            using var before = model.weight!.detach().clone();
            mpi.BroadcastParameters(model);
            model.weight!.Equals(before).Should().BeTrue();
        }

        [Fact]
        public void ASecondSessionWhileOneIsLiveIsAnError()
        {
            using var mpi = MpiSession.Initialize();
            var second = () => MpiSession.Initialize();
            second.Should().Throw<InvalidOperationException>().WithMessage("*a session is already live in this process*");
        }

        [Fact]
        public void CallsAfterDisposeSayTheSessionWasDisposed()
        {
            var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2);
            using var averager = new GradientAverager(mpi, model);
            mpi.Dispose();
            mpi.IsDisposed.Should().BeTrue();
            // ObjectDisposedException is an InvalidOperationException.
            mpi.Invoking(m => m.Barrier()).Should().Throw<InvalidOperationException>()
                .WithMessage("*MpiSession.Barrier was called after the session was disposed*");
            mpi.Invoking(m => m.AllReduce(1.0, ReduceOperation.Sum)).Should().Throw<ObjectDisposedException>();
            mpi.Invoking(m => m.BroadcastParameters(model)).Should().Throw<ObjectDisposedException>();
            averager.Invoking(a => a.Average()).Should().Throw<ObjectDisposedException>().WithMessage("*after the session was disposed*");
            var late = () => new GradientAverager(mpi, model);
            late.Should().Throw<ObjectDisposedException>();
            mpi.Dispose(); // twice: nothing happens
            using var next = MpiSession.Initialize(); // without MPI a new session may follow
            next.Size.Should().Be(1);
        }

        [Fact]
        public void ALibraryThatDoesNotExistIsADllNotFoundExceptionNamingIt()
        {
            var start = () => MpiSession.Initialize("/nonexistent/libmpi.so.40");
            start.Should().Throw<DllNotFoundException>().WithMessage("*Could not load the MPI library '/nonexistent/libmpi.so.40' (given as the library argument)*cannot open shared object file*");
            using var mpi = MpiSession.Initialize(); // the failure left no session behind
            mpi.Size.Should().Be(1);
        }

        [Theory]
        [InlineData(MpiImplementation.OpenMpi, "apt-get install openmpi-bin libopenmpi-dev")]
        [InlineData(MpiImplementation.Mpich, "apt-get install mpich")]
        public void TheMessageForAMissingLibraryNamesTheDebianPackages(MpiImplementation implementation, string install)
        {
            var launcher = new MpiLauncher(implementation, 2, "PMI_SIZE=2");
            MpiLibrary.NotFoundMessage(implementation, launcher, new[] { "libx.so: cannot open shared object file" })
                .Should().Contain(install).And.Contain("started by").And.Contain("cannot open shared object file")
                .And.Contain(MpiSession.LibraryVariable);
        }

        [Fact]
        public void IntegerMeansAndUnsupportedTensorsAreArgumentErrors()
        {
            using var mpi = MpiSession.Initialize();
            mpi.Invoking(m => m.AllReduce(3L, ReduceOperation.Mean)).Should().Throw<ArgumentException>().WithMessage("*mean of integers*");
            using var ints = torch.ones(3, dtype: ScalarType.Int32);
            mpi.Invoking(m => m.AllReduce(ints, ReduceOperation.Sum)).Should().Throw<ArgumentException>().WithMessage("*Int32*");
            using var matrix = torch.ones(3, 4);
            using var transposed = matrix.t();
            mpi.Invoking(m => m.AllReduce(transposed, ReduceOperation.Sum)).Should().Throw<ArgumentException>().WithMessage("*not contiguous*");
            mpi.Invoking(m => m.Broadcast(matrix, root: 1)).Should().Throw<ArgumentOutOfRangeException>();
        }

        [Fact]
        public void LaunchersAreRecognisedByTheirVariables()
        {
            MpiLauncher.Detect(_ => null).Should().BeNull();
            MpiLauncher.Detect(n => n == "OMPI_COMM_WORLD_SIZE" ? "4" : null)
                .Should().Be(new MpiLauncher(MpiImplementation.OpenMpi, 4, "OMPI_COMM_WORLD_SIZE=4"));
            MpiLauncher.Detect(n => n switch { "PMI_RANK" => "1", "PMI_SIZE" => "2", _ => null })
                .Should().Be(new MpiLauncher(MpiImplementation.Mpich, 2, "PMI_SIZE=2"));
            MpiLauncher.Detect(n => n == "PMIX_RANK" ? "0" : null)!.Implementation.Should().Be(MpiImplementation.OpenMpi);
        }
    }
}
