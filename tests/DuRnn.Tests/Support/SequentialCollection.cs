using Xunit;

namespace DuRnn.Tests
{
    /// <summary>
    /// Test classes that touch TorchSharp's global state (the random seed, the default dtype) join this collection,
    /// so that they never run in parallel with one another (as in TorchSharp's own test suite).
    /// </summary>
    [CollectionDefinition("Sequential", DisableParallelization = true)]
    public sealed class SequentialCollection
    {
    }
}
