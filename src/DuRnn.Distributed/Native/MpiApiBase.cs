using System;
using System.Runtime.InteropServices;
using System.Text;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// The part of <see cref="IMpiApi"/> whose native signatures hold no MPI handle, and so are the same in every
    /// implementation: start-up, shut-down and the text functions. The derived classes bind the functions that take
    /// communicators, datatypes and operations.
    /// </summary>
    internal abstract unsafe class MpiApiBase : IMpiApi
    {
        /// <summary>Longer than any implementation's MPI_MAX_ERROR_STRING and MPI_MAX_LIBRARY_VERSION_STRING (Open MPI 4.1: 256; MPICH 4.0: 512 and 8192).</summary>
        private const int TextCapacity = 8192;

        private readonly delegate* unmanaged<int*, byte***, int, int*, int> initThread;
        private readonly delegate* unmanaged<int*, int> initialized;
        private readonly delegate* unmanaged<int*, int> finalized;
        private readonly delegate* unmanaged<int> finalize;
        private readonly delegate* unmanaged<int, byte*, int*, int> errorString;
        private readonly delegate* unmanaged<byte*, int*, int> libraryVersion;

        /// <summary>Binds the handle-free functions of the library loaded as <paramref name="library"/>.</summary>
        /// <param name="library">The handle from <see cref="NativeLibrary.Load(string)"/>.</param>
        /// <param name="libraryName">The file or name it was loaded from, for messages.</param>
        protected MpiApiBase(IntPtr library, string libraryName)
        {
            Library = library;
            LibraryName = libraryName;
            initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
            initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
            finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
            finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
            errorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
            libraryVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
        }

        /// <inheritdoc/>
        public abstract MpiImplementation Implementation { get; }

        /// <inheritdoc/>
        public string LibraryName { get; }

        /// <summary>The loaded library's handle.</summary>
        protected IntPtr Library { get; }

        /// <inheritdoc/>
        public int InitThread(int required, out int provided)
        {
            int p;
            int code = initThread(null, null, required, &p);
            provided = p;
            return code;
        }

        /// <inheritdoc/>
        public int Initialized(out bool value)
        {
            int flag;
            int code = initialized(&flag);
            value = flag != 0;
            return code;
        }

        /// <inheritdoc/>
        public int Finalized(out bool value)
        {
            int flag;
            int code = finalized(&flag);
            value = flag != 0;
            return code;
        }

        /// <inheritdoc/>
        public int FinalizeMpi() => finalize();

        /// <inheritdoc/>
        public string ErrorString(int errorCode)
        {
            byte* text = stackalloc byte[TextCapacity];
            int length = 0;
            return errorString(errorCode, text, &length) == 0 ? Text(text, length) : "(no description: MPI_Error_string failed)";
        }

        /// <inheritdoc/>
        public string LibraryVersion()
        {
            byte[] text = new byte[TextCapacity];
            int length = 0;
            fixed (byte* p = text)
            {
                if (libraryVersion(p, &length) != 0) return "(unknown version)";
                // The first line, up to the first comma, white space folded: "Open MPI v4.1.4", "MPICH Version: 4.0.2".
                string first = Text(p, length).Split('\n')[0].Split(',')[0];
                return string.Join(' ', first.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            }
        }

        /// <inheritdoc/>
        public abstract int WorldRank(int* rank);

        /// <inheritdoc/>
        public abstract int WorldSize(int* size);

        /// <inheritdoc/>
        public abstract int SetErrorsReturn();

        /// <inheritdoc/>
        public abstract int AllReduceInPlace(void* buffer, int count, MpiDataType type, MpiOperation operation);

        /// <inheritdoc/>
        public abstract int Broadcast(void* buffer, int count, MpiDataType type, int root);

        /// <inheritdoc/>
        public abstract int Barrier();

        /// <inheritdoc/>
        public abstract int Abort(int errorCode);

        /// <summary>The address of the library's export <paramref name="name"/> (a function or a global variable).</summary>
        /// <exception cref="EntryPointNotFoundException">The library does not export it: not an MPI library of this kind.</exception>
        protected IntPtr Export(string name) =>
            NativeLibrary.TryGetExport(Library, name, out var address)
                ? address
                : throw new EntryPointNotFoundException($"{LibraryName} does not export {name}: it is not an {Implementation} MPI library.");

        /// <summary>A C string of at most <paramref name="length"/> bytes (up to its first NUL), as UTF-8.</summary>
        private static string Text(byte* text, int length)
        {
            int n = Math.Clamp(length, 0, TextCapacity);
            int nul = new ReadOnlySpan<byte>(text, n).IndexOf((byte)0);
            return Encoding.UTF8.GetString(text, nul >= 0 ? nul : n);
        }
    }
}
