using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
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
    /// the README's training loop verbatim; the other reaches DuRnn only through a class-library project. Both must
    /// load TorchSharp's native library on Debian 12 through the fix the package carries (buildTransitive).
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
            // A version of its own, so no NuGet cache can serve an older build of the same version.
            string version = $"0.0.0-test{DateTime.UtcNow:yyyyMMddHHmmss}";
            string feed = Path.Combine(_work, "feed");
            Run("dotnet", $"pack \"{Path.Combine(root, "src", "DuRnn")}\" -c Release -o \"{feed}\" -p:Version={version}", root);
            string nupkg = Path.Combine(feed, $"DuRnn.{version}.nupkg");
            File.Exists(nupkg).Should().BeTrue();
            File.Exists(Path.Combine(feed, $"DuRnn.{version}.snupkg")).Should().BeTrue("a symbols package is produced");
            CheckPackageContents(nupkg, version, File.ReadAllText(Path.Combine(root, "src", "DuRnn", "buildTransitive", "DuRnn.targets")));

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

            // 1. A console app with the README's two package references and its training loop, verbatim.
            string direct = Path.Combine(_work, "Direct");
            Directory.CreateDirectory(direct);
            File.WriteAllText(Path.Combine(direct, "Direct.csproj"), ConsoleProject(References(("DuRnn", version), ("TorchSharp-cpu", "0.107.0"))));
            File.WriteAllText(Path.Combine(direct, "Program.cs"), ReadmeTrainingLoop(root));
            string output = Run("dotnet", "run -c Release", direct, environment);
            var losses = Regex.Matches(output, @"^loss (\S+)$", RegexOptions.Multiline).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            losses.Should().HaveCount(3, "the README's loop prints one loss per batch and has three batches");
            losses.Should().OnlyContain(l => double.IsFinite(l) && l >= 0);

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

        /// <summary>The first C# block under the README's "Example: a training loop" heading.</summary>
        private static string ReadmeTrainingLoop(string root)
        {
            string readme = File.ReadAllText(Path.Combine(root, "README.md"));
            var match = Regex.Match(readme, @"^## Example: a training loop\s*?\n.*?^```csharp\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
            match.Success.Should().BeTrue("the README has a training-loop example");
            return match.Groups[1].Value;
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
            if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {arguments} did not finish within 8 minutes.");
            }
            string output = stdout.Result + stderr.Result;
            _output.WriteLine($"$ {file} {arguments}   (exit code {process.ExitCode})\n{output}");
            return (process.ExitCode, output);
        }
    }
}
