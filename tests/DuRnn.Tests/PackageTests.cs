using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DuRnn.Tests
{
    /// <summary>
    /// The package as users get it: pack DuRnn, then build and run consumer projects that know nothing of this
    /// repository, against the .nupkg from a local folder feed and a fresh NuGet packages folder (so no copy of a
    /// package that an earlier build fixed or extracted can help). One consumer references DuRnn directly and runs
    /// the training loop of the README.md inside the package (the package page a consumer reads), verbatim; the other
    /// reaches DuRnn only through a class-library project. Both must load TorchSharp's native library on Debian 12
    /// through the fix the package carries (buildTransitive). The package's contents: its README.md is
    /// src/DuRnn/PACKAGE.md, whose links are all absolute http(s) URLs (a relative link leads nowhere on a package
    /// page); CHANGELOG.md has an entry for the version Directory.Build.props gives (the test packs a version of its
    /// own); the symbols package's PDB embeds the source of every document, each under the deterministic /_/ root.
    /// </summary>
    [Collection("Sequential")]
    public sealed class PackageTests : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _work = Path.Combine(Path.GetTempPath(), $"durnn-package-{Guid.NewGuid():N}");

        public PackageTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            try { Directory.Delete(_work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        [Fact]
        public void PackageRunsTheReadmeLoopDirectlyAndThroughALibraryProject()
        {
            string root = Path.GetDirectoryName(TestData.FindRepositoryFile("DuRnn.sln"))!;
            // A version of its own, so no NuGet cache can serve an older build of the same version (unique, not from the clock).
            string version = $"0.0.0-test{Guid.NewGuid():N}"[..22];
            string feed = Path.Combine(_work, "feed");
            Run("dotnet", $"pack \"{Path.Combine(root, "src", "DuRnn")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
            string nupkg = Path.Combine(feed, $"DuRnn.{version}.nupkg");
            string snupkg = Path.Combine(feed, $"DuRnn.{version}.snupkg");
            File.Exists(nupkg).Should().BeTrue();
            File.Exists(snupkg).Should().BeTrue("a symbols package is produced");
            CheckPackageContents(nupkg, version, File.ReadAllText(Path.Combine(root, "src", "DuRnn", "buildTransitive", "DuRnn.targets")));
            string packageReadme = CheckPackagePage(nupkg, root);
            CheckSymbols(snupkg, root);

            // The consumers restore into a packages folder of their own. Their sources: the feed with DuRnn, and the
            // packages folder this test run restored from (TorchSharp-cpu and its dependencies), read as a local
            // feed: restore extracts every package afresh from its .nupkg, untouched by any earlier build.
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_work, "packages") };
            File.WriteAllText(Path.Combine(_work, "nuget.config"), $"""
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="durnn" value="{feed}" />
                    <add key="machine" value="{MachinePackagesFolder()}" />
                  </packageSources>
                </configuration>
                """);

            // 1. A console app with the package page's two package references and its training loop, verbatim (then one
            //    line that says the loop ran to its end).
            string direct = Path.Combine(_work, "Direct");
            Directory.CreateDirectory(direct);
            File.WriteAllText(Path.Combine(direct, "Direct.csproj"), ConsoleProject(References(("DuRnn", version), ("TorchSharp-cpu", "0.107.0"))));
            const string Done = "the package README's training loop ran to its end";
            File.WriteAllText(Path.Combine(direct, "Program.cs"), TrainingLoop(packageReadme) + $"\nConsole.WriteLine(\"{Done}\");\n");
            string output = Run("dotnet", "run -c Release", direct, environment);
            output.Should().Contain(Done);
            var losses = Regex.Matches(output, @"^loss (\S+)$", RegexOptions.Multiline).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            losses.Where(l => !(double.IsFinite(l) && l >= 0)).Should().BeEmpty("a loss the loop prints is finite");

            // 2. A console app that reaches DuRnn (and TorchSharp) only through a class library it references.
            string library = Path.Combine(_work, "Library");
            string app = Path.Combine(_work, "App");
            Directory.CreateDirectory(library);
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(library, "Library.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  {References(("DuRnn", version), ("TorchSharp-cpu", "0.107.0"))}
                </Project>
                """);
            File.WriteAllText(Path.Combine(library, "Model.cs"), """
                namespace Library;

                public static class Model
                {
                    public static string Run()
                    {
                        var model = new DuRnn.DuRNN(inputSize: 2, hiddenSize: 8, numLayers: 2, maxSequenceLength: 20);
                        var (output, state) = model.call(TorchSharp.torch.rand(20, 4, 2));
                        return "output " + string.Join("x", output.shape);
                    }
                }
                """);
            File.WriteAllText(Path.Combine(app, "App.csproj"), ConsoleProject("""
                <ItemGroup>
                  <ProjectReference Include="../Library/Library.csproj" />
                </ItemGroup>
                """));
            File.WriteAllText(Path.Combine(app, "Program.cs"), "Console.WriteLine(\"through a library: \" + Library.Model.Run());\n");
            Run("dotnet", "run -c Release", app, environment).Should().Contain("through a library: output 20x4x8");

            // 3. DuRnnSkipNativeFix=true turns the fix off: on a machine whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12)
            //    TorchSharp then cannot load its native library; elsewhere the app runs as before.
            string unfixed = Path.Combine(_work, "unfixed");
            Run("dotnet", $"build -c Release -p:DuRnnSkipNativeFix=true -o \"{unfixed}\"", app, environment);
            var (exitCode, unfixedOutput) = Execute("dotnet", $"\"{Path.Combine(unfixed, "App.dll")}\"", app, environment);
            if (SystemLibstdcxxLacks("GLIBCXX_3.4.32"))
            {
                exitCode.Should().NotBe(0, "without the fix Debian 12 cannot load libLibTorchSharp.so");
                unfixedOutput.Should().Contain("LibTorchSharp");
            }
            else
            {
                exitCode.Should().Be(0, unfixedOutput);
            }
        }

        /// <summary>The training loop of a package page: its first C# block, which must be a complete training step loop.</summary>
        private static string TrainingLoop(string readme)
        {
            var match = Regex.Match(readme, @"^```csharp\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
            match.Success.Should().BeTrue("the package's README.md shows C# code");
            string loop = match.Groups[1].Value;
            loop.Should().Contain("using DuRnn;").And.Contain("optimizer.step()").And.Contain("ApplyConstraints()",
                "the package's README.md opens with a complete training loop that keeps the constraints");
            return loop;
        }

        /// <summary>
        /// The package page and the changelog: README.md in the package is src/DuRnn/PACKAGE.md; every Markdown link in it
        /// (inline, reference definition, autolink, HTML href/src; outside code) is an absolute http(s) URL; its install
        /// snippet names the version of Directory.Build.props; CHANGELOG.md is src/DuRnn/CHANGELOG.md and has an entry
        /// for that version. Returns the package's README.md.
        /// </summary>
        private string CheckPackagePage(string nupkg, string root)
        {
            using var zip = ZipFile.OpenRead(nupkg);
            string Entry(string name)
            {
                var entry = zip.GetEntry(name);
                entry.Should().NotBeNull($"the package holds {name}");
                using var reader = new StreamReader(entry!.Open());
                return reader.ReadToEnd();
            }
            string readme = Entry("README.md");
            readme.Should().Be(File.ReadAllText(Path.Combine(root, "src", "DuRnn", "PACKAGE.md")), "the package page is PACKAGE.md");

            string prose = Regex.Replace(readme, @"^```.*?^```", "", RegexOptions.Multiline | RegexOptions.Singleline);
            prose = Regex.Replace(prose, @"`[^`\n]*`", "");
            var links = Regex.Matches(prose, @"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)").Select(m => m.Groups[1].Value)
                .Concat(Regex.Matches(prose, @"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", RegexOptions.Multiline).Select(m => m.Groups[1].Value))
                .Concat(Regex.Matches(prose, @"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>").Select(m => m.Groups[1].Value))
                .Concat(Regex.Matches(prose, @"\b(?:href|src)\s*=\s*[""']([^""']*)[""']", RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value))
                .ToList();
            _output.WriteLine($"package page links: {string.Join(", ", links)}");
            links.Should().NotBeEmpty("the package page links to the papers and TorchSharp");
            links.Should().OnlyContain(l => Regex.IsMatch(l, @"^https?://[^\s/]+\.[^\s/]+"),
                "on a package page a relative link leads nowhere: every link must be an absolute http(s) URL");

            var props = XDocument.Load(Path.Combine(root, "Directory.Build.props"));
            string packageVersion = props.Descendants().Single(e => e.Name.LocalName == "Version").Value.Trim();
            packageVersion.Should().MatchRegex(@"^\d+\.\d+\.\d+");
            readme.Should().Contain($"<PackageReference Include=\"DuRnn\" Version=\"{packageVersion}\" />",
                "the install snippet of the package page names the version being packed");

            string changelog = Entry("CHANGELOG.md");
            changelog.Should().Be(File.ReadAllText(Path.Combine(root, "src", "DuRnn", "CHANGELOG.md")));
            changelog.Should().MatchRegex($@"(?m)^##\s+\[?{Regex.Escape(packageVersion)}\]?(\s|$)",
                $"the changelog has an entry for {packageVersion}, the version of Directory.Build.props");
            return readme;
        }

        /// <summary>The custom debug information kind of a document's embedded source (Portable PDB specification).</summary>
        private static readonly Guid EmbeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

        /// <summary>
        /// The symbols package: lib/net8.0/DuRnn.pdb, a Portable PDB in which every document's path starts with /_/
        /// (the build folder mapped away, src/Packaging.props) and every document carries its source embedded; and
        /// every C# file of src/DuRnn is among them.
        /// </summary>
        private void CheckSymbols(string snupkg, string root)
        {
            using var zip = ZipFile.OpenRead(snupkg);
            var entry = zip.GetEntry("lib/net8.0/DuRnn.pdb");
            entry.Should().NotBeNull("the symbols package holds the library's PDB");
            using var pdb = new MemoryStream();
            using (var stream = entry!.Open())
                stream.CopyTo(pdb);
            pdb.Position = 0;
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
            var reader = provider.GetMetadataReader();
            var documents = reader.Documents.Select(h => (path: reader.GetString(reader.GetDocument(h).Name),
                embedded: reader.GetCustomDebugInformation(h).Any(c => reader.GetGuid(reader.GetCustomDebugInformation(c).Kind) == EmbeddedSource))).ToList();
            _output.WriteLine($"DuRnn.pdb: {documents.Count} documents, {documents.Count(d => d.embedded)} with embedded source, e.g. {documents[0].path}");
            documents.Should().NotBeEmpty();
            documents.Where(d => !d.path.StartsWith("/_/", StringComparison.Ordinal)).Select(d => d.path).Should().BeEmpty("every document path is deterministic, under /_/");
            documents.Where(d => !d.embedded).Select(d => d.path).Should().BeEmpty("every document's source is embedded");

            string source = Path.Combine(root, "src", "DuRnn");
            var expected = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(source, f).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(f => !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal))
                .Select(f => "/_/src/DuRnn/" + f);
            expected.Should().BeSubsetOf(documents.Select(d => d.path), "every source file of the library is in the PDB");
        }

        private static string ConsoleProject(string items) => $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              {items}
            </Project>
            """;

        private static string References(params (string Id, string Version)[] packages) =>
            "<ItemGroup>" + string.Concat(packages.Select(p => $"<PackageReference Include=\"{p.Id}\" Version=\"{p.Version}\" />")) + "</ItemGroup>";

        private static string MachinePackagesFolder() => Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        private static bool SystemLibstdcxxLacks(string version)
        {
            string[] candidates = { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" };
            string? path = candidates.FirstOrDefault(File.Exists);
            if (path is null) return false;
            byte[] needle = System.Text.Encoding.ASCII.GetBytes(version + "\0");
            return File.ReadAllBytes(path).AsSpan().IndexOf(needle) < 0;
        }

        private static void CheckPackageContents(string nupkg, string version, string nativeFixTargets)
        {
            using var zip = ZipFile.OpenRead(nupkg);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            names.Should().Contain("lib/net8.0/DuRnn.dll");
            names.Should().Contain("lib/net8.0/DuRnn.xml", "XML docs ship with the package");
            names.Should().Contain("README.md");
            names.Should().Contain("LICENSE");
            names.Should().Contain("build/DuRnn.targets", "NuGet imports it into projects that reference DuRnn directly");
            names.Should().Contain("buildTransitive/DuRnn.targets", "NuGet imports it also through other packages and projects");
            using (var reader = new StreamReader(zip.GetEntry("buildTransitive/DuRnn.targets")!.Open()))
                reader.ReadToEnd().Should().Be(nativeFixTargets, "the package ships the repository's one copy of the fix");
            using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open();
            var nuspec = XDocument.Load(nuspecStream);
            XNamespace ns = nuspec.Root!.GetDefaultNamespace();
            var metadata = nuspec.Root.Element(ns + "metadata")!;
            string Field(string name) => metadata.Element(ns + name)?.Value ?? "";
            Field("id").Should().Be("DuRnn");
            Field("version").Should().Be(version);
            Field("description").Should().Contain("Dual Recurrent Neural Networks");
            Field("tags").Should().Contain("TorchSharp").And.Contain("IndRNN");
            Field("license").Should().Be("MIT");
            metadata.Element(ns + "license")!.Attribute("type")!.Value.Should().Be("expression");
            Field("readme").Should().Be("README.md");
            Field("authors").Should().NotBeNullOrWhiteSpace();
            var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Distinct().ToList();
            dependencies.Should().Equal(new[] { "System.Numerics.Tensors", "TorchSharp" }, "the library depends on the TorchSharp bindings (no native backend) and System.Numerics.Tensors (the kernels' vectorised element-wise math) only");
        }

        private string Run(string file, string arguments, string directory, IReadOnlyDictionary<string, string>? environment = null)
        {
            var (exitCode, output) = Execute(file, arguments, directory, environment);
            exitCode.Should().Be(0, $"'{file} {arguments}' must succeed; it printed:\n{output}");
            return output;
        }

        private (int ExitCode, string Output) Execute(string file, string arguments, string directory, IReadOnlyDictionary<string, string>? environment)
        {
            var info = new ProcessStartInfo(file, arguments)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            info.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
                info.Environment[key] = value;
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // No time limit: how long a restore or a build takes depends on the machine's load, never on the package;
            // a hang is for the test runner's hang detection (dotnet test --blame-hang-timeout) to report.
            process.WaitForExit();
            string output = stdout.Result + stderr.Result;
            _output.WriteLine($"$ {file} {arguments}   (exit code {process.ExitCode})\n{output}");
            return (process.ExitCode, output);
        }
    }
}
