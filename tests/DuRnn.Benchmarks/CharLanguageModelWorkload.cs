using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The character language model as samples/CharLanguageModel trains it (its Models.cs and Trainer.cs, written again
    /// here so the harness does not depend on the sample): nn.Embedding(<see cref="Vocabulary"/> → <see cref="EmbeddingSize"/>),
    /// a 2-layer recurrent stack, and a Linear(H → <see cref="Vocabulary"/>) read-out at every step. DuRNN 2×256 with the
    /// library's defaults (no maxSequenceLength: U_bound = 1, as the sample) against nn.LSTM 2×206 and nn.GRU 2×238 (the
    /// sizes the sample matches to DuRNN's parameter count). One run is one call of T = 100 characters of B = 32 streams,
    /// starting from the state the previous call ended with, detached (truncated backpropagation through time).
    /// <list type="bullet">
    /// <item><description>Training step: forward, cross-entropy over every step, zero_grad, backward, every gradient
    /// element clipped to ±<see cref="ClipValue"/>, Adam step (lr 2e-3, weight decay 1e-4 on the weight matrices, β
    /// 0.9/0.999; DuRNN through the library's parameter groups), DuRNN's <c>ApplyConstraints</c>, the state it ends with
    /// detached and carried on. (The sample also computes the gradient's norm for its log; not done here.)</description></item>
    /// <item><description>Inference: eval mode, no_grad, forward to the logits, the state carried on.</description></item>
    /// </list>
    /// The text is <see cref="Chunks"/> fixed chunks of random characters (and random targets), read in turn.
    /// </summary>
    internal sealed class CharLanguageModelWorkload : IMeasurable
    {
        /// <summary>V: the symbols of the sample's default corpus.</summary>
        public const int Vocabulary = 73;

        /// <summary>E, the embedding size (the recurrent stack's input size).</summary>
        public const int EmbeddingSize = 64;

        /// <summary>The sample's learning rate.</summary>
        public const double LearningRate = 2e-3;

        /// <summary>The sample's weight decay of the weight matrices.</summary>
        public const double WeightDecay = 1e-4;

        /// <summary>The sample's element-wise gradient clip.</summary>
        public const double ClipValue = 10.0;

        /// <summary>The number of distinct chunks of text, read in turn.</summary>
        public const int Chunks = 8;

        private readonly BenchMode _mode;
        private readonly Embedding _embedding;
        private readonly nn.Module _rnn;
        private readonly Linear _readout;
        private readonly Func<Tensor, Tensor[]?, (Tensor output, Tensor[] state)> _recurrent;
        private readonly DuRNN? _durnn;
        private readonly List<Parameter> _parameters;
        private readonly Adam? _optimizer;
        private readonly Tensor[] _inputs;
        private readonly Tensor[] _targets;
        private Tensor[]? _state;
        private int _next;

        /// <summary>Builds the model (seeded), the text and, for training, the optimizer.</summary>
        /// <param name="kind">DuRNN, nn.LSTM or nn.GRU.</param>
        /// <param name="mode">Training step or inference.</param>
        /// <param name="steps">T per call (100).</param>
        /// <param name="batch">B, the parallel streams (32).</param>
        /// <param name="inputSize">E, the embedding size (64).</param>
        /// <param name="hidden">H: 256 for DuRNN, 206 for nn.LSTM, 238 for nn.GRU.</param>
        /// <param name="layers">The number of recurrent layers (2).</param>
        public CharLanguageModelWorkload(ModelKind kind, BenchMode mode, long steps, long batch, long inputSize, long hidden, long layers)
        {
            _mode = mode;
            torch.manual_seed(1);
            _embedding = nn.Embedding(Vocabulary, inputSize);
            switch (kind)
            {
                case ModelKind.DuRnn:
                {
                    var m = new DuRNN(inputSize, hidden, numLayers: layers);
                    _durnn = m;
                    _rnn = m;
                    _recurrent = (x, s) =>
                    {
                        var (y, next) = m.call(x, s is null ? null : new DuRNNState(s[0], s[1]));
                        return (y, new[] { next.ShortTerm, next.LongTerm });
                    };
                    break;
                }
                case ModelKind.Lstm:
                {
                    var m = nn.LSTM(inputSize, hidden, numLayers: layers);
                    _rnn = m;
                    _recurrent = (x, s) =>
                    {
                        var (y, h, c) = m.call(x, s is null ? null : (s[0], s[1]));
                        return (y, new[] { h, c });
                    };
                    break;
                }
                case ModelKind.Gru:
                {
                    var m = nn.GRU(inputSize, hidden, numLayers: layers);
                    _rnn = m;
                    _recurrent = (x, s) =>
                    {
                        var (y, h) = m.call(x, s?[0]);
                        return (y, new[] { h });
                    };
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "the language-model rows compare DuRNN, nn.LSTM and nn.GRU");
            }
            _readout = nn.Linear(hidden, Vocabulary);
            _parameters = _embedding.parameters().Concat(_rnn.parameters()).Concat(_readout.parameters()).ToList();
            if (mode == BenchMode.Training)
            {
                IReadOnlyList<Adam.ParamGroup> groups = _durnn is not null
                    ? _durnn.ParameterGroups(LearningRate, WeightDecay, _embedding.parameters().Concat(_readout.parameters()))
                    : new[]
                    {
                        new Adam.ParamGroup(_parameters.Where(p => p.dim() >= 2).ToList(), lr: LearningRate, beta1: 0.9, beta2: 0.999, weight_decay: WeightDecay),
                        new Adam.ParamGroup(_parameters.Where(p => p.dim() < 2).ToList(), lr: LearningRate, beta1: 0.9, beta2: 0.999, weight_decay: 0),
                    };
                _optimizer = optim.Adam(groups, lr: LearningRate, beta1: 0.9, beta2: 0.999);
            }
            _inputs = Enumerable.Range(0, Chunks).Select(_ => torch.randint(0, Vocabulary, new[] { steps, batch }, dtype: ScalarType.Int64)).ToArray();
            _targets = Enumerable.Range(0, Chunks).Select(_ => torch.randint(0, Vocabulary, new[] { steps, batch }, dtype: ScalarType.Int64)).ToArray();
        }

        /// <summary>One chunk: a training step or an inference call, in a dispose scope; the state it ends with is carried on.</summary>
        public void Run()
        {
            using var scope = torch.NewDisposeScope();
            var inputs = _inputs[_next];
            var targets = _targets[_next];
            _next = (_next + 1) % Chunks;
            if (_mode == BenchMode.Inference)
            {
                _embedding.eval();
                _rnn.eval();
                _readout.eval();
                using var noGrad = torch.no_grad();
                var (output, state) = _recurrent(_embedding.call(inputs), _state);
                _readout.call(output);
                Carry(state);
                return;
            }
            _embedding.train();
            _rnn.train();
            _readout.train();
            var (y, next) = _recurrent(_embedding.call(inputs), _state);
            var logits = _readout.call(y);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, Vocabulary), targets.reshape(-1));
            _optimizer!.zero_grad();
            loss.backward();
            nn.utils.clip_grad_value_(_parameters, ClipValue);
            _optimizer.step();
            _durnn?.ApplyConstraints();
            Carry(next);
        }

        /// <summary>Replaces the carried state with <paramref name="state"/> detached, outside every dispose scope.</summary>
        private void Carry(Tensor[] state)
        {
            var carried = state.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
            if (_state is not null)
                foreach (var t in _state) t.Dispose();
            _state = carried;
        }

        /// <summary>Disposes the carried state, the optimizer, the model and the text.</summary>
        public void Dispose()
        {
            if (_state is not null)
                foreach (var t in _state) t.Dispose();
            _optimizer?.Dispose();
            _embedding.Dispose();
            _rnn.Dispose();
            _readout.Dispose();
            foreach (var t in _inputs.Concat(_targets)) t.Dispose();
        }
    }
}
