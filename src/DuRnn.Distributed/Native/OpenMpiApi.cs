using System;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// Open MPI's ABI (<c>mpi.h</c> of Open MPI 4.1): <c>MPI_Comm</c>, <c>MPI_Datatype</c>, <c>MPI_Op</c> and
    /// <c>MPI_Errhandler</c> are pointers, and the predefined handles are the addresses of exported globals
    /// (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>, <c>MPI_FLOAT</c> is <c>&amp;ompi_mpi_float</c>, ...);
    /// <c>MPI_IN_PLACE</c> is <c>(void*)1</c>.
    /// </summary>
    internal sealed unsafe class OpenMpiApi : MpiApiBase
    {
        private static readonly void* InPlace = (void*)1;

        private readonly IntPtr world;
        private readonly IntPtr errorsReturn;
        private readonly IntPtr typeByte, typeFloat, typeDouble, typeInt64;
        private readonly IntPtr opSum, opMin, opMax;

        private readonly delegate* unmanaged<IntPtr, int*, int> commRank;
        private readonly delegate* unmanaged<IntPtr, int*, int> commSize;
        private readonly delegate* unmanaged<IntPtr, IntPtr, int> commSetErrhandler;
        private readonly delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> allreduce;
        private readonly delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> bcast;
        private readonly delegate* unmanaged<IntPtr, int> barrier;
        private readonly delegate* unmanaged<IntPtr, int, int> abort;

        /// <summary>Binds Open MPI's functions and predefined handles in the loaded <paramref name="library"/>.</summary>
        public OpenMpiApi(IntPtr library, string libraryName) : base(library, libraryName)
        {
            world = Export("ompi_mpi_comm_world");
            errorsReturn = Export("ompi_mpi_errors_return");
            typeByte = Export("ompi_mpi_byte");
            typeFloat = Export("ompi_mpi_float");
            typeDouble = Export("ompi_mpi_double");
            typeInt64 = Export("ompi_mpi_long_long_int");
            opSum = Export("ompi_mpi_op_sum");
            opMin = Export("ompi_mpi_op_min");
            opMax = Export("ompi_mpi_op_max");
            commRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
            commSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
            commSetErrhandler = (delegate* unmanaged<IntPtr, IntPtr, int>)Export("MPI_Comm_set_errhandler");
            allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)Export("MPI_Allreduce");
            bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Export("MPI_Bcast");
            barrier = (delegate* unmanaged<IntPtr, int>)Export("MPI_Barrier");
            abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        }

        /// <inheritdoc/>
        public override MpiImplementation Implementation => MpiImplementation.OpenMpi;

        /// <summary>Whether <paramref name="library"/> has Open MPI's ABI (it exports <c>ompi_mpi_comm_world</c>).</summary>
        public static bool Recognises(IntPtr library) =>
            System.Runtime.InteropServices.NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _);

        /// <inheritdoc/>
        public override int WorldRank(int* rank) => commRank(world, rank);

        /// <inheritdoc/>
        public override int WorldSize(int* size) => commSize(world, size);

        /// <inheritdoc/>
        public override int SetErrorsReturn() => commSetErrhandler(world, errorsReturn);

        /// <inheritdoc/>
        public override int AllReduceInPlace(void* buffer, int count, MpiDataType type, MpiOperation operation) =>
            allreduce(InPlace, buffer, count, Type(type), Operation(operation), world);

        /// <inheritdoc/>
        public override int Broadcast(void* buffer, int count, MpiDataType type, int root) =>
            bcast(buffer, count, Type(type), root, world);

        /// <inheritdoc/>
        public override int Barrier() => barrier(world);

        /// <inheritdoc/>
        public override int Abort(int errorCode) => abort(world, errorCode);

        private IntPtr Type(MpiDataType type) => type switch
        {
            MpiDataType.Byte => typeByte,
            MpiDataType.Float => typeFloat,
            MpiDataType.Double => typeDouble,
            MpiDataType.Int64 => typeInt64,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };

        private IntPtr Operation(MpiOperation operation) => operation switch
        {
            MpiOperation.Sum => opSum,
            MpiOperation.Min => opMin,
            MpiOperation.Max => opMax,
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
        };
    }
}
