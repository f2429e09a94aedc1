using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>How weights reach a stack: the four load paths the load tests run.</summary>
    public enum LoadPath
    {
        /// <summary><c>module.load(path)</c> of a file in TorchSharp's format (the stack reads it entry by entry).</summary>
        TorchSharpFile,

        /// <summary><c>module.load_state_dict(dictionary)</c>.</summary>
        LoadStateDict,

        /// <summary>A PyTorch <c>.pt</c> file (<c>torch.save(state_dict)</c>'s zip format) read with TorchSharp.PyBridge's
        /// <c>PyTorchUnpickler.UnpickleStateDict</c>, loaded with <see cref="DuRnnInterop.LoadStateDictChecked{T}"/>.</summary>
        PyTorchFile,

        /// <summary>A safetensors file read with PyBridge's <c>Safetensors.LoadStateDict</c>, loaded with
        /// <see cref="DuRnnInterop.LoadStateDictChecked{T}"/>.</summary>
        Safetensors,
    }

    /// <summary>What is wrong with the weights offered to a stack.</summary>
    public enum LoadFault
    {
        /// <summary>Every entry of a stack with another hidden size (H 6 for H 5).</summary>
        OtherHiddenSize,

        /// <summary>One key misspelt (<c>bias_ih</c> as <c>bais_ih</c>).</summary>
        MisspeltKey,

        /// <summary>An int64 tensor for a float32 parameter (b of layer 0).</summary>
        Int64ForAFloatParameter,

        /// <summary>One key left out (u of the backward direction of layer 1).</summary>
        MissingKey,

        /// <summary>One key more (u of a layer 2 the stack does not have).</summary>
        ExtraKey,

        /// <summary>A (1) tensor for the (5) bias b of layer 1 (TorchSharp's own <c>load_state_dict</c> broadcasts it).</summary>
        OneElementForABias,

        /// <summary>A (1, I_l) row for the (H, I_l) input weights W of layer 1 (TorchSharp's own broadcasts it too).</summary>
        OneRowForAMatrix,
    }

    /// <summary>
    /// Faulty weights never half-load, whatever the path (issue 18): for each load path (<see cref="LoadPath"/>: a
    /// TorchSharp file through <c>load(path)</c>, a dictionary through <c>load_state_dict</c>, a PyTorch <c>.pt</c> file and
    /// a safetensors file through <see cref="DuRnnInterop.LoadStateDictChecked{T}"/>) and each fault
    /// (<see cref="LoadFault"/>, a truncated file, a key twice), both stacks refuse with an exception that names the key
    /// and what was found and expected (shape or dtype); every state-dict tensor of the module is bit for bit as before
    /// (<see cref="WeightSnapshot"/>); and the live tensor count (<c>DisposeScopeManager.Statistics</c>) is the same
    /// after the call as before it, so nothing the load read outlives it. A float64 entry for a float32 parameter is not
    /// a fault: as in PyTorch it is converted and loads.
    /// </summary>
    /// <remarks>
    /// The stacks: 2 layers, bidirectional, BatchNorm (so the files hold <c>layers_reverse.*</c> and <c>norms.*</c>
    /// buffers, the int64 <c>num_batches_tracked</c> among them), I 3, H 5 (DuRNN S 4). The weights offered come from
    /// another stack of the same options with other random values, so that anything copied into the module shows.
    /// Before commit 1689ccd: a truncated file raised an EndOfStreamException that named no key and leaked the tensor
    /// it was reading; a key twice loaded its second copy without a word and leaked the first; an int64 tensor for a
    /// float parameter was converted and loaded.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class LoadFaultTests : IDisposable
    {
        private const long I = 3, H = 5, S = 4, L = 2;

        private readonly SingleThreaded _singleThreaded = new();
        private readonly string _directory = Path.Combine(Path.GetTempPath(), $"durnn-load-{Guid.NewGuid():N}");

        private readonly ITestOutputHelper _output;

        public LoadFaultTests(ITestOutputHelper output)
        {
            _output = output;
            Directory.CreateDirectory(_directory);
        }

        public void Dispose()
        {
            _singleThreaded.Dispose();
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        private static StackSpec Spec(StackKind kind, long hiddenSize = H)
        {
            var spec = new StackSpec(I, hiddenSize, L) { Bidirectional = true, BatchNorm = true };
            return kind == StackKind.DuRNN ? spec with { ShortTermSize = S } : spec;
        }

        /// <summary>A stack with O(1) random weights and BatchNorm statistics that are not the initial ones.</summary>
        private static StackUnderTest Model(StackKind kind, int seed, long hiddenSize = H)
        {
            torch.manual_seed(seed);
            var model = StackUnderTest.Create(kind, Spec(kind, hiddenSize));
            model.Randomize();
            using var scope = torch.NewDisposeScope();
            model.Call(torch.randn(4, 2, I));   // train mode: updates running_mean, running_var and num_batches_tracked
            return model;
        }

        /// <summary>The key of a long-term parameter (W: weight_ih, b: bias_ih, u: weight_hh) of the layer at <paramref name="prefix"/>.</summary>
        private static string LongTermKey(StackKind kind, string prefix, string name) =>
            prefix + (kind == StackKind.DuRNN ? "long_term." : "") + name;

        /// <summary>Copies of a stack's state-dict entries, in order, owned by the test.</summary>
        private static List<KeyValuePair<string, Tensor>> Entries(StackUnderTest model) =>
            model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach().clone())).ToList();

        public static IEnumerable<object[]> FaultCases() => TestData.Cross(TestData.Kinds.Cast<object>(),
            Enum.GetValues<LoadPath>().Cast<object>(), Enum.GetValues<LoadFault>().Cast<object>());

        public static IEnumerable<object[]> PathCases() =>
            TestData.Cross(TestData.Kinds.Cast<object>(), Enum.GetValues<LoadPath>().Cast<object>());

        public static IEnumerable<object[]> TruncationCases() =>
            TestData.Cross(TestData.Kinds.Cast<object>(), new object[] { "10%", "50%", "90%", "one byte short" });

        /// <summary>
        /// Each fault on each path: refused with an <see cref="ArgumentException"/> whose parameter is the path's argument
        /// (<c>reader</c>, <c>source</c>, <c>stateDict</c>) and whose message names the key with the shape or dtype found and
        /// the one expected; the module is unchanged and no tensor is left behind by the call.
        /// </summary>
        [Theory]
        [MemberData(nameof(FaultCases))]
        public void FaultyWeightsAreRefusedNamingTheKeyAndChangeNothing(StackKind kind, LoadPath path, LoadFault fault)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1801);
            using var other = fault == LoadFault.OtherHiddenSize ? Model(kind, seed: 1802, hiddenSize: H + 1) : Model(kind, seed: 1802);
            var entries = Entries(other);
            string b1 = LongTermKey(kind, "layers.1.", "bias_ih"), w1 = LongTermKey(kind, "layers.1.", "weight_ih");
            long w1Columns = model.state_dict()[w1].shape[1];
            string[] messages;
            switch (fault)
            {
                case LoadFault.OtherHiddenSize:
                {
                    // The first key whose shape differs, in state-dict order (the file is read in that order).
                    var own = model.state_dict();
                    var (key, value) = entries.First(e => !e.Value.shape.SequenceEqual(own[e.Key].shape));
                    messages = new[] { $"*'{key}' has shape {Shape(value)}*{Shape(own[key])}*nothing was loaded*" };
                    break;
                }
                case LoadFault.MisspeltKey:
                {
                    string misspelt = b1.Replace("bias_ih", "bais_ih", StringComparison.Ordinal);
                    Replace(entries, b1, misspelt, entries.Single(e => e.Key == b1).Value);
                    messages = new[] { $"*missing key*'{b1}' (5)*nothing was loaded*", $"*unexpected key*'{misspelt}' (5)*" };
                    break;
                }
                case LoadFault.Int64ForAFloatParameter:
                {
                    string b0 = LongTermKey(kind, "layers.0.", "bias_ih");
                    Replace(entries, b0, b0, torch.arange(5L));
                    messages = new[] { $"*'{b0}' has dtype Int64*Float32*nothing was loaded*" };
                    break;
                }
                case LoadFault.MissingKey:
                {
                    string u = LongTermKey(kind, "layers_reverse.1.", "weight_hh");
                    entries.RemoveAll(e => e.Key == u);
                    messages = new[] { $"*missing key '{u}' (5)*nothing was loaded*" };
                    break;
                }
                case LoadFault.ExtraKey:
                {
                    string u = LongTermKey(kind, "layers.2.", "weight_hh");
                    entries.Add(new(u, torch.rand(5)));
                    messages = new[] { $"*unexpected key '{u}' (5)*nothing was loaded*" };
                    break;
                }
                case LoadFault.OneElementForABias:
                    Replace(entries, b1, b1, torch.rand(1));
                    messages = new[] { $"*'{b1}' has shape (1)*(5)*nothing was loaded*" };
                    break;
                case LoadFault.OneRowForAMatrix:
                    Replace(entries, w1, w1, torch.randn(1, w1Columns));
                    messages = new[] { $"*'{w1}' has shape (1, {w1Columns})*(5, {w1Columns})*nothing was loaded*" };
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(fault));
            }

            var offered = Offer(path, entries, $"{kind}-{path}-{fault}");
            var before = WeightSnapshot.Of(model.Module);
            var (error, leaked) = Attempt(model.Module, path, offered);

            error.Should().NotBeNull($"{fault} must be refused").And.BeAssignableTo<ArgumentException>();
            var refused = (ArgumentException)error!;
            refused.ParamName.Should().Be(ArgumentName(path));
            foreach (var message in messages)
                refused.Message.Should().Match(message);
            leaked.Should().Be(0, "a failed load leaves no tensor behind");
            before.AssertUnchanged(model.Module, $"after a refused load ({fault}, {path})");
        }

        /// <summary>
        /// A float64 entry for a float32 parameter loads (PyTorch's rule: another floating-point dtype is converted):
        /// the parameter holds the float64 values rounded to float32, every other entry the offered one, the parameters
        /// stay float32, and the call leaves no tensor behind.
        /// </summary>
        [Theory]
        [MemberData(nameof(PathCases))]
        public void AFloat64EntryIsConvertedAndLoads(StackKind kind, LoadPath path)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1803);
            using var other = Model(kind, seed: 1804);
            var entries = Entries(other);
            string w0 = LongTermKey(kind, "layers.0.", "weight_ih");
            var wide = torch.randn(entries.Single(e => e.Key == w0).Value.shape, dtype: ScalarType.Float64);
            Replace(entries, w0, w0, wide);
            var expected = entries.ToDictionary(e => e.Key, e => e.Key == w0 ? e.Value.to(ScalarType.Float32) : e.Value);
            WeightSnapshot.Bytes(expected[w0]).Should().NotEqual(WeightSnapshot.Bytes(model.state_dict()[w0]));

            var offered = Offer(path, entries, $"{kind}-{path}-float64");
            var (error, leaked) = Attempt(model.Module, path, offered);

            error.Should().BeNull("a floating-point entry of another dtype is converted, as in PyTorch");
            leaked.Should().Be(0, "a load leaves no tensor behind");
            foreach (var (key, value) in model.state_dict())
            {
                value.dtype.Should().Be(expected[key].dtype, $"{key} keeps the module's dtype");
                WeightSnapshot.Bytes(value).Should().Equal(WeightSnapshot.Bytes(expected[key]), $"{key} holds the offered values (converted)");
            }
            model.parameters().Should().OnlyContain(p => p.requires_grad, "loading copies values; the parameters still train");
        }

        /// <summary>
        /// A file cut short — at 10 %, 50 % and 90 % of its bytes and one byte before its end — is refused with an
        /// <see cref="InvalidDataException"/> that says it is truncated and names the entry it ends inside: the key of
        /// the tensor it ends in, or, when it ends inside a key (which cannot be read whole), that key's predecessor
        /// (for the IndRNN here, the 10 % and 50 % cuts end inside keys); the module is unchanged, and the entries read
        /// before the cut, the half-read one among them, are all freed.
        /// </summary>
        [Theory]
        [MemberData(nameof(TruncationCases))]
        public void ATruncatedFileIsRefusedNamingTheEntryItEndsIn(StackKind kind, string cut)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1805);
            using var other = Model(kind, seed: 1806);
            string whole = Path.Combine(_directory, $"{kind}-whole.bin");
            other.Module.save(whole);
            byte[] bytes = File.ReadAllBytes(whole);
            int length = cut switch
            {
                "10%" => bytes.Length / 10,
                "50%" => bytes.Length / 2,
                "90%" => bytes.Length * 9 / 10,
                _ => bytes.Length - 1,
            };
            string truncated = Path.Combine(_directory, $"{kind}-truncated.bin");
            File.WriteAllBytes(truncated, bytes[..length]);

            // Where the cut lies: in an entry's tensor (dtype, shape, data), or in its key (the length-prefixed string).
            var layout = TorchSharpFormat.Parse(bytes);
            int index = layout.ToList().FindIndex(e => length < e.End);
            var entry = layout[index];
            bool inKey = length < entry.TensorStart;
            if (cut == "one byte short") entry.Should().Be(layout[^1], "one byte short ends inside the last entry's data");

            var before = WeightSnapshot.Of(model.Module);
            var (error, leaked) = Attempt(model.Module, LoadPath.TorchSharpFile, new Offered(truncated, null));
            _output.WriteLine($"{kind}: cut at byte {length} of {bytes.Length}, in '{entry.Key}' (bytes {entry.KeyStart}–{entry.End}, tensor from {entry.TensorStart}): {error?.GetType().Name}: {error?.Message}; {leaked} tensor(s) left");

            leaked.Should().Be(0, "every tensor read before the cut is freed");
            string message = error.Should().BeOfType<InvalidDataException>($"a file cut at byte {length} of {bytes.Length} is not a saved module")
                .Which.Message;
            message.Should().Match("*truncated*nothing was loaded*");
            if (!inKey)
            {
                message.Should().Match($"*ends inside '{entry.Key}'*");
            }
            else
            {
                // Cut inside a key, which cannot be read: the entry is located by that key's predecessor (or, failing
                // that, by the key itself).
                var names = new[] { $"'{entry.Key}'" }.Concat(index > 0 ? new[] { $"'{layout[index - 1].Key}'" } : Array.Empty<string>()).ToList();
                message.Should().ContainAny(names,
                    $"a file cut inside the key of '{entry.Key}' (bytes {entry.KeyStart}–{entry.TensorStart}) must say where it ends");
            }
            before.AssertUnchanged(model.Module, $"after a truncated file ({cut})");
        }

        /// <summary>
        /// A file that holds one key twice (its second copy at the end, with other values) is refused with an
        /// <see cref="InvalidDataException"/> naming the key; neither copy is loaded, and the first copy's tensor, read
        /// before the second showed up, is freed.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void AFileHoldingAKeyTwiceIsRefusedNamingItAndLeaksNothing(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1807);
            using var other = Model(kind, seed: 1808);
            var entries = Entries(other);
            string w1 = LongTermKey(kind, "layers.1.", "weight_ih");
            entries.Add(new(w1, torch.randn(entries.Single(e => e.Key == w1).Value.shape)));
            var offered = Offer(LoadPath.TorchSharpFile, entries, $"{kind}-twice");

            var before = WeightSnapshot.Of(model.Module);
            var (error, leaked) = Attempt(model.Module, LoadPath.TorchSharpFile, offered);

            leaked.Should().Be(0, "the first copy's tensor is freed");
            error.Should().BeOfType<InvalidDataException>().Which.Message.Should().Match($"*'{w1}' twice*nothing was loaded*");
            before.AssertUnchanged(model.Module, "after a file holding a key twice");
        }

        /// <summary>
        /// The control for the tests above: the same offer without a fault loads on every path — the module then holds
        /// exactly the offered values (so the snapshots above would have seen a load) — and leaves no tensor behind.
        /// </summary>
        [Theory]
        [MemberData(nameof(PathCases))]
        public void FaultlessWeightsLoadBitExactlyOnEveryPath(StackKind kind, LoadPath path)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1809);
            using var other = Model(kind, seed: 1810);
            var entries = Entries(other);
            var offered = Offer(path, entries, $"{kind}-{path}-good");
            var (error, leaked) = Attempt(model.Module, path, offered);
            error.Should().BeNull();
            leaked.Should().Be(0, "a load leaves no tensor behind");
            WeightSnapshot.Of(other.Module).AssertUnchanged(model.Module, $"the module after a load ({path}) must hold the offered weights");
        }

        /// <summary>
        /// A file PyTorch itself wrote (the committed interop fixture, <c>torch.save(state_dict)</c> of a DuRNN with H 5)
        /// offered to a DuRNN with H 6: refused naming the first key of another shape with both shapes, the module
        /// unchanged bit for bit, and the load leaves no tensor behind (the file's tensors are read before it).
        /// </summary>
        [Fact]
        public void AFilePyTorchWroteForAnotherHiddenSizeIsRefusedAndLeavesNothingBehind()
        {
            using var scope = torch.NewDisposeScope();
            var fixture = InteropFixture.Load("pytorch_stack2_bn_residual_f32");
            torch.manual_seed(1812);
            using var model = InteropFixture.CreateModel(fixture.Config with { HiddenSize = 6 }, fixture.DType);
            var offered = new Offered(null, PyTorchUnpickler.UnpickleStateDict(Path.Combine(InteropFixture.Directory, fixture.StateFile)));
            var before = WeightSnapshot.Of(model);
            var (error, leaked) = Attempt(model, LoadPath.PyTorchFile, offered);
            error.Should().BeOfType<ArgumentException>().Which.Message.Should()
                .Match("*'layers.0.long_term.weight_ih' has shape (5, 4) in the state dict but (6, 4) in the module*nothing was loaded*");
            leaked.Should().Be(0, "a failed load leaves no tensor behind");
            before.AssertUnchanged(model, "after a refused PyTorch file");
        }

        /// <summary>The files the tests above write by hand are TorchSharp's format: for a stack's own entries, byte for byte what <c>save()</c> writes.</summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void TheWriterHereWritesWhatSaveWrites(StackKind kind)
        {
            using var scope = torch.NewDisposeScope();
            using var model = Model(kind, seed: 1811);
            string saved = Path.Combine(_directory, "saved.bin"), written = Path.Combine(_directory, "written.bin");
            model.Module.save(saved);
            TorchSharpFormat.Write(written, Entries(model));
            File.ReadAllBytes(written).Should().Equal(File.ReadAllBytes(saved));
            TorchSharpFormat.Parse(File.ReadAllBytes(saved)).Select(e => e.Key).Should().Equal(model.state_dict().Keys);
        }

        /// <summary>Weights offered on one path: a file (TorchSharp's format) or a dictionary (read from a file for PyTorch's formats).</summary>
        private sealed record Offered(string? File, IDictionary? Dictionary);

        /// <summary>
        /// Prepares <paramref name="entries"/> for <paramref name="path"/>: writes the file, and for PyTorch's formats
        /// reads it back with PyBridge (the tensors it creates belong to the test's scope and exist before the load).
        /// </summary>
        private Offered Offer(LoadPath path, List<KeyValuePair<string, Tensor>> entries, string name)
        {
            string file = Path.Combine(_directory, name);
            switch (path)
            {
                case LoadPath.TorchSharpFile:
                    TorchSharpFormat.Write(file, entries);
                    return new Offered(file, null);
                case LoadPath.LoadStateDict:
                    return new Offered(null, entries.ToDictionary(e => e.Key, e => e.Value));
                case LoadPath.PyTorchFile:
                {
                    var table = new Hashtable();
                    foreach (var (key, value) in entries) table[key] = value;
                    using (var stream = System.IO.File.Create(file))
                        PyTorchPickler.PickleStateDict(stream, table);
                    return new Offered(null, PyTorchUnpickler.UnpickleStateDict(file));
                }
                case LoadPath.Safetensors:
                {
                    using (var stream = System.IO.File.Create(file))
                        TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, entries.ToDictionary(e => e.Key, e => e.Value));
                    return new Offered(null, TorchSharp.PyBridge.Safetensors.LoadStateDict(file));
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(path));
            }
        }

        /// <summary>Loads on <paramref name="path"/>; returns the exception (null if none) and the change in the live tensor count.</summary>
        private static (Exception? error, long leaked) Attempt(torch.nn.Module module, LoadPath path, Offered offered)
        {
            long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Exception? error = null;
            try
            {
                switch (path)
                {
                    case LoadPath.TorchSharpFile:
                        module.load(offered.File!);
                        break;
                    case LoadPath.LoadStateDict:
                        module.load_state_dict((Dictionary<string, Tensor>)offered.Dictionary!);
                        break;
                    default:
                        module.LoadStateDictChecked(offered.Dictionary!);
                        break;
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            return (error, DisposeScopeManager.Statistics.ThreadTotalLiveCount - live);
        }

        /// <summary>The argument a refusal names on each path.</summary>
        private static string ArgumentName(LoadPath path) => path switch
        {
            LoadPath.TorchSharpFile => "reader",
            LoadPath.LoadStateDict => "source",
            _ => "stateDict",
        };

        private static void Replace(List<KeyValuePair<string, Tensor>> entries, string key, string newKey, Tensor value)
        {
            int index = entries.FindIndex(e => e.Key == key);
            index.Should().BeGreaterThanOrEqualTo(0, $"the stack has '{key}'");
            entries[index] = new(newKey, value);
        }

        private static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";
    }
}
