using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using DuRnn.Distributed.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DuRnn.Distributed
{
    /// <summary>
    /// Averages the gradients of a model's parameters over all ranks after every backward pass (Horovod's
    /// data-parallel scheme): call <see cref="Average"/> between <c>loss.backward()</c> and gradient clipping or
    /// <c>optimizer.step()</c>. Then every rank holds the same gradient — the gradient of the mean of the ranks'
    /// losses — and, from the same weights (<see cref="MpiSession.BroadcastParameters"/>), takes the same step.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>How.</b> The gradients are copied (span copies over the tensors' memory, no per-element loops) into one flat
    /// CPU buffer per dtype, allocated once; the buffer is summed over the ranks with one <c>MPI_Allreduce</c>
    /// (in place), divided by the number of ranks (one tensor op) and copied back into the gradients. A model whose
    /// buffer exceeds <c>bucketBytes</c> is split into several buffers ("buckets", one all-reduce each); the default
    /// keeps one buffer up to 2 GiB, since the all-reduce runs after the backward pass, not overlapped with it, and
    /// one call per step was the fastest measured (see the repository's README).
    /// </para>
    /// <para>
    /// <b>The mean of what.</b> When every rank's loss is the mean over its own samples, the average of the ranks'
    /// gradients is the gradient of the mean loss over all samples only if every rank has the same number of samples:
    /// give the ranks equal shares (<see cref="DistributedSampler"/> does).
    /// </para>
    /// <para>
    /// <b>Which parameters.</b> Those of the modules given, in their order, that require a gradient, re-read at every
    /// call, so that a module moved with <c>.to(dtype)</c> after construction is followed (the buffers are then
    /// re-planned, and the ranks' models compared again). A parameter whose <c>grad</c> is null on a rank (not used in
    /// that rank's forward pass) counts as a zero gradient there, as in Horovod; it receives the average on every rank
    /// when at least one rank had a gradient for it, and stays null on every rank when none had (so the optimizer skips
    /// it everywhere, as in a single process).
    /// </para>
    /// <para>
    /// <b>Checks.</b> Parameters must be float32 or float64 and on the CPU (<see cref="ArgumentException"/> naming the
    /// parameter); the first call, and any call after the parameters changed, compares the ranks' parameter counts,
    /// element counts, shapes and dtypes, and throws <see cref="InvalidOperationException"/> on every rank when they
    /// differ. With one rank, <see cref="Average"/> only checks and leaves the gradients as they are.
    /// </para>
    /// </remarks>
    public sealed class GradientAverager : IDisposable
    {
        /// <summary>The default largest bucket: 2³¹ − 64 bytes, one all-reduce per dtype for models of up to 500 million float32 parameters.</summary>
        public const long DefaultBucketBytes = TensorMemory.MaxSpanBytes;

        private const string Caller = nameof(GradientAverager);

        private readonly MpiSession session;
        private readonly nn.Module[] modules;
        private readonly long bucketBytes;
        private readonly List<Parameter> current = new();
        private readonly Stopwatch clock = new();
        private Scalar? ranks;
        private List<Bucket> buckets = new();
        private List<(ScalarType Type, long[] Shape)> layout = new();
        private bool disposed;

        /// <summary>Averages the gradients of the parameters of <paramref name="modules"/>, in one buffer per dtype.</summary>
        /// <param name="session">The MPI session.</param>
        /// <param name="modules">The modules whose parameters are trained, e.g. the recurrent stack and its read-out.</param>
        /// <exception cref="ArgumentException">No module, or a parameter not float32/float64, not on the CPU, or larger than 2 GiB.</exception>
        /// <exception cref="InvalidOperationException">The ranks disagree on the parameters (collective check).</exception>
        public GradientAverager(MpiSession session, params nn.Module[] modules)
            : this(session, modules, DefaultBucketBytes)
        {
        }

        /// <summary>
        /// Averages the gradients of the parameters of <paramref name="modules"/>, in buffers ("buckets") of at most
        /// <paramref name="bucketBytes"/> bytes each (a parameter is never split; one larger than a bucket gets its own).
        /// </summary>
        /// <param name="session">The MPI session.</param>
        /// <param name="modules">The modules whose parameters are trained.</param>
        /// <param name="bucketBytes">The largest bucket, 1 to <see cref="DefaultBucketBytes"/>.</param>
        /// <exception cref="ArgumentException">No module, or a parameter not float32/float64, not on the CPU, or larger than 2 GiB.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="bucketBytes"/> out of range.</exception>
        /// <exception cref="InvalidOperationException">The ranks disagree on the parameters (collective check).</exception>
        public GradientAverager(MpiSession session, IEnumerable<nn.Module> modules, long bucketBytes)
        {
            ArgumentNullException.ThrowIfNull(session);
            ArgumentNullException.ThrowIfNull(modules);
            if (session.IsDisposed)
                throw new ObjectDisposedException(nameof(MpiSession), $"{Caller}: the session was disposed (MPI finalised).");
            this.modules = modules.ToArray();
            if (this.modules.Length == 0 || this.modules.Any(m => m is null))
                throw new ArgumentException($"{Caller}: give at least one module, and no null.", nameof(modules));
            if (bucketBytes < 1 || bucketBytes > DefaultBucketBytes)
                throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, $"{Caller}: a bucket holds 1 to {DefaultBucketBytes} bytes.");
            this.session = session;
            this.bucketBytes = bucketBytes;
            ReadParameters();
            Plan();
        }

        /// <summary>The number of parameters whose gradients are averaged (those that require a gradient).</summary>
        public int ParameterCount => layout.Count;

        /// <summary>The number of gradient elements averaged per step, over all dtypes.</summary>
        public long ElementCount => layout.Sum(l => l.Shape.Aggregate(1L, (a, b) => a * b));

        /// <summary>The number of all-reduce buffers (buckets) per step: at least one per dtype (none with one rank).</summary>
        public int BucketCount => session.Size == 1 ? 0 : buckets.Count;

        /// <summary>How many times <see cref="Average"/> has run.</summary>
        public long Steps { get; private set; }

        /// <summary>
        /// The wall time spent inside <c>MPI_Allreduce</c> over all <see cref="Steps"/> (waiting for slower ranks
        /// included); divide by <see cref="Steps"/> for the time per step.
        /// </summary>
        public TimeSpan AllReduceTime => clock.Elapsed;

        /// <summary>
        /// Replaces every parameter's gradient by its average over the ranks (see the class remarks for parameters
        /// without a gradient). Collective: every rank calls it once per step.
        /// </summary>
        /// <exception cref="ArgumentException">A parameter not float32/float64, not on the CPU, or larger than 2 GiB.</exception>
        /// <exception cref="InvalidOperationException">The ranks disagree on the parameters (checked when they changed).</exception>
        /// <exception cref="ObjectDisposedException">This averager or its session was disposed.</exception>
        public void Average()
        {
            if (disposed)
                throw new ObjectDisposedException(nameof(GradientAverager), $"{Caller}.{nameof(Average)} was called after {Caller} was disposed.");
            if (session.IsDisposed)
                throw new ObjectDisposedException(nameof(MpiSession), $"{Caller}.{nameof(Average)} was called after the session was disposed (MPI finalised).");
            ReadParameters();
            if (!SameLayout())
                Plan();
            Steps++;
            if (session.Size == 1)
                return;
            foreach (var bucket in buckets)
                Reduce(bucket);
        }

        /// <summary>Frees the buffers. Does not touch the modules, their gradients or the session.</summary>
        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            foreach (var bucket in buckets)
                bucket.Buffer.Dispose();
            buckets.Clear();
            ranks?.Dispose();
        }

        /// <summary>Reads the parameters that require a gradient into <see cref="current"/>, checking each.</summary>
        private void ReadParameters()
        {
            current.Clear();
            for (int m = 0; m < modules.Length; m++)
            {
                foreach (var (name, parameter) in modules[m].named_parameters())
                {
                    if (!parameter.requires_grad) continue;
                    string what = modules.Length == 1 ? $"parameter '{name}'" : $"module {m}'s parameter '{name}'";
                    TensorMemory.RequireCpu(parameter, what, Caller);
                    TensorMemory.RequireFloating(parameter, what, Caller);
                    TensorMemory.RequireSpanSize(parameter, what, Caller);
                    current.Add(parameter);
                }
            }
        }

        /// <summary>Whether <see cref="current"/> has the dtypes and shapes the buckets were planned for.</summary>
        private bool SameLayout()
        {
            if (current.Count != layout.Count) return false;
            for (int i = 0; i < current.Count; i++)
            {
                if (current[i].dtype != layout[i].Type || !current[i].shape.AsSpan().SequenceEqual(layout[i].Shape))
                    return false;
            }
            return true;
        }

        /// <summary>
        /// Compares the ranks' parameters (collective), then assigns every parameter a place in a bucket of its dtype and
        /// allocates the buckets: the gradients, then one flag per parameter (1 when the rank has a gradient for it).
        /// </summary>
        private void Plan()
        {
            ModelFingerprint.Of(current).RequireSameOnAllRanks(session, "parameters that require a gradient", Caller);
            foreach (var old in buckets)
                old.Buffer.Dispose();
            buckets = new List<Bucket>();
            layout = current.Select(p => (p.dtype, p.shape)).ToList();
            ranks ??= session.Size.ToScalar();
            if (session.Size == 1)
                return;

            foreach (var group in Enumerable.Range(0, current.Count).GroupBy(i => current[i].dtype))
            {
                var slots = new List<Slot>();
                long elements = 0;
                int elementSize = group.Key == ScalarType.Float32 ? sizeof(float) : sizeof(double);
                foreach (int i in group)
                {
                    long n = current[i].NumberOfElements;
                    if (slots.Count > 0 && (elements + n + slots.Count + 1) * elementSize > bucketBytes)
                    {
                        buckets.Add(new Bucket(group.Key, slots, elements));
                        slots = new List<Slot>();
                        elements = 0;
                    }
                    slots.Add(new Slot(i, elements, n));
                    elements += n;
                }
                buckets.Add(new Bucket(group.Key, slots, elements));
            }
        }

        /// <summary>Averages the gradients of one bucket's parameters over the ranks.</summary>
        private unsafe void Reduce(Bucket bucket)
        {
            var memory = bucket.Buffer.bytes;
            int elementSize = bucket.ElementSize;
            var flags = memory.Slice(checked((int)(bucket.Elements * elementSize)));
            for (int k = 0; k < bucket.Slots.Count; k++)
            {
                var slot = bucket.Slots[k];
                var target = memory.Slice(checked((int)(slot.Offset * elementSize)), checked((int)(slot.Count * elementSize)));
                using var grad = current[slot.Parameter].grad;
                if (grad is null)
                    target.Clear();
                else
                    TensorMemory.CopyTo(grad, target);
                SetFlag(flags, k, bucket.Type, grad is null ? 0 : 1);
            }

            clock.Start();
            fixed (byte* p = memory)
                session.AllReduce(p, checked((int)bucket.Buffer.NumberOfElements), bucket.DataType, ReduceOperation.Sum, nameof(Average));
            clock.Stop();
            bucket.Buffer.div_(ranks!);

            for (int k = 0; k < bucket.Slots.Count; k++)
            {
                var slot = bucket.Slots[k];
                if (GetFlag(flags, k, bucket.Type) == 0) continue; // no rank had a gradient: leave it null everywhere
                var source = memory.Slice(checked((int)(slot.Offset * elementSize)), checked((int)(slot.Count * elementSize)));
                var parameter = current[slot.Parameter];
                using var grad = parameter.grad;
                if (grad is not null)
                {
                    TensorMemory.CopyFrom(source, grad);
                    continue;
                }
                using var created = torch.empty_like(parameter);
                TensorMemory.CopyFrom(source, created);
                parameter.grad = created;
            }
        }

        private static void SetFlag(Span<byte> flags, int k, ScalarType type, double value)
        {
            if (type == ScalarType.Float32)
                MemoryMarshal.Cast<byte, float>(flags)[k] = (float)value;
            else
                MemoryMarshal.Cast<byte, double>(flags)[k] = value;
        }

        private static double GetFlag(Span<byte> flags, int k, ScalarType type) =>
            type == ScalarType.Float32 ? MemoryMarshal.Cast<byte, float>(flags)[k] : MemoryMarshal.Cast<byte, double>(flags)[k];

        /// <summary>Where one parameter's gradient lies in its bucket, in elements.</summary>
        private readonly record struct Slot(int Parameter, long Offset, long Count);

        /// <summary>One all-reduce buffer: the gradients of some parameters of one dtype, then one flag per parameter.</summary>
        private sealed class Bucket
        {
            public Bucket(ScalarType type, List<Slot> slots, long elements)
            {
                Type = type;
                Slots = slots;
                Elements = elements;
                Buffer = torch.empty(elements + slots.Count, dtype: type, device: torch.CPU).DetachFromDisposeScope();
            }

            public ScalarType Type { get; }

            public List<Slot> Slots { get; }

            /// <summary>The gradient elements (the flags follow them).</summary>
            public long Elements { get; }

            /// <summary>The flat CPU buffer, owned by the averager.</summary>
            public Tensor Buffer { get; }

            public int ElementSize => Type == ScalarType.Float32 ? sizeof(float) : sizeof(double);

            public MpiDataType DataType => Type == ScalarType.Float32 ? MpiDataType.Float : MpiDataType.Double;
        }
    }
}
