using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.utils.rnn;

namespace DuRnn.Tests
{
    /// <summary>
    /// Bad input to either stack gets a clear .NET exception that names the argument and the expected and actual
    /// shape, dtype or device — before any native call, so never a native crash and never a silent broadcast. One test
    /// per case, each run for both stacks: the input, the initial state (each of its parts, under its own name), the
    /// lengths, a packed sequence, the constructor's options, checked loading, and NaN (which propagates). The
    /// DuRNN's own layer checks are in <see cref="DuRnnInputValidationTests"/>, the hint for lengths passed where an
    /// IndRNN's state goes in <see cref="IndRnnInputValidationTests"/>.
    /// </summary>
    [Collection("Sequential")]
    public sealed class InputValidationTests
    {
        private const long T = 4, B = 2, I = 3, H = 5, S = 4, L = 2;

        /// <summary>A float32 2-layer stack, I 3, H 5 (a DuRNN with S 4).</summary>
        private static StackUnderTest Model(StackKind kind, bool batchFirst = false, bool bidirectional = false) =>
            StackUnderTest.Create(kind, Spec(kind) with { BatchFirst = batchFirst, Bidirectional = bidirectional });

        private static StackSpec Spec(StackKind kind, long hiddenSize = H, long shortTermSize = S) =>
            kind == StackKind.DuRNN ? new StackSpec(I, hiddenSize, L) { ShortTermSize = shortTermSize } : new StackSpec(I, hiddenSize, L);

        /// <summary>A zero state of the right shape for <paramref name="model"/> with batch <paramref name="batch"/>.</summary>
        private static Tensor[] ZeroState(StackUnderTest model, long batch) =>
            model.StateSizes.Select(size => torch.zeros(model.Entries, batch, size)).ToArray();

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void WrongRank(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.randn(T, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*3-D (T, B, I)*I = 3*got shape (4, 3)*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void WrongFeatureSize(StackKind kind)
        {
            using var model = Model(kind, batchFirst: true);
            var act = () => model.Call(torch.randn(B, T, I + 1));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*(B, T, I) with I = 3*got shape (2, 4, 4)*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void NoTimeSteps(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.zeros(0, B, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one time step (T > 0)*(0, 2, 3)*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void NoSequences(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.zeros(T, 0, I));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*at least one sequence (B > 0)*(4, 0, 3)*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void IntegerInput(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.zeros(new[] { T, B, I }, dtype: ScalarType.Int64));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Int64*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void InputOfAnotherFloatingPointDType(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.zeros(new[] { T, B, I }, dtype: ScalarType.Float64));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Float64*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void InputOnTheWrongDevice(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call(torch.zeros(new[] { T, B, I }, device: new Device(DeviceType.META)));
            act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*device cpu*got meta*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void NullInput(StackKind kind)
        {
            using var model = Model(kind);
            var act = () => model.Call((Tensor)null!);
            act.Should().Throw<ArgumentNullException>().WithParameterName("input");
        }

        /// <summary>
        /// The first state part (a DuRNN's s, an IndRNN's h) with the wrong batch size, and with the entries of one
        /// direction where a bidirectional stack needs numLayers·2.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void StateOfTheWrongShape(StackKind kind)
        {
            using var model = Model(kind);
            long size = model.StateSizes[0];
            var state = ZeroState(model, B);
            state[0] = torch.zeros(L, B + 1, size);
            var act = () => model.Call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName(model.StateNames[0])
                .WithMessage($"*shape ({L}, {B}, {size})*got ({L}, {B + 1}, {size})*");

            using var bidirectional = Model(kind, bidirectional: true);
            var oneDirection = ZeroState(bidirectional, B);
            oneDirection[0] = torch.zeros(L, B, size);
            var x = torch.randn(T, B, I);
            FluentActions.Invoking(() => bidirectional.Call(x, oneDirection))
                .Should().Throw<ArgumentException>().WithParameterName(model.StateNames[0])
                .WithMessage($"*shape ({2 * L}, {B}, {size})*got ({L}, {B}, {size})*", "a bidirectional stack needs numLayers·2 entries");
        }

        /// <summary>The last state part (h) in float64 for a float32 stack.</summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void StateOfTheWrongDType(StackKind kind)
        {
            using var model = Model(kind);
            var state = ZeroState(model, B);
            state[^1] = torch.zeros(L, B, H, dtype: ScalarType.Float64);
            var act = () => model.Call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName(model.StateNames[^1]).WithMessage("*dtype Float32*got Float64*");
        }

        /// <summary>The first state part on the meta device.</summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void StateOnTheWrongDevice(StackKind kind)
        {
            using var model = Model(kind);
            var meta = new Device(DeviceType.META);
            var state = ZeroState(model, B);
            state[0] = torch.zeros(new[] { L, B, model.StateSizes[0] }, device: meta);
            var act = () => model.Call(torch.randn(T, B, I), state);
            act.Should().Throw<ArgumentException>().WithParameterName(model.StateNames[0]).WithMessage("*device cpu*got meta*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void BadLengths(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, bidirectional: true);
            var x = torch.randn(6, 3, I);

            FluentActions.Invoking(() => model.Call(x, torch.tensor(new[] { 6, 2, 3 }), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*Int64*Int32*");
            FluentActions.Invoking(() => model.Call(x, torch.tensor(new long[] { 6, 2 }), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*1-D of shape (3)*got shape (2)*");
            FluentActions.Invoking(() => model.Call(x, torch.tensor(new long[] { 6, 2, 3 }).reshape(3, 1), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*1-D of shape (3)*got shape (3, 1)*");
            FluentActions.Invoking(() => model.Call(x, new long[] { 6, 0, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lengths").WithMessage("*lengths[1] = 0*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.Call(x, new long[] { 6, 7, 3 }))
                .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lengths").WithMessage("*lengths[1] = 7*[1, T] with T = 6*");
            FluentActions.Invoking(() => model.Call(x, torch.empty(3, dtype: ScalarType.Int64, device: torch.META), null))
                .Should().Throw<ArgumentException>().WithParameterName("lengths").WithMessage("*CPU*meta*");
            FluentActions.Invoking(() => model.Call(x, (Tensor)null!, null))
                .Should().Throw<ArgumentNullException>().WithParameterName("lengths");
            FluentActions.Invoking(() => model.Call(x, (long[])null!))
                .Should().Throw<ArgumentNullException>().WithParameterName("lengths");
            // A state for one direction only: the bidirectional stack needs numLayers·2 entries.
            var oneDirection = model.StateSizes.Select(size => torch.zeros(L, 3, size)).ToArray();
            long first = model.StateSizes[0];
            FluentActions.Invoking(() => model.Call(x, new long[] { 6, 2, 3 }, oneDirection))
                .Should().Throw<ArgumentException>().WithParameterName(model.StateNames[0])
                .WithMessage($"*{model.StateNames[0]}*({2 * L}, 3, {first})*({L}, 3, {first})*");
        }

        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void PackedSequenceOfTheWrongFeatureSizeOrDType(StackKind kind)
        {
            using var model = Model(kind);
            var lengths = torch.tensor(new long[] { 4, 2 });
            var wrongFeatures = pack_padded_sequence(torch.randn(T, B, I + 2), lengths);
            FluentActions.Invoking(() => model.Call(wrongFeatures))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*(Σ lengths, I) with I = 3*got shape (6, 5)*");
            var wrongDType = pack_padded_sequence(torch.randn(T, B, I, dtype: ScalarType.Float64), lengths);
            FluentActions.Invoking(() => model.Call(wrongDType))
                .Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*dtype Float32*got Float64*");
            var packed = pack_padded_sequence(torch.randn(T, B, I), lengths);
            var threeSequences = ZeroState(model, 3);
            long first = model.StateSizes[0];
            FluentActions.Invoking(() => model.Call(packed, threeSequences))
                .Should().Throw<ArgumentException>().WithParameterName(model.StateNames[0]).WithMessage($"*({L}, 2, {first})*got ({L}, 3, {first})*");
        }

        /// <summary>Bad constructor options by case name: the parameter the exception must name, and the construction.</summary>
        private static readonly Dictionary<string, (string parameter, Func<StackKind, StackUnderTest> construct)> Options = new()
        {
            ["inputSize = 0"] = ("inputSize", k => StackUnderTest.Create(k, new StackSpec(0, H))),
            ["hiddenSize = -3"] = ("hiddenSize", k => StackUnderTest.Create(k, new StackSpec(I, -3))),
            ["numLayers = 0"] = ("numLayers", k => StackUnderTest.Create(k, new StackSpec(I, H, 0))),
            ["mag = 0"] = ("mag", k => StackUnderTest.Create(k, new StackSpec(I, H) { Mag = 0 })),
            ["mag = -2"] = ("mag", k => StackUnderTest.Create(k, new StackSpec(I, H) { Mag = -2 })),
            ["mag = NaN"] = ("mag", k => StackUnderTest.Create(k, new StackSpec(I, H) { Mag = double.NaN })),
            ["maxSequenceLength = 0"] = ("maxSequenceLength", k => StackUnderTest.Create(k, new StackSpec(I, H) { MaxSequenceLength = 0 })),
            ["dropout = 1"] = ("dropout", k => StackUnderTest.Create(k, new StackSpec(I, H) { Dropout = 1.0 })),
            ["dropout = -0.1"] = ("dropout", k => StackUnderTest.Create(k, new StackSpec(I, H) { Dropout = -0.1 })),
            ["longTermInputWeightStd = -1"] = ("longTermInputWeightStd", k => StackUnderTest.Create(k, new StackSpec(I, H) { LongTermInputWeightStd = -1 })),
            ["longTermInputWeightStd = +inf"] = ("longTermInputWeightStd",
                k => StackUnderTest.Create(k, new StackSpec(I, H) { LongTermInputWeightStd = double.PositiveInfinity })),
            ["dtype = Int32"] = ("dtype", k => StackUnderTest.Create(k, new StackSpec(I, H) { DType = ScalarType.Int32 })),
            // DuRNN only: the short-term cells' options.
            ["rho = 1"] = ("rho", k => StackUnderTest.Create(k, new StackSpec(I, H) { ShortTermConstraint = ShortTermConstraint.SpectralNorm(1.0) })),
            ["rho = 0"] = ("rho", k => StackUnderTest.Create(k, new StackSpec(I, H) { ShortTermConstraint = ShortTermConstraint.SpectralNorm(0.0) })),
            ["bound = -1"] = ("bound", k => StackUnderTest.Create(k, new StackSpec(I, H) { ShortTermConstraint = ShortTermConstraint.Elementwise(-1) })),
            ["shortTermSize = 0"] = ("shortTermSize", k => StackUnderTest.Create(k, new StackSpec(I, H) { ShortTermSize = 0 })),
        };

        private static readonly string[] DuRnnOnlyOptions = { "rho = 1", "rho = 0", "bound = -1", "shortTermSize = 0" };

        public static IEnumerable<object[]> BadOptions() =>
            from kind in TestData.Kinds
            from option in Options.Keys
            where kind == StackKind.DuRNN || !DuRnnOnlyOptions.Contains(option)
            select new object[] { kind, option };

        /// <summary>
        /// Every option is checked at the public constructor before anything is allocated: a bad option deep in the
        /// stack (mag, checked only by the long-term cell before) leaves no tensor behind.
        /// </summary>
        [Theory]
        [MemberData(nameof(BadOptions))]
        public void BadOptionsFailBeforeAnyTensorIsAllocated(StackKind kind, string option)
        {
            var (parameter, construct) = Options[option];
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            FluentActions.Invoking(() => construct(kind)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(parameter);
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "no parameter was created for a stack that cannot be built");
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

        /// <summary>A key of layer 1 left out: the message names it with its shape, and nothing is loaded.</summary>
        [Theory]
        [InlineData(StackKind.DuRNN, "layers.1.gate.bias", "*missing key 'layers.1.gate.bias' (4)*nothing was loaded*")]
        [InlineData(StackKind.IndRNN, "layers.1.bias_ih", "*missing key 'layers.1.bias_ih' (5)*nothing was loaded*")]
        public void LoadingWeightsWithAMissingKeyNamesTheKey(StackKind kind, string key, string message)
        {
            using var model = Model(kind);
            var weights = model.state_dict().Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            weights.Should().HaveCount(model.state_dict().Count - 1, "the key exists in the module");
            var act = () => model.Module.load_state_dict(weights);
            act.Should().Throw<ArgumentException>().WithMessage(message);
        }

        /// <summary>Weights of a stack with H + 1: the message names the first key whose shape differs.</summary>
        [Theory]
        [InlineData(StackKind.DuRNN, "*'layers.0.long_term.weight_ih' has shape (6, 4) in the state dict but (5, 4) in the module*")]
        [InlineData(StackKind.IndRNN, "*'layers.0.weight_ih' has shape (6, 3) in the state dict but (5, 3) in the module*")]
        public void LoadingWeightsOfADifferentShapeNamesTheKey(StackKind kind, string message)
        {
            using var model = Model(kind);
            using var wider = StackUnderTest.Create(kind, Spec(kind, hiddenSize: H + 1));
            var act = () => model.Module.load_state_dict(wider.state_dict());
            act.Should().Throw<ArgumentException>().WithMessage(message);
        }

        /// <summary>A saved file of a wider stack (a DuRNN with S + 1, an IndRNN with H + 1): the load fails naming the key and changes nothing.</summary>
        [Theory]
        [InlineData(StackKind.DuRNN, "*'layers.0.short_term.weight_ih' has shape (5, 3) in the saved module but (4, 3) in this module*nothing was loaded*")]
        [InlineData(StackKind.IndRNN, "*'layers.0.weight_ih' has shape (6, 3) in the saved module but (5, 3) in this module*nothing was loaded*")]
        public void LoadingASavedFileOfADifferentShapeNamesTheKeyAndChangesNothing(StackKind kind, string message)
        {
            var path = Path.Combine(Path.GetTempPath(), $"durnn-{Guid.NewGuid():N}.bin");
            try
            {
                using var wider = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? Spec(kind, shortTermSize: S + 1) : Spec(kind, hiddenSize: H + 1));
                wider.Module.save(path);
                using var model = Model(kind);
                var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
                var act = () => model.Module.load(path);
                act.Should().Throw<ArgumentException>().WithMessage(message);
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
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void NaNInTheInputPropagatesFromItsStepOn(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(31);
            using var model = Model(kind);
            model.Implementation = implementation;
            model.Randomize();
            var x = torch.randn(T, B, I);
            x[2, 0, 1] = torch.tensor(float.NaN);
            var (y, state) = model.Call(x);
            y[..2].isfinite().all().item<bool>().Should().BeTrue("steps before the NaN are unaffected");
            y[2.., 1].isfinite().all().item<bool>().Should().BeTrue("the other sequence is unaffected");
            y[2.., 0].isnan().any().item<bool>().Should().BeTrue("the NaN propagates into the sequence that holds it");
            state[^1][.., 0].isnan().any().item<bool>().Should().BeTrue("the final h of that sequence is NaN too");
        }
    }
}
