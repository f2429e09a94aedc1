using System;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// The input checks of a stand-alone <see cref="DuRNNLayer"/>: its options before anything is allocated, the same
    /// messages as the stack's for a bad input, and its lengths. (What both stacks check is in
    /// <see cref="InputValidationTests"/>.)
    /// </summary>
    [Collection("Sequential")]
    public sealed class DuRnnInputValidationTests
    {
        private const long T = 4, B = 2, I = 3, H = 5;

        [Fact]
        public void ALayerChecksItsOptionsBeforeAllocatingToo()
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var act = () => new DuRNNLayer(I, H, mag: -1);
            act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("mag");
            var std = () => new DuRNNLayer(I, H, longTermInputWeightStd: double.NaN);
            std.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("longTermInputWeightStd");
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
        }

        /// <summary>One device rule and one input check: the stack and a single layer reject the same input alike.</summary>
        [Fact]
        public void TheStackAndALayerRejectABadInputWithTheSameMessage()
        {
            using var stack = new DuRNN(I, H);
            using var layer = new DuRNNLayer(I, H);
            foreach (var input in new[] { torch.zeros(new[] { T, B, I }, device: torch.META), torch.zeros(T, B, I + 1), torch.zeros(new[] { T, B, I }, dtype: ScalarType.Float64) })
            {
                var fromStack = ((Action)(() => stack.call(input))).Should().Throw<ArgumentException>().Which;
                var fromLayer = ((Action)(() => layer.call(input, null, null))).Should().Throw<ArgumentException>().Which;
                fromLayer.Message.Should().Be(fromStack.Message);
                fromLayer.ParamName.Should().Be("input");
            }
        }

        [Fact]
        public void ALayerChecksItsLengths()
        {
            using var scope = torch.NewDisposeScope();
            using var layer = new DuRNNLayer(I, H);
            var x = torch.randn(6, 3, I);
            FluentActions.Invoking(() => layer.call(x, null, null, torch.tensor(new long[] { 1, 2, 9 })))
                .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "lengths").WithMessage("*lengths[2] = 9*T = 6*");
        }
    }
}
