namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// The MPI functions this package calls, bound to one loaded MPI library. Every method returns the MPI error code
    /// (0 is <c>MPI_SUCCESS</c>); <see cref="MpiSession"/> turns other codes into <see cref="MpiException"/>. The
    /// implementations differ in their handle types (<see cref="OpenMpiApi"/>: pointers to the library's exported
    /// globals; <see cref="MpichApi"/>: 32-bit integers), so each declares its own native signatures.
    /// </summary>
    internal unsafe interface IMpiApi
    {
        /// <summary>Which implementation this is.</summary>
        MpiImplementation Implementation { get; }

        /// <summary>The file or name the library was loaded from.</summary>
        string LibraryName { get; }

        /// <summary><c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c>.</summary>
        int InitThread(int required, out int provided);

        /// <summary><c>MPI_Initialized</c>.</summary>
        int Initialized(out bool initialized);

        /// <summary><c>MPI_Finalized</c>.</summary>
        int Finalized(out bool finalized);

        /// <summary><c>MPI_Finalize</c>.</summary>
        int FinalizeMpi();

        /// <summary><c>MPI_Comm_rank(MPI_COMM_WORLD, &amp;rank)</c>.</summary>
        int WorldRank(int* rank);

        /// <summary><c>MPI_Comm_size(MPI_COMM_WORLD, &amp;size)</c>.</summary>
        int WorldSize(int* size);

        /// <summary><c>MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)</c>.</summary>
        int SetErrorsReturn();

        /// <summary><c>MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, operation, MPI_COMM_WORLD)</c>.</summary>
        int AllReduceInPlace(void* buffer, int count, MpiDataType type, MpiOperation operation);

        /// <summary><c>MPI_Bcast(buffer, count, type, root, MPI_COMM_WORLD)</c>.</summary>
        int Broadcast(void* buffer, int count, MpiDataType type, int root);

        /// <summary><c>MPI_Barrier(MPI_COMM_WORLD)</c>.</summary>
        int Barrier();

        /// <summary><c>MPI_Abort(MPI_COMM_WORLD, errorCode)</c>: ends every rank of the job.</summary>
        int Abort(int errorCode);

        /// <summary><c>MPI_Error_string</c>: MPI's text for an error code.</summary>
        string ErrorString(int errorCode);

        /// <summary><c>MPI_Get_library_version</c>: the implementation's version text (its first line).</summary>
        string LibraryVersion();
    }
}
