namespace DuRnn.Distributed.Native
{
    /// <summary>The MPI datatypes this package sends: each implementation maps them to its own handles.</summary>
    internal enum MpiDataType
    {
        /// <summary><c>MPI_BYTE</c>: raw bytes (broadcasts of tensors of any dtype).</summary>
        Byte,

        /// <summary><c>MPI_FLOAT</c>: float32.</summary>
        Float,

        /// <summary><c>MPI_DOUBLE</c>: float64.</summary>
        Double,

        /// <summary><c>MPI_LONG_LONG</c>: int64.</summary>
        Int64,
    }
}
