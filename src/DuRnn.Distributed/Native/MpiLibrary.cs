using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// Finds and loads the MPI library at run time, and binds it with the ABI it has: Open MPI's when it exports
    /// <c>ompi_mpi_comm_world</c>, MPICH's otherwise. Nothing is linked at build time, so the package needs no MPI to
    /// build or to run as a single process.
    /// </summary>
    internal static class MpiLibrary
    {
        /// <summary>The library names tried for Open MPI (4.x and 5.x keep the soname libmpi.so.40).</summary>
        private static readonly string[] OpenMpiNames = { "libmpi.so.40", "libmpi.so" };

        /// <summary>
        /// The library names tried for MPICH: Debian's libmpich.so.12, and libmpi.so.12, the name of upstream MPICH
        /// and of other distributions.
        /// </summary>
        private static readonly string[] MpichNames = { "libmpich.so.12", "libmpi.so.12", "libmpich.so" };

        /// <summary>
        /// Loads <paramref name="explicitLibrary"/> when given (a path or a name the dynamic loader finds), otherwise
        /// the library of <paramref name="launcher"/>'s implementation (Open MPI's first when the launcher is unknown).
        /// </summary>
        /// <param name="explicitLibrary">The library to load, or null to choose by the launcher.</param>
        /// <param name="launcher">The launcher found in the environment, or null.</param>
        /// <param name="source">Where <paramref name="explicitLibrary"/> came from, for messages (e.g. the variable's name).</param>
        /// <exception cref="DllNotFoundException">
        /// No MPI library could be loaded; the message says what was tried and which Debian package to install.
        /// </exception>
        public static IMpiApi Load(string? explicitLibrary, MpiLauncher? launcher, string source)
        {
            if (explicitLibrary is not null)
            {
                if (!TryLoad(explicitLibrary, out var handle, out string error))
                {
                    throw new DllNotFoundException(
                        $"Could not load the MPI library '{explicitLibrary}' (given as {source}): {error}. " +
                        $"Point it at an Open MPI (libmpi.so.40) or MPICH (libmpich.so.12) library, or unset it to choose by the launcher.");
                }
                return Bind(handle, explicitLibrary);
            }

            var implementation = launcher?.Implementation ?? MpiImplementation.OpenMpi;
            var names = implementation == MpiImplementation.Mpich ? MpichNames : OpenMpiNames;
            var errors = new List<string>();
            foreach (string name in names)
            {
                if (TryLoad(name, out var handle, out string error))
                    return Bind(handle, name);
                errors.Add($"{name}: {error}");
            }
            throw new DllNotFoundException(NotFoundMessage(implementation, launcher, errors));
        }

        /// <summary>
        /// The message when no library of <paramref name="implementation"/> loads: what was tried, why it failed
        /// (<paramref name="errors"/>), and the Debian packages to install.
        /// </summary>
        internal static string NotFoundMessage(MpiImplementation implementation, MpiLauncher? launcher, IEnumerable<string> errors)
        {
            string started = launcher is null ? "" : $"The process was started by {Name(implementation)}'s launcher ({launcher.Evidence}), but ";
            return $"{started}no {Name(implementation)} library could be loaded ({string.Join("; ", errors)}). " +
                $"Install {Name(implementation)} on every machine (Debian/Ubuntu: apt-get install {MpiLauncher.DebianPackages(implementation)}), " +
                $"or set {MpiSession.LibraryVariable} to the path of the MPI library that matches the launcher.";
        }

        /// <summary>The implementation's name for messages.</summary>
        public static string Name(MpiImplementation implementation) => implementation switch
        {
            MpiImplementation.OpenMpi => "Open MPI",
            MpiImplementation.Mpich => "MPICH",
            _ => "no MPI",
        };

        private static IMpiApi Bind(IntPtr handle, string name)
        {
            if (OpenMpiApi.Recognises(handle))
                return new OpenMpiApi(handle, name);
            if (NativeLibrary.TryGetExport(handle, "MPI_Init_thread", out _))
                return new MpichApi(handle, name);
            throw new DllNotFoundException($"'{name}' was loaded but is not an MPI library: it does not export MPI_Init_thread.");
        }

        /// <summary>Loads <paramref name="name"/>; on failure <paramref name="error"/> holds the loader's message.</summary>
        private static bool TryLoad(string name, out IntPtr handle, out string error)
        {
            try
            {
                handle = NativeLibrary.Load(name);
                error = "";
                return true;
            }
            catch (DllNotFoundException e)
            {
                handle = IntPtr.Zero;
                error = e.Message.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "not found";
                return false;
            }
            catch (BadImageFormatException e)
            {
                handle = IntPtr.Zero;
                error = e.Message;
                return false;
            }
        }
    }
}
