using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Bad input gets a clear .NET exception that names the argument and the expected and actual shape, dtype or
    /// device — before any native call, so never a native crash and never a silent broadcast. One test per case.
    /// </summary>
    [Collection("Sequential")]
    public sealed class InputValidationTests
    {
        private const long T = 4, B = 2, I = 3, H = 5, S = 4, L = 2;

        private static DuRNN Model(bool batchFirst = false) => new DuRNN(I, H, L, shortTermSize: S, batchFirst: batchFirst);

        [Fact]
        public void WrongRank()
        {
            using var model = Model();
            var act = () => model.call(torch.randn(T, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*3-D (T, B, I)*I = 3*got shape (4, 3)*");
        }

        [Fact]
        public void WrongFeatureSize()
        {
            using var model = Model(batchFirst: true);
            var act = () => model.call(torch.randn(B, T, I + 1));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*(B, T, I) with I = 3*got shape (2, 4, 4)*");
        }

        [Fact]
        public void StateOfTheWrongShape()
        {
            using var model = Model();
            var state = new DuRNNState(torch.zeros(L, B + 1, S), torch.zeros(L, B, H));
            var act = () => model.call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName("state.ShortTerm").WithMessage("*shape (2, 2, 4)*got (2, 3, 4)*");
        }

        [Fact]
        public void StateOfTheWrongDType()
        {
            using var model = Model();
            var state = new DuRNNState(torch.zeros(L, B, S), torch.zeros(L, B, H, dtype: ScalarType.Float64));
            var act = () => model.call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName("state.LongTerm").WithMessage("*dtype Float32*got Float64*");
        }

        [Fact]
        public void StateOnTheWrongDevice()
        {
            using var model = Model();
            var meta = new Device(DeviceType.META);
            var state = new DuRNNState(torch.zeros(new[] { L, B, S }, device: meta), torch.zeros(L, B, H));
            var act = () => model.call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName("state.ShortTerm").WithMessage("*device cpu*got meta*");
        }

        [Fact]
        public void InputOnTheWrongDevice()
        {
            using var model = Model();
            var act = () => model.call(torch.zeros(new[] { T, B, I }, device: new Device(DeviceType.META)));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*device cpu*got meta*");
        }

        [Fact]
        public void NoTimeSteps()
        {
            using var model = Model();
            var act = () => model.call(torch.zeros(0, B, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one time step (T > 0)*(0, 2, 3)*");
        }

        [Fact]
        public void NoSequences()
        {
            using var model = Model();
            var act = () => model.call(torch.zeros(T, 0, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one sequence (B > 0)*(4, 0, 3)*");
        }

        [Fact]
        public void IntegerInput()
        {
            using var model = Model();
            var act = () => model.call(torch.zeros(new[] { T, B, I }, dtype: ScalarType.Int64));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Int64*");
        }

        public static IEnumerable<object[]> BadOptions() => new[]
        {
            new object[] { "rho", (Action)(() => new DuRNN(I, H, shortTermConstraint: ShortTermConstraint.SpectralNorm(1.0))) },
            new object[] { "rho", (Action)(() => new DuRNN(I, H, shortTermConstraint: ShortTermConstraint.SpectralNorm(0.0))) },
            new object[] { "bound", (Action)(() => new DuRNN(I, H, shortTermConstraint: ShortTermConstraint.Elementwise(-1))) },
            new object[] { "inputSize", (Action)(() => new DuRNN(0, H)) },
            new object[] { "hiddenSize", (Action)(() => new DuRNN(I, -3)) },
            new object[] { "shortTermSize", (Action)(() => new DuRNN(I, H, shortTermSize: 0)) },
            new object[] { "numLayers", (Action)(() => new DuRNN(I, H, numLayers: 0)) },
            new object[] { "mag", (Action)(() => new DuRNN(I, H, mag: 0)) },
            new object[] { "mag", (Action)(() => new DuRNN(I, H, mag: -2)) },
            new object[] { "maxSequenceLength", (Action)(() => new DuRNN(I, H, maxSequenceLength: 0)) },
            new object[] { "dropout", (Action)(() => new DuRNN(I, H, dropout: 1.0)) },
            new object[] { "dropout", (Action)(() => new DuRNN(I, H, dropout: -0.1)) },
            new object[] { "longTermInputWeightStd", (Action)(() => new DuRNN(I, H, longTermInputWeightStd: -1)) },
            new object[] { "dtype", (Action)(() => new DuRNN(I, H, dtype: ScalarType.Int32)) },
        };

        [Theory]
        [MemberData(nameof(BadOptions))]
        public void OptionsOutOfRange(string parameter, Action construct)
        {
            construct.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(parameter);
        }

        /// <summary>
        /// Every option is checked at the public constructor before anything is allocated: a bad option deep in the
        /// stack (mag, checked only by the long-term cell before) leaves no tensor behind.
        /// </summary>
        [Theory]
        [MemberData(nameof(BadOptions))]
        public void BadOptionsFailBeforeAnyTensorIsAllocated(string parameter, Action construct)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            construct.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(parameter);
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "no parameter was created for a stack that cannot be built");
        }

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
        public void DevicesAreTheSameWhenTypeAndGivenIndexAgree()
        {
            Check.SameDevice(torch.CPU, torch.zeros(1).device).Should().BeTrue();
            Check.SameDevice(torch.CPU, torch.META).Should().BeFalse();
            Check.SameDevice(new Device("cuda:0"), new Device("cuda")).Should().BeTrue("a device without an index matches any index");
            Check.SameDevice(new Device("cuda:0"), new Device("cuda:1")).Should().BeFalse();
            Check.SameDevice(new Device("cuda:1"), new Device("cuda:1")).Should().BeTrue("Device objects are compared by type and index, not by reference");
        }

        /// <summary>The fused kernels run float32 and float64 only; any other dtype is refused, never read as double.</summary>
        [Fact]
        public void FusedKernelsRefuseOtherDTypes()
        {
            using var c = torch.zeros(new[] { 3L, 2, 4 }, dtype: ScalarType.Float16);
            using var u = torch.zeros(new[] { 4L }, dtype: ScalarType.Float16);
            using var h0 = torch.zeros(new[] { 2L, 4 }, dtype: ScalarType.Float16);
            using var noGrad = torch.no_grad();
            var act = () => Fused.LongTermRecurrence.Run(c, u, h0, null);
            act.Should().Throw<NotSupportedException>().WithMessage("*float32 and float64*Float16*");
            using var w = torch.zeros(new[] { 4L, 4 }, dtype: ScalarType.Float16);
            var shortTerm = () => Fused.ShortTermRecurrence.Run(c, w, u, w, h0, ShortTermActivation.ReLU, null);
            shortTerm.Should().Throw<NotSupportedException>().WithMessage("*float32 and float64*Float16*");
        }

        [Fact]
        public void LoadingWeightsWithAMissingKeyNamesTheKey()
        {
            using var model = Model();
            var weights = model.state_dict().Where(kv => kv.Key != "layers.1.gate.bias").ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            var act = () => model.load_state_dict(weights);
            act.Should().Throw<ArgumentException>().WithMessage("*missing key 'layers.1.gate.bias' (4)*nothing was loaded*");
        }

        [Fact]
        public void LoadingWeightsOfADifferentShapeNamesTheKey()
        {
            using var model = Model();
            using var wider = new DuRNN(I, H + 1, L, shortTermSize: S);
            var act = () => model.load_state_dict(wider.state_dict());
            act.Should().Throw<ArgumentException>().WithMessage("*'layers.0.long_term.weight_ih' has shape (6, 4) in the state dict but (5, 4) in the module*");
        }

        [Fact]
        public void LoadingASavedFileOfADifferentShapeNamesTheKeyAndChangesNothing()
        {
            var path = Path.Combine(Path.GetTempPath(), $"durnn-{Guid.NewGuid():N}.bin");
            try
            {
                using var wider = new DuRNN(I, H, L, shortTermSize: S + 1);
                wider.save(path);
                using var model = Model();
                var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
                var act = () => model.load(path);
                act.Should().Throw<ArgumentException>().WithMessage("*'layers.0.short_term.weight_ih' has shape (5, 3) in the state dict but (4, 3) in the module*");
                foreach (var (key, value) in model.state_dict())
                    value.eq(before[key]).all().item<bool>().Should().BeTrue($"{key} must be unchanged after a failed load");
            }
            finally
            {
                File.Delete(path);
            }
        }

        /// <summary>
        /// NaN and Inf are not rejected (checking would cost a pass over the input and a device sync); like nn.LSTM,
        /// they propagate: outputs before the bad step stay finite, from it on the affected sequence turns NaN.
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void NaNInTheInputPropagatesFromItsStepOn(DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(31);
            using var model = Model();
            model.Implementation = implementation;
            ImplementationParityTests.Randomize(model);
            var x = torch.randn(T, B, I);
            x[2, 0, 1] = torch.tensor(float.NaN);
            var (y, state) = model.call(x);
            y[..2].isfinite().all().item<bool>().Should().BeTrue("steps before the NaN are unaffected");
            y[2.., 1].isfinite().all().item<bool>().Should().BeTrue("the other sequence is unaffected");
            y[2.., 0].isnan().any().item<bool>().Should().BeTrue("the NaN propagates into the sequence that holds it");
            state.LongTerm[.., 0].isnan().any().item<bool>().Should().BeTrue();
        }
    }
}
