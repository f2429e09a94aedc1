using System;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Streaming inference: one sequence (B = 1) fed one step per call (T = 1), the state carried from call to call,
    /// as a model serving a live signal runs. One <see cref="Run"/> is <see cref="Calls"/> calls; per-call time is
    /// the run's time over <see cref="Calls"/>.
    /// </summary>
    internal sealed class Streaming : IDisposable
    {
        /// <summary>Calls per run.</summary>
        public const int Calls = 1000;

        private readonly nn.Module _module;
        private readonly Action _run;
        private readonly Tensor _inputs;

        /// <summary>A one-layer model of <paramref name="kind"/> (DuRNN fast path or nn.LSTM), H units, I = 8.</summary>
        public Streaming(ModelKind kind, long hidden)
        {
            torch.manual_seed(42);
            _inputs = torch.randn(Calls, 1, 1, Workload.InputSize);
            var steps = _inputs.unbind(0);
            switch (kind)
            {
                case ModelKind.DuRnn:
                {
                    var m = new DuRNN(Workload.InputSize, hidden);
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
                    var m = nn.LSTM(Workload.InputSize, hidden);
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

        /// <summary>One run of <see cref="Calls"/> calls, in a dispose scope, under no_grad.</summary>
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
            _inputs.Dispose();
        }
    }
}
