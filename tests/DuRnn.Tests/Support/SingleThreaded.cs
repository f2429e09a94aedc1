using System;
using TorchSharp;

namespace DuRnn.Tests
{
    /// <summary>
    /// Runs TorchSharp's CPU ops on one intra-op thread until disposed, then restores the previous thread count.
    /// </summary>
    /// <remarks>
    /// The tests here use tiny tensors (a few dozen elements), for which intra-op parallelism gives nothing but
    /// OpenMP synchronisation. Measured on this project's 2-core machines under load: a 3-layer stack with BatchNorm
    /// took 20–40 ms per forward with 2 threads (BatchNorm's kernel parallelises over channels) and 1–2 ms with one,
    /// which makes the difference between ~15 s and ~1 s for a finite-difference gradient check.
    /// Use only in the "Sequential" collection: the thread count is process-global.
    /// </remarks>
    public sealed class SingleThreaded : IDisposable
    {
        private readonly int _previous;

        public SingleThreaded()
        {
            _previous = torch.get_num_threads();
            torch.set_num_threads(1);
        }

        public void Dispose() => torch.set_num_threads(_previous);
    }
}
