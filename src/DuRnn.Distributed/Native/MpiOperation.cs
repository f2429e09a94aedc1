namespace DuRnn.Distributed.Native
{
    /// <summary>The MPI reduction operations this package uses (<see cref="ReduceOperation.Mean"/> is a sum here).</summary>
    internal enum MpiOperation
    {
        /// <summary><c>MPI_SUM</c>.</summary>
        Sum,

        /// <summary><c>MPI_MIN</c>.</summary>
        Min,

        /// <summary><c>MPI_MAX</c>.</summary>
        Max,
    }
}
