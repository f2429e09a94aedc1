using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using DuRnn.Distributed.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Distributed
{
    /// <summary>
    /// One process's part in an MPI job: initialises MPI when created and finalises it when disposed, and offers
    /// what data-parallel training needs — this process's <see cref="Rank"/> among <see cref="Size"/> processes,
    /// <see cref="BroadcastParameters"/>, all-reduce of scalars, spans and tensors, and <see cref="Barrier"/>.
    /// Gradients are averaged by a <see cref="GradientAverager"/>, data is sharded by a <see cref="DistributedSampler"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Which MPI.</b> The MPI library is loaded at run time, chosen by the launcher that started the process:
    /// Open MPI's <c>mpirun</c> (variables <c>OMPI_COMM_WORLD_*</c>) loads <c>libmpi.so.40</c>; MPICH's Hydra
    /// (<c>mpiexec</c>, <c>mpirun.mpich</c>: <c>PMI_RANK</c>, <c>PMI_SIZE</c>, ...) loads <c>libmpich.so.12</c>. The
    /// environment variable <see cref="LibraryVariable"/> (or the argument of <see cref="Initialize(string?)"/>) names
    /// the library instead. When the launcher started more processes than the loaded MPI sees (a library of the other
    /// implementation than the launcher), initialisation fails with a message saying so.
    /// </para>
    /// <para>
    /// <b>Without a launcher</b> (and without <see cref="LibraryVariable"/>) no MPI is loaded: the session is rank 0 of
    /// size 1, <see cref="Implementation"/> is <see cref="MpiImplementation.None"/>, and every collective returns its
    /// input. So a training program written for several ranks runs unchanged as one process, also where MPI is not
    /// installed. To run MPI itself as a single process ("singleton" <c>MPI_Init</c>, which Open MPI and MPICH allow),
    /// set <see cref="LibraryVariable"/>.
    /// </para>
    /// <para>
    /// <b>Rules.</b> One session per process at a time; MPI cannot be initialised again in a process once it was
    /// finalised. The collectives are blocking and must be called by every rank in the same order; one thread at a
    /// time (MPI is initialised with <c>MPI_THREAD_SERIALIZED</c>), and <see cref="Dispose"/> (<c>MPI_Finalize</c>)
    /// on the thread that initialised. An exception that no code catches on one rank would leave the others waiting in
    /// their next collective: the session therefore calls <c>MPI_Abort</c> from
    /// <see cref="AppDomain.UnhandledException"/>, which ends the whole job with the exception printed. Code that
    /// catches an exception on one rank only should call <see cref="Abort"/> itself.
    /// </para>
    /// </remarks>
    /// <example>
    /// <code>
    /// using var mpi = MpiSession.Initialize();
    /// mpi.BroadcastParameters(model);                      // every rank starts from rank 0's weights
    /// using var averager = new GradientAverager(mpi, model);
    /// // per step: loss.backward(); averager.Average(); optimizer.step();
    /// </code>
    /// </example>
    public sealed class MpiSession : IDisposable
    {
        /// <summary>
        /// The environment variable that names the MPI library to load (a path, or a name the dynamic loader finds,
        /// e.g. <c>/usr/lib/x86_64-linux-gnu/libmpich.so.12</c>): <c>DURNN_MPI_LIBRARY</c>. When it is set, MPI is
        /// loaded and initialised also without a launcher (as a single "singleton" rank).
        /// </summary>
        public const string LibraryVariable = "DURNN_MPI_LIBRARY";

        private const string Caller = nameof(MpiSession);

        /// <summary><c>MPI_THREAD_SERIALIZED</c> (2 in Open MPI and in MPICH).</summary>
        private const int ThreadSerialized = 2;

        private static readonly object Gate = new();
        private static MpiSession? live;
        private static bool mpiFinalized;

        private readonly IMpiApi? api;
        private bool disposed;

        private MpiSession(IMpiApi? api, int rank, int size, string description)
        {
            this.api = api;
            Rank = rank;
            Size = size;
            Description = description;
        }

        /// <summary>This process's rank, 0 to <see cref="Size"/> − 1.</summary>
        public int Rank { get; }

        /// <summary>The number of processes in the job (<c>MPI_COMM_WORLD</c>); 1 without MPI.</summary>
        public int Size { get; }

        /// <summary>Whether this is rank 0, the rank whose weights <see cref="BroadcastParameters"/> sends and that should print and save.</summary>
        public bool IsRoot => Rank == 0;

        /// <summary>The MPI implementation in use; <see cref="MpiImplementation.None"/> for a single process without MPI.</summary>
        public MpiImplementation Implementation => api?.Implementation ?? MpiImplementation.None;

        /// <summary>
        /// What this session runs on, for logs: the implementation, its library and version, and the rank, e.g.
        /// "Open MPI v4.1.4 (libmpi.so.40), rank 0 of 2" or "MPICH Version: 4.0.2 (libmpich.so.12), rank 1 of 2".
        /// </summary>
        public string Description { get; }

        /// <summary>Whether <see cref="Dispose"/> has run.</summary>
        public bool IsDisposed => disposed;

        /// <summary>
        /// Initialises MPI for this process (<c>MPI_Init_thread</c>), or, when the process was started without an MPI
        /// launcher and neither <paramref name="library"/> nor <see cref="LibraryVariable"/> names a library, returns a
        /// single-process session without MPI (rank 0 of 1). Dispose the session at the end (<c>MPI_Finalize</c>).
        /// </summary>
        /// <param name="library">
        /// The MPI library to load (a path or a library name), overriding <see cref="LibraryVariable"/> and the
        /// launcher's choice; null to choose as described on <see cref="MpiSession"/>.
        /// </param>
        /// <exception cref="DllNotFoundException">
        /// MPI is needed but its library was not found; the message names the Debian packages to install
        /// (<c>openmpi-bin libopenmpi-dev</c> or <c>mpich</c>).
        /// </exception>
        /// <exception cref="InvalidOperationException">
        /// A session is already live in this process; or MPI was finalised here before (it cannot be initialised twice);
        /// or the launcher started more processes than the loaded MPI library sees (a library of the other
        /// implementation than the launcher).
        /// </exception>
        /// <exception cref="MpiException">MPI's initialisation failed.</exception>
        public static MpiSession Initialize(string? library = null)
        {
            lock (Gate)
            {
                if (live is { } current)
                {
                    throw new InvalidOperationException(
                        $"{Caller}.Initialize: a session is already live in this process ({current.Description}); MPI is initialised once per " +
                        "process: pass that session on, or dispose it first.");
                }
                string source = library is not null ? "the library argument" : LibraryVariable + " in the environment";
                library ??= NonEmpty(Environment.GetEnvironmentVariable(LibraryVariable));
                var launcher = MpiLauncher.Detect(name => NonEmpty(Environment.GetEnvironmentVariable(name)));
                if (launcher is null && library is null)
                {
                    live = new MpiSession(null, 0, 1,
                        "single process without MPI (no MPI launcher in the environment and no " + LibraryVariable + ")");
                    return live;
                }
                if (mpiFinalized)
                {
                    throw new InvalidOperationException(
                        $"{Caller}.Initialize: MPI was finalised in this process when an earlier session was disposed; MPI cannot be " +
                        "initialised twice in one process. Keep one session for the whole program.");
                }
                NativeEnvironment.PrepareForMpi();
                live = Start(MpiLibrary.Load(library, launcher, source), launcher);
                return live;
            }
        }

        /// <summary>Blocks until every rank has called it (<c>MPI_Barrier</c>).</summary>
        /// <exception cref="ObjectDisposedException">The session was disposed (MPI finalised).</exception>
        public void Barrier()
        {
            var mpi = Api(nameof(Barrier));
            if (mpi is not null)
                Check(mpi.Barrier(), "MPI_Barrier");
        }

        /// <summary>
        /// <paramref name="value"/> combined over all ranks by <paramref name="operation"/> (e.g. the mean loss of a
        /// step, or the largest gradient norm); every rank gets the same result. Collective.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public double AllReduce(double value, ReduceOperation operation)
        {
            Span<double> one = stackalloc double[] { value };
            AllReduce(one, operation);
            return one[0];
        }

        /// <summary>
        /// <paramref name="value"/> combined over all ranks by <paramref name="operation"/> (e.g. the number of samples
        /// seen); <see cref="ReduceOperation.Mean"/> is not defined for integers. Collective.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="operation"/> is <see cref="ReduceOperation.Mean"/>.</exception>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public long AllReduce(long value, ReduceOperation operation)
        {
            Span<long> one = stackalloc long[] { value };
            AllReduce(one, operation);
            return one[0];
        }

        /// <summary>
        /// Combines <paramref name="values"/> element by element over all ranks by <paramref name="operation"/>, in
        /// place (several metrics in one call). Every rank must pass the same length. Collective.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public void AllReduce(Span<double> values, ReduceOperation operation) => AllReduceSpan(values, MpiDataType.Double, operation);

        /// <summary>
        /// Combines <paramref name="values"/> element by element over all ranks by <paramref name="operation"/>, in
        /// place. Every rank must pass the same length. Collective.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public void AllReduce(Span<float> values, ReduceOperation operation) => AllReduceSpan(values, MpiDataType.Float, operation);

        /// <summary>
        /// Combines <paramref name="values"/> element by element over all ranks by <paramref name="operation"/>, in
        /// place; <see cref="ReduceOperation.Mean"/> is not defined for integers. Collective.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="operation"/> is <see cref="ReduceOperation.Mean"/>.</exception>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public void AllReduce(Span<long> values, ReduceOperation operation)
        {
            if (operation == ReduceOperation.Mean)
                throw new ArgumentException($"{Caller}.{nameof(AllReduce)}: the mean of integers is not an integer; reduce with Sum and divide.", nameof(operation));
            AllReduceSpan(values, MpiDataType.Int64, operation);
        }

        /// <summary>
        /// Combines <paramref name="tensor"/> element by element over all ranks by <paramref name="operation"/>, in
        /// place: a contiguous CPU tensor of float32, float64 (any operation) or int64 (not
        /// <see cref="ReduceOperation.Mean"/>), of at most 2³¹ − 64 bytes. Every rank must pass the same shape and dtype.
        /// Collective.
        /// </summary>
        /// <exception cref="ArgumentException">Not on the CPU, not contiguous, of another dtype, or too large.</exception>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public unsafe void AllReduce(Tensor tensor, ReduceOperation operation)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            string caller = $"{Caller}.{nameof(AllReduce)}";
            TensorMemory.RequireCpu(tensor, "the tensor", caller);
            if (!tensor.is_contiguous())
                throw new ArgumentException($"{caller}: the tensor is not contiguous; pass tensor.contiguous() and copy the result back.", nameof(tensor));
            TensorMemory.RequireSpanSize(tensor, "the tensor", caller);
            var type = tensor.dtype switch
            {
                ScalarType.Float32 => MpiDataType.Float,
                ScalarType.Float64 => MpiDataType.Double,
                ScalarType.Int64 when operation != ReduceOperation.Mean => MpiDataType.Int64,
                _ => throw new ArgumentException(
                    $"{caller}: a {tensor.dtype} tensor cannot be reduced with {operation}; use float32 or float64 (or int64 without Mean).", nameof(tensor)),
            };
            var memory = tensor.bytes;
            fixed (byte* p = memory)
                AllReduce(p, checked((int)tensor.NumberOfElements), type, operation, nameof(AllReduce));
            if (operation == ReduceOperation.Mean && Size > 1)
            {
                using var size = Size.ToScalar();
                tensor.div_(size);
            }
        }

        /// <summary>
        /// Overwrites <paramref name="tensor"/> on every rank with its value on rank <paramref name="root"/>
        /// (<c>MPI_Bcast</c> of its bytes): a contiguous CPU tensor of any dtype, of at most 2³¹ − 64 bytes, of the same
        /// shape and dtype on every rank. The write bypasses autograd (as a copy under <c>no_grad</c> would). Collective.
        /// </summary>
        /// <exception cref="ArgumentException">Not on the CPU, not contiguous, or too large.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank.</exception>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public void Broadcast(Tensor tensor, int root = 0)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            string caller = $"{Caller}.{nameof(Broadcast)}";
            if (root < 0 || root >= Size)
                throw new ArgumentOutOfRangeException(nameof(root), root, $"{caller}: the root must be a rank, 0 to {Size - 1}.");
            TensorMemory.RequireCpu(tensor, "the tensor", caller);
            if (!tensor.is_contiguous())
                throw new ArgumentException($"{caller}: the tensor is not contiguous.", nameof(tensor));
            TensorMemory.RequireSpanSize(tensor, "the tensor", caller);
            BroadcastBytes(tensor.bytes, root, nameof(Broadcast));
        }

        /// <summary>
        /// Makes every rank's parameters and buffers (e.g. BatchNorm's running statistics) equal to rank 0's, for
        /// each of <paramref name="modules"/> in order: call it once after building the model and before the first
        /// step (and before creating the optimizer is not required: the tensors are overwritten in place). Checks first,
        /// on every rank, that all ranks hold the same number of tensors of the same shapes and dtypes. Collective.
        /// </summary>
        /// <param name="modules">The modules, e.g. the recurrent stack and its read-out; any TorchSharp module.</param>
        /// <exception cref="ArgumentException">No module given, or a tensor not on the CPU or larger than 2³¹ − 64 bytes.</exception>
        /// <exception cref="InvalidOperationException">The ranks disagree on the model (on every rank, naming the counts).</exception>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        public void BroadcastParameters(params nn.Module[] modules)
        {
            string caller = $"{Caller}.{nameof(BroadcastParameters)}";
            Api(nameof(BroadcastParameters));
            ArgumentNullException.ThrowIfNull(modules);
            if (modules.Length == 0 || modules.Any(m => m is null))
                throw new ArgumentException($"{caller}: give at least one module, and no null.", nameof(modules));

            var tensors = new List<(string Name, Tensor Tensor)>();
            for (int m = 0; m < modules.Length; m++)
            {
                string prefix = modules.Length == 1 ? "" : $"module {m}: ";
                tensors.AddRange(modules[m].named_parameters().Select(p => ($"{prefix}parameter '{p.name}'", (Tensor)p.parameter)));
                tensors.AddRange(modules[m].named_buffers().Select(b => ($"{prefix}buffer '{b.name}'", b.buffer)));
            }
            foreach (var (name, tensor) in tensors)
            {
                TensorMemory.RequireCpu(tensor, name, caller);
                TensorMemory.RequireSpanSize(tensor, name, caller);
            }
            ModelFingerprint.Of(tensors.Select(t => t.Tensor)).RequireSameOnAllRanks(this, "parameters and buffers", caller);
            if (Size == 1) return;
            foreach (var (_, tensor) in tensors)
            {
                if (tensor.is_contiguous())
                {
                    BroadcastBytes(tensor.bytes, 0, nameof(BroadcastParameters));
                    continue;
                }
                using var dense = tensor.contiguous();
                BroadcastBytes(dense.bytes, 0, nameof(BroadcastParameters));
                using var noGrad = torch.no_grad();
                tensor.copy_(dense);
            }
        }

        /// <summary>
        /// Ends every rank of the job now (<c>MPI_Abort</c> with <paramref name="errorCode"/>): for a failure on one
        /// rank that the others cannot know about, which would otherwise leave them waiting in a collective. Without MPI
        /// it ends this process with <paramref name="errorCode"/>. Does not return.
        /// </summary>
        public void Abort(int errorCode = 1)
        {
            if (api is not null && !disposed)
                api.Abort(errorCode);
            Environment.Exit(errorCode);
        }

        /// <summary>
        /// Finalises MPI (<c>MPI_Finalize</c>; every rank must call it) and ends the session; further calls on it throw
        /// <see cref="ObjectDisposedException"/>. Call it on the thread that called <see cref="Initialize"/>. Calling it
        /// again does nothing.
        /// </summary>
        /// <exception cref="MpiException">MPI_Finalize failed.</exception>
        public void Dispose()
        {
            lock (Gate)
            {
                if (disposed) return;
                disposed = true;
                if (ReferenceEquals(live, this)) live = null;
                if (api is null) return;
                AppDomain.CurrentDomain.UnhandledException -= AbortOnUnhandledException;
                mpiFinalized = true;
                Check(api.FinalizeMpi(), "MPI_Finalize");
            }
        }

        /// <summary>Starts MPI through <paramref name="mpi"/> and checks that it sees what the launcher started.</summary>
        private static unsafe MpiSession Start(IMpiApi mpi, MpiLauncher? launcher)
        {
            Check(mpi, mpi.Initialized(out bool already), "MPI_Initialized");
            if (already)
                throw new InvalidOperationException($"{Caller}.Initialize: MPI ({mpi.LibraryName}) was already initialised in this process by other code.");
            Check(mpi, mpi.InitThread(ThreadSerialized, out _), "MPI_Init_thread");
            Check(mpi, mpi.SetErrorsReturn(), "MPI_Comm_set_errhandler");
            int rank, size;
            Check(mpi, mpi.WorldRank(&rank), "MPI_Comm_rank");
            Check(mpi, mpi.WorldSize(&size), "MPI_Comm_size");
            string name = MpiLibrary.Name(mpi.Implementation);
            if (launcher?.Size is int started && started != size)
            {
                mpi.FinalizeMpi();
                mpiFinalized = true;
                throw new InvalidOperationException(
                    $"{Caller}.Initialize: the launcher started {started} processes ({launcher.Evidence}), but the loaded MPI library, {name} " +
                    $"({mpi.LibraryName}), sees {size}: the library does not belong to the launcher. Start the program with {name}'s launcher " +
                    $"({(mpi.Implementation == MpiImplementation.OpenMpi ? "mpirun.openmpi" : "mpiexec.mpich")}), or set {LibraryVariable} to the library of the launcher you use.");
            }
            string description = string.Create(CultureInfo.InvariantCulture,
                $"{mpi.LibraryVersion()} ({mpi.LibraryName}), rank {rank} of {size}");
            var session = new MpiSession(mpi, rank, size, description);
            AppDomain.CurrentDomain.UnhandledException += session.AbortOnUnhandledException;
            return session;
        }

        /// <summary>
        /// An exception no code caught is about to end this process: print it and abort the job, so that the other
        /// ranks do not wait forever in their next collective.
        /// </summary>
        private void AbortOnUnhandledException(object sender, UnhandledExceptionEventArgs e)
        {
            if (disposed || api is null) return;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Rank {Rank} of {Size}: unhandled exception; aborting the MPI job (MPI_Abort) so that the other ranks do not wait forever.{Environment.NewLine}{e.ExceptionObject}"));
            Console.Error.Flush();
            // The launcher forwards the ranks' output through pipes; give it a moment to pass this message on before
            // MPI_Abort tears the job down (on a crash path only).
            System.Threading.Thread.Sleep(250);
            api.Abort(1);
        }

        /// <summary>All-reduces <paramref name="values"/> in place; Mean is the sum divided by <see cref="Size"/> on every rank.</summary>
        private unsafe void AllReduceSpan<T>(Span<T> values, MpiDataType type, ReduceOperation operation)
            where T : unmanaged, INumberBase<T>
        {
            fixed (T* p = values)
                AllReduce(p, values.Length, type, operation, nameof(AllReduce));
            if (operation != ReduceOperation.Mean || Size == 1)
                return;
            T size = T.CreateChecked(Size);
            foreach (ref T v in values)
                v /= size;
        }

        /// <summary>All-reduces <paramref name="count"/> elements at <paramref name="buffer"/> in place (Mean as Sum).</summary>
        internal unsafe void AllReduce(void* buffer, int count, MpiDataType type, ReduceOperation operation, string caller)
        {
            var mpi = Api(caller);
            if (mpi is null || count == 0) return;
            var op = operation switch
            {
                ReduceOperation.Sum or ReduceOperation.Mean => MpiOperation.Sum,
                ReduceOperation.Min => MpiOperation.Min,
                ReduceOperation.Max => MpiOperation.Max,
                _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
            };
            Check(mpi.AllReduceInPlace(buffer, count, type, op), "MPI_Allreduce");
        }

        /// <summary>Broadcasts <paramref name="bytes"/> from <paramref name="root"/> in place.</summary>
        private unsafe void BroadcastBytes(Span<byte> bytes, int root, string caller)
        {
            var mpi = Api(caller);
            if (mpi is null || bytes.IsEmpty) return;
            fixed (byte* p = bytes)
                Check(mpi.Broadcast(p, bytes.Length, MpiDataType.Byte, root), "MPI_Bcast");
        }

        /// <summary>The bound MPI functions (null without MPI) after checking that the session is live.</summary>
        /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
        private IMpiApi? Api(string caller)
        {
            if (disposed)
            {
                throw new ObjectDisposedException(nameof(MpiSession),
                    $"{Caller}.{caller} was called after the session was disposed (MPI finalised); keep the session alive until the last collective.");
            }
            return api;
        }

        private void Check(int code, string function) => Check(api!, code, function);

        private static void Check(IMpiApi mpi, int code, string function)
        {
            if (code != 0)
                throw new MpiException(function, code, mpi.ErrorString(code));
        }

        private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
    }
}
