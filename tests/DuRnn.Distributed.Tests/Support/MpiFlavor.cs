namespace DuRnn.Distributed.Tests
{
    /// <summary>The MPI implementations the tests start jobs with.</summary>
    public enum MpiFlavor
    {
        /// <summary>Open MPI (Debian: openmpi-bin, libopenmpi-dev; launcher mpirun.openmpi).</summary>
        OpenMpi,

        /// <summary>MPICH (Debian: mpich; launcher mpiexec.mpich).</summary>
        Mpich,
    }
}
