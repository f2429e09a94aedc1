namespace DuRnn.Distributed
{
    /// <summary>How <see cref="MpiSession"/>'s all-reduce operations combine the ranks' values, element by element.</summary>
    public enum ReduceOperation
    {
        /// <summary>The sum over the ranks.</summary>
        Sum,

        /// <summary>
        /// The sum over the ranks divided by <see cref="MpiSession.Size"/> (floating-point values only: the sum is
        /// all-reduced, then every rank divides it by the same number, so all ranks get the same bits).
        /// </summary>
        Mean,

        /// <summary>The smallest value over the ranks.</summary>
        Min,

        /// <summary>The largest value over the ranks.</summary>
        Max,
    }
}
