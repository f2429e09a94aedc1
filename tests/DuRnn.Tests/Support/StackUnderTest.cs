using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using static TorchSharp.torch;
using PackedSequence = TorchSharp.torch.nn.utils.rnn.PackedSequence;

namespace DuRnn.Tests
{
    /// <summary>
    /// Which of the library's two stacks (<see cref="RecurrentStack{TLayer, TState}"/>) a shared test runs: the tests of
    /// a contract both stacks share are theories over this, with one body for both (<see cref="StackUnderTest"/>).
    /// </summary>
    public enum StackKind
    {
        /// <summary><see cref="DuRnn.DuRNN"/>: layers of <see cref="DuRNNLayer"/>, state (s, h).</summary>
        DuRNN,

        /// <summary><see cref="DuRnn.IndRNN"/>: layers of <see cref="LongTermCell"/>, state h.</summary>
        IndRNN,
    }

    /// <summary>
    /// The options of a stack of either kind, named as the constructors name them. The DuRNN-only options
    /// (<see cref="ShortTermSize"/>, <see cref="Activation"/>, <see cref="ShortTermConstraint"/>) must keep their
    /// defaults for an IndRNN; <see cref="LongTermInputWeightStd"/> left unset means each constructor's own default
    /// (null for DuRNN, 0.001 for IndRNN).
    /// </summary>
    public sealed record StackSpec(long InputSize, long HiddenSize, long NumLayers = 1)
    {
        private readonly double? longTermInputWeightStd;

        /// <summary>S (DuRNN only); null: S = H.</summary>
        public long? ShortTermSize { get; init; }

        /// <summary>φ of the short-term cells (DuRNN only).</summary>
        public ShortTermActivation Activation { get; init; } = ShortTermActivation.ReLU;

        /// <summary>The constraint on U_s (DuRNN only); null: the default.</summary>
        public ShortTermConstraint? ShortTermConstraint { get; init; }

        public double Mag { get; init; } = 2.0;
        public long? MaxSequenceLength { get; init; }
        public bool LongMemoryLastLayer { get; init; }
        public bool BatchNorm { get; init; }
        public bool Residual { get; init; }
        public bool BatchFirst { get; init; }
        public double Dropout { get; init; }
        public bool Bidirectional { get; init; }

        /// <summary>σ of the long-term input weights, passed to the constructor only when set.</summary>
        public double? LongTermInputWeightStd
        {
            get => longTermInputWeightStd;
            init { longTermInputWeightStd = value; HasLongTermInputWeightStd = true; }
        }

        /// <summary>Whether <see cref="LongTermInputWeightStd"/> was set (else the constructor's default applies).</summary>
        public bool HasLongTermInputWeightStd { get; private init; }

        public Device? Device { get; init; }
        public ScalarType? DType { get; init; }

        /// <summary>Throws when a DuRNN-only option is set for an IndRNN (a shared test must not ask for what one kind lacks).</summary>
        internal void CheckFor(StackKind kind)
        {
            if (kind == StackKind.IndRNN && (ShortTermSize is not null || Activation != ShortTermActivation.ReLU || ShortTermConstraint is not null))
                throw new InvalidOperationException("shortTermSize, activation and shortTermConstraint are DuRNN options.");
        }
    }

    /// <summary>
    /// A <see cref="DuRnn.DuRNN"/> or an <see cref="DuRnn.IndRNN"/> seen through one interface, so that one test body runs
    /// for both: built from the same <see cref="StackSpec"/>, called with the state as its parts (DuRNN: [s, h]; IndRNN:
    /// [h]), each part (numLayers·D, B, size) as the stacks lay it out. Every call goes to the stack's own public
    /// overload (state, lengths as a tensor or an array, packed), so the shared tests test the public API.
    /// </summary>
    public sealed class StackUnderTest : IDisposable
    {
        private StackUnderTest(StackKind kind, torch.nn.Module module)
        {
            Kind = kind;
            Module = module;
        }

        /// <summary>Builds a stack of <paramref name="kind"/> with its constructor.</summary>
        public static StackUnderTest Create(StackKind kind, StackSpec spec)
        {
            spec.CheckFor(kind);
            var s = spec;
            return kind switch
            {
                StackKind.DuRNN => new(kind, new DuRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.ShortTermSize, s.Activation,
                    s.ShortTermConstraint, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer, s.BatchNorm, s.Residual, s.BatchFirst,
                    s.Dropout, s.Bidirectional, s.LongTermInputWeightStd, s.Device, s.DType)),
                StackKind.IndRNN => new(kind, s.HasLongTermInputWeightStd
                    ? new IndRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer,
                        s.BatchNorm, s.Residual, s.BatchFirst, s.Dropout, s.Bidirectional, s.LongTermInputWeightStd, s.Device, s.DType)
                    : new IndRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer,
                        s.BatchNorm, s.Residual, s.BatchFirst, s.Dropout, s.Bidirectional, device: s.Device, dtype: s.DType)),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }

        /// <summary>Builds a stack of <paramref name="kind"/> with its factory function (<see cref="Recurrent"/>).</summary>
        public static StackUnderTest CreateWithFactory(StackKind kind, StackSpec spec)
        {
            spec.CheckFor(kind);
            var s = spec;
            return kind switch
            {
                StackKind.DuRNN => new(kind, Recurrent.DuRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.ShortTermSize, s.Activation,
                    s.ShortTermConstraint, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer, s.BatchNorm, s.Residual, s.BatchFirst,
                    s.Dropout, s.Bidirectional, s.LongTermInputWeightStd, s.Device, s.DType)),
                StackKind.IndRNN => new(kind, s.HasLongTermInputWeightStd
                    ? Recurrent.IndRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer,
                        s.BatchNorm, s.Residual, s.BatchFirst, s.Dropout, s.Bidirectional, s.LongTermInputWeightStd, s.Device, s.DType)
                    : Recurrent.IndRNN(s.InputSize, s.HiddenSize, s.NumLayers, s.Mag, s.MaxSequenceLength, s.LongMemoryLastLayer,
                        s.BatchNorm, s.Residual, s.BatchFirst, s.Dropout, s.Bidirectional, device: s.Device, dtype: s.DType)),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }

        /// <summary>Which stack this is.</summary>
        public StackKind Kind { get; }

        /// <summary>The stack itself (a <see cref="DuRnn.DuRNN"/> or an <see cref="DuRnn.IndRNN"/>).</summary>
        public torch.nn.Module Module { get; }

        /// <summary>What both stacks offer alike.</summary>
        public IRecurrentStack Stack => (IRecurrentStack)Module;

        private DuRNN? DuRnn => Module as DuRNN;
        private IndRNN? IndRnn => Module as IndRNN;
        private T Either<T>(Func<DuRNN, T> duRnn, Func<IndRNN, T> indRnn) => DuRnn is { } d ? duRnn(d) : indRnn(IndRnn!);

        public long InputSize => Stack.InputSize;
        public long HiddenSize => Stack.HiddenSize;
        public long NumLayers => Stack.NumLayers;
        public long OutputSize => Stack.OutputSize;
        public bool Bidirectional => Stack.Bidirectional;
        public bool BatchFirst => Stack.BatchFirst;
        public bool BatchNorm => Either(d => d.BatchNorm, i => i.BatchNorm);
        public double Dropout => Either(d => d.Dropout, i => i.Dropout);
        public long? MaxSequenceLength => Either(d => d.MaxSequenceLength, i => i.MaxSequenceLength);
        public double? LongTermInputWeightStd => Either(d => d.LongTermInputWeightStd, i => i.LongTermInputWeightStd);
        public double RecurrentBound => Either(d => d.RecurrentBound, i => i.RecurrentBound);

        /// <summary>φ of a DuRNN's short-term cells; null for an IndRNN, which has none.</summary>
        public ShortTermActivation? Activation => DuRnn?.Activation;

        /// <summary>D: 2 when bidirectional, else 1.</summary>
        public long Directions => Bidirectional ? 2 : 1;

        /// <summary>numLayers·D, the first dimension of every state part.</summary>
        public long Entries => NumLayers * Directions;

        public DuRNNImplementation Implementation
        {
            get => Stack.Implementation;
            set => Stack.Implementation = value;
        }

        /// <summary>The size (last dimension) of every state part: DuRNN [S, H], IndRNN [H].</summary>
        public IReadOnlyList<long> StateSizes => Either<IReadOnlyList<long>>(d => new[] { d.ShortTermSize, d.HiddenSize }, i => new[] { i.HiddenSize });

        /// <summary>The parameter name the stack's checks give every state part: DuRNN "state.ShortTerm", "state.LongTerm"; IndRNN "h0".</summary>
        public IReadOnlyList<string> StateNames => Kind == StackKind.DuRNN ? new[] { "state.ShortTerm", "state.LongTerm" } : new[] { "h0" };

        /// <summary>Short names of the state parts for messages: DuRNN "s", "h"; IndRNN "h".</summary>
        public IReadOnlyList<string> StateLabels => Kind == StackKind.DuRNN ? new[] { "s", "h" } : new[] { "h" };

        /// <summary>The number of parameters of one layer of one direction: DuRNN 9, IndRNN 3.</summary>
        public int LayerParameterCount => Kind == StackKind.DuRNN ? 9 : 3;

        /// <summary>The layers, first to last (forward direction).</summary>
        public IReadOnlyList<torch.nn.Module> Layers => Either<IReadOnlyList<torch.nn.Module>>(d => d.Layers.ToList<torch.nn.Module>(), i => i.Layers.ToList<torch.nn.Module>());

        /// <summary>The backward direction's layers; empty unless bidirectional.</summary>
        public IReadOnlyList<torch.nn.Module> ReverseLayers => Either<IReadOnlyList<torch.nn.Module>>(d => d.ReverseLayers.ToList<torch.nn.Module>(), i => i.ReverseLayers.ToList<torch.nn.Module>());

        /// <summary>Every layer's long-term cell (u, W, b): the forward direction's, then the backward one's.</summary>
        public IReadOnlyList<LongTermCell> LongTermCells => Either<IReadOnlyList<LongTermCell>>(
            d => d.Layers.Concat(d.ReverseLayers).Select(l => l.LongTerm).ToList(),
            i => i.Layers.Concat(i.ReverseLayers).ToList());

        /// <summary><c>call(input, state)</c>.</summary>
        public (Tensor output, Tensor[] state) Call(Tensor input, Tensor[]? state = null) => Either(
            d => Parts(d.call(input, ToDuRnn(state))),
            i => Parts(i.call(input, ToIndRnn(state))));

        /// <summary><c>call(input, lengths, state)</c> with the lengths as a tensor.</summary>
        public (Tensor output, Tensor[] state) Call(Tensor input, Tensor lengths, Tensor[]? state) => Either(
            d => Parts(d.call(input, lengths, ToDuRnn(state))),
            i => Parts(i.call(input, lengths, ToIndRnn(state))));

        /// <summary><c>call(input, lengths, state)</c> with the lengths as an array.</summary>
        public (Tensor output, Tensor[] state) Call(Tensor input, long[] lengths, Tensor[]? state = null) => Either(
            d => Parts(d.call(input, lengths, ToDuRnn(state))),
            i => Parts(i.call(input, lengths, ToIndRnn(state))));

        /// <summary><c>call(packed, state)</c>.</summary>
        public (PackedSequence output, Tensor[] state) Call(PackedSequence input, Tensor[]? state = null) => Either(
            d => { var (y, s) = d.call(input, ToDuRnn(state)); return (y, new[] { s.ShortTerm, s.LongTerm }); },
            i => { var (y, h) = i.call(input, ToIndRnn(state)); return (y, new[] { h }); });

        private static DuRNNState? ToDuRnn(Tensor[]? parts)
        {
            if (parts is null) return null;
            parts.Should().HaveCount(2, "a DuRNN state has two parts (s, h)");
            return new DuRNNState(parts[0], parts[1]);
        }

        private static Tensor? ToIndRnn(Tensor[]? parts)
        {
            if (parts is null) return null;
            parts.Should().HaveCount(1, "an IndRNN state has one part (h)");
            return parts[0];
        }

        private static (Tensor, Tensor[]) Parts((Tensor output, DuRNNState state) result) =>
            (result.output, new[] { result.state.ShortTerm, result.state.LongTerm });

        private static (Tensor, Tensor[]) Parts((Tensor output, Tensor state) result) => (result.output, new[] { result.state });

        /// <summary>
        /// A one-direction, one-layer module holding the weights found under <paramref name="prefix"/> (e.g.
        /// <c>layers_reverse.0.</c>) in this stack: a <see cref="DuRNNLayer"/> for a DuRNN, a one-layer IndRNN for an IndRNN.
        /// It is called time-first with the state parts of that one layer and direction, each (B, size), and returns the
        /// output and the final parts, each (B, size).
        /// </summary>
        public Func<Tensor, Tensor[]?, (Tensor output, Tensor[] state)> SeparateLayer(string prefix, long inputSize)
        {
            var weights = Module.state_dict().Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key.Substring(prefix.Length), kv => kv.Value);
            weights.Should().HaveCount(LayerParameterCount, $"a layer has {LayerParameterCount} parameters under {prefix}");
            var dtype = Module.parameters().First().dtype;
            var implementation = Implementation;
            if (DuRnn is { } d)
            {
                var layer = new DuRNNLayer(inputSize, d.HiddenSize, d.ShortTermSize, d.Activation, dtype: dtype) { Implementation = implementation };
                layer.load_state_dict(weights);
                return (x, state) =>
                {
                    var (y, s, h) = layer.call(x, state?[0], state?[1]);
                    return (y, new[] { s, h });
                };
            }
            var single = new IndRNN(inputSize, HiddenSize, dtype: dtype) { Implementation = implementation };
            single.load_state_dict(weights.ToDictionary(kv => "layers.0." + kv.Key, kv => kv.Value));
            return (x, state) =>
            {
                var (y, h) = single.call(x, state?[0].unsqueeze(0));
                return (y, new[] { h[0] });
            };
        }

        /// <summary>O(1) random parameters so every path carries signal (see <see cref="TestData.Randomize"/>).</summary>
        public void Randomize() => TestData.Randomize(Module);

        public Dictionary<string, Tensor> state_dict() => Module.state_dict();
        public IEnumerable<(string name, TorchSharp.Modules.Parameter parameter)> named_parameters() => Module.named_parameters();
        public IEnumerable<TorchSharp.Modules.Parameter> parameters() => Module.parameters();
        public bool training => Module.training;
        public void train() => Module.train();
        public void eval() => Module.eval();
        public void zero_grad() => Module.zero_grad();
        public void ApplyConstraints() => Stack.ApplyConstraints();
        public void reset_parameters() => Stack.reset_parameters();

        public void Dispose() => Module.Dispose();

        public override string ToString() => Kind.ToString();
    }
}
