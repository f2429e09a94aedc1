using System;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// MPICH's ABI (<c>mpi.h</c> of MPICH 4.0, shared by the libraries of the MPICH ABI initiative): handles are 32-bit
    /// integers with fixed values, e.g. <c>MPI_COMM_WORLD</c> = 0x44000000, <c>MPI_FLOAT</c> = 0x4c00040a;
    /// <c>MPI_IN_PLACE</c> is <c>(void*)-1</c>.
    /// </summary>
    internal sealed unsafe class MpichApi : MpiApiBase
    {
        private const int World = 0x44000000;
        private const int ErrorsReturn = 0x54000001;
        private const int TypeByte = 0x4c00010d;
        private const int TypeFloat = 0x4c00040a;
        private const int TypeDouble = 0x4c00080b;
        private const int TypeLongLong = 0x4c000809;
        private const int OpMax = 0x58000001;
        private const int OpMin = 0x58000002;
        private const int OpSum = 0x58000003;
        private static readonly void* InPlace = (void*)-1;

        private readonly delegate* unmanaged<int, int*, int> commRank;
        private readonly delegate* unmanaged<int, int*, int> commSize;
        private readonly delegate* unmanaged<int, int, int> commSetErrhandler;
        private readonly delegate* unmanaged<void*, void*, int, int, int, int, int> allreduce;
        private readonly delegate* unmanaged<void*, int, int, int, int, int> bcast;
        private readonly delegate* unmanaged<int, int> barrier;
        private readonly delegate* unmanaged<int, int, int> abort;

        /// <summary>Binds MPICH's functions in the loaded <paramref name="library"/>.</summary>
        public MpichApi(IntPtr library, string libraryName) : base(library, libraryName)
        {
            commRank = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_rank");
            commSize = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_size");
            commSetErrhandler = (delegate* unmanaged<int, int, int>)Export("MPI_Comm_set_errhandler");
            allreduce = (delegate* unmanaged<void*, void*, int, int, int, int, int>)Export("MPI_Allreduce");
            bcast = (delegate* unmanaged<void*, int, int, int, int, int>)Export("MPI_Bcast");
            barrier = (delegate* unmanaged<int, int>)Export("MPI_Barrier");
            abort = (delegate* unmanaged<int, int, int>)Export("MPI_Abort");
        }

        /// <inheritdoc/>
        public override MpiImplementation Implementation => MpiImplementation.Mpich;

        /// <inheritdoc/>
        public override int WorldRank(int* rank) => commRank(World, rank);

        /// <inheritdoc/>
        public override int WorldSize(int* size) => commSize(World, size);

        /// <inheritdoc/>
        public override int SetErrorsReturn() => commSetErrhandler(World, ErrorsReturn);

        /// <inheritdoc/>
        public override int AllReduceInPlace(void* buffer, int count, MpiDataType type, MpiOperation operation) =>
            allreduce(InPlace, buffer, count, Type(type), Operation(operation), World);

        /// <inheritdoc/>
        public override int Broadcast(void* buffer, int count, MpiDataType type, int root) =>
            bcast(buffer, count, Type(type), root, World);

        /// <inheritdoc/>
        public override int Barrier() => barrier(World);

        /// <inheritdoc/>
        public override int Abort(int errorCode) => abort(World, errorCode);

        private static int Type(MpiDataType type) => type switch
        {
            MpiDataType.Byte => TypeByte,
            MpiDataType.Float => TypeFloat,
            MpiDataType.Double => TypeDouble,
            MpiDataType.Int64 => TypeLongLong,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };

        private static int Operation(MpiOperation operation) => operation switch
        {
            MpiOperation.Sum => OpSum,
            MpiOperation.Min => OpMin,
            MpiOperation.Max => OpMax,
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
        };
    }
}
