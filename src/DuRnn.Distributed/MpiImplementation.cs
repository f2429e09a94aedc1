namespace DuRnn.Distributed
{
    /// <summary>The MPI implementation an <see cref="MpiSession"/> runs on.</summary>
    public enum MpiImplementation
    {
        /// <summary>
        /// No MPI: a process started without an MPI launcher (and without <see cref="MpiSession.LibraryVariable"/>)
        /// runs as the only rank, and every collective operation returns its input.
        /// </summary>
        None,

        /// <summary>Open MPI (<c>libmpi.so.40</c>; Debian: <c>openmpi-bin</c>, <c>libopenmpi-dev</c>).</summary>
        OpenMpi,

        /// <summary>
        /// MPICH or a library with MPICH's ABI (<c>libmpich.so.12</c>; Debian: <c>mpich</c>). Intel MPI, MVAPICH and
        /// Cray MPICH share this ABI; only MPICH itself is tested.
        /// </summary>
        Mpich,
    }
}
