using System;
using System.Globalization;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// What the environment says about the launcher that started this process: launchers set variables in every
    /// process they start, before MPI is loaded, and these choose the implementation to load.
    /// </summary>
    /// <param name="Implementation">The implementation whose launcher set the variables.</param>
    /// <param name="Size">The number of processes the launcher started, when it says (null otherwise).</param>
    /// <param name="Evidence">The variable that decided, as <c>NAME=value</c>, for messages.</param>
    internal sealed record MpiLauncher(MpiImplementation Implementation, int? Size, string Evidence)
    {
        /// <summary>The Debian packages that provide an implementation's launcher and library.</summary>
        public static string DebianPackages(MpiImplementation implementation) => implementation switch
        {
            MpiImplementation.OpenMpi => "openmpi-bin libopenmpi-dev",
            MpiImplementation.Mpich => "mpich",
            _ => "openmpi-bin libopenmpi-dev (Open MPI) or mpich (MPICH)",
        };

        /// <summary>
        /// The launcher of this process, from <paramref name="variable"/> (the environment): Open MPI's <c>mpirun</c>
        /// sets <c>OMPI_COMM_WORLD_SIZE</c>/<c>_RANK</c>; MPICH's Hydra (<c>mpiexec</c>, <c>mpirun.mpich</c>) sets
        /// <c>PMI_RANK</c>, <c>PMI_SIZE</c> and <c>PMI_FD</c> or <c>PMI_PORT</c>; a PMIx launcher (Open MPI 5's
        /// <c>prterun</c>, Slurm's <c>srun --mpi=pmix</c>) sets <c>PMIX_RANK</c>, taken as Open MPI. Null when none is set:
        /// the process was started without a launcher.
        /// </summary>
        public static MpiLauncher? Detect(Func<string, string?> variable)
        {
            if (variable("OMPI_COMM_WORLD_SIZE") is { } ompiSize)
                return new MpiLauncher(MpiImplementation.OpenMpi, Parse(ompiSize), $"OMPI_COMM_WORLD_SIZE={ompiSize}");
            if (variable("OMPI_COMM_WORLD_RANK") is { } ompiRank)
                return new MpiLauncher(MpiImplementation.OpenMpi, null, $"OMPI_COMM_WORLD_RANK={ompiRank}");
            foreach (string name in new[] { "PMI_SIZE", "PMI_RANK", "PMI_FD", "PMI_PORT", "MPI_LOCALNRANKS" })
            {
                if (variable(name) is { } value)
                    return new MpiLauncher(MpiImplementation.Mpich, Parse(variable("PMI_SIZE")), $"{name}={value}");
            }
            if (variable("PMIX_RANK") is { } pmixRank)
                return new MpiLauncher(MpiImplementation.OpenMpi, null, $"PMIX_RANK={pmixRank}");
            return null;
        }

        private static int? Parse(string? text) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;
    }
}
