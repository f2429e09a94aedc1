using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// The pixel Fashion-MNIST classifier as samples/SequentialFashionMnist trains it (its Models.cs and Trainer.cs,
    /// written again here so the harness does not depend on the sample): a 2-layer recurrent stack over the 784 pixels
    /// of an image, one pixel a step (I = 1), and a Linear(H → 10) read-out on the last step's output. DuRNN 2×128 with
    /// maxSequenceLength = T, longMemoryLastLayer and MAG 5 (the sample's pixel-mode defaults, no BatchNorm) against
    /// nn.LSTM 2×104 and nn.GRU 2×120 (the sizes the sample matches to DuRNN's parameter count).
    /// <list type="bullet">
    /// <item><description>Training step: forward, cross-entropy, zero_grad, backward, every gradient element clipped to
    /// ±<see cref="ClipValue"/>, Adam step (lr 2e-4, β 0.9/0.999; DuRNN through the library's parameter groups), and
    /// DuRNN's <c>ApplyConstraints</c>.</description></item>
    /// <item><description>Inference: eval mode, no_grad, forward to the logits.</description></item>
    /// </list>
    /// The images are a fixed random batch (standard normal, as the sample's standardised pixels roughly are) with random
    /// labels, created once; the optimizer's state persists from step to step as in training.
    /// </summary>
    internal sealed class FashionMnistWorkload : IMeasurable
    {
        /// <summary>One pixel a step.</summary>
        public const int InputSize = 1;

        /// <summary>The number of classes.</summary>
        public const int Classes = 10;

        /// <summary>The sample's pixel-mode learning rate.</summary>
        public const double LearningRate = 2e-4;

        /// <summary>The sample's element-wise gradient clip.</summary>
        public const double ClipValue = 10.0;

        /// <summary>The sample's pixel-mode MAG.</summary>
        public const double Mag = 5.0;

        private readonly BenchMode _mode;
        private readonly nn.Module _rnn;
        private readonly Linear _readout;
        private readonly Func<Tensor, Tensor> _lastOutput;
        private readonly DuRNN? _durnn;
        private readonly List<Parameter> _parameters;
        private readonly Adam? _optimizer;
        private readonly Tensor _images;
        private readonly Tensor _labels;

        /// <summary>Builds the model (seeded), the batch and, for training, the optimizer.</summary>
        /// <param name="kind">DuRNN, nn.LSTM or nn.GRU.</param>
        /// <param name="mode">Training step or inference.</param>
        /// <param name="steps">T (784 pixels).</param>
        /// <param name="batch">B (128).</param>
        /// <param name="inputSize">I (1).</param>
        /// <param name="hidden">H: 128 for DuRNN, 104 for nn.LSTM, 120 for nn.GRU.</param>
        /// <param name="layers">The number of recurrent layers (2).</param>
        public FashionMnistWorkload(ModelKind kind, BenchMode mode, long steps, long batch, long inputSize, long hidden, long layers)
        {
            _mode = mode;
            torch.manual_seed(1);
            switch (kind)
            {
                case ModelKind.DuRnn:
                {
                    var m = new DuRNN(inputSize, hidden, numLayers: layers, mag: Mag, maxSequenceLength: steps, longMemoryLastLayer: true);
                    _durnn = m;
                    _rnn = m;
                    _lastOutput = x =>
                    {
                        var (y, state) = m.call(x);
                        state.Dispose();
                        return y.select(0, -1);
                    };
                    break;
                }
                case ModelKind.Lstm:
                {
                    var m = nn.LSTM(inputSize, hidden, numLayers: layers);
                    _rnn = m;
                    _lastOutput = x =>
                    {
                        var (y, h, c) = m.call(x);
                        h.Dispose();
                        c.Dispose();
                        return y.select(0, -1);
                    };
                    break;
                }
                case ModelKind.Gru:
                {
                    var m = nn.GRU(inputSize, hidden, numLayers: layers);
                    _rnn = m;
                    _lastOutput = x =>
                    {
                        var (y, h) = m.call(x);
                        h.Dispose();
                        return y.select(0, -1);
                    };
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "the Fashion-MNIST rows compare DuRNN, nn.LSTM and nn.GRU");
            }
            _readout = nn.Linear(hidden, Classes);
            _parameters = _rnn.parameters().Concat(_readout.parameters()).ToList();
            if (mode == BenchMode.Training)
            {
                IReadOnlyList<Adam.ParamGroup> groups = _durnn is not null
                    ? _durnn.ParameterGroups(LearningRate, 0, _readout.parameters())
                    : new[] { new Adam.ParamGroup(_parameters, lr: LearningRate, beta1: 0.9, beta2: 0.999) };
                _optimizer = optim.Adam(groups, lr: LearningRate, beta1: 0.9, beta2: 0.999);
            }
            _images = torch.randn(steps, batch, inputSize);
            _labels = torch.randint(0, Classes, new[] { batch }, dtype: ScalarType.Int64);
        }

        /// <summary>A training step or an inference pass over the batch, in a dispose scope.</summary>
        public void Run()
        {
            using var scope = torch.NewDisposeScope();
            if (_mode == BenchMode.Inference)
            {
                _rnn.eval();
                _readout.eval();
                using var noGrad = torch.no_grad();
                _readout.call(_lastOutput(_images));
                return;
            }
            _rnn.train();
            _readout.train();
            var logits = _readout.call(_lastOutput(_images));
            var loss = nn.functional.cross_entropy(logits, _labels);
            _optimizer!.zero_grad();
            loss.backward();
            nn.utils.clip_grad_value_(_parameters, ClipValue);
            _optimizer.step();
            _durnn?.ApplyConstraints();
        }

        /// <summary>Disposes the optimizer, the model and the batch.</summary>
        public void Dispose()
        {
            _optimizer?.Dispose();
            _rnn.Dispose();
            _readout.Dispose();
            _images.Dispose();
            _labels.Dispose();
        }
    }
}
