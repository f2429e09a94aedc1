using System;
using System.Collections.Generic;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.utils.rnn;

namespace DuRnn.Tests
{
    /// <summary>
    /// Bad input to <see cref="IndRNN"/> gets a clear .NET exception that names the argument and the expected and
    /// actual shape, dtype or device, before any native call (as <see cref="InputValidationTests"/> checks for DuRNN).
    /// </summary>
    [Collection("Sequential")]
    public sealed class IndRnnInputValidationTests
    {
        private const long T = 4, B = 2, I = 3, H = 5, L = 2;

        private static IndRNN Model(bool batchFirst = false, bool bidirectional = false) =>
            new(I, H, L, batchFirst: batchFirst, bidirectional: bidirectional);

        [Fact]
        public void WrongRank()
        {
            using var model = Model();
            FluentActions.Invoking(() => model.call(torch.randn(T, I)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*3-D (T, B, I)*I = 3*got shape (4, 3)*");
        }

        [Fact]
        public void WrongFeatureSize()
        {
            using var model = Model(batchFirst: true);
            FluentActions.Invoking(() => model.call(torch.randn(B, T, I + 1)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*(B, T, I) with I = 3*got shape (2, 4, 4)*");
        }

        [Fact]
        public void NoTimeStepsOrNoSequences()
        {
            using var model = Model();
            FluentActions.Invoking(() => model.call(torch.zeros(0, B, I)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one time step (T > 0)*(0, 2, 3)*");
            FluentActions.Invoking(() => model.call(torch.zeros(T, 0, I)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one sequence (B > 0)*(4, 0, 3)*");
        }

        [Fact]
        public void InputOfAnotherDTypeOrDevice()
        {
            using var model = Model();
            FluentActions.Invoking(() => model.call(torch.zeros(new[] { T, B, I }, dtype: ScalarType.Int64)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Int64*");
            FluentActions.Invoking(() => model.call(torch.zeros(new[] { T, B, I }, dtype: ScalarType.Float64)))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Float64*");
            FluentActions.Invoking(() => model.call(torch.zeros(new[] { T, B, I }, device: new Device(DeviceType.META))))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*device cpu*got meta*");
            FluentActions.Invoking(() => model.call((Tensor)null!))
                .Should().Throw<ArgumentNullException>().WithParameterName("input");
        }

        [Fact]
        public void InitialStateOfTheWrongShapeDTypeOrDevice()
        {
            using var model = Model(bidirectional: true);
            var x = torch.randn(T, B, I);
            FluentActions.Invoking(() => model.call(x, torch.zeros(L, B, H)))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*shape (4, 2, 5)*got (2, 2, 5)*", "a bidirectional stack needs numLayers·2 entries");
            FluentActions.Invoking(() => model.call(x, torch.zeros(2 * L, B, H, dtype: ScalarType.Float64)))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*dtype Float32*got Float64*");
            FluentActions.Invoking(() => model.call(x, torch.zeros(new[] { 2 * L, B, H }, device: new Device(DeviceType.META))))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*device cpu*got meta*");
        }

        [Fact]
        public void LengthsPassedWhereTheStateGoesGetAHint()
        {
            using var model = Model();
            FluentActions.Invoking(() => model.call(torch.randn(T, B, I), torch.tensor(new long[] { 4, 2 })))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*(2, 2, 5)*1-D int64*call(input, lengths, state)*");
        }

        [Fact]
        public void BadLengths()
        {
            using var model = Model(bidirectional: true);
            var x = torch.randn(6, 3, I);
            FluentActions.Invoking(() => model.call(x, torch.tensor(new[] { 6, 2, 3 }), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*Int64*Int32*");
            FluentActions.Invoking(() => model.call(x, torch.tensor(new long[] { 6, 2 }), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*1-D of shape (3)*got shape (2)*");
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 0, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lengths").WithMessage("*lengths[1] = 0*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 7, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lengths").WithMessage("*lengths[1] = 7*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.call(x, torch.empty(3, dtype: ScalarType.Int64, device: torch.META), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*CPU*meta*");
            FluentActions.Invoking(() => model.call(x, (long[])null!))
                .Should().Throw<ArgumentNullException>().WithParameterName("lengths");
            FluentActions.Invoking(() => model.call(x, new long[] { 6, 2, 3 }, torch.zeros(L, 3, H)))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*(4, 3, 5)*(2, 3, 5)*");
        }

        [Fact]
        public void PackedSequenceOfTheWrongFeatureSizeOrDType()
        {
            using var model = Model();
            var lengths = torch.tensor(new long[] { 4, 2 });
            var wrongFeatures = pack_padded_sequence(torch.randn(T, B, I + 2), lengths);
            FluentActions.Invoking(() => model.call(wrongFeatures))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*(Σ lengths, I) with I = 3*got shape (6, 5)*");
            var wrongDType = pack_padded_sequence(torch.randn(T, B, I, dtype: ScalarType.Float64), lengths);
            FluentActions.Invoking(() => model.call(wrongDType))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Float64*");
            var packed = pack_padded_sequence(torch.randn(T, B, I), lengths);
            FluentActions.Invoking(() => model.call(packed, torch.zeros(L, 3, H)))
                .Should().Throw<ArgumentException>().WithParameterName("h0").WithMessage("*(2, 2, 5)*got (2, 3, 5)*");
        }

        public static IEnumerable<object[]> BadOptions() => new[]
        {
            new object[] { "inputSize", (Action)(() => new IndRNN(0, H)) },
            new object[] { "hiddenSize", (Action)(() => new IndRNN(I, -3)) },
            new object[] { "numLayers", (Action)(() => new IndRNN(I, H, numLayers: 0)) },
            new object[] { "mag", (Action)(() => new IndRNN(I, H, mag: 0)) },
            new object[] { "mag", (Action)(() => new IndRNN(I, H, mag: double.NaN)) },
            new object[] { "maxSequenceLength", (Action)(() => new IndRNN(I, H, maxSequenceLength: 0)) },
            new object[] { "dropout", (Action)(() => new IndRNN(I, H, dropout: 1.0)) },
            new object[] { "dropout", (Action)(() => new IndRNN(I, H, dropout: -0.1)) },
            new object[] { "longTermInputWeightStd", (Action)(() => new IndRNN(I, H, longTermInputWeightStd: -1)) },
            new object[] { "longTermInputWeightStd", (Action)(() => new IndRNN(I, H, longTermInputWeightStd: double.PositiveInfinity)) },
            new object[] { "dtype", (Action)(() => new IndRNN(I, H, dtype: ScalarType.Int32)) },
        };

        [Theory]
        [MemberData(nameof(BadOptions))]
        public void OptionsOutOfRange(string parameter, Action construct)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            construct.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(parameter);
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "every option is checked before anything is allocated");
        }
    }
}
