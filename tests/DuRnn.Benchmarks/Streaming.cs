using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Streaming inference: one sequence (B = 1) fed one step per call (T = 1), the state carried from call to call,
    /// as a model serving a live signal runs. One <see cref="Run"/> is <see cref="CallsPerRun"/> calls (default
    /// <see cref="Calls"/>); per-call time is the run's time over the calls.
    /// </summary>
    internal sealed class Streaming : IMeasurable
    {
        /// <summary>Calls per run by default.</summary>
        public const int Calls = 1000;

        private readonly nn.Module _module;
        private readonly Action _run;
        private readonly Tensor _inputs;
        private readonly Tensor[] _steps;

        /// <summary>A one-layer model of <paramref name="kind"/> (DuRNN fast path or nn.LSTM), H units.</summary>
        /// <param name="kind">DuRNN (fast path) or nn.LSTM.</param>
        /// <param name="hidden">H.</param>
        /// <param name="calls">Calls per run.</param>
        /// <param name="inputSize">I.</param>
        public Streaming(ModelKind kind, long hidden, int calls = Calls, long inputSize = Workload.InputSize)
        {
            CallsPerRun = calls;
            torch.manual_seed(42);
            _inputs = torch.randn(calls, 1, 1, inputSize);
            var steps = _steps = _inputs.unbind(0);
            switch (kind)
            {
                case ModelKind.DuRnn:
                {
                    var m = new DuRNN(inputSize, hidden);
                    _module = m;
                    _run = () =>
                    {
                        DuRNNState? state = null;
                        foreach (var x in steps) (_, state) = m.call(x, state);
                    };
                    break;
                }
                case ModelKind.Lstm:
                {
                    var m = nn.LSTM(inputSize, hidden);
                    _module = m;
                    _run = () =>
                    {
                        (Tensor, Tensor)? state = null;
                        foreach (var x in steps)
                        {
                            var (_, h, c) = m.call(x, state);
                            state = (h, c);
                        }
                    };
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "streaming compares the DuRNN fast path with nn.LSTM");
            }
            _module.eval();
        }

        /// <summary>The number of calls of one run.</summary>
        public int CallsPerRun { get; }

        /// <summary>One run of <see cref="CallsPerRun"/> calls, in a dispose scope, under no_grad.</summary>
        public void Run()
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            _run();
        }

        /// <summary>Disposes the model and the inputs.</summary>
        public void Dispose()
        {
            _module.Dispose();
            foreach (var x in _steps) x.Dispose();
            _inputs.Dispose();
        }
    }
}
