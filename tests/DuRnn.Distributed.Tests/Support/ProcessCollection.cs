using Xunit;

namespace DuRnn.Distributed.Tests
{
    /// <summary>
    /// The tests that start MPI jobs or create sessions in this process run one at a time: a process holds at most one
    /// <see cref="MpiSession"/>, and two jobs of 2 ranks at once would oversubscribe the machine's cores.
    /// </summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class ProcessCollection
    {
        /// <summary>The collection's name.</summary>
        public const string Name = "MPI sessions and jobs";
    }
}
