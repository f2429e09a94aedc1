using Xunit;

namespace DuRnn.Tests
{
    /// <summary>Tests that touch global torch state (seed, default dtype, thread count) run one at a time.</summary>
    [CollectionDefinition("Sequential", DisableParallelization = true)]
    public sealed class SequentialCollection
    {
    }
}
