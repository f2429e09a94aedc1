using System;
using System.Collections.Generic;
using System.Linq;
using DuRnn;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Benchmarks
{
    /// <summary>The recurrent models compared by the benchmarks.</summary>
    public enum ModelKind
    {
        /// <summary><see cref="DuRnn.DuRNN"/> with a given <see cref="DuRNNImplementation"/>.</summary>
        DuRnn,

        /// <summary><see cref="DuRnn.IndRNN"/> with a given <see cref="DuRNNImplementation"/>.</summary>
        IndRnn,

        /// <summary><c>torch.nn.LSTM</c>: the baseline of every ratio.</summary>
        Lstm,

        /// <summary><c>torch.nn.GRU</c>.</summary>
        Gru,

        /// <summary><c>torch.nn.RNN</c> with ReLU.</summary>
        RnnRelu,
    }

    /// <summary>Forward+backward (a training step without the optimizer) or forward only under no_grad.</summary>
    public enum BenchMode
    {
        /// <summary>loss = output.sum() + the final states' sums; backward; zero grads.</summary>
        Training,

        /// <summary>Forward under <c>torch.no_grad()</c>, module in eval mode.</summary>
        Inference,
    }

    /// <summary>One model to measure: a kind and, for DuRNN and IndRNN, the implementation path.</summary>
    public sealed record ModelSpec(ModelKind Kind, DuRNNImplementation Implementation = DuRNNImplementation.Auto)
    {
        /// <summary>The baseline of every ratio.</summary>
        public static readonly ModelSpec Lstm = new(ModelKind.Lstm);

        /// <summary><c>torch.nn.GRU</c>.</summary>
        public static readonly ModelSpec Gru = new(ModelKind.Gru);

        /// <summary><c>torch.nn.RNN</c> with ReLU.</summary>
        public static readonly ModelSpec RnnRelu = new(ModelKind.RnnRelu);

        /// <summary>DuRNN's fast path: <see cref="DuRNNImplementation.Auto"/>.</summary>
        public static readonly ModelSpec DuRnnFast = new(ModelKind.DuRnn, DuRNNImplementation.Auto);

        /// <summary>DuRNN's step-by-step reference path.</summary>
        public static readonly ModelSpec DuRnnReference = new(ModelKind.DuRnn, DuRNNImplementation.Reference);

        /// <summary>IndRNN's fast path: <see cref="DuRNNImplementation.Auto"/> (the fused recurrence on the CPU).</summary>
        public static readonly ModelSpec IndRnnFast = new(ModelKind.IndRnn, DuRNNImplementation.Auto);

        /// <summary>Every DuRNN implementation the library defines (read from the enum, so new ones appear here).</summary>
        public static IEnumerable<ModelSpec> DuRnnAll =>
            Enum.GetValues<DuRNNImplementation>().Select(i => new ModelSpec(ModelKind.DuRnn, i));

        /// <summary>All models: the DuRNN paths first, then IndRNN's fast path, then the TorchSharp baselines.</summary>
        public static IEnumerable<ModelSpec> All => DuRnnAll.Concat(new[] { IndRnnFast, Lstm, Gru, RnnRelu });

        /// <summary>True for DuRNN's fast path (Auto).</summary>
        public bool IsFastPath => Kind == ModelKind.DuRnn && Implementation == DuRNNImplementation.Auto;

        /// <summary>True for DuRNN's reference path.</summary>
        public bool IsReference => Kind == ModelKind.DuRnn && Implementation == DuRNNImplementation.Reference;

        /// <summary>The name printed in tables.</summary>
        public string Label => Kind switch
        {
            ModelKind.Lstm => "nn.LSTM",
            ModelKind.Gru => "nn.GRU",
            ModelKind.RnnRelu => "nn.RNN (ReLU)",
            ModelKind.IndRnn => Implementation == DuRNNImplementation.Auto ? "IndRNN fast path (Auto)" : $"IndRNN {Implementation}",
            _ => Implementation == DuRNNImplementation.Auto ? "DuRNN fast path (Auto)" : $"DuRNN {Implementation}",
        };

        /// <summary>The command-line key (used by <c>--memory MODEL</c>).</summary>
        public string Key => Kind switch
        {
            ModelKind.Lstm => "lstm",
            ModelKind.Gru => "gru",
            ModelKind.RnnRelu => "rnn-relu",
            ModelKind.IndRnn => "indrnn-" + Implementation.ToString().ToLowerInvariant(),
            _ => "durnn-" + Implementation.ToString().ToLowerInvariant(),
        };

        /// <summary>Finds a model by its <see cref="Key"/>.</summary>
        public static ModelSpec Parse(string key) =>
            All.FirstOrDefault(m => string.Equals(m.Key, key, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown model '{key}'; expected one of: {string.Join(", ", All.Select(m => m.Key))}");

        /// <inheritdoc />
        public override string ToString() => Label;
    }

    /// <summary>
    /// A model with its input: (T, B, I) float32 on the CPU (I = <see cref="InputSize"/> unless given), created once;
    /// <see cref="TrainStep"/> and <see cref="InferenceStep"/> are the measured operations, each inside its own
    /// dispose scope.
    /// </summary>
    public sealed class Workload : IDisposable
    {
        /// <summary>The input size used unless another is given (every grid cell and the 1- and 2-layer targets).</summary>
        public const int InputSize = 8;

        private readonly nn.Module module;
        private readonly Func<Tensor, (Tensor output, Tensor[] finals)> forward;
        private readonly DuRNN? durnn;
        private readonly Tensor input;

        /// <summary>Creates the model and a random input.</summary>
        /// <param name="spec">The model.</param>
        /// <param name="steps">T.</param>
        /// <param name="batch">B.</param>
        /// <param name="hidden">H (= S for DuRNN).</param>
        /// <param name="layers">The number of layers.</param>
        /// <param name="seed">Seeds torch before the model and the input are created.</param>
        /// <param name="inputSize">I, features per step.</param>
        public Workload(ModelSpec spec, long steps, long batch, long hidden, long layers = 1, long seed = 42, long inputSize = InputSize)
        {
            Spec = spec;
            torch.manual_seed(seed);
            switch (spec.Kind)
            {
                case ModelKind.Lstm:
                {
                    var m = nn.LSTM(inputSize, hidden, layers);
                    module = m;
                    forward = x =>
                    {
                        var (y, h, c) = m.call(x);
                        return (y, new[] { h, c });
                    };
                    break;
                }
                case ModelKind.Gru:
                {
                    var m = nn.GRU(inputSize, hidden, layers);
                    module = m;
                    forward = x =>
                    {
                        var (y, h) = m.call(x);
                        return (y, new[] { h });
                    };
                    break;
                }
                case ModelKind.RnnRelu:
                {
                    var m = nn.RNN(inputSize, hidden, layers, nn.NonLinearities.ReLU);
                    module = m;
                    forward = x =>
                    {
                        var (y, h) = m.call(x);
                        return (y, new[] { h });
                    };
                    break;
                }
                case ModelKind.IndRnn:
                {
                    var m = new IndRNN(inputSize, hidden, layers) { Implementation = spec.Implementation };
                    module = m;
                    forward = x =>
                    {
                        var (y, h) = m.call(x);
                        return (y, new[] { h });
                    };
                    break;
                }
                default:
                {
                    var m = new DuRNN(inputSize, hidden, layers);
                    m.Implementation = spec.Implementation;
                    durnn = m;
                    module = m;
                    forward = x =>
                    {
                        var (y, state) = m.call(x);
                        return (y, new[] { state.ShortTerm, state.LongTerm });
                    };
                    break;
                }
            }
            input = torch.randn(steps, batch, inputSize);
        }

        /// <summary>The model measured.</summary>
        public ModelSpec Spec { get; private set; }

        /// <summary>
        /// Switches a DuRNN workload to another implementation path (same parameters, same input); used by the
        /// BenchmarkDotNet classes, whose global setup cannot see method arguments.
        /// </summary>
        public void UseImplementation(DuRNNImplementation implementation)
        {
            if (durnn is null) throw new InvalidOperationException("not a DuRNN workload");
            durnn.Implementation = implementation;
            Spec = Spec with { Implementation = implementation };
        }

        /// <summary>Runs one step of <paramref name="mode"/>.</summary>
        public void Step(BenchMode mode)
        {
            if (mode == BenchMode.Training) TrainStep();
            else InferenceStep();
        }

        /// <summary>Forward, loss = output.sum() + the final states' sums, backward, zero grads.</summary>
        public void TrainStep()
        {
            using var scope = torch.NewDisposeScope();
            module.train();
            var (output, finals) = forward(input);
            var loss = output.sum();
            foreach (var f in finals) loss = loss + f.sum();
            loss.backward();
            module.zero_grad();
        }

        /// <summary>Forward only, under no_grad, module in eval mode.</summary>
        public void InferenceStep()
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            module.eval();
            forward(input);
        }

        /// <summary>Disposes the module and the input.</summary>
        public void Dispose()
        {
            module.Dispose();
            input.Dispose();
        }
    }
}
