using System;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Tests
{
    /// <summary>
    /// <see cref="GradientAverager"/> in one process: with one rank it leaves the gradients as they are, and it rejects
    /// parameters whose memory it cannot use, naming them. (Averaging over ranks: <see cref="DistributedTrainingTests"/>.)
    /// </summary>
    [Collection(ProcessCollection.Name)]
    public sealed class GradientAveragerTests
    {
        [Fact]
        public void OneRankLeavesTheGradientsBitwiseAsTheyAre()
        {
            using var mpi = MpiSession.Initialize();
            torch.manual_seed(3);
            using var model = nn.LSTM(2, 8, numLayers: 2); // any module: the package does not know DuRNN
            using var readout = nn.Linear(8, 1);
            using var averager = new GradientAverager(mpi, model, readout);
            using var scope = NewDisposeScope();
            var (outputs, _, _) = model.call(torch.rand(5, 3, 2));
            readout.call(outputs[-1]).sum().backward();
            var before = model.parameters().Concat(readout.parameters()).Select(p => p.grad!.clone()).ToList();

            averager.Average();

            var after = model.parameters().Concat(readout.parameters()).Select(p => p.grad!).ToList();
            after.Zip(before).Should().OnlyContain(pair => pair.First.Equals(pair.Second));
            averager.ParameterCount.Should().Be(10);
            averager.ElementCount.Should().Be(model.parameters().Concat(readout.parameters()).Sum(p => p.NumberOfElements));
            averager.Steps.Should().Be(1);
            averager.BucketCount.Should().Be(0, "one rank needs no all-reduce");
        }

        [Fact]
        public void ParametersThatDoNotRequireAGradientAreLeftOut()
        {
            using var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2);
            model.bias!.requires_grad = false;
            using var averager = new GradientAverager(mpi, model);
            averager.ParameterCount.Should().Be(1);
            averager.ElementCount.Should().Be(6);
        }

        [Fact]
        public void AHalfPrecisionParameterIsRejectedByName()
        {
            using var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2, dtype: ScalarType.Float16);
            var create = () => new GradientAverager(mpi, model);
            create.Should().Throw<ArgumentException>().WithMessage("*parameter 'weight' is Float16; only float32 and float64*");
        }

        [Fact]
        public void AParameterOffTheCpuIsRejectedByName()
        {
            using var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2, device: torch.META);
            var create = () => new GradientAverager(mpi, model);
            create.Should().Throw<ArgumentException>().WithMessage("*parameter 'weight' is on meta*move the module to the CPU*");
            mpi.Invoking(m => m.BroadcastParameters(model)).Should().Throw<ArgumentException>().WithMessage("*parameter 'weight' is on meta*");
        }

        [Fact]
        public void AModuleMovedToAnotherDtypeIsFollowed()
        {
            using var mpi = MpiSession.Initialize();
            using var model = nn.Linear(3, 2);
            using var averager = new GradientAverager(mpi, model);
            model.to(ScalarType.Float64);
            using var scope = NewDisposeScope();
            model.call(torch.ones(1, 3, dtype: ScalarType.Float64)).sum().backward();
            averager.Average();
            averager.ParameterCount.Should().Be(2);
        }

        [Fact]
        public void BadArgumentsAreNamed()
        {
            using var mpi = MpiSession.Initialize();
            var none = () => new GradientAverager(mpi);
            none.Should().Throw<ArgumentException>().WithMessage("*at least one module*");
            using var model = nn.Linear(3, 2);
            var noBucket = () => new GradientAverager(mpi, new[] { model }, bucketBytes: 0);
            noBucket.Should().Throw<ArgumentOutOfRangeException>();
            var averager = new GradientAverager(mpi, model);
            averager.Dispose();
            averager.Invoking(a => a.Average()).Should().Throw<ObjectDisposedException>().WithMessage("*after GradientAverager was disposed*");
        }
    }
}
