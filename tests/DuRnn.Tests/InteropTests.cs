using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// PyTorch interop through TorchSharp.PyBridge (a test dependency only; the library references TorchSharp alone):
    /// weights saved by PyTorch (<c>torch.save(model.state_dict())</c> of the reference module) load into the C# DuRNN
    /// with <see cref="DuRnnInterop.LoadStateDictChecked{T}"/> and give the reference's eval-mode outputs; weights
    /// saved from C# (<c>save_py</c>, <c>save_safetensors</c>) load back bit-exactly. That PyTorch reads the C# files
    /// is checked in Python by <c>tests/reference/check_csharp_export.py</c> on the committed <c>csharp_export_*</c>
    /// fixtures, which <see cref="CSharpExportRoundTripsBitExactly"/> writes into the repository when
    /// <c>DURNN_WRITE_INTEROP_FIXTURES=1</c> (see tests/reference/README.md).
    /// </summary>
    [Collection("Sequential")]
    public sealed class InteropTests
    {
        /// <summary>
        /// Outputs, float64: the C# and PyTorch forwards differ only in summation order and fused kernels (O(1e-16)
        /// relative per op over 6 steps, 2 layers, BatchNorm); 1e-9 leaves a wide margin. The atol covers entries
        /// near 0 by cancellation (residual plus BatchNorm shift), whose error is relative to their O(1) terms.
        /// Float32: unit roundoff 6e-8 per op over some tens of ops gives ~1e-6 relative; 1e-5 leaves a margin.
        /// These are the tolerances of the golden-fixture tests.
        /// </summary>
        private const double RtolF64 = 1e-9, AtolF64 = 1e-12, RtolF32 = 1e-5, AtolF32 = 1e-6;

        /// <summary>
        /// Final states s_n and h_n: the same rtol as the outputs, since they are values of the same computation with
        /// fewer ops behind them (no residual or BatchNorm after them). Their atol is rtol × the tensor's largest
        /// magnitude rather than a fixed one: an entry of h_T = ReLU(W_h z + b_h + u ⊙ h_{T−1}) or of s_T is a sum of
        /// O(max) terms of mixed sign, and where those cancel its own magnitude says nothing about the rounding it
        /// carries, which is relative to the terms (as in the implementation-parity tests).
        /// </summary>
        private static double StateAtol(FixtureTensor expected, double rtol) => rtol * expected.Data.Max(Math.Abs);

        private const string WriteFixturesVariable = "DURNN_WRITE_INTEROP_FIXTURES";

        private static readonly string[] PyTorchFixtures = { "pytorch_stack2_bn_residual_f32", "pytorch_stack2_bn_residual_f64" };
        private static readonly string[] CSharpExports = { "csharp_export_stack2_bn_residual_f32", "csharp_export_stack2_bn_residual_f64" };
        private static readonly string[] StateFileFormats = { ".pt", ".safetensors" };

        /// <summary>The configuration of every interop case: 2 layers, BatchNorm, residual (used by layer 1), S ≠ H.</summary>
        private static readonly FixtureConfig ExportConfig = new(InputSize: 3, HiddenSize: 5, ShortTermSize: 4, NumLayers: 2,
            ShortTermActivation.ReLU, BatchNorm: true, Residual: true, BatchFirst: false, SeqLen: 6, Batch: 3);

        public static IEnumerable<object[]> PyTorchCases =>
            from name in PyTorchFixtures
            from impl in new[] { DuRNNImplementation.Fused, DuRNNImplementation.Batched, DuRNNImplementation.Reference }
            select new object[] { name, impl };

        public static IEnumerable<object[]> CSharpExportCases =>
            from name in CSharpExports
            from format in StateFileFormats
            select new object[] { name, format };

        [Fact]
        public void InteropFixturesAreCopiedToTheOutput()
        {
            // Guards the theories below against running on no data.
            foreach (var name in PyTorchFixtures.Concat(CSharpExports))
                File.Exists(Path.Combine(InteropFixture.Directory, name + ".json")).Should().BeTrue(name);
            foreach (var name in PyTorchFixtures)
                File.Exists(StatePath(InteropFixture.Load(name))).Should().BeTrue(name);
            foreach (var name in CSharpExports)
            {
                foreach (var format in StateFileFormats)
                    File.Exists(Path.Combine(InteropFixture.Directory, name + format)).Should().BeTrue(name + format);
            }
        }

        [Theory]
        [MemberData(nameof(PyTorchCases))]
        public void PyTorchWeightsLoadAndGiveTheReferenceOutputs(string name, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(name);
            torch.manual_seed(0); // construction draws initial values; all are overwritten by the load
            var model = f.CreateModel();
            model.Implementation = implementation;

            model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));

            // The file's values arrived exactly (checked against the JSON copy, independently of PyBridge) ...
            AssertStateEquals(model, f, $"{name}: state after load");
            // ... into the module's own parameters, which still train.
            model.parameters().Should().OnlyContain(p => p.requires_grad, "loading copies values; it must not freeze parameters");

            model.eval();
            AssertEvalOutputs(model, f, $"{name} [{implementation}]");
        }

        [Fact]
        public void LoadedPyTorchWeightsTrain()
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(PyTorchFixtures[0]);
            var model = f.CreateModel().LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));
            var (output, _) = model.call(f.Input.ToTensor(f.DType));
            output.sum().backward();
            foreach (var (key, p) in model.named_parameters())
                p.grad.Should().NotBeNull($"{key} gets a gradient after loading PyTorch weights");
        }

        [Fact]
        public void FloatingPointDTypeIsConvertedOnLoad()
        {
            // A float32 file into a float64 model (as PyTorch's load_state_dict does): the values widen exactly, and the
            // float64 forward of float32 weights stays within float32 tolerance of the float32 reference.
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load("pytorch_stack2_bn_residual_f32");
            var model = InteropFixture.CreateModel(f.Config, ScalarType.Float64);
            model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));
            model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
            AssertStateEquals(model, f, "float32 file in a float64 model");
            model.eval();
            var (output, _) = model.call(f.Input.ToTensor(ScalarType.Float64), new DuRNNState(f.S0.ToTensor(ScalarType.Float64), f.H0.ToTensor(ScalarType.Float64)));
            TensorAssert.Close(output, f.Output, RtolF32, AtolF32, "float64 output of float32 weights");
        }

        /// <summary>
        /// The export helper (<see cref="CreateCSharpExport"/>) saves a seeded C# model with <c>save_py</c> and
        /// <c>save_safetensors</c> and writes its JSON; both files load back into a fresh module bit-exactly and give
        /// the same outputs. Writes to a temporary folder, or, with DURNN_WRITE_INTEROP_FIXTURES=1, into the
        /// repository's tests/DuRnn.Tests/fixtures/interop for check_csharp_export.py.
        /// </summary>
        [Theory]
        [InlineData(0)]
        [InlineData(1)]
        public void CSharpExportRoundTripsBitExactly(int index)
        {
            using var scope = torch.NewDisposeScope();
            bool intoRepository = Environment.GetEnvironmentVariable(WriteFixturesVariable) == "1";
            string directory = intoRepository
                ? Path.Combine(Path.GetDirectoryName(TestData.FindRepositoryFile("README.md"))!, "tests", "DuRnn.Tests", "fixtures", "interop")
                : Path.Combine(Path.GetTempPath(), $"durnn-interop-{Guid.NewGuid():N}");
            System.IO.Directory.CreateDirectory(directory);
            try
            {
                string name = CSharpExports[index];
                var dtype = name.EndsWith("_f64", StringComparison.Ordinal) ? ScalarType.Float64 : ScalarType.Float32;
                var (model, fixture) = CreateCSharpExport(name, dtype, seed: 3001 + index);
                model.save_py(Path.Combine(directory, name + ".pt"));
                model.save_safetensors(Path.Combine(directory, name + ".safetensors"));
                fixture.Write(Path.Combine(directory, name + ".json"));

                // A PyTorch zip archive: <folder>/data.pkl, <folder>/version and one <folder>/data/<n> per tensor.
                using (var zip = ZipFile.OpenRead(Path.Combine(directory, name + ".pt")))
                {
                    var entries = zip.Entries.Select(e => e.FullName).ToList();
                    entries.Should().Contain(e => e.EndsWith("/data.pkl")).And.Contain(e => e.EndsWith("/version"));
                    entries.Count(e => e.Contains("/data/")).Should().Be(fixture.StateDict.Count);
                }

                var written = InteropFixture.Load(name, directory);
                AssertStateEquals(model, written, $"{name}: JSON state_dict");
                TensorAssert.Close(written.Output.ToTensor(dtype), fixture.Output, 0, 0, $"{name}: JSON output");
                foreach (var format in StateFileFormats)
                {
                    torch.manual_seed(99);
                    var loaded = written.CreateModel();
                    loaded.LoadStateDictChecked(ReadStateFile(Path.Combine(directory, name + format)));
                    foreach (var (key, value) in model.state_dict())
                    {
                        var actual = loaded.state_dict()[key];
                        actual.dtype.Should().Be(value.dtype, $"{key} ({format})");
                        TensorAssert.Close(actual, value, 0, 0, $"{key} must round-trip bit-exactly through {format}");
                    }
                    // The same weights give the same outputs, up to the last bit: two forwards of one model differ by
                    // an ulp here and there (seen: 1 ulp in float64), since oneMKL's GEMM is not run-to-run
                    // bit-reproducible unless its conditional-numerical-reproducibility mode is set.
                    loaded.eval();
                    double rtol = dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
                    var (output, state) = loaded.call(written.Input.ToTensor(dtype), new DuRNNState(written.S0.ToTensor(dtype), written.H0.ToTensor(dtype)));
                    TensorAssert.Close(output, written.Output, rtol, StateAtol(written.Output, rtol), $"{name}{format}: output after load");
                    TensorAssert.Close(state.ShortTerm, written.SN, rtol, StateAtol(written.SN, rtol), $"{name}{format}: s_n after load");
                    TensorAssert.Close(state.LongTerm, written.HN, rtol, StateAtol(written.HN, rtol), $"{name}{format}: h_n after load");
                }
            }
            finally
            {
                if (!intoRepository) System.IO.Directory.Delete(directory, recursive: true);
            }
        }

        /// <summary>
        /// The committed C#-exported files (the ones check_csharp_export.py checked against PyTorch) still load and
        /// give their recorded outputs. On another CPU the summation order may differ, hence the tolerances.
        /// </summary>
        [Theory]
        [MemberData(nameof(CSharpExportCases))]
        public void CommittedCSharpExportsLoadAndGiveTheirOutputs(string name, string format)
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(name);
            f.StateFile.Should().Be(name + ".pt");
            var model = f.CreateModel().LoadStateDictChecked(ReadStateFile(Path.Combine(InteropFixture.Directory, name + format)));
            AssertStateEquals(model, f, $"{name}{format}: state after load");
            model.eval();
            AssertEvalOutputs(model, f, $"{name}{format}");
        }

        [Fact]
        public void MissingKeysAreNamedAndNothingIsLoaded()
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(PyTorchFixtures[0]);
            var model = InteropFixture.CreateModel(ExportConfig with { NumLayers = 3 }, f.DType);
            var before = Snapshot(model);
            var act = () => model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));
            act.Should().Throw<ArgumentException>()
                .WithMessage("*missing keys 'layers.2.short_term.weight_ih' (4, 5)*'layers.2.long_term.weight_hh' (5)*'norms.1.num_batches_tracked' ()*nothing was loaded*")
                .Which.ParamName.Should().Be("stateDict");
            AssertUnchanged(model, before);
        }

        [Fact]
        public void UnexpectedKeysAreNamed()
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(PyTorchFixtures[0]);
            var model = InteropFixture.CreateModel(ExportConfig with { BatchNorm = false }, f.DType);
            var before = Snapshot(model);
            var act = () => model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));
            act.Should().Throw<ArgumentException>()
                .WithMessage("*unexpected keys 'norms.0.bias' (5), 'norms.0.num_batches_tracked' (), 'norms.0.running_mean' (5), 'norms.0.running_var' (5), 'norms.0.weight' (5)*");
            AssertUnchanged(model, before);
        }

        [Fact]
        public void WrongShapesAreNamedAndNothingIsLoaded()
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(PyTorchFixtures[0]);
            // H = 6 where the file has H = 5: the case PyBridge's load_py accepts silently (see the pitfalls test).
            var model = InteropFixture.CreateModel(ExportConfig with { HiddenSize = 6 }, f.DType);
            var before = Snapshot(model);
            var act = () => model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict(StatePath(f)));
            act.Should().Throw<ArgumentException>()
                .WithMessage("*'layers.0.long_term.weight_ih' has shape (5, 4) in the state dict but (6, 4) in the module*" +
                             "'layers.1.short_term.weight_ih' has shape (4, 5) in the state dict but (4, 6) in the module*" +
                             "'norms.0.running_var' has shape (5) in the state dict but (6) in the module*");
            AssertUnchanged(model, before);
        }

        [Fact]
        public void WrongValuesAreNamed()
        {
            using var scope = torch.NewDisposeScope();
            var model = InteropFixture.CreateModel(ExportConfig, ScalarType.Float32);
            var good = model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());

            var notATensor = new Hashtable(good) { ["layers.0.gate.bias"] = new float[] { 1, 2, 3, 4 } };
            FluentActions.Invoking(() => model.LoadStateDictChecked(notATensor)).Should().Throw<ArgumentException>()
                .WithMessage("State dict entry 'layers.0.gate.bias' must be a tensor; got a Single[]*");

            var disposed = torch.zeros(4);
            disposed.Dispose();
            var withDisposed = new Dictionary<string, Tensor>(good) { ["layers.0.gate.bias"] = disposed };
            FluentActions.Invoking(() => model.LoadStateDictChecked(withDisposed)).Should().Throw<ArgumentException>()
                .WithMessage("*'layers.0.gate.bias' is a disposed tensor*");

            var nonStringKey = new Hashtable(good) { [42] = torch.zeros(1) };
            FluentActions.Invoking(() => model.LoadStateDictChecked(nonStringKey)).Should().Throw<ArgumentException>()
                .WithMessage("*keys must be strings; got a Int32 key '42'*");

            FluentActions.Invoking(() => model.LoadStateDictChecked(null!)).Should().Throw<ArgumentNullException>();
        }

        /// <summary>
        /// Why the README loads with <see cref="DuRnnInterop.LoadStateDictChecked{T}"/> rather than PyBridge's own
        /// <c>load_py</c>: with TorchSharp.PyBridge 1.4.4, <c>load_py</c> of a PyTorch-saved state dict sets
        /// <c>requires_grad = false</c> on every parameter (it copies the saved tensors' flag, and
        /// <c>state_dict()</c> tensors are detached), and loads a smaller saved tensor into a larger parameter without an
        /// error. If this test fails after a PyBridge upgrade, those pitfalls are gone: update the README.
        /// </summary>
        [Fact]
        public void PyBridgeLoadPyPitfallsThatLoadStateDictCheckedAvoids()
        {
            using var scope = torch.NewDisposeScope();
            var f = InteropFixture.Load(PyTorchFixtures[0]);
            var model = f.CreateModel();
            model.load_py(StatePath(f));
            model.parameters().Should().OnlyContain(p => !p.requires_grad, "PyBridge 1.4.4 copies requires_grad = False from the file");

            var wider = InteropFixture.CreateModel(ExportConfig with { HiddenSize = 6 }, f.DType);
            FluentActions.Invoking(() => wider.load_py(StatePath(f))).Should().NotThrow("PyBridge 1.4.4 does not compare shapes");
        }

        /// <summary>
        /// A seeded C# DuRNN with O(1) random weights and BatchNorm running statistics set by five train-mode forwards,
        /// switched to eval mode, and its fixture: its state dict, a random input and initial state, and its eval-mode
        /// output and final state.
        /// </summary>
        internal static (DuRNN model, InteropFixture fixture) CreateCSharpExport(string name, ScalarType dtype, long seed)
        {
            var c = ExportConfig;
            torch.manual_seed(seed);
            var model = InteropFixture.CreateModel(c, dtype);
            using (torch.no_grad())
            {
                foreach (var (key, p) in model.named_parameters())
                {
                    if (key.StartsWith("norms.", StringComparison.Ordinal)) _ = key.EndsWith(".weight", StringComparison.Ordinal) ? p.uniform_(0.5, 1.5) : p.normal_(0, 0.1);
                    else if (key.EndsWith("long_term.weight_hh", StringComparison.Ordinal)) p.uniform_(0.5, 1.0);
                    else if (p.dim() == 2) p.normal_(0, 1.0 / Math.Sqrt(p.shape[1]));
                    else p.normal_(0, 0.1);
                }
                model.train();
                for (int i = 0; i < 5; i++)
                {
                    var (x, s0, h0) = RandomInputs(c, dtype);
                    model.call(x, new DuRNNState(s0, h0));
                }
            }
            model.eval();
            var (input, s, h) = RandomInputs(c, dtype);
            var (output, state) = model.call(input, new DuRNNState(s, h));
            foreach (var (key, value) in model.state_dict().Where(e => e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
                value.to(ScalarType.Float64).item<double>().Should().Be(5, key);
            state.LongTerm.ne(0).to(ScalarType.Float64).mean().item<double>().Should().BeGreaterThan(0.3, "a healthy draw has few dead units");
            state.ShortTerm.ne(0).to(ScalarType.Float64).mean().item<double>().Should().BeGreaterThan(0.3, "a healthy draw has few dead units");
            var fixture = new InteropFixture
            {
                Name = name,
                DType = dtype,
                Seed = seed,
                Config = c,
                StateFile = name + ".pt",
                StateDict = model.state_dict().Select(e => new KeyValuePair<string, FixtureTensor>(e.Key, InteropFixture.From(e.Value))).ToList(),
                Input = InteropFixture.From(input),
                S0 = InteropFixture.From(s),
                H0 = InteropFixture.From(h),
                Output = InteropFixture.From(output),
                SN = InteropFixture.From(state.ShortTerm),
                HN = InteropFixture.From(state.LongTerm),
            };
            return (model, fixture);
        }

        private static (Tensor x, Tensor s0, Tensor h0) RandomInputs(FixtureConfig c, ScalarType dtype) => (
            torch.randn(c.SeqLen, c.Batch, c.InputSize, dtype: dtype),
            torch.randn(c.NumLayers, c.Batch, c.ShortTermSize, dtype: dtype).abs(),
            torch.randn(c.NumLayers, c.Batch, c.HiddenSize, dtype: dtype).abs());

        private static string StatePath(InteropFixture f) => Path.Combine(InteropFixture.Directory, f.StateFile);

        /// <summary>Reads a PyTorch (.pt, torch.save zip) or safetensors state file with PyBridge.</summary>
        private static IDictionary ReadStateFile(string path) => Path.GetExtension(path) switch
        {
            ".pt" => PyTorchUnpickler.UnpickleStateDict(path),
            ".safetensors" => Safetensors.LoadStateDict(path),
            _ => throw new ArgumentException($"unknown state file format: {path}"),
        };

        /// <summary>Every state-dict entry of the module equals the fixture's JSON value exactly (same keys).</summary>
        private static void AssertStateEquals(DuRNN model, InteropFixture f, string what)
        {
            var state = model.state_dict();
            state.Keys.Should().Equal(f.StateDict.Select(e => e.Key), $"{what}: the state-dict keys and their order");
            foreach (var (key, expected) in f.StateDict)
                TensorAssert.Close(state[key], expected, 0, 0, $"{what}: {key}");
        }

        private static void AssertEvalOutputs(DuRNN model, InteropFixture f, string what)
        {
            var dtype = f.DType;
            double rtol = dtype == ScalarType.Float64 ? RtolF64 : RtolF32, atol = dtype == ScalarType.Float64 ? AtolF64 : AtolF32;
            var (output, state) = model.call(f.Input.ToTensor(dtype), new DuRNNState(f.S0.ToTensor(dtype), f.H0.ToTensor(dtype)));
            TensorAssert.Close(output, f.Output, rtol, atol, $"{what}: output");
            TensorAssert.Close(state.ShortTerm, f.SN, rtol, StateAtol(f.SN, rtol), $"{what}: s_n");
            TensorAssert.Close(state.LongTerm, f.HN, rtol, StateAtol(f.HN, rtol), $"{what}: h_n");
        }

        private static Dictionary<string, Tensor> Snapshot(torch.nn.Module model) =>
            model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());

        private static void AssertUnchanged(torch.nn.Module model, Dictionary<string, Tensor> before)
        {
            foreach (var (key, value) in model.state_dict())
                TensorAssert.Close(value, before[key], 0, 0, $"{key} must be unchanged after a failed load");
        }
    }
}
